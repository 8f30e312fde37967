//! Amanah's authorization decisions: role-based access control.
//!
//! Pure: no IO, no async. The gateway identifies a caller as a
//! [`Principal`], then asks [`authorize`] whether that principal may use a
//! route. The only way to obtain a [`Permitted`] value is a successful
//! decision, and the forwarding code accepts nothing else, so a request
//! cannot reach an upstream without having been authorized.
//!
//! # The model
//!
//! - A [`Permission`] is `resource:action` (`records:read`); a role may hold
//!   wildcards (`records:*`, `*:read`, `*:*`). What a route demands is a
//!   [`RequiredPermission`], which never contains a wildcard.
//! - A role ([`RoleDef`]) holds permissions and may inherit other roles.
//!   Six roles are predefined ([`predefined_roles`]); custom ones are added
//!   with [`PolicyBuilder::role`].
//! - A data class (such as `child_data`) lists the roles allowed to touch
//!   it. A role qualifies if it or any role it inherits is listed; nothing,
//!   not even `admin`, qualifies implicitly.
//! - A [`Principal`] holds [`Grant`]s of roles, each optionally bounded in
//!   time (`not_before <= now < not_after`), and optionally scopes limiting
//!   it to named routes.
//! - A [`Requirement`] names the route, the permission and optionally a data
//!   class.
//!
//! A decision checks, in order: the scopes admit the route, an active role
//! holds the permission, an active role is cleared for the data class. Deny
//! by default: no active grant, an unknown role or an unknown data class
//! never admits anything.
//!
//! # Seams
//!
//! [`PolicyBuilder::build`] is where configuration enters: it validates
//! names, rejects unknown and cyclic inheritance, and precomputes each
//! role's closure and effective permissions, so the resulting [`Policy`]
//! decides with a few lookups and no allocation. [`authorize`] is the one
//! function the request path calls; [`Policy::decide`] makes the same
//! decision without a permit for checks that forward nothing.

#![forbid(unsafe_code)]

mod decision;
mod error;
mod permission;
mod policy;
mod principal;
mod role;

pub use decision::{authorize, Denied, Permitted, Requirement};
pub use error::PolicyError;
pub use permission::{Permission, RequiredPermission};
pub use policy::{Policy, PolicyBuilder, RoleView};
pub use principal::{Grant, Principal, PrincipalKind};
pub use role::{is_predefined_role, is_valid_role_name, predefined_roles, RoleDef};

#[cfg(test)]
mod properties;
