//! API-key lifecycle: create, list, revoke, and verification on requests.
//!
//! Shared by the CLI, the pipeline's identify stage and (later) the admin
//! API, so every path mints and checks keys the same way.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use amanah_crypto::api_key::{self, KeyHasher, NewApiKey, PresentedKey};
use amanah_policy::is_valid_role_name;
use amanah_policy::{Grant, Principal, PrincipalKind};
use amanah_store::{
    ApiKeyRecord, KeyStatus, KeyUse, RevokeOutcome, RotateOutcome, ServiceBinding, Store,
    StoreError,
};
use http::{header, HeaderMap};

use crate::error::{AuthFailure, GatewayError};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("invalid role name `{0}`: use lowercase letters, digits, - and _")]
    InvalidRole(String),
    #[error("invalid scope `{0}`: name a route (lowercase letters, digits, - and _)")]
    InvalidScope(String),
    #[error("invalid service binding: service and instance are 1 to 128 printable characters")]
    InvalidService,
    #[error("a live key already exists for this service instance; rotate or revoke it")]
    ServiceInstanceTaken,
    #[error("no key with this id")]
    NotFound,
    #[error("the key is revoked or expired; create a new one")]
    NotActive,
    #[error("a key needs at least one role")]
    NoRole,
    #[error("invalid key name: 1 to 128 printable characters")]
    InvalidName,
    #[error(
        "lifetime must be between 1 second and {} days",
        crate::config::defaults::MAX_KEY_TTL_DAYS
    )]
    InvalidLifetime,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A key as listed: everything but the secret.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyInfo {
    pub id: String,
    pub name: String,
    pub roles: Vec<String>,
    pub masked: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_used_ip: Option<String>,
    /// Route names the key may call; absent means every route.
    pub scopes: Option<Vec<String>>,
    pub service: Option<String>,
    pub instance: Option<String>,
    pub replaced_by: Option<String>,
    pub status: &'static str,
}

impl KeyInfo {
    fn from_record(r: ApiKeyRecord, now: i64) -> Self {
        Self {
            masked: api_key::mask(&r.id, &r.last4),
            status: r.status(now).as_str(),
            id: r.id,
            name: r.name,
            roles: r.roles,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
            last_used_ip: r.last_used_ip,
            scopes: r.scopes,
            service: r.service.as_ref().map(|b| b.service.clone()),
            instance: r.service.map(|b| b.instance),
            replaced_by: r.replaced_by,
        }
    }
}

/// What a new key is for.
#[derive(Debug, Clone)]
pub struct KeySpec {
    pub name: String,
    pub roles: Vec<String>,
    pub lifetime: Duration,
    /// Route names the key may call; `None` for every route.
    pub scopes: Option<Vec<String>>,
    /// Makes it a service key: one live key per service instance.
    pub service: Option<ServiceBinding>,
}

impl KeySpec {
    pub fn new(name: impl Into<String>, roles: &[String], lifetime: Duration) -> Self {
        Self {
            name: name.into(),
            roles: roles.to_vec(),
            lifetime,
            scopes: None,
            service: None,
        }
    }

    fn check(&self) -> Result<(), KeyError> {
        let name = &self.name;
        if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
            return Err(KeyError::InvalidName);
        }
        if self.roles.is_empty() {
            return Err(KeyError::NoRole);
        }
        if let Some(bad) = self.roles.iter().find(|r| !is_valid_role_name(r)) {
            return Err(KeyError::InvalidRole(bad.clone()));
        }
        let max = Duration::from_secs(crate::config::defaults::MAX_KEY_TTL_DAYS * 86_400);
        if self.lifetime.is_zero() || self.lifetime > max {
            return Err(KeyError::InvalidLifetime);
        }
        for scope in self.scopes.iter().flatten() {
            if !crate::config::valid_name(scope) {
                return Err(KeyError::InvalidScope(scope.clone()));
            }
        }
        if let Some(b) = &self.service {
            let ok = |s: &str| {
                !s.is_empty() && s.chars().count() <= 128 && !s.chars().any(char::is_control)
            };
            if !ok(&b.service) || !ok(&b.instance) {
                return Err(KeyError::InvalidService);
            }
        }
        Ok(())
    }
}

