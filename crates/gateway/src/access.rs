//! Roles and grants at run time: the compiled [`Policy`] (predefined roles,
//! the file's roles and data classes, and custom roles kept in the store)
//! and the time-bound grants each principal holds.
//!
//! Both are read on every request, so both are cached for
//! [`ACCESS_CACHE_TTL`]: a change made through this process (admin API, CLI
//! in-process) takes effect at once, one made by another process sharing
//! the store within the TTL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use amanah_policy::{Grant, Permission, Policy, PolicyError, Principal, RoleDef};
use amanah_store::{GrantRecord, RoleRecord, Store, StoreError};

use crate::config::Config;

pub const ACCESS_CACHE_TTL: Duration = Duration::from_secs(1);

/// A principal's stored grants and when they were read.
type CachedGrants = (Instant, Arc<[Grant]>);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("role `{0}` is defined in the configuration file; change it there")]
    DefinedInConfig(String),
    #[error("no role named `{0}`")]
    UnknownRole(String),
    #[error("not_after must be later than not_before")]
    EmptyWindow,
    #[error("principal must be key:<id> or user:<id>")]
    InvalidPrincipal,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct AccessControl {
    store: Arc<dyn Store>,
    file_roles: Vec<RoleDef>,
    data_classes: Vec<(String, Vec<String>)>,
    policy: Mutex<Option<(Instant, Arc<Policy>)>>,
    grants: Mutex<HashMap<String, CachedGrants>>,
}

impl std::fmt::Debug for AccessControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessControl")
            .field("file_roles", &self.file_roles.len())
            .finish_non_exhaustive()
    }
}

fn role_def(r: &RoleRecord) -> Result<RoleDef, PolicyError> {
    let mut def = RoleDef::new(r.name.clone()).description(r.description.clone());
    for p in &r.permissions {
        def = def.permission(Permission::parse(p)?);
    }
    for parent in &r.inherits {
        def = def.inherits(parent.clone());
    }
    Ok(def)
}

impl AccessControl {
    pub fn new(config: &Config, store: Arc<dyn Store>) -> Self {
        Self::with_roles(store, config.roles.clone(), config.data_classes.clone())
    }

    /// Access control over `store` with the file's roles and data classes
    /// given directly.
    pub fn with_roles(
        store: Arc<dyn Store>,
        file_roles: Vec<RoleDef>,
        data_classes: Vec<(String, Vec<String>)>,
    ) -> Self {
        Self {
            store,
            file_roles,
            data_classes,
            policy: Mutex::default(),
            grants: Mutex::default(),
        }
    }

    fn build(&self, stored: &[RoleRecord]) -> Result<Policy, AccessError> {
        let mut builder = Policy::builder();
        for r in &self.file_roles {
            builder = builder.role(r.clone());
        }
        for r in stored {
            if self.file_roles.iter().any(|f| f.name == r.name) {
                // The file wins; the admin API refuses to create such a role.
                continue;
            }
            builder = builder.role(role_def(r)?);
        }
        for (name, roles) in &self.data_classes {
            builder = builder.data_class(name.clone(), roles.clone());
        }
        Ok(builder.build()?)
    }

