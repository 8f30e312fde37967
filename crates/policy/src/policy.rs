//! The compiled policy: roles with their inheritance resolved, and data
//! classes with the roles cleared for them.
//!
//! Everything that depends only on configuration is worked out once in
//! [`PolicyBuilder::build`], so that a decision is a handful of lookups and
//! comparisons with no allocation.

use std::collections::HashMap;

use crate::decision::{Denied, Requirement};
use crate::role::{is_predefined_role, is_valid_role_name, predefined_roles};
use crate::{Permission, PolicyError, Principal, RoleDef};

/// The roles and data classes decisions are made against. Immutable once
/// built; share it behind an `Arc`.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Indexed by role id: predefined roles first, then custom ones in the
    /// order they were added.
    roles: Vec<RoleView>,
    by_name: HashMap<Box<str>, usize>,
    classes: HashMap<Box<str>, DataClass>,
}

#[derive(Clone, Debug)]
struct DataClass {
    /// As declared, for display.
    listed: Vec<String>,
    /// Indexed by role id: whether that role, or a role it inherits, is
    /// listed. Precomputed so the decision needs no closure walk.
    cleared: Vec<bool>,
}

/// One role as the policy sees it, for the admin API and console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleView {
    name: String,
    description: String,
    permissions: Vec<Permission>,
    inherits: Vec<String>,
    predefined: bool,
    closure: Vec<String>,
    effective: Vec<Permission>,
}

impl RoleView {
    /// The role's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Free text describing the role.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Permissions granted directly, as declared.
    pub fn permissions(&self) -> &[Permission] {
        &self.permissions
    }

    /// Roles inherited directly, as declared.
    pub fn inherits(&self) -> &[String] {
        &self.inherits
    }

    /// Whether this is one of the [`predefined_roles`](crate::predefined_roles).
    pub fn is_predefined(&self) -> bool {
        self.predefined
    }

    /// The role itself followed by every role it inherits, transitively.
    pub fn closure(&self) -> &[String] {
        &self.closure
    }

    /// Everything the role may do: its own permissions and those of every
    /// inherited role, without entries another entry already implies,
    /// sorted.
    pub fn effective_permissions(&self) -> &[Permission] {
        &self.effective
    }
}

impl Policy {
    /// Starts a policy holding the predefined roles.
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder::default()
    }

    /// The predefined roles and no data classes.
    pub fn standard() -> Self {
        // Predefined roles are constant and covered by tests; if they ever
        // failed to build, an empty policy denies everything rather than
        // panicking in a gateway.
        Self::builder().build().unwrap_or_else(|_| Self {
            roles: Vec::new(),
            by_name: HashMap::new(),
            classes: HashMap::new(),
        })
    }

    /// The role named `name`, if the policy defines it.
    pub fn role(&self, name: &str) -> Option<&RoleView> {
        self.by_name.get(name).map(|&i| &self.roles[i])
    }

    /// Every role: predefined ones first, then custom ones in the order
    /// they were added.
    pub fn roles(&self) -> &[RoleView] {
        &self.roles
    }

    /// Whether the policy defines a role named `name`.
    pub fn knows_role(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// The roles listed for data class `name`, as declared, if it exists.
    pub fn data_class(&self, name: &str) -> Option<&[String]> {
        self.classes.get(name).map(|c| c.listed.as_slice())
    }

    /// Names of all data classes, in no particular order.
    pub fn data_classes(&self) -> impl Iterator<Item = &str> + '_ {
        self.classes.keys().map(|k| &**k)
    }

    /// The decision [`authorize`](crate::authorize) makes, without a permit:
    /// for checks that forward nothing, such as the admin API.
    ///
    /// Checked in order: the principal's scopes admit the route; an active
    /// role holds the permission; if the route names a data class, an
    /// active role is cleared for it. Permissions and clearance may come
    /// from different roles of the same principal.
    pub fn decide(
        &self,
        principal: &Principal,
        requirement: &Requirement,
        now: i64,
    ) -> Result<(), Denied> {
        if !principal.may_use_route(&requirement.route) {
            return Err(Denied::OutOfScope {
                principal: principal.id.clone(),
                route: requirement.route.clone(),
            });
        }
        let wanted = requirement.permission.as_permission();
        let permitted = self
            .active_roles(principal, now)
            .any(|r| self.roles[r].effective.iter().any(|p| p.implies(wanted)));
        if !permitted {
            return Err(Denied::MissingPermission {
                principal: principal.id.clone(),
                permission: requirement.permission.clone(),
            });
        }
        if let Some(name) = &requirement.data_class {
            let Some(class) = self.classes.get(name.as_str()) else {
                return Err(Denied::UnknownDataClass {
                    principal: principal.id.clone(),
                    class: name.clone(),
                });
            };
            if !self.active_roles(principal, now).any(|r| class.cleared[r]) {
                return Err(Denied::DataClass {
                    principal: principal.id.clone(),
                    class: name.clone(),
                });
            }
        }
        Ok(())
    }

    /// Everything `principal` may do at `now`, for display: the effective
    /// permissions of its active roles, without entries another implies,
    /// sorted. Scopes and data classes are not reflected.
    pub fn permissions_of(&self, principal: &Principal, now: i64) -> Vec<String> {
        let held: Vec<Permission> = self
            .active_roles(principal, now)
            .flat_map(|r| self.roles[r].effective.iter().cloned())
            .collect();
        minimal(held).iter().map(ToString::to_string).collect()
    }

    /// Ids of the roles granted to `principal`, active at `now` and defined
    /// here. Grants of unknown roles drop out: they can never widen access.
    fn active_roles<'a>(
        &'a self,
        principal: &'a Principal,
        now: i64,
    ) -> impl Iterator<Item = usize> + 'a {
        principal
            .grants
            .iter()
            .filter(move |g| g.is_active_at(now))
            .filter_map(|g| self.by_name.get(g.role.as_str()).copied())
    }
}

