//! Who is calling: the identity, the roles granted to it and for how long,
//! and which routes it is limited to.

use std::fmt;

/// Who is calling, once identified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// Stable identifier; for an API key, `key:<id>`.
    pub id: String,
    /// How the caller proved who it is.
    pub kind: PrincipalKind,
    /// Roles held, each possibly bounded in time. Grants naming roles the
    /// policy does not define are ignored.
    pub grants: Vec<Grant>,
    /// `None`: any route. `Some(names)`: only routes with one of these
    /// names, whatever the roles allow; lets an API key be narrowed to the
    /// routes it exists for.
    pub scopes: Option<Vec<String>>,
}

impl Principal {
    /// A principal with no grants (so denied everything) and no scope limit.
    pub fn new(id: impl Into<String>, kind: PrincipalKind) -> Self {
        Self {
            id: id.into(),
            kind,
            grants: Vec::new(),
            scopes: None,
        }
    }

    /// Adds a grant.
    pub fn with_grant(mut self, grant: Grant) -> Self {
        self.grants.push(grant);
        self
    }

    /// Limits the principal to the named routes.
    pub fn with_scopes<S: Into<String>>(mut self, routes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = Some(routes.into_iter().map(Into::into).collect());
        self
    }

    /// The names of the roles granted and active at `now` (Unix seconds),
    /// in grant order, whether or not a policy defines them.
    pub fn roles_at(&self, now: i64) -> impl Iterator<Item = &str> + '_ {
        self.grants
            .iter()
            .filter(move |g| g.is_active_at(now))
            .map(|g| g.role.as_str())
    }

    /// Whether the scopes admit the route named `route`.
    pub fn may_use_route(&self, route: &str) -> bool {
        self.scopes
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == route))
    }
}

/// How a principal was identified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PrincipalKind {
    /// A user's API key presented as a bearer token or `X-API-Key`.
    ApiKey,
    /// An API key issued to a service rather than a person.
    ServiceKey,
    /// A verified JSON Web Token.
    Jwt,
    /// An interactive user session (console).
    User,
}

impl PrincipalKind {
    /// The name used in logs and the audit stream.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::ApiKey => "api_key",
            PrincipalKind::ServiceKey => "service_key",
            PrincipalKind::Jwt => "jwt",
            PrincipalKind::User => "user",
        }
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role held by a principal, possibly only for a while.
///
/// Active iff `not_before <= now < not_after`; a missing bound is open. A
/// permanent role is a grant with neither bound.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Grant {
    /// The role's name.
    pub role: String,
    /// Unix seconds from which the grant applies (inclusive).
    pub not_before: Option<i64>,
    /// Unix seconds from which the grant no longer applies (exclusive), so
    /// adjacent grants `[a, b)` and `[b, c)` never overlap.
    pub not_after: Option<i64>,
}

impl Grant {
    /// A grant with no time bounds.
    pub fn permanent(role: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            not_before: None,
            not_after: None,
        }
    }

    /// A grant active for `not_before <= now < not_after`.
    pub fn between(role: impl Into<String>, not_before: i64, not_after: i64) -> Self {
        Self {
            role: role.into(),
            not_before: Some(not_before),
            not_after: Some(not_after),
        }
    }

    /// Whether the grant applies at `now` (Unix seconds).
    pub fn is_active_at(&self, now: i64) -> bool {
        self.not_before.is_none_or(|t| t <= now) && self.not_after.is_none_or(|t| now < t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_bounds_are_half_open() {
        let g = Grant::between("viewer", 100, 200);
        assert!(!g.is_active_at(99));
        assert!(g.is_active_at(100));
        assert!(g.is_active_at(199));
        assert!(!g.is_active_at(200));
        assert!(Grant::permanent("viewer").is_active_at(i64::MIN));
        assert!(Grant::permanent("viewer").is_active_at(i64::MAX));
        let open_end = Grant {
            not_after: None,
            ..Grant::between("viewer", 100, 0)
        };
        assert!(!open_end.is_active_at(99));
        assert!(open_end.is_active_at(i64::MAX));
    }

    #[test]
    fn roles_at_lists_active_grants() {
        let p = Principal::new("u", PrincipalKind::User)
            .with_grant(Grant::permanent("viewer"))
            .with_grant(Grant::between("supervisor", 10, 20))
            .with_grant(Grant::between("ghost", 0, 5));
        assert_eq!(p.roles_at(15).collect::<Vec<_>>(), ["viewer", "supervisor"]);
        assert_eq!(p.roles_at(3).collect::<Vec<_>>(), ["viewer", "ghost"]);
        assert_eq!(p.roles_at(20).collect::<Vec<_>>(), ["viewer"]);
    }

    #[test]
    fn scopes_limit_routes() {
        let p = Principal::new("k", PrincipalKind::ApiKey);
        assert!(p.may_use_route("chat"));
        let p = p.with_scopes(["chat"]);
        assert!(p.may_use_route("chat"));
        assert!(!p.may_use_route("embeddings"));
        let none = Principal::new("k", PrincipalKind::ApiKey).with_scopes(Vec::<String>::new());
        assert!(!none.may_use_route("chat"));
    }

    #[test]
    fn kinds_display() {
        let shown: Vec<String> = [
            PrincipalKind::ApiKey,
            PrincipalKind::ServiceKey,
            PrincipalKind::Jwt,
            PrincipalKind::User,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(shown, ["api_key", "service_key", "jwt", "user"]);
    }
}