    /// The current policy. If the stored roles no longer compile (edited by
    /// hand), the store's roles are left out and the error logged: the
    /// file's roles keep working and no stored role grants anything.
    pub async fn policy(&self) -> Result<Arc<Policy>, StoreError> {
        if let Ok(cached) = self.policy.lock() {
            if let Some((at, p)) = cached.as_ref() {
                if at.elapsed() < ACCESS_CACHE_TTL {
                    return Ok(Arc::clone(p));
                }
            }
        }
        let stored = self.store.list_roles().await?;
        let policy = match self.build(&stored) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "stored custom roles do not compile; ignoring them");
                self.build(&[]).unwrap_or_else(|_| Policy::standard())
            }
        };
        let policy = Arc::new(policy);
        if let Ok(mut cached) = self.policy.lock() {
            *cached = Some((Instant::now(), Arc::clone(&policy)));
        }
        Ok(policy)
    }

    /// Adds the principal's stored grants (time-bound or not) to those it
    /// came with.
    pub async fn with_stored_grants(
        &self,
        mut principal: Principal,
    ) -> Result<Principal, StoreError> {
        let grants = self.grants_of(&principal.id).await?;
        principal.grants.extend(grants.iter().cloned());
        Ok(principal)
    }

    async fn grants_of(&self, principal: &str) -> Result<Arc<[Grant]>, StoreError> {
        if let Ok(cache) = self.grants.lock() {
            if let Some((at, g)) = cache.get(principal) {
                if at.elapsed() < ACCESS_CACHE_TTL {
                    return Ok(Arc::clone(g));
                }
            }
        }
        let grants: Arc<[Grant]> = self
            .store
            .list_grants(Some(principal))
            .await?
            .into_iter()
            .map(|g| Grant {
                role: g.role,
                not_before: g.not_before,
                not_after: g.not_after,
            })
            .collect();
        if let Ok(mut cache) = self.grants.lock() {
            // Bounded by the number of principals that exist and call.
            if cache.len() > 100_000 {
                cache.clear();
            }
            cache.insert(principal.to_owned(), (Instant::now(), Arc::clone(&grants)));
        }
        Ok(grants)
    }

    fn forget_policy(&self) {
        if let Ok(mut cached) = self.policy.lock() {
            *cached = None;
        }
    }

    fn forget_grants(&self, principal: &str) {
        if let Ok(mut cache) = self.grants.lock() {
            cache.remove(principal);
        }
    }

    /// Creates or replaces a custom role, after proving the policy with it
    /// still compiles (no cycle, known parents).
    pub async fn put_role(&self, role: RoleRecord) -> Result<(), AccessError> {
        if self.file_roles.iter().any(|f| f.name == role.name) {
            return Err(AccessError::DefinedInConfig(role.name));
        }
        let mut stored = self.store.list_roles().await?;
        stored.retain(|r| r.name != role.name);
        stored.push(role.clone());
        self.build(&stored)?;
        self.store.put_role(&role).await?;
        self.forget_policy();
        Ok(())
    }

    /// Deletes a custom role; roles inheriting it must go first.
    pub async fn delete_role(&self, name: &str) -> Result<bool, AccessError> {
        if self.file_roles.iter().any(|f| f.name == name) {
            return Err(AccessError::DefinedInConfig(name.to_owned()));
        }
        let mut stored = self.store.list_roles().await?;
        stored.retain(|r| r.name != name);
        self.build(&stored)?;
        let deleted = self.store.delete_role(name).await?;
        self.forget_policy();
        Ok(deleted)
    }

    /// Whether `name` is defined in the configuration file.
    pub fn is_file_role(&self, name: &str) -> bool {
        self.file_roles.iter().any(|f| f.name == name)
    }

    pub async fn list_roles(&self) -> Result<Vec<RoleRecord>, AccessError> {
        Ok(self.store.list_roles().await?)
    }

    /// Grants `role` to `principal` (`key:<id>` or `user:<id>`) for the
    /// window given.
    pub async fn grant(
        &self,
        principal: &str,
        role: &str,
        not_before: Option<i64>,
        not_after: Option<i64>,
        by: &str,
        now: i64,
    ) -> Result<GrantRecord, AccessError> {
        let valid_principal = principal
            .split_once(':')
            .is_some_and(|(kind, id)| matches!(kind, "key" | "user") && !id.is_empty());
        if !valid_principal {
            return Err(AccessError::InvalidPrincipal);
        }
        if !self.policy().await?.knows_role(role) {
            return Err(AccessError::UnknownRole(role.to_owned()));
        }
        if let (Some(a), Some(b)) = (not_before, not_after) {
            if b <= a {
                return Err(AccessError::EmptyWindow);
            }
        }
        let record = GrantRecord {
            id: format!("g_{}", amanah_crypto::random::hex(16)),
            principal: principal.to_owned(),
            role: role.to_owned(),
            not_before,
            not_after,
            created_at: now,
            created_by: by.to_owned(),
        };
        self.store.insert_grant(&record).await?;
        self.forget_grants(principal);
        Ok(record)
    }

    pub async fn revoke_grant(&self, id: &str) -> Result<bool, AccessError> {
        let deleted = self.store.delete_grant(id).await?;
        // Revocations are rare: forgetting every cached grant costs less
        // than reading all grants to find whose this was.
        if let Ok(mut cache) = self.grants.lock() {
            cache.clear();
        }
        Ok(deleted)
    }

    pub async fn list_grants(
        &self,
        principal: Option<&str>,
    ) -> Result<Vec<GrantRecord>, AccessError> {
        Ok(self.store.list_grants(principal).await?)
    }
}
