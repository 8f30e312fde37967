//! Bearer JWTs: keys from configuration and from an OIDC issuer, and the
//! mapping of a verified token to a [`Principal`].
//!
//! Verification itself is `amanah_crypto::jwt` (pure). This module owns
//! the IO: reading key files at start, fetching the issuer's discovery
//! document and JWK set, keeping it for `jwks_cache_secs`, and fetching it
//! again when a token names a `kid` it does not know (a key rotation at
//! the issuer) — at most once per `jwks_refetch_min_interval_secs`, since
//! the `kid` is chosen by whoever sends the token.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use amanah_crypto::jwt::{self, Claims, JwtError, KeySet, Validation, VerifyingKey};
use amanah_policy::{Grant, Principal, PrincipalKind};
use bytes::Bytes;
use http::{header, Request, StatusCode, Uri};
use http_body_util::BodyExt;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::body::{empty, Body};
use crate::config::{JwksFetch, JwksRemote, Jwt, Problem};

/// Largest discovery document or JWK set accepted.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// Why a token did not identify anyone. `Unavailable` is not the caller's
/// fault: the issuer's keys could not be fetched, so no decision is made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    Invalid(#[from] JwtError),
    #[error("the issuer's keys are unavailable: {0}")]
    Unavailable(String),
}

type FetchClient = Client<HttpsConnector<HttpConnector>, Body>;

struct Remote {
    source: JwksRemote,
    client: FetchClient,
    state: Mutex<RemoteState>,
    /// One fetch at a time; others wait for its result.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct RemoteState {
    keys: Arc<KeySet>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
    last_error: Option<String>,
}

pub struct JwtVerifier {
    validation: Validation,
    roles_claim: String,
    role_map: std::collections::BTreeMap<String, String>,
    /// Keys from the configuration file; never refetched.
    local: KeySet,
    remote: Option<Remote>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("local_keys", &self.local.len())
            .field("remote", &self.remote.is_some())
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// Reads the configured key files (the HMAC secret is resolved by the
    /// caller). Remote keys are fetched on first use, so a start does not
    /// wait for, or fail on, the issuer.
    pub fn new(
        config: &Jwt,
        hmac_secret: Option<&amanah_crypto::SecretString>,
        tls: rustls::ClientConfig,
    ) -> Result<Self, Problem> {
        let mut local = KeySet::new();
        if let Some(secret) = hmac_secret {
            local.push(VerifyingKey::hmac(secret, None).map_err(|e| {
                Problem::new(
                    "jwt.hmac_secret",
                    e.to_string(),
                    "use a secret of 32+ characters",
                )
            })?);
        }
        for path in &config.public_key_files {
            let pem = std::fs::read_to_string(path).map_err(|e| {
                Problem::new(
                    "jwt.public_key_files",
                    format!("cannot read {}: {e}", path.display()),
                    "check the path",
                )
            })?;
            local.push(VerifyingKey::from_pem(&pem, None).map_err(|e| {
                Problem::new(
                    "jwt.public_key_files",
                    format!("{}: {e}", path.display()),
                    "give a PEM public key (BEGIN PUBLIC KEY) of type RSA, EC P-256/P-384 or Ed25519",
                )
            })?);
        }
        if let Some(path) = &config.jwks_file {
            let bad = |msg: String| {
                Problem::new(
                    "jwt.jwks_file",
                    format!("{}: {msg}", path.display()),
                    "give a JSON Web Key Set ({\"keys\": [...]})",
                )
            };
            let json = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
            let (keys, _skipped) = KeySet::from_jwks(&json).map_err(|e| bad(e.to_string()))?;
            local.extend(keys.iter().cloned());
        }
        let mut validation = Validation::new(config.algorithms.iter().copied())
            .with_issuer(config.issuer.clone())
            .with_leeway_secs(config.leeway_secs)
            .with_max_lifetime_secs(config.max_lifetime_secs);
        for aud in &config.audiences {
            validation = validation.with_audience(aud.clone());
        }
        let remote = config.remote.clone().map(|source| Remote {
            client: fetch_client(tls, fetch_of(&source).timeout),
            source,
            state: Mutex::default(),
            fetching: tokio::sync::Mutex::new(()),
        });
        Ok(Self {
            validation,
            roles_claim: config.roles_claim.clone(),
            role_map: config.role_map.clone(),
            local,
            remote,
        })
    }

    /// Verifies `token` at `now` and maps it to a principal.
    pub async fn identify(&self, token: &str, now: i64) -> Result<Principal, TokenError> {
        let claims = self.verify(token, now).await?;
        Ok(self.principal(&claims))
    }

    async fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        let Some(remote) = &self.remote else {
            return Ok(jwt::verify(token, &self.local, &self.validation, now)?);
        };
        let (keys, stale) = remote.current();
        let keys = match keys {
            Some(k) if !stale => k,
            _ => remote.refresh(false).await?,
        };
        let first = self.verify_with(token, &keys, now);
        match first {
            Err(TokenError::Invalid(e)) if e.key_refresh_may_help() => {
                let keys = remote.refresh(true).await?;
                self.verify_with(token, &keys, now)
            }
            other => other,
        }
    }

    fn verify_with(&self, token: &str, remote: &KeySet, now: i64) -> Result<Claims, TokenError> {
        if self.local.is_empty() {
            return Ok(jwt::verify(token, remote, &self.validation, now)?);
        }
        let mut all = self.local.clone();
        all.extend(remote.iter().cloned());
        Ok(jwt::verify(token, &all, &self.validation, now)?)
    }

    /// `jwt:<sub>` holding the roles the configured claim names. Roles the
    /// policy does not know are carried but grant nothing.
    fn principal(&self, claims: &Claims) -> Principal {
        let sub = claims.sub.as_deref().unwrap_or("-");
        let mut principal = Principal::new(format!("jwt:{sub}"), PrincipalKind::Jwt);
        for value in claims.strings_at(&self.roles_claim) {
            let role = if self.role_map.is_empty() {
                Some(value)
            } else {
                self.role_map.get(&value).cloned()
            };
            if let Some(role) = role {
                principal = principal.with_grant(Grant::permanent(role));
            }
        }
        principal
    }
}