/// Collects custom roles and data classes for a [`Policy`].
#[derive(Clone, Debug, Default)]
pub struct PolicyBuilder {
    roles: Vec<RoleDef>,
    classes: Vec<(String, Vec<String>)>,
}

impl PolicyBuilder {
    /// Adds a custom role. It may inherit predefined roles but not reuse
    /// their names.
    pub fn role(mut self, role: RoleDef) -> Self {
        self.roles.push(role);
        self
    }

    /// Declares a data class readable only by `allowed_roles` and the roles
    /// that inherit from them. No role is cleared implicitly, not even
    /// `admin`.
    pub fn data_class(mut self, name: impl Into<String>, allowed_roles: Vec<String>) -> Self {
        self.classes.push((name.into(), allowed_roles));
        self
    }

    /// Validates and compiles the policy.
    ///
    /// Fails on an invalid or duplicate role name, a custom role reusing a
    /// predefined name, an inherited role that does not exist, an
    /// inheritance cycle (reported with its path), and a duplicate or
    /// invalid data class or one listing an unknown role.
    pub fn build(self) -> Result<Policy, PolicyError> {
        let mut defs = predefined_roles();
        let predefined = defs.len();
        defs.extend(self.roles);

        let mut by_name: HashMap<Box<str>, usize> = HashMap::with_capacity(defs.len());
        for (i, def) in defs.iter().enumerate() {
            if !is_valid_role_name(&def.name) {
                return Err(PolicyError::InvalidRoleName(def.name.clone()));
            }
            if i >= predefined && is_predefined_role(&def.name) {
                return Err(PolicyError::ReservedRoleName(def.name.clone()));
            }
            if by_name.insert(def.name.as_str().into(), i).is_some() {
                return Err(PolicyError::DuplicateRole(def.name.clone()));
            }
        }

        let mut edges: Vec<Vec<usize>> = Vec::with_capacity(defs.len());
        for def in &defs {
            let mut out = Vec::with_capacity(def.inherits.len());
            for parent in &def.inherits {
                match by_name.get(parent.as_str()) {
                    Some(&p) => out.push(p),
                    None => {
                        return Err(PolicyError::UnknownInheritedRole {
                            role: def.name.clone(),
                            inherits: parent.clone(),
                        })
                    }
                }
            }
            edges.push(out);
        }
        if let Some(cycle) = find_cycle(&edges) {
            return Err(PolicyError::InheritanceCycle {
                path: cycle.into_iter().map(|i| defs[i].name.clone()).collect(),
            });
        }

        let closures: Vec<Vec<usize>> = (0..defs.len()).map(|i| reachable(&edges, i)).collect();
        let roles: Vec<RoleView> = defs
            .iter()
            .zip(&closures)
            .enumerate()
            .map(|(i, (def, closure))| RoleView {
                name: def.name.clone(),
                description: def.description.clone(),
                permissions: def.permissions.clone(),
                inherits: def.inherits.clone(),
                predefined: i < predefined,
                closure: closure.iter().map(|&r| defs[r].name.clone()).collect(),
                effective: minimal(
                    closure
                        .iter()
                        .flat_map(|&r| defs[r].permissions.iter().cloned())
                        .collect(),
                ),
            })
            .collect();

        let mut classes: HashMap<Box<str>, DataClass> = HashMap::with_capacity(self.classes.len());
        for (name, listed) in self.classes {
            if !is_valid_role_name(&name) {
                return Err(PolicyError::InvalidDataClassName(name));
            }
            if classes.contains_key(name.as_str()) {
                return Err(PolicyError::DuplicateDataClass(name));
            }
            let mut is_listed = vec![false; roles.len()];
            for role in &listed {
                match by_name.get(role.as_str()) {
                    Some(&r) => is_listed[r] = true,
                    None => {
                        return Err(PolicyError::UnknownRoleInDataClass {
                            class: name,
                            role: role.clone(),
                        })
                    }
                }
            }
            let cleared = closures
                .iter()
                .map(|closure| closure.iter().any(|&r| is_listed[r]))
                .collect();
            classes.insert(name.into(), DataClass { listed, cleared });
        }

        Ok(Policy {
            roles,
            by_name,
            classes,
        })
    }
}

