//! Role definitions and the roles every policy starts with.

use crate::permission::{is_name_byte, Permission};

/// The longest role or data class name accepted.
const MAX_NAME_LEN: usize = 64;

/// A role as declared: its own permissions and the roles it inherits.
///
/// What a role may finally do (its *effective* permissions) is computed when
/// the [`Policy`](crate::Policy) is built: the union of its own permissions
/// and those of every role it inherits, transitively.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleDef {
    /// 1..=64 of lowercase letters, digits, `_` and `-`.
    pub name: String,
    /// Permissions granted directly.
    pub permissions: Vec<Permission>,
    /// Names of roles whose permissions this role also holds.
    pub inherits: Vec<String>,
    /// Free text for the admin API and console.
    pub description: String,
}

impl RoleDef {
    /// A role with no permissions, inheritance or description yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            permissions: Vec::new(),
            inherits: Vec::new(),
            description: String::new(),
        }
    }

    /// Adds a permission granted directly.
    pub fn permission(mut self, p: Permission) -> Self {
        self.permissions.push(p);
        self
    }

    /// Adds a role to inherit from.
    pub fn inherits(mut self, role: impl Into<String>) -> Self {
        self.inherits.push(role.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
}

/// Whether `name` is acceptable as a role or data class name.
pub fn is_valid_role_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len()) && name.bytes().all(is_name_byte)
}

/// The predefined roles as `(name, permissions, inherits, description)`.
/// Kept as data so the rustdoc table, [`predefined_roles`] and the tests
/// read from one place.
const PREDEFINED: &[(&str, &[&str], &[&str], &str)] = &[
    ("admin", &["*:*"], &[], "Everything, except data classes it is not listed for."),
    (
        "analyst",
        &["llm:invoke", "*:read", "audit:read"],
        &[],
        "Calls models and reads everything, including the audit log.",
    ),
    (
        "contributor",
        &["llm:invoke", "records:read", "records:write"],
        &[],
        "Calls models and reads and writes records.",
    ),
    ("viewer", &["*:read"], &[], "Reads everything; cannot call models."),
    (
        "case_worker",
        &["llm:invoke", "records:read", "records:write", "subjects:read"],
        &[],
        "Works on cases: calls models, handles records, reads data subjects.",
    ),
    (
        "supervisor",
        &["records:delete", "subjects:export", "subjects:erase", "grants:read"],
        &["case_worker"],
        "A case worker who may also delete records, export and erase data subjects, and read grants.",
    ),
];

/// The roles every [`Policy`](crate::Policy) defines. Custom roles cannot
/// reuse these names.
///
/// | role | permissions | inherits |
/// | --- | --- | --- |
/// | `admin` | `*:*` | |
/// | `analyst` | `llm:invoke`, `*:read`, `audit:read` | |
/// | `contributor` | `llm:invoke`, `records:read`, `records:write` | |
/// | `viewer` | `*:read` | |
/// | `case_worker` | `llm:invoke`, `records:read`, `records:write`, `subjects:read` | |
/// | `supervisor` | `records:delete`, `subjects:export`, `subjects:erase`, `grants:read` | `case_worker` |
///
/// `viewer` deliberately lacks `llm:invoke`, so a route demanding it admits
/// `admin`, `analyst`, `contributor`, `case_worker` and `supervisor` only.
/// `admin` holds every permission but no data class: those are granted by
/// listing roles on the class.
pub fn predefined_roles() -> Vec<RoleDef> {
    PREDEFINED
        .iter()
        .map(|(name, perms, inherits, description)| RoleDef {
            name: (*name).to_owned(),
            permissions: perms
                .iter()
                // The table above is constant and tested; a typo is caught by
                // `predefined_roles_parse`, never at run time.
                .filter_map(|p| Permission::parse(p).ok())
                .collect(),
            inherits: inherits.iter().map(|r| (*r).to_owned()).collect(),
            description: (*description).to_owned(),
        })
        .collect()
}

/// Whether `name` is one of the [`predefined_roles`].
pub fn is_predefined_role(name: &str) -> bool {
    PREDEFINED.iter().any(|(n, ..)| *n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_roles_parse() {
        let roles = predefined_roles();
        assert_eq!(roles.len(), PREDEFINED.len());
        for (role, (name, perms, _, _)) in roles.iter().zip(PREDEFINED) {
            assert_eq!(role.name, *name);
            assert!(is_valid_role_name(name));
            assert_eq!(role.permissions.len(), perms.len(), "{name}");
        }
    }

    #[test]
    fn role_names() {
        for ok in ["a", "case_worker", "ops-2", &"r".repeat(64)] {
            assert!(is_valid_role_name(ok), "{ok}");
        }
        for bad in ["", "Admin", "a:b", "a b", "é", &"r".repeat(65)] {
            assert!(!is_valid_role_name(bad), "{bad}");
        }
    }
}