fn fetch_of(source: &JwksRemote) -> JwksFetch {
    match source {
        JwksRemote::Discovery { fetch, .. } | JwksRemote::Url { fetch, .. } => *fetch,
    }
}

fn fetch_client(tls: rustls::ClientConfig, timeout: Duration) -> FetchClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(timeout));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new()).build(https)
}

impl Remote {
    /// The keys held, and whether they are older than the cache period.
    fn current(&self) -> (Option<Arc<KeySet>>, bool) {
        let Ok(state) = self.state.lock() else {
            return (None, true);
        };
        match state.fetched_at {
            None => (None, true),
            Some(at) => (
                Some(Arc::clone(&state.keys)),
                at.elapsed() >= fetch_of(&self.source).cache,
            ),
        }
    }

    /// Fetches the key set unless another caller just did. `forced` marks a
    /// refetch for an unknown `kid`, limited to one per
    /// `refetch_min_interval`; within that interval the held keys answer.
    async fn refresh(&self, forced: bool) -> Result<Arc<KeySet>, TokenError> {
        let fetch = fetch_of(&self.source);
        let started = Instant::now();
        let _one_at_a_time = self.fetching.lock().await;
        {
            let state = self
                .state
                .lock()
                .map_err(|_| unavailable("state poisoned"))?;
            // Someone fetched while this caller waited.
            if state.fetched_at.is_some_and(|at| at >= started) {
                return Ok(Arc::clone(&state.keys));
            }
            let recently_tried = state
                .last_attempt
                .is_some_and(|at| at.elapsed() < fetch.refetch_min_interval);
            if recently_tried {
                if forced || state.fetched_at.is_some() {
                    return Ok(Arc::clone(&state.keys));
                }
                return Err(unavailable(
                    state.last_error.as_deref().unwrap_or("fetch failed"),
                ));
            }
        }
        let outcome = match tokio::time::timeout(fetch.timeout, self.fetch_keys()).await {
            Ok(r) => r,
            Err(_) => Err("timed out".to_owned()),
        };
        let mut state = self
            .state
            .lock()
            .map_err(|_| unavailable("state poisoned"))?;
        state.last_attempt = Some(Instant::now());
        match outcome {
            Ok(keys) => {
                state.keys = Arc::new(keys);
                state.fetched_at = Some(Instant::now());
                state.last_error = None;
                Ok(Arc::clone(&state.keys))
            }
            Err(msg) => {
                tracing::warn!(error = %msg, "fetching the JWT issuer's keys failed");
                state.last_error = Some(msg.clone());
                // Keys fetched before stay valid until the issuer answers again:
                // an outage of the issuer must not log everyone out.
                if state.fetched_at.is_some() {
                    Ok(Arc::clone(&state.keys))
                } else {
                    Err(unavailable(msg))
                }
            }
        }
    }

    async fn fetch_keys(&self) -> Result<KeySet, String> {
        let jwks_uri = match &self.source {
            JwksRemote::Url { url, .. } => url.clone(),
            JwksRemote::Discovery { url, .. } => {
                let doc = self.get(url).await?;
                let v: serde_json::Value =
                    serde_json::from_slice(&doc).map_err(|_| "discovery document is not JSON")?;
                let uri = v
                    .get("jwks_uri")
                    .and_then(|u| u.as_str())
                    .ok_or("discovery document has no jwks_uri")?;
                let parsed: Uri = uri.parse().map_err(|_| "jwks_uri is not a URL")?;
                // The key set must come over the same kind of channel as the
                // discovery document: https stays https.
                if url.scheme_str() == Some("https") && parsed.scheme_str() != Some("https") {
                    return Err("jwks_uri downgrades https to http".to_owned());
                }
                parsed
            }
        };
        let body = self.get(&jwks_uri).await?;
        let (keys, skipped) = KeySet::from_jwks(&body).map_err(|e| e.to_string())?;
        if !skipped.is_empty() {
            tracing::debug!(
                skipped = skipped.len(),
                "JWK set holds keys that cannot verify tokens"
            );
        }
        Ok(keys)
    }

    async fn get(&self, url: &Uri) -> Result<Bytes, String> {
        let req = Request::get(url.clone())
            .header(header::ACCEPT, "application/json")
            .body(empty())
            .map_err(|e| e.to_string())?;
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        if resp.status() != StatusCode::OK {
            return Err(format!("{url}: status {}", resp.status()));
        }
        let limited = http_body_util::Limited::new(resp.into_body(), MAX_DOCUMENT_BYTES);
        let collected = limited
            .collect()
            .await
            .map_err(|_| format!("{url}: body unreadable or over {MAX_DOCUMENT_BYTES} bytes"))?;
        Ok(collected.to_bytes())
    }
}

fn unavailable(msg: impl std::fmt::Display) -> TokenError {
    TokenError::Unavailable(msg.to_string())
}
