//! Why a permission, a role or a policy was refused. These are
//! configuration errors, reported when a policy is built, never during a
//! decision.

use std::fmt;

/// A permission, role definition or policy that cannot be accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A permission is not `resource:action` in the allowed characters.
    #[error("`{input}` is not a valid permission: {reason}")]
    InvalidPermission {
        /// The text as given.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A requirement named a wildcard; routes must demand one concrete
    /// permission.
    #[error("`{0}` contains a wildcard; a requirement names one resource and one action")]
    WildcardInRequirement(String),
    /// A role name outside lowercase letters, digits, `_`, `-`, or not
    /// 1..=64 characters long.
    #[error("`{0}` is not a valid role name (1-64 of a-z, 0-9, _ and -)")]
    InvalidRoleName(String),
    /// A data class name outside the characters allowed for role names.
    #[error("`{0}` is not a valid data class name (1-64 of a-z, 0-9, _ and -)")]
    InvalidDataClassName(String),
    /// A custom role reuses the name of a predefined one.
    #[error("`{0}` is a predefined role and cannot be redefined")]
    ReservedRoleName(String),
    /// Two custom roles share a name.
    #[error("role `{0}` is defined twice")]
    DuplicateRole(String),
    /// A role inherits from a role the policy does not define.
    #[error("role `{role}` inherits unknown role `{inherits}`")]
    UnknownInheritedRole {
        /// The inheriting role.
        role: String,
        /// The name it inherits that nothing defines.
        inherits: String,
    },
    /// Roles inherit from each other in a loop.
    #[error("roles inherit in a cycle: {}", CyclePath(.path))]
    InheritanceCycle {
        /// The roles along the loop, first and last the same:
        /// `["a", "b", "a"]` for `a -> b -> a`.
        path: Vec<String>,
    },
    /// A data class is declared twice.
    #[error("data class `{0}` is declared twice")]
    DuplicateDataClass(String),
    /// A data class lists a role the policy does not define.
    #[error("data class `{class}` lists unknown role `{role}`")]
    UnknownRoleInDataClass {
        /// The data class.
        class: String,
        /// The name it lists that nothing defines.
        role: String,
    },
}

/// Renders a cycle as `a -> b -> a`.
struct CyclePath<'a>(&'a [String]);

impl fmt::Display for CyclePath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" -> ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}