/// The result of a rotation: the new key (shown once) and what became of
/// the old one.
#[derive(Debug)]
pub struct Rotated {
    pub key: NewApiKey,
    pub info: KeyInfo,
    /// The old key works until then.
    pub old_expires_at: i64,
    /// A successor minted by an earlier attempt, now revoked.
    pub revoked_successor: Option<String>,
}

/// How long a key record read from the store is reused. Revocation through
/// this process (CLI in-process, admin API) evicts at once; revocation by
/// another process sharing the store takes effect within this bound.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(1);

pub struct KeyService {
    store: Arc<dyn Store>,
    hasher: KeyHasher,
    /// Recently read key records, so a busy key costs no store round trip.
    /// Only ids that exist are cached, so the map is bounded by the number
    /// of keys; the secret is still checked (HMAC) on every request.
    cache: Mutex<HashMap<String, (Instant, Arc<ApiKeyRecord>)>>,
    /// Last-used times waiting to be written; flushed in batches so a busy
    /// key does not cost a database write per request.
    pending_uses: Mutex<HashMap<String, (i64, Option<IpAddr>)>>,
}

impl std::fmt::Debug for KeyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyService").finish_non_exhaustive()
    }
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl KeyService {
    pub fn new(store: Arc<dyn Store>, hasher: KeyHasher) -> Self {
        Self {
            store,
            hasher,
            cache: Mutex::default(),
            pending_uses: Mutex::default(),
        }
    }

    /// Mints and stores a key. The returned plaintext is the only copy.
    pub async fn create(&self, spec: &KeySpec, now: i64) -> Result<(NewApiKey, KeyInfo), KeyError> {
        spec.check()?;
        // Ids are 32 random bits; on the rare collision, draw again.
        for _ in 0..8 {
            let (key, record) = self.mint(spec, now);
            match self.store.insert_api_key(&record).await {
                Ok(()) => return Ok((key, KeyInfo::from_record(record, now))),
                Err(StoreError::Conflict) => {
                    if self.service_slot_taken(spec, now).await? {
                        return Err(KeyError::ServiceInstanceTaken);
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict.into())
    }

    fn mint(&self, spec: &KeySpec, now: i64) -> (NewApiKey, ApiKeyRecord) {
        let key = self.hasher.generate();
        let record = ApiKeyRecord {
            id: key.id.clone(),
            name: spec.name.clone(),
            roles: spec.roles.clone(),
            tag: key.tag.clone(),
            last4: key.last4.clone(),
            created_at: now,
            expires_at: now + spec.lifetime.as_secs() as i64,
            revoked_at: None,
            last_used_at: None,
            last_used_ip: None,
            scopes: spec.scopes.clone(),
            service: spec.service.clone(),
            replaced_by: None,
        };
        (key, record)
    }

    /// Whether a conflict came from the service-instance rule rather than
    /// an id collision.
    async fn service_slot_taken(&self, spec: &KeySpec, now: i64) -> Result<bool, StoreError> {
        let Some(binding) = &spec.service else {
            return Ok(false);
        };
        Ok(self.store.list_api_keys().await?.iter().any(|k| {
            k.service.as_ref() == Some(binding)
                && k.revoked_at.is_none()
                && k.replaced_by.is_none()
                && k.expires_at > now
        }))
    }

    /// Replaces key `id` by a new one with the same name, roles, scopes,
    /// service binding and lifetime. The old key keeps working for `grace`
    /// (never longer than it had left). Retrying a rotation whose answer was
    /// lost is safe: the unseen successor is revoked and the grace period
    /// is not restarted.
    pub async fn rotate(&self, id: &str, grace: Duration, now: i64) -> Result<Rotated, KeyError> {
        let Some(old) = self.store.api_key(id).await? else {
            return Err(KeyError::NotFound);
        };
        if !old.status(now).accepts() {
            return Err(KeyError::NotActive);
        }
        let lifetime = Duration::from_secs((old.expires_at - old.created_at).max(1) as u64);
        let spec = KeySpec {
            name: old.name.clone(),
            roles: old.roles.clone(),
            lifetime,
            scopes: old.scopes.clone(),
            service: old.service.clone(),
        };
        for _ in 0..8 {
            let (key, record) = self.mint(&spec, now);
            // A grace beyond i64 seconds is "for the rest of the key's life", not a
            // wrapped negative that would end the old key at once.
            let grace_until =
                now.saturating_add(i64::try_from(grace.as_secs()).unwrap_or(i64::MAX));
            match self
                .store
                .rotate_api_key(id, &record, grace_until, now)
                .await
            {
                Ok(RotateOutcome::Rotated { revoked_successor }) => {
                    self.forget(id);
                    if let Some(s) = &revoked_successor {
                        self.forget(s);
                    }
                    let old_expires_at = self
                        .store
                        .api_key(id)
                        .await?
                        .map_or(grace_until, |r| r.expires_at);
                    return Ok(Rotated {
                        key,
                        info: KeyInfo::from_record(record, now),
                        old_expires_at,
                        revoked_successor,
                    });
                }
                Ok(RotateOutcome::NotFound) => return Err(KeyError::NotFound),
                Ok(RotateOutcome::NotActive) => return Err(KeyError::NotActive),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict.into())
    }

    fn forget(&self, id: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(id);
        }
    }

    /// One key, everything but the secret.
    pub async fn get(&self, id: &str, now: i64) -> Result<KeyInfo, KeyError> {
        let record = self.store.api_key(id).await?.ok_or(KeyError::NotFound)?;
        Ok(KeyInfo::from_record(record, now))
    }

    pub async fn list(&self, now: i64) -> Result<Vec<KeyInfo>, KeyError> {
        Ok(self
            .store
            .list_api_keys()
            .await?
            .into_iter()
            .map(|r| KeyInfo::from_record(r, now))
            .collect())
    }

    pub async fn revoke(&self, id: &str, now: i64) -> Result<RevokeOutcome, KeyError> {
        let outcome = self.store.revoke_api_key(id, now).await?;
        self.forget(id);
        Ok(outcome)
    }

    /// The record for `id`, from the cache while fresh, else from the store.
    async fn record(&self, id: &str) -> Result<Option<Arc<ApiKeyRecord>>, StoreError> {
        let now = Instant::now();
        if let Ok(cache) = self.cache.lock() {
            if let Some((at, rec)) = cache.get(id) {
                if now.duration_since(*at) < KEY_CACHE_TTL {
                    return Ok(Some(Arc::clone(rec)));
                }
            }
        }
        let Some(record) = self.store.api_key(id).await? else {
            return Ok(None);
        };
        let record = Arc::new(record);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(id.to_owned(), (now, Arc::clone(&record)));
        }
        Ok(Some(record))
    }

    /// Verifies a presented API key. Every failure is the same 401 to the
    /// client; the reason is returned for the log.
    pub async fn identify_key(
        &self,
        presented: &str,
        ip: Option<IpAddr>,
        now: i64,
    ) -> Result<Principal, GatewayError> {
        let fail = |f| Err(GatewayError::Unauthenticated(f));
        let Some(key) = PresentedKey::parse(presented) else {
            return fail(AuthFailure::Malformed);
        };
        let Some(record) = self.record(key.id()).await? else {
            // Same work as a wrong secret, so timing does not reveal which ids exist.
            self.hasher.verify_against_nothing(key);
            return fail(AuthFailure::UnknownKey);
        };
        if !self.hasher.verify(key, &record.tag) {
            return fail(AuthFailure::WrongSecret);
        }
        match record.status(now) {
            KeyStatus::Active | KeyStatus::Grace => {}
            KeyStatus::Expired => return fail(AuthFailure::Expired),
            KeyStatus::Revoked => return fail(AuthFailure::Revoked),
        }
        if let Ok(mut pending) = self.pending_uses.lock() {
            pending.insert(record.id.clone(), (now, ip));
        }
        Ok(Principal {
            id: format!("key:{}", record.id),
            kind: if record.service.is_some() {
                PrincipalKind::ServiceKey
            } else {
                PrincipalKind::ApiKey
            },
            // A key's roles last as long as the key; expiry is checked above.
            grants: record.roles.iter().map(Grant::permanent).collect(),
            scopes: record.scopes.clone(),
        })
    }

    /// Writes pending last-used times to the store.
    pub async fn flush_last_used(&self) -> Result<(), StoreError> {
        let batch: Vec<KeyUse> = match self.pending_uses.lock() {
            Ok(mut pending) => pending
                .drain()
                .map(|(id, (at, ip))| KeyUse {
                    id,
                    at,
                    ip: ip.map(|ip| ip.to_string()),
                })
                .collect(),
            Err(_) => return Ok(()),
        };
        self.store.record_api_key_use(&batch).await
    }
}

/// Extracts the presented credential from `Authorization: Bearer` or `X-API-Key`.
pub fn presented_credential(headers: &HeaderMap) -> Result<&str, AuthFailure> {
    let mut bearer = None;
    let mut authz = headers.get_all(header::AUTHORIZATION).iter();
    if let Some(v) = authz.next() {
        if authz.next().is_some() {
            return Err(AuthFailure::Ambiguous);
        }
        let v = v.to_str().map_err(|_| AuthFailure::Malformed)?;
        let (scheme, token) = v.split_once(' ').ok_or(AuthFailure::Malformed)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthFailure::Malformed);
        }
        bearer = Some(token.trim());
    }
    let mut xkey = headers.get_all("x-api-key").iter();
    let api_key = match xkey.next() {
        Some(v) => {
            if xkey.next().is_some() {
                return Err(AuthFailure::Ambiguous);
            }
            Some(v.to_str().map_err(|_| AuthFailure::Malformed)?.trim())
        }
        None => None,
    };
    match (bearer, api_key) {
        (None, None) => Err(AuthFailure::Missing),
        (Some(a), Some(b)) if a != b => Err(AuthFailure::Ambiguous),
        (Some(k), _) | (None, Some(k)) => Ok(k),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn credential_extraction() {
        assert_eq!(
            presented_credential(&headers(&[("authorization", "Bearer k1")])),
            Ok("k1")
        );
        assert_eq!(
            presented_credential(&headers(&[("authorization", "bearer k1")])),
            Ok("k1")
        );
        assert_eq!(
            presented_credential(&headers(&[("x-api-key", "k2")])),
            Ok("k2")
        );
        assert_eq!(
            presented_credential(&headers(&[
                ("authorization", "Bearer k"),
                ("x-api-key", "k")
            ])),
            Ok("k")
        );
        assert_eq!(
            presented_credential(&headers(&[])),
            Err(AuthFailure::Missing)
        );
        assert_eq!(
            presented_credential(&headers(&[("authorization", "Basic abc")])),
            Err(AuthFailure::Malformed)
        );
        assert_eq!(
            presented_credential(&headers(&[("authorization", "Bearer")])),
            Err(AuthFailure::Malformed)
        );
        assert_eq!(
            presented_credential(&headers(&[
                ("authorization", "Bearer a"),
                ("x-api-key", "b")
            ])),
            Err(AuthFailure::Ambiguous)
        );
        assert_eq!(
            presented_credential(&headers(&[
                ("authorization", "Bearer a"),
                ("authorization", "Bearer b")
            ])),
            Err(AuthFailure::Ambiguous)
        );
    }
}
