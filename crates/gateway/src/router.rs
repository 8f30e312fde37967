//! Routes: a path prefix and a set of methods, bound to a provider.
//!
//! The longest matching prefix owns a path: a request that matches a
//! specific route's prefix with a method that route does not allow gets a
//! 405, and never falls through to a broader route with laxer rules.
//! Prefixes match whole segments (`/v1` matches `/v1` and `/v1/chat`, not
//! `/v1beta`).

use http::Method;

use crate::config::Route;
use crate::error::GatewayError;

/// A request path the router and every upstream will read the same way:
/// absolute, no empty, `.` or `..` segments, no percent-encoded slash,
/// backslash or dot, no backslash or control characters.
pub fn check_request_path(path: &str) -> Result<(), GatewayError> {
    if !path.starts_with('/') {
        return Err(GatewayError::BadRequest(
            "the request path must be absolute",
        ));
    }
    if path.bytes().any(|b| b == b'\\' || b.is_ascii_control()) {
        return Err(GatewayError::BadRequest(
            "the request path contains a forbidden character",
        ));
    }
    let lower = path.to_ascii_lowercase();
    if ["%2e", "%2f", "%5c", "%00"]
        .iter()
        .any(|enc| lower.contains(enc))
    {
        return Err(GatewayError::BadRequest(
            "the request path contains an encoded separator",
        ));
    }
    if path != "/" {
        // One trailing slash is fine; any other empty segment is not.
        let inner = &path[1..];
        let inner = inner.strip_suffix('/').unwrap_or(inner);
        if inner
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(GatewayError::BadRequest(
                "the request path contains empty or dot segments",
            ));
        }
    }
    Ok(())
}

/// A configured prefix: absolute, and free of anything `check_request_path`
/// would refuse, and of `%`, `?` and `#`.
pub fn is_clean_path(p: &str) -> bool {
    p.starts_with('/') && !p.contains(['%', '?', '#']) && check_request_path(p).is_ok()
}

#[derive(Debug, Clone)]
pub struct Router {
    /// Route indices ordered by descending prefix length.
    order: Vec<usize>,
    routes: Vec<Route>,
}

/// The route for a request, and the path below its prefix.
#[derive(Debug, PartialEq, Eq)]
pub struct Matched<'a> {
    pub route: usize,
    /// `""` or a path starting with `/`.
    pub remainder: &'a str,
}

impl Router {
    pub fn new(routes: &[Route]) -> Self {
        let mut order: Vec<usize> = (0..routes.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(routes[i].path_prefix.len()));
        Self {
            order,
            routes: routes.to_vec(),
        }
    }

    pub fn route(&self, i: usize) -> &Route {
        &self.routes[i]
    }

    pub fn find<'p>(&self, method: &Method, path: &'p str) -> Result<Matched<'p>, GatewayError> {
        let mut owner: Option<&str> = None;
        let mut allowed = Vec::new();
        for &i in &self.order {
            let r = &self.routes[i];
            let Some(remainder) = strip_prefix(path, &r.path_prefix) else {
                continue;
            };
            match owner {
                // Only routes with the owning (longest) prefix compete.
                Some(p) if p != r.path_prefix => break,
                _ => owner = Some(&r.path_prefix),
            }
            if r.methods.contains(method) {
                return Ok(Matched {
                    route: i,
                    remainder,
                });
            }
            allowed.extend(r.methods.iter().cloned());
        }
        if owner.is_some() {
            Err(GatewayError::MethodNotAllowed(allowed))
        } else {
            Err(GatewayError::NotFound)
        }
    }
}

fn strip_prefix<'p>(path: &'p str, prefix: &str) -> Option<&'p str> {
    if prefix == "/" {
        return Some(path);
    }
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use amanah_policy::{RequiredPermission, Requirement};

    fn route(name: &str, prefix: &str, methods: &[Method]) -> Route {
        Route {
            name: name.into(),
            path_prefix: prefix.into(),
            methods: methods.to_vec(),
            provider: 0,
            max_body_bytes: 10,
            requirement: Requirement::new(name, RequiredPermission::parse("llm:invoke").unwrap()),
            rate_limit: None,
            privacy: Default::default(),
            consent_purpose: None,
            region: None,
            drop_fields: Vec::new(),
            upload: None,
            audit: Default::default(),
        }
    }

    fn router() -> Router {
        Router::new(&[
            route("all", "/v1", &[Method::GET, Method::POST]),
            route("chat", "/v1/chat/completions", &[Method::POST]),
            route("chat-get", "/v1/chat/completions", &[Method::PUT]),
        ])
    }

    #[test]
    fn longest_prefix_wins() {
        let r = router();
        let m = r.find(&Method::POST, "/v1/chat/completions").unwrap();
        assert_eq!(r.route(m.route).name, "chat");
        assert_eq!(m.remainder, "");
        let m = r.find(&Method::POST, "/v1/models").unwrap();
        assert_eq!(r.route(m.route).name, "all");
        assert_eq!(m.remainder, "/models");
        let m = r.find(&Method::PUT, "/v1/chat/completions/x").unwrap();
        assert_eq!(r.route(m.route).name, "chat-get");
    }

    #[test]
    fn specific_route_does_not_fall_back_to_a_broader_one() {
        let err = router()
            .find(&Method::GET, "/v1/chat/completions")
            .unwrap_err();
        match err {
            GatewayError::MethodNotAllowed(m) => {
                assert!(m.contains(&Method::POST) && m.contains(&Method::PUT));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn prefixes_match_whole_segments() {
        assert!(matches!(
            router().find(&Method::GET, "/v1beta/models"),
            Err(GatewayError::NotFound)
        ));
        assert!(matches!(
            router().find(&Method::GET, "/"),
            Err(GatewayError::NotFound)
        ));
    }

    #[test]
    fn root_prefix_matches_everything() {
        let r = Router::new(&[route("root", "/", &[Method::GET])]);
        assert_eq!(
            r.find(&Method::GET, "/anything").unwrap().remainder,
            "/anything"
        );
    }

    /// Paths that could make the gateway and an upstream disagree.
    #[test]
    fn hostile_paths_refused() {
        for p in [
            "/v1/../admin",
            "/v1/./chat",
            "/v1//chat",
            "/v1/%2e%2e/admin",
            "/v1/%2E%2E/admin",
            "/v1%2fchat",
            "/v1/chat%5c..",
            "/v1\\..\\admin",
            "relative",
            "/v1/a%00b",
            "/..",
            "/v1/..",
            "//",
            "/v1/chat\t",
        ] {
            assert!(check_request_path(p).is_err(), "{p:?} accepted");
        }
        for p in [
            "/",
            "/v1",
            "/v1/",
            "/v1/chat/completions",
            "/v1/files/a%20b",
            "/v1/a.b/c..d",
        ] {
            assert!(check_request_path(p).is_ok(), "{p:?} refused");
        }
    }
}
