//! Amanah's authorization decisions.
//!
//! Pure: no IO, no async. The gateway identifies a caller as a
//! [`Principal`], then asks [`authorize`] whether that principal may use a
//! route. The only way to obtain a [`Permitted`] value is a successful
//! decision, and the forwarding code accepts nothing else, so a request
//! cannot reach an upstream without having been authorized.
//!
//! The rules are deliberately small for now: every route needs an
//! authenticated principal, and a route may restrict itself to a list of
//! roles. Deny by default: an empty principal role set never matches a
//! restricted route.

#![forbid(unsafe_code)]

use std::fmt;

/// Who is calling, once identified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// Stable identifier; for an API key, `key:<id>`.
    pub id: String,
    pub kind: PrincipalKind,
    pub roles: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrincipalKind {
    ApiKey,
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PrincipalKind::ApiKey => "api_key",
        })
    }
}

/// What a route demands of its callers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Requirement {
    /// Roles allowed to call; empty means any authenticated principal.
    pub any_of_roles: Vec<String>,
}

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Denied {
    #[error("principal {principal} holds none of the roles the route requires")]
    MissingRole { principal: String },
}

/// Proof that `T` was authorized for `principal`. Constructed only by
/// [`authorize`]; the fields are private so no other code can forge one.
#[derive(Debug)]
pub struct Permitted<T> {
    inner: T,
    principal: Principal,
}

impl<T> Permitted<T> {
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub fn get(&self) -> &T {
        &self.inner
    }

    /// Transforms the permitted value; the permit carries over. Only an
    /// existing permit can be mapped, so this cannot forge one.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Permitted<U> {
        Permitted {
            inner: f(self.inner),
            principal: self.principal,
        }
    }

    /// Consumes the permit, yielding the authorized value and its principal.
    pub fn into_parts(self) -> (T, Principal) {
        (self.inner, self.principal)
    }
}

/// The decision: may `principal` use a route with `requirement`?
pub fn authorize<T>(
    principal: Principal,
    requirement: &Requirement,
    request: T,
) -> Result<Permitted<T>, Denied> {
    let allowed = requirement.any_of_roles.is_empty()
        || principal
            .roles
            .iter()
            .any(|r| requirement.any_of_roles.iter().any(|want| want == r));
    if allowed {
        Ok(Permitted {
            inner: request,
            principal,
        })
    } else {
        Err(Denied::MissingRole {
            principal: principal.id,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn principal(roles: &[&str]) -> Principal {
        Principal {
            id: "key:00000000".into(),
            kind: PrincipalKind::ApiKey,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn unrestricted_route_admits_any_principal() {
        let p = authorize(principal(&[]), &Requirement::default(), 7).unwrap();
        assert_eq!(*p.get(), 7);
    }

    #[test]
    fn restricted_route_needs_a_listed_role() {
        let req = Requirement {
            any_of_roles: vec!["contributor".into()],
        };
        assert!(authorize(principal(&["viewer"]), &req, ()).is_err());
        assert!(authorize(principal(&[]), &req, ()).is_err());
        assert!(authorize(principal(&["viewer", "contributor"]), &req, ()).is_ok());
    }

    proptest! {
        /// Permit iff the requirement is empty or the sets intersect.
        #[test]
        fn decision_is_set_intersection(
            have in proptest::collection::vec("[a-c]", 0..4),
            want in proptest::collection::vec("[a-c]", 0..4),
        ) {
            let p = Principal { id: "p".into(), kind: PrincipalKind::ApiKey, roles: have.clone() };
            let req = Requirement { any_of_roles: want.clone() };
            let expected = want.is_empty() || have.iter().any(|h| want.contains(h));
            prop_assert_eq!(authorize(p, &req, ()).is_ok(), expected);
        }
    }
}
