//! Response hardening and CORS.
//!
//! Security headers go on every response, proxied or not. The gateway
//! itself serves only JSON, but a strict `Content-Security-Policy` is set
//! on everything it generates (and on proxied responses that carry none), so
//! any HTML that ever slips through can neither run script nor be framed.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};

use crate::body::{empty, Body};
use crate::config::Cors;
use crate::error::GatewayError;

const CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Adds the baseline security headers. `hsts_max_age` is set only when the
/// listener terminates TLS: HSTS over plain HTTP is ignored by browsers and
/// misleading to operators.
pub fn secure_headers(headers: &mut HeaderMap, hsts_max_age: Option<&HeaderValue>) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    if let Some(v) = hsts_max_age {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, v.clone());
    }
}

/// `max-age=N; includeSubDomains` for the configured N.
pub fn hsts_value(max_age_secs: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("max-age={max_age_secs}; includeSubDomains"))
        .expect("digits are a valid header value")
}

/// The CORS allow-list, compiled.
#[derive(Debug, Clone)]
pub struct CorsPolicy {
    origins: Vec<String>,
    any_origin: bool,
    credentials: bool,
    allow_headers: HeaderValue,
    max_age: HeaderValue,
}

impl CorsPolicy {
    pub fn new(cfg: &Cors) -> Self {
        Self {
            any_origin: cfg.allowed_origins.iter().any(|o| o == "*") && !cfg.allow_credentials,
            origins: cfg
                .allowed_origins
                .iter()
                .filter(|o| *o != "*")
                .cloned()
                .collect(),
            credentials: cfg.allow_credentials,
            allow_headers: HeaderValue::from_str(&cfg.allowed_headers.join(", "))
                .unwrap_or_else(|_| HeaderValue::from_static("content-type")),
            max_age: HeaderValue::from(cfg.max_age_secs),
        }
    }

    fn allows(&self, origin: &HeaderValue) -> bool {
        self.any_origin
            || self
                .origins
                .iter()
                .any(|o| o.as_bytes() == origin.as_bytes())
    }

    /// Answers a preflight (`OPTIONS` with `Access-Control-Request-Method`).
    /// `None` when the request is not a preflight.
    pub fn preflight<B>(
        &self,
        req: &Request<B>,
        methods: &HeaderValue,
    ) -> Option<Result<Response<Body>, GatewayError>> {
        if req.method() != Method::OPTIONS
            || !req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            return None;
        }
        let origin = req.headers().get(header::ORIGIN)?;
        if !self.allows(origin) {
            return Some(Err(GatewayError::CorsRejected));
        }
        let mut resp = Response::new(empty());
        *resp.status_mut() = StatusCode::NO_CONTENT;
        let h = resp.headers_mut();
        self.decorate_for(origin, h);
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods.clone());
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            self.allow_headers.clone(),
        );
        h.insert(header::ACCESS_CONTROL_MAX_AGE, self.max_age.clone());
        Some(Ok(resp))
    }

    /// Adds `Access-Control-Allow-Origin` (and credentials) to a response
    /// when the request's origin is allowed.
    pub fn decorate(&self, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
        if let Some(origin) = origin.filter(|o| self.allows(o)) {
            self.decorate_for(origin, headers);
        }
    }

    fn decorate_for(&self, origin: &HeaderValue, h: &mut HeaderMap) {
        // Echo the exact origin (never `*` with credentials) and tell caches
        // the answer depends on it.
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        h.append(header::VARY, HeaderValue::from_static("Origin"));
        if self.credentials {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        h.insert(
            HeaderName::from_static("access-control-expose-headers"),
            HeaderValue::from_static("x-request-id, retry-after"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(origins: &[&str], credentials: bool) -> CorsPolicy {
        CorsPolicy::new(&Cors {
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            allow_credentials: credentials,
            allowed_headers: vec!["content-type".into()],
            max_age_secs: 60,
        })
    }

    fn preflight(origin: &str) -> Request<()> {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/v1/chat/completions")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .body(())
            .unwrap()
    }

    #[test]
    fn allowed_origin_gets_its_exact_origin_back() {
        let p = policy(&["https://app.example.com"], true);
        let methods = HeaderValue::from_static("POST");
        let resp = p
            .preflight(&preflight("https://app.example.com"), &methods)
            .unwrap()
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            resp.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example.com"
        );
        assert_eq!(
            resp.headers()[header::ACCESS_CONTROL_ALLOW_CREDENTIALS],
            "true"
        );
    }

    #[test]
    fn other_origins_are_refused() {
        let p = policy(&["https://app.example.com"], false);
        let methods = HeaderValue::from_static("POST");
        for o in [
            "https://evil.example.com",
            "https://app.example.com.evil.com",
            "null",
            "http://app.example.com",
        ] {
            assert!(
                matches!(
                    p.preflight(&preflight(o), &methods),
                    Some(Err(GatewayError::CorsRejected))
                ),
                "{o}"
            );
        }
        let mut h = HeaderMap::new();
        p.decorate(
            Some(&HeaderValue::from_static("https://evil.example.com")),
            &mut h,
        );
        assert!(h.is_empty());
    }

    #[test]
    fn wildcard_never_combines_with_credentials() {
        // Config validation refuses this; the policy also refuses to honour it.
        let p = policy(&["*"], true);
        let mut h = HeaderMap::new();
        p.decorate(
            Some(&HeaderValue::from_static("https://evil.example.com")),
            &mut h,
        );
        assert!(h.is_empty());
    }

    #[test]
    fn security_headers_present() {
        let mut h = HeaderMap::new();
        secure_headers(&mut h, Some(&hsts_value(10)));
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(
            h[header::STRICT_TRANSPORT_SECURITY],
            "max-age=10; includeSubDomains"
        );
        assert!(h[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'none'"));
    }
}