/// A cycle in the inheritance graph as role ids, first and last equal, or
/// `None`. Iterative, so a long inheritance chain cannot overflow the stack.
fn find_cycle(edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Mark {
        Unvisited,
        OnPath,
        Done,
    }
    let mut mark = vec![Mark::Unvisited; edges.len()];
    for start in 0..edges.len() {
        if mark[start] != Mark::Unvisited {
            continue;
        }
        mark[start] = Mark::OnPath;
        // (role, index of the next inherited role to visit)
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        while let Some(top) = path.last_mut() {
            let node = top.0;
            let Some(&next) = edges[node].get(top.1) else {
                mark[node] = Mark::Done;
                path.pop();
                continue;
            };
            top.1 += 1;
            match mark[next] {
                Mark::Unvisited => {
                    mark[next] = Mark::OnPath;
                    path.push((next, 0));
                }
                Mark::OnPath => {
                    let from = path.iter().position(|&(n, _)| n == next).unwrap_or(0);
                    let mut cycle: Vec<usize> = path[from..].iter().map(|&(n, _)| n).collect();
                    cycle.push(next);
                    return Some(cycle);
                }
                Mark::Done => {}
            }
        }
    }
    None
}

/// `start` followed by every role reachable from it, each once.
fn reachable(edges: &[Vec<usize>], start: usize) -> Vec<usize> {
    let mut seen = vec![false; edges.len()];
    seen[start] = true;
    let mut order = vec![start];
    let mut next = 0;
    while let Some(&r) = order.get(next) {
        next += 1;
        for &parent in &edges[r] {
            if !seen[parent] {
                seen[parent] = true;
                order.push(parent);
            }
        }
    }
    order
}

/// `perms` without duplicates and without entries another entry implies,
/// sorted, so the decision scans as few entries as possible.
fn minimal(mut perms: Vec<Permission>) -> Vec<Permission> {
    perms.sort();
    perms.dedup();
    let keep: Vec<bool> = perms
        .iter()
        .enumerate()
        .map(|(i, p)| {
            !perms
                .iter()
                .enumerate()
                .any(|(j, q)| i != j && q.implies(p))
        })
        .collect();
    let mut keep = keep.into_iter();
    perms.retain(|_| keep.next().unwrap_or(true));
    perms
}

#[cfg(test)]
mod tests;
