//! The decision and its outcomes: what a route demands, why a caller was
//! refused, and the permit that is the only way to forward a request.

use crate::{Policy, Principal, RequiredPermission};

/// What a route demands of its callers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// The route's name, matched against a principal's scopes.
    pub route: String,
    /// The permission an active role must hold.
    pub permission: RequiredPermission,
    /// A data class (such as `child_data`) the caller must be cleared for,
    /// on top of the permission. A class the policy does not declare
    /// refuses everyone.
    pub data_class: Option<String>,
}

impl Requirement {
    /// A requirement of `permission` on the route named `route`, with no
    /// data class.
    pub fn new(route: impl Into<String>, permission: RequiredPermission) -> Self {
        Self {
            route: route.into(),
            permission,
            data_class: None,
        }
    }

    /// Also demands clearance for data class `class`.
    pub fn with_data_class(mut self, class: impl Into<String>) -> Self {
        self.data_class = Some(class.into());
        self
    }
}

/// Why a request was refused. Every variant names the principal and what
/// it lacked, for the log and the audit stream; clients see only a 403.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Denied {
    /// The principal's scopes do not include the route.
    #[error("principal {principal} is not scoped for route {route}")]
    OutOfScope {
        /// The principal's id.
        principal: String,
        /// The route it tried to use.
        route: String,
    },
    /// No active role of the principal holds the permission.
    #[error("principal {principal} lacks permission {permission}")]
    MissingPermission {
        /// The principal's id.
        principal: String,
        /// The permission the route demands.
        permission: RequiredPermission,
    },
    /// No active role of the principal is cleared for the data class.
    #[error("principal {principal} is not cleared for data class {class}")]
    DataClass {
        /// The principal's id.
        principal: String,
        /// The data class the route demands.
        class: String,
    },
    /// The route names a data class the policy does not declare; refused
    /// rather than ignored so a typo cannot open the route.
    #[error("route demands unknown data class {class}; principal {principal} refused")]
    UnknownDataClass {
        /// The principal's id.
        principal: String,
        /// The undeclared data class.
        class: String,
    },
}

impl Denied {
    /// The refused principal's id.
    pub fn principal(&self) -> &str {
        match self {
            Denied::OutOfScope { principal, .. }
            | Denied::MissingPermission { principal, .. }
            | Denied::DataClass { principal, .. }
            | Denied::UnknownDataClass { principal, .. } => principal,
        }
    }

    /// A stable name for the reason, for metrics and audit fields.
    pub fn reason(&self) -> &'static str {
        match self {
            Denied::OutOfScope { .. } => "out_of_scope",
            Denied::MissingPermission { .. } => "missing_permission",
            Denied::DataClass { .. } => "data_class",
            Denied::UnknownDataClass { .. } => "unknown_data_class",
        }
    }
}

/// Proof that `T` was authorized for `principal`. Constructed only by
/// [`authorize`]; the fields are private so no other code can forge one.
#[derive(Debug)]
pub struct Permitted<T> {
    inner: T,
    principal: Principal,
}

impl<T> Permitted<T> {
    /// The principal the value was authorized for.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The authorized value.
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

/// The decision: may `principal` use a route with `requirement` at `now`
/// (Unix seconds)? On success the request comes back wrapped in a permit.
///
/// See [`Policy::decide`] for the order of checks.
pub fn authorize<T>(
    policy: &Policy,
    principal: Principal,
    requirement: &Requirement,
    now: i64,
    request: T,
) -> Result<Permitted<T>, Denied> {
    policy.decide(&principal, requirement, now)?;
    Ok(Permitted {
        inner: request,
        principal,
    })
}
