//! Permissions: `resource:action` pairs, with `*` standing for "every" on
//! either side when a role is granted something.

use std::fmt;
use std::str::FromStr;

use crate::PolicyError;

/// The longest resource or action accepted. Names come from configuration
/// and the admin API; a bound keeps error messages and logs readable.
const MAX_PART_LEN: usize = 64;

const WILDCARD: &str = "*";

/// A permission a role can hold: `resource:action`.
///
/// Both halves are lowercase ASCII letters, digits, `_` and `-`, or `*` for
/// "every". So `records:read` grants one action, `records:*` every action on
/// records, `*:read` reading everything and `*:*` everything.
///
/// What a route demands is a [`RequiredPermission`], which cannot contain a
/// wildcard.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permission {
    // One allocation per permission; the colon index splits it without
    // copying, so comparisons in the decision path touch one buffer.
    text: Box<str>,
    colon: usize,
}

impl Permission {
    /// Parses `resource:action`; either half may be `*`.
    pub fn parse(s: &str) -> Result<Self, PolicyError> {
        let invalid = |reason: &'static str| PolicyError::InvalidPermission {
            input: s.to_owned(),
            reason,
        };
        let mut halves = s.split(':');
        let (Some(resource), Some(action), None) = (halves.next(), halves.next(), halves.next())
        else {
            return Err(invalid(
                "expected exactly one `:` between resource and action",
            ));
        };
        for part in [resource, action] {
            if part.is_empty() {
                return Err(invalid("resource and action must not be empty"));
            }
            if part.len() > MAX_PART_LEN {
                return Err(invalid("resource and action are at most 64 characters"));
            }
            if part != WILDCARD && !part.bytes().all(is_name_byte) {
                return Err(invalid(
                    "use lowercase letters, digits, `_` and `-`, or `*` alone",
                ));
            }
        }
        Ok(Self {
            text: s.into(),
            colon: resource.len(),
        })
    }

    /// The part before the colon; `*` for every resource.
    pub fn resource(&self) -> &str {
        &self.text[..self.colon]
    }

    /// The part after the colon; `*` for every action.
    pub fn action(&self) -> &str {
        &self.text[self.colon + 1..]
    }

    /// The permission as written, `resource:action`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether either half is `*`.
    pub fn is_wildcard(&self) -> bool {
        self.resource() == WILDCARD || self.action() == WILDCARD
    }

    /// Whether holding `self` grants everything `wanted` names.
    ///
    /// A wildcard in `wanted` is only implied by a wildcard in the same
    /// half of `self`: `records:read` does not imply `records:*`.
    pub fn implies(&self, wanted: &Permission) -> bool {
        half_implies(self.resource(), wanted.resource())
            && half_implies(self.action(), wanted.action())
    }
}

fn half_implies(held: &str, wanted: &str) -> bool {
    held == WILDCARD || held == wanted
}

/// The characters allowed in names: resources, actions, roles, data classes.
pub(crate) fn is_name_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Permission {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A permission a route demands: `resource:action` with no wildcard.
///
/// Separate from [`Permission`] so that a route cannot demand `*:*` by
/// mistake and silently admit only admins; the type makes that
/// unrepresentable.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequiredPermission(Permission);

impl RequiredPermission {
    /// Parses `resource:action`; rejects `*` on either side.
    pub fn parse(s: &str) -> Result<Self, PolicyError> {
        let p = Permission::parse(s)?;
        if p.is_wildcard() {
            return Err(PolicyError::WildcardInRequirement(s.to_owned()));
        }
        Ok(Self(p))
    }

    /// The same permission, for comparison with granted ones.
    pub fn as_permission(&self) -> &Permission {
        &self.0
    }

    /// The permission as written, `resource:action`.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl TryFrom<Permission> for RequiredPermission {
    type Error = PolicyError;

    fn try_from(p: Permission) -> Result<Self, Self::Error> {
        if p.is_wildcard() {
            return Err(PolicyError::WildcardInRequirement(p.text.into()));
        }
        Ok(Self(p))
    }
}

impl fmt::Display for RequiredPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for RequiredPermission {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn p(s: &str) -> Permission {
        Permission::parse(s).unwrap()
    }

    #[test]
    fn parses_valid_permissions() {
        for s in [
            "records:read",
            "*:read",
            "records:*",
            "*:*",
            "llm-2:invoke_x",
        ] {
            let perm = p(s);
            assert_eq!(perm.as_str(), s);
            assert_eq!(format!("{}:{}", perm.resource(), perm.action()), s);
        }
    }

    #[test]
    fn rejects_malformed_permissions() {
        for s in [
            "",
            ":",
            "records",
            "records:",
            ":read",
            "a:b:c",
            "Records:read",
            "records:re ad",
            "rec*:read",
            "records:**",
            "récords:read",
            "records.read",
        ] {
            assert!(Permission::parse(s).is_err(), "{s:?} parsed");
        }
        let long = format!("{}:read", "a".repeat(65));
        assert!(Permission::parse(&long).is_err());
        let max = format!("{}:read", "a".repeat(64));
        assert!(Permission::parse(&max).is_ok());
    }

    #[test]
    fn wildcards_imply_what_they_cover() {
        assert!(p("*:*").implies(&p("records:read")));
        assert!(p("*:*").implies(&p("*:*")));
        assert!(p("records:*").implies(&p("records:delete")));
        assert!(!p("records:*").implies(&p("subjects:read")));
        assert!(p("*:read").implies(&p("audit:read")));
        assert!(!p("*:read").implies(&p("audit:write")));
        assert!(p("records:read").implies(&p("records:read")));
        assert!(!p("records:read").implies(&p("records:write")));
        // A concrete permission never covers a wildcard.
        assert!(!p("records:read").implies(&p("records:*")));
        assert!(!p("*:read").implies(&p("*:*")));
        assert!(!p("records:*").implies(&p("*:*")));
    }

    #[test]
    fn requirements_refuse_wildcards() {
        for s in ["*:read", "records:*", "*:*"] {
            assert!(matches!(
                RequiredPermission::parse(s),
                Err(PolicyError::WildcardInRequirement(_))
            ));
            assert!(RequiredPermission::try_from(p(s)).is_err());
        }
        assert_eq!(
            RequiredPermission::parse("llm:invoke").unwrap().as_str(),
            "llm:invoke"
        );
    }

    fn half() -> impl Strategy<Value = String> {
        prop_oneof![Just("*".to_owned()), "[a-c]"]
    }

    proptest! {
        /// `implies` is set inclusion over a small universe of concrete
        /// permissions.
        #[test]
        fn implies_is_set_inclusion(a in (half(), half()), b in (half(), half())) {
            let pa = p(&format!("{}:{}", a.0, a.1));
            let pb = p(&format!("{}:{}", b.0, b.1));
            let covers = |perm: &Permission, r: &str, x: &str| {
                (perm.resource() == "*" || perm.resource() == r)
                    && (perm.action() == "*" || perm.action() == x)
            };
            let universe: Vec<(&str, &str)> = ["a", "b", "c"]
                .iter()
                .flat_map(|r| ["a", "b", "c"].map(move |x| (*r, x)))
                .collect();
            let subset = universe.iter().all(|(r, x)| !covers(&pb, r, x) || covers(&pa, r, x));
            prop_assert_eq!(pa.implies(&pb), subset);
        }

        /// Display and parse round-trip.
        #[test]
        fn round_trips(s in "([a-z0-9_-]{1,8}|\\*):([a-z0-9_-]{1,8}|\\*)") {
            prop_assert_eq!(p(&s).to_string(), s);
        }
    }
}
