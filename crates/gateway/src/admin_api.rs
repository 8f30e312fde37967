//! The admin API: `/admin/v1` on the traffic listener, for keys, users,
//! roles, grants and locks, described by the OpenAPI document served at
//! `/admin/v1/openapi.json` ([`OPENAPI`]).
//!
//! # Who may call
//!
//! - **Sign-in endpoints** (`POST /session`, `/setup`, `/mfa/totp`,
//!   `/mfa/totp/confirm`) take a username and password in the body. Every
//!   credential failure is the same 401 and spends the caller's per-address
//!   failure budget (`rate_limits.auth_failures_per_ip`), shared with the
//!   traffic routes: a spent budget answers 429 before any password is
//!   checked.
//! - **Management endpoints** take either an admin session (the
//!   `amanah_session` cookie, plus `X-CSRF-Token` on every method but GET) or
//!   a bearer credential (API key or JWT) as on the traffic routes. The
//!   principal needs [`ADMIN_ACCESS`] and the endpoint's own permission
//!   (`keys:write`, `users:read`, ...); a key limited to routes by scopes
//!   never opens it. The predefined `admin` role (`*:*`) holds all of them.
//! - **No escalation.** A principal may create, rotate or change a key, a
//!   user, a role or a grant only if it holds every permission that key,
//!   user or role carries: `users:write` alone cannot mint an admin.
//!
//! Responses are JSON, never cached (`Cache-Control: no-store`), and errors
//! use the gateway's `{"error": {code, message, request_id}}` shape.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use amanah_crypto::SecretString;
use amanah_policy::{Permission, Policy, Principal, RequiredPermission, Requirement};
use amanah_store::{GrantRecord, RevokeOutcome, RoleRecord, ServiceBinding};
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::{AccessControl, AccessError};
use crate::audit::AuditNote;
use crate::body::{empty, full, Body};
use crate::config::Config;
use crate::error::{AuthFailure, GatewayError};
use crate::identify::Identifier;
use crate::keys::{KeyError, KeyService, KeySpec};
use crate::ratelimit::{LimitKey, Quota, RateLimiter};
use crate::users::{
    self, user_principal, LoginAttempt, LoginError, SecondFactor, Session, UserError, UserService,
    ADMIN_ACCESS, SESSION_COOKIE,
};

#[cfg(test)]
mod tests;

/// Everything under this path belongs to the admin API; routes may not use it.
pub const ROOT: &str = "/admin";
/// The current version of the API.
pub const BASE: &str = "/admin/v1";
/// The OpenAPI 3.1 document of this API.
pub const OPENAPI: &str = include_str!("admin_api/openapi.json");
/// Header carrying the CSRF token on cookie-authenticated state changes.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Largest request body the admin API reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// How long a request body may take to arrive.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an administrator's lock lasts when no duration is given.
pub const DEFAULT_LOCK_SECS: i64 = 24 * 3600;

/// Whether `path` belongs to the admin API (and so to no route).
pub fn owns_path(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    path == ROOT || path.starts_with("/admin/")
}

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; the body carries the credentials where there are any.
    Public,
    /// The signed-in user, by session cookie.
    Session,
    /// [`ADMIN_ACCESS`] plus this permission, by session or bearer credential.
    Permission(&'static str),
}

/// One endpoint: method, path under [`BASE`] (`{name}` captures a segment)
/// and who may call it. The OpenAPI document lists exactly these.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

const fn endpoint(method: Method, path: &'static str, access: Access) -> Endpoint {
    Endpoint {
        method,
        path,
        access,
    }
}

use Access::{Permission as Needs, Public, Session as SignedIn};

/// Every endpoint of the API.
pub const ENDPOINTS: &[Endpoint] = &[
    endpoint(Method::GET, "/openapi.json", Public),
    endpoint(Method::POST, "/session", Public),
    endpoint(Method::GET, "/session", SignedIn),
    endpoint(Method::DELETE, "/session", SignedIn),
    endpoint(Method::POST, "/setup", Public),
    endpoint(Method::POST, "/mfa/totp", Public),
    endpoint(Method::POST, "/mfa/totp/confirm", Public),
    endpoint(Method::POST, "/mfa/recovery-codes", SignedIn),
    endpoint(Method::POST, "/password", SignedIn),
    endpoint(Method::GET, "/keys", Needs("keys:read")),
    endpoint(Method::POST, "/keys", Needs("keys:write")),
    endpoint(Method::GET, "/keys/{id}", Needs("keys:read")),
    endpoint(Method::DELETE, "/keys/{id}", Needs("keys:write")),
    endpoint(Method::POST, "/keys/{id}/rotate", Needs("keys:write")),
    endpoint(Method::GET, "/users", Needs("users:read")),
    endpoint(Method::POST, "/users", Needs("users:write")),
    endpoint(Method::GET, "/users/{username}", Needs("users:read")),
    endpoint(Method::PUT, "/users/{username}/roles", Needs("users:write")),
    endpoint(
        Method::POST,
        "/users/{username}/disable",
        Needs("users:write"),
    ),
    endpoint(
        Method::POST,
        "/users/{username}/enable",
        Needs("users:write"),
    ),
    endpoint(
        Method::POST,
        "/users/{username}/reset-password",
        Needs("users:write"),
    ),
    endpoint(
        Method::POST,
        "/users/{username}/reset-mfa",
        Needs("users:write"),
    ),
    endpoint(
        Method::DELETE,
        "/users/{username}/sessions",
        Needs("users:write"),
    ),
    endpoint(Method::GET, "/locks", Needs("users:read")),
    endpoint(Method::PUT, "/locks/{username}", Needs("users:write")),
    endpoint(Method::DELETE, "/locks/{username}", Needs("users:write")),
    endpoint(Method::GET, "/roles", Needs("roles:read")),
    endpoint(Method::GET, "/roles/{name}", Needs("roles:read")),
    endpoint(Method::PUT, "/roles/{name}", Needs("roles:write")),
    endpoint(Method::DELETE, "/roles/{name}", Needs("roles:write")),
    endpoint(Method::GET, "/grants", Needs("grants:read")),
    endpoint(Method::POST, "/grants", Needs("grants:write")),
    endpoint(Method::DELETE, "/grants/{id}", Needs("grants:write")),
];

/// Why an admin request failed, beyond the pipeline's own errors. Messages
/// name what the administrator sent (a role, a route), never a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    #[error("{0}")]
    Invalid(Cow<'static, str>),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(Cow<'static, str>),
    #[error("the password does not meet the policy: {0}")]
    WeakPassword(String),
    #[error("a second factor is required: send totp_code or recovery_code with the password")]
    MfaRequired,
    #[error("this account must enroll a second factor first: POST /admin/v1/mfa/totp")]
    MfaEnrollmentRequired,
    #[error("missing or wrong X-CSRF-Token header")]
    Csrf,
    #[error("{0}")]
    Escalation(String),
    #[error("send the request body as Content-Type: application/json")]
    NotJson,
}

impl AdminError {
    pub fn status(&self) -> StatusCode {
        match self {
            AdminError::Invalid(_) => StatusCode::BAD_REQUEST,
            AdminError::NotFound(_) => StatusCode::NOT_FOUND,
            AdminError::Conflict(_) => StatusCode::CONFLICT,
            AdminError::WeakPassword(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AdminError::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AdminError::MfaRequired => StatusCode::UNAUTHORIZED,
            AdminError::MfaEnrollmentRequired | AdminError::Csrf | AdminError::Escalation(_) => {
                StatusCode::FORBIDDEN
            }
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AdminError::Invalid(_) => "invalid_request",
            AdminError::NotFound(_) => "not_found",
            AdminError::Conflict(_) => "conflict",
            AdminError::WeakPassword(_) => "weak_password",
            AdminError::MfaRequired => "mfa_required",
            AdminError::MfaEnrollmentRequired => "mfa_enrollment_required",
            AdminError::Csrf => "csrf_failed",
            AdminError::Escalation(_) => "escalation_refused",
            AdminError::NotJson => "unsupported_media_type",
        }
    }
}

fn invalid(message: impl Into<Cow<'static, str>>) -> GatewayError {
    AdminError::Invalid(message.into()).into()
}

/// Credential failures look the same whatever went wrong.
fn denied() -> GatewayError {
    GatewayError::Unauthenticated(AuthFailure::WrongSecret)
}

impl From<UserError> for GatewayError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Denied(reason) => {
                tracing::info!(reason = %reason, "admin credentials refused");
                denied()
            }
            UserError::NoSession => GatewayError::Unauthenticated(AuthFailure::Expired),
            UserError::NotFound => AdminError::NotFound("no such user").into(),
            UserError::UsernameTaken | UserError::MfaAlreadyEnabled => {
                AdminError::Conflict(e.to_string().into()).into()
            }
            UserError::NoPendingEnrollment | UserError::NoSecondFactor => {
                AdminError::Conflict(e.to_string().into()).into()
            }
            UserError::WeakPassword(violations) => AdminError::WeakPassword(
                violations
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
            .into(),
            UserError::Store(e) => GatewayError::Store(e),
            UserError::Hashing => GatewayError::IdentityUnavailable("password hashing".into()),
            other => invalid(other.to_string()),
        }
    }
}

impl From<AccessError> for GatewayError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::Store(e) => GatewayError::Store(e),
            AccessError::DefinedInConfig(_) => AdminError::Conflict(e.to_string().into()).into(),
            other => invalid(other.to_string()),
        }
    }
}

impl From<KeyError> for GatewayError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Store(e) => GatewayError::Store(e),
            KeyError::NotFound => AdminError::NotFound("no key with this id").into(),
            KeyError::ServiceInstanceTaken | KeyError::NotActive => {
                AdminError::Conflict(e.to_string().into()).into()
            }
            other => invalid(other.to_string()),
        }
    }
}

/// The admin API's state.
pub struct AdminApi {
    keys: Arc<KeyService>,
    users: Arc<UserService>,
    access: Arc<AccessControl>,
    limiter: Arc<dyn RateLimiter>,
    failures_per_ip: Option<Quota>,
    /// The per-address request budget, shared with the traffic routes.
    per_ip: Option<Quota>,
    /// `Secure` on the session cookie: whenever the listener speaks TLS.
    secure_cookies: bool,
    default_key_lifetime: Duration,
    rotation_grace: Duration,
    route_names: Vec<String>,
}

impl std::fmt::Debug for AdminApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminApi")
            .field("secure_cookies", &self.secure_cookies)
            .finish_non_exhaustive()
    }
}

/// Who is calling a management endpoint, and how.
struct Caller {
    principal: Principal,
    /// Whether the caller came by session cookie (and so owes a CSRF token).
    via_session: bool,
}

/// A matched endpoint and the path segments its `{…}` captured.
#[derive(Debug)]
pub struct Matched<'a> {
    pub endpoint: &'static Endpoint,
    pub params: Vec<&'a str>,
}

/// Finds the endpoint for `method` and `rest` (the path after [`BASE`]):
/// 404 when no template fits, 405 naming the methods that would.
pub fn match_path<'a>(method: &Method, rest: &'a str) -> Result<Matched<'a>, GatewayError> {
    // Exactly one leading slash: `//keys` or `keys` names nothing.
    let segments: Vec<&str> = rest
        .strip_prefix('/')
        .ok_or(GatewayError::NotFound)?
        .split('/')
        .collect();
    let mut allowed = Vec::new();
    for ep in ENDPOINTS {
        let template: Vec<&str> = ep
            .path
            .strip_prefix('/')
            .unwrap_or(ep.path)
            .split('/')
            .collect();
        if template.len() != segments.len() {
            continue;
        }
        let mut params = Vec::new();
        let fits = template.iter().zip(&segments).all(|(t, s)| {
            if t.starts_with('{') {
                params.push(*s);
                !s.is_empty()
            } else {
                t == s
            }
        });
        if !fits {
            continue;
        }
        if ep.method == method {
            return Ok(Matched {
                endpoint: ep,
                params,
            });
        }
        allowed.push(ep.method.clone());
    }
    if allowed.is_empty() {
        Err(GatewayError::NotFound)
    } else {
        Err(GatewayError::MethodNotAllowed(allowed))
    }
}

/// The session token from the `Cookie` headers, if one is there.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

fn has_bearer(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION) || headers.contains_key("x-api-key")
}

pub(crate) fn reply(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut r = Response::new(full(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub(crate) fn no_content() -> Response<Body> {
    let mut r = Response::new(empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

fn set_cookie(resp: &mut Response<Body>, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Reads and parses a JSON body (an empty body reads as `{}`). A body must
/// be declared `application/json`: a cross-site form cannot send that
/// without a CORS preflight, which the admin API never grants. Parse errors
/// name the position only: a message quoting the body could quote a
/// password.
async fn read_json<T: DeserializeOwned>(req: Request<Incoming>) -> Result<T, GatewayError> {
    read_json_limited(
        req,
        MAX_BODY_BYTES,
        &format!("the OpenAPI document at {BASE}/openapi.json"),
    )
    .await
}

/// [`read_json`] with another body limit; `docs` names where the fields
/// are described.
pub(crate) async fn read_json_limited<T: DeserializeOwned>(
    req: Request<Incoming>,
    limit: usize,
    docs: &str,
) -> Result<T, GatewayError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    let limited = http_body_util::Limited::new(req.into_body(), limit);
    let bytes = match tokio::time::timeout(BODY_TIMEOUT, limited.collect()).await {
        Err(_) => return Err(GatewayError::RequestBodyTimeout),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(GatewayError::PayloadTooLarge {
                limit: limit as u64,
            })
        }
        Ok(Err(_)) => {
            return Err(GatewayError::BadRequest(
                "the request body could not be read",
            ))
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    if bytes.is_empty() {
        return serde_json::from_slice(b"{}").map_err(|_| {
            invalid(format!(
                "this endpoint needs a JSON body; {docs} lists the fields"
            ))
        });
    }
    if !is_json {
        return Err(AdminError::NotJson.into());
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "has a missing, unknown or mistyped field",
            _ => "is not valid JSON",
        };
        invalid(format!(
            "the request body {what} (line {}, column {}); {docs} lists the fields",
            e.line(),
            e.column()
        ))
    })
}

fn secret(value: String) -> SecretString {
    SecretString::new(value)
}

fn parse_permission(p: &str) -> Result<Permission, GatewayError> {
    Permission::parse(p).map_err(|e| invalid(e.to_string()))
}

/// Everything `roles` carry, through inheritance.
fn permissions_of_roles(
    policy: &Policy,
    roles: &[String],
) -> Result<Vec<Permission>, GatewayError> {
    let mut out = Vec::new();
    for role in roles {
        let view = policy.role(role).ok_or_else(|| {
            invalid(format!(
                "no role named `{role}`; GET {BASE}/roles lists the roles there are"
            ))
        })?;
        out.extend(view.effective_permissions().iter().cloned());
    }
    Ok(out)
}

/// [`may_confer`] for everything `roles` carry.
fn may_confer_roles(
    policy: &Policy,
    actor: &Principal,
    roles: &[String],
    now: i64,
) -> Result<(), GatewayError> {
    may_confer(policy, actor, &permissions_of_roles(policy, roles)?, now)
}

/// The body of a signed-in session: the user, the session's times and the
/// CSRF token the page must echo.
fn session_json(
    user: &users::UserInfo,
    session: &users::SessionInfo,
    csrf: &SecretString,
) -> serde_json::Value {
    json!({ "user": user, "session": session, "csrf_token": csrf.expose() })
}

/// Recovery codes, shown this once.
fn recovery_codes_json(codes: &amanah_crypto::totp::RecoveryCodes) -> serde_json::Value {
    let codes: Vec<&str> = codes.codes().iter().map(SecretString::expose).collect();
    json!({ "recovery_codes": codes })
}

/// Refuses to let `actor` confer `wanted` unless it holds every one of them.
fn may_confer(
    policy: &Policy,
    actor: &Principal,
    wanted: &[Permission],
    now: i64,
) -> Result<(), GatewayError> {
    let held: Vec<Permission> = policy
        .permissions_of(actor, now)
        .iter()
        .filter_map(|p| Permission::parse(p).ok())
        .collect();
    let missing: Vec<String> = wanted
        .iter()
        .filter(|w| !held.iter().any(|h| h.implies(w)))
        .map(ToString::to_string)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AdminError::Escalation(format!(
            "you cannot confer permissions you do not hold: {}",
            missing.join(", ")
        ))
        .into())
    }
}

// --- request bodies ---

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
    #[serde(default)]
    totp_code: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupBody {
    username: String,
    setup_token: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrollBody {
    username: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    username: String,
    password: String,
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecoveryCodesBody {
    password: String,
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    old_password: String,
    new_password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKeyBody {
    name: String,
    roles: Vec<String>,
    #[serde(default)]
    expires_in_secs: Option<u64>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    instance: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateBody {
    #[serde(default)]
    grace_secs: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUserBody {
    username: String,
    roles: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesBody {
    roles: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LockBody {
    #[serde(default)]
    duration_secs: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    permissions: Vec<String>,
    #[serde(default)]
    inherits: Vec<String>,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantBody {
    principal: String,
    role: String,
    #[serde(default)]
    not_before: Option<i64>,
    #[serde(default)]
    not_after: Option<i64>,
}

fn duration_secs(secs: u64, what: &str) -> Result<Duration, GatewayError> {
    if secs == 0 {
        return Err(invalid(format!("{what} must be at least 1 second")));
    }
    Ok(Duration::from_secs(secs))
}

fn secs_i64(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl AdminApi {
    pub fn new(
        config: &Config,
        keys: Arc<KeyService>,
        users: Arc<UserService>,
        access: Arc<AccessControl>,
        limiter: Arc<dyn RateLimiter>,
    ) -> Self {
        Self {
            keys,
            users,
            access,
            limiter,
            failures_per_ip: config.rate_limits.auth_failures_per_ip,
            per_ip: config.rate_limits.per_ip,
            secure_cookies: config.server.tls.is_some(),
            default_key_lifetime: config.keys.default_ttl,
            rotation_grace: config.keys.rotation_grace,
            route_names: config.routes.iter().map(|r| r.name.clone()).collect(),
        }
    }

    /// Answers one admin request. `identifier` authenticates bearer
    /// credentials exactly as on the traffic routes.
    pub async fn handle(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
        identifier: &Identifier,
        now: i64,
        note: &mut AuditNote,
    ) -> Result<Response<Body>, GatewayError> {
        let path = req.uri().path().to_owned();
        let rest = path
            .strip_prefix(BASE)
            .filter(|r| r.starts_with('/'))
            .ok_or(GatewayError::NotFound)?;
        let matched = match_path(req.method(), rest)?;
        describe(matched.endpoint, &matched.params, note);
        if let Some(quota) = self.per_ip {
            let decision = self
                .limiter
                .acquire(&LimitKey::network(peer.ip()), quota)
                .await
                .map_err(|e| GatewayError::IdentityUnavailable(e.to_string()))?;
            if !decision.allowed {
                return Err(GatewayError::RateLimited("ip", decision));
            }
        }
        let params: Vec<String> = matched.params.iter().map(|s| (*s).to_owned()).collect();
        let endpoint = matched.endpoint;
        match endpoint.access {
            Access::Public if endpoint.path == "/openapi.json" => {
                note.skip = true;
                self.public(endpoint.path, req, now, note).await
            }
            Access::Public => {
                self.check_failure_budget(peer).await?;
                let result = self.public(endpoint.path, req, now, note).await;
                if matches!(result, Err(GatewayError::Unauthenticated(_))) {
                    self.count_failure(peer).await?;
                }
                result
            }
            Access::Session => {
                // A missing or dead session is a failed authentication like
                // any other: it spends the address's failure budget.
                self.check_failure_budget(peer).await?;
                let session = match session_cookie(req.headers()) {
                    None => None,
                    Some(token) => self
                        .users
                        .session(token, now)
                        .await?
                        .map(|current| (token.to_owned(), current)),
                };
                let Some((token, current)) = session else {
                    self.count_failure(peer).await?;
                    return Err(GatewayError::Unauthenticated(AuthFailure::Expired));
                };
                note.actor = Some(format!("user:{}", current.user.id));
                if endpoint.method != Method::GET {
                    self.check_csrf(req.headers(), &token)?;
                }
                self.signed_in(endpoint, req, &token, current, now).await
            }
            Access::Permission(permission) => {
                let caller = match self.caller(req.headers(), peer, identifier, now).await {
                    Ok(caller) => caller,
                    Err(e) => {
                        if matches!(e, GatewayError::Unauthenticated(_)) {
                            if let Some(claimed) = crate::identify::claimed_account(req.headers()) {
                                note.detail("claimed", claimed);
                            }
                        }
                        return Err(e);
                    }
                };
                note.actor = Some(caller.principal.id.clone());
                if caller.via_session && endpoint.method != Method::GET {
                    let token = session_cookie(req.headers()).unwrap_or_default().to_owned();
                    self.check_csrf(req.headers(), &token)?;
                }
                let policy = self.access.policy().await?;
                authorize(&policy, &caller.principal, permission, now)?;
                let acting = Acting {
                    policy: &policy,
                    actor: &caller.principal,
                    now,
                };
                self.manage(endpoint, &params, req, acting, note).await
            }
        }
    }

    async fn check_failure_budget(&self, peer: SocketAddr) -> Result<(), GatewayError> {
        let Some(quota) = self.failures_per_ip else {
            return Ok(());
        };
        let budget = self
            .limiter
            .peek(&LimitKey::auth_failures(peer.ip()), quota)
            .await
            .map_err(|e| GatewayError::IdentityUnavailable(e.to_string()))?;
        if budget.allowed {
            Ok(())
        } else {
            Err(GatewayError::RateLimited("auth_failures", budget))
        }
    }

    async fn count_failure(&self, peer: SocketAddr) -> Result<(), GatewayError> {
        if let Some(quota) = self.failures_per_ip {
            self.limiter
                .acquire(&LimitKey::auth_failures(peer.ip()), quota)
                .await
                .map_err(|e| GatewayError::IdentityUnavailable(e.to_string()))?;
        }
        Ok(())
    }

    fn check_csrf(&self, headers: &HeaderMap, session_token: &str) -> Result<(), GatewayError> {
        let presented = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if self.users.csrf_matches(session_token, presented) {
            Ok(())
        } else {
            Err(AdminError::Csrf.into())
        }
    }

    /// A bearer credential when one is presented, else the session cookie.
    async fn caller(
        &self,
        headers: &HeaderMap,
        peer: SocketAddr,
        identifier: &Identifier,
        now: i64,
    ) -> Result<Caller, GatewayError> {
        if has_bearer(headers) || session_cookie(headers).is_none() {
            let principal = identifier.identify(headers, peer.ip(), now).await?;
            return Ok(Caller {
                principal,
                via_session: false,
            });
        }
        let token = session_cookie(headers).unwrap_or_default();
        let current = self
            .users
            .session(token, now)
            .await?
            .ok_or(GatewayError::Unauthenticated(AuthFailure::Expired))?;
        let principal = self
            .access
            .with_stored_grants(user_principal(&current.user.id, &current.user.roles))
            .await?;
        Ok(Caller {
            principal,
            via_session: true,
        })
    }

    fn login_response(&self, session: &Session, status: StatusCode) -> Response<Body> {
        let mut resp = reply(
            status,
            &session_json(&session.user, &session.info, &session.csrf),
        );
        set_cookie(
            &mut resp,
            self.users.cookie(session, self.secure_cookies).expose(),
        );
        resp
    }

    // --- sign-in endpoints ---

    async fn public(
        &self,
        path: &'static str,
        req: Request<Incoming>,
        now: i64,
        note: &mut AuditNote,
    ) -> Result<Response<Body>, GatewayError> {
        match path {
            "/openapi.json" => {
                let mut r = Response::new(full(Bytes::from_static(OPENAPI.as_bytes())));
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                Ok(r)
            }
            "/session" => {
                let body: LoginBody = read_json(req).await?;
                let second_factor = match (body.totp_code, body.recovery_code) {
                    (Some(_), Some(_)) => {
                        return Err(invalid("send totp_code or recovery_code, not both"))
                    }
                    (Some(code), None) => Some(SecondFactor::Totp(secret(code))),
                    (None, Some(code)) => Some(SecondFactor::Recovery(secret(code))),
                    (None, None) => None,
                };
                let username = body.username.clone();
                let attempt = LoginAttempt {
                    username: body.username,
                    password: secret(body.password),
                    second_factor,
                };
                note.detail("method", "password");
                match self.users.login(attempt, now).await {
                    Ok(session) => {
                        note.actor = Some(format!("user:{}", session.user.id));
                        Ok(self.login_response(&session, StatusCode::OK))
                    }
                    Err(LoginError::Denied(reason)) => {
                        tracing::info!(reason = %reason, "admin sign-in refused");
                        self.note_claimed_user(&username, reason, now, note).await;
                        Err(denied())
                    }
                    Err(LoginError::MfaRequired) => Err(AdminError::MfaRequired.into()),
                    Err(LoginError::MfaEnrollmentRequired) => {
                        Err(AdminError::MfaEnrollmentRequired.into())
                    }
                    Err(LoginError::Store(e)) => Err(GatewayError::Store(e)),
                }
            }
            "/setup" => {
                let body: SetupBody = read_json(req).await?;
                self.note_claimed(&body.username, now, note).await;
                match self
                    .users
                    .complete_setup(
                        &body.username,
                        &body.setup_token,
                        &secret(body.password),
                        now,
                    )
                    .await
                {
                    Ok(()) => Ok(no_content()),
                    // A guessed token is a credential failure like any other.
                    Err(UserError::InvalidSetupToken) => Err(denied()),
                    Err(e) => Err(e.into()),
                }
            }
            "/mfa/totp" => {
                let body: EnrollBody = read_json(req).await?;
                self.note_claimed(&body.username, now, note).await;
                let enrollment = self
                    .users
                    .begin_totp(&body.username, &secret(body.password), now)
                    .await?;
                Ok(reply(
                    StatusCode::OK,
                    &json!({
                        "otpauth_uri": enrollment.uri.expose(),
                        "secret": enrollment.secret_base32.expose(),
                    }),
                ))
            }
            "/mfa/totp/confirm" => {
                let body: ConfirmBody = read_json(req).await?;
                self.note_claimed(&body.username, now, note).await;
                let codes = self
                    .users
                    .confirm_totp(&body.username, &secret(body.password), &body.code, now)
                    .await?;
                Ok(reply(StatusCode::OK, &recovery_codes_json(&codes)))
            }
            _ => Err(GatewayError::NotFound),
        }
    }

    // --- the signed-in user's own endpoints ---

    async fn signed_in(
        &self,
        endpoint: &Endpoint,
        req: Request<Incoming>,
        token: &str,
        current: users::SessionUser,
        now: i64,
    ) -> Result<Response<Body>, GatewayError> {
        match (endpoint.method.clone(), endpoint.path) {
            (Method::GET, "/session") => {
                let csrf = self.users.csrf_token_for(token);
                Ok(reply(
                    StatusCode::OK,
                    &session_json(&current.user, &current.session, &csrf),
                ))
            }
            (Method::DELETE, "/session") => {
                self.users.logout(token, now).await?;
                let mut resp = no_content();
                set_cookie(&mut resp, self.users.clear_cookie(self.secure_cookies));
                Ok(resp)
            }
            (Method::POST, "/password") => {
                let body: PasswordBody = read_json(req).await?;
                let session = self
                    .users
                    .change_password(
                        token,
                        &secret(body.old_password),
                        &secret(body.new_password),
                        now,
                    )
                    .await?;
                Ok(self.login_response(&session, StatusCode::OK))
            }
            (Method::POST, "/mfa/recovery-codes") => {
                let body: RecoveryCodesBody = read_json(req).await?;
                let codes = self
                    .users
                    .regenerate_recovery_codes(
                        &current.user.username,
                        &secret(body.password),
                        &body.code,
                        now,
                    )
                    .await?;
                Ok(reply(StatusCode::OK, &recovery_codes_json(&codes)))
            }
            _ => Err(GatewayError::NotFound),
        }
    }

    // --- management endpoints ---

    async fn manage(
        &self,
        endpoint: &Endpoint,
        params: &[String],
        req: Request<Incoming>,
        acting: Acting<'_>,
        note: &mut AuditNote,
    ) -> Result<Response<Body>, GatewayError> {
        let Acting { policy, actor, now } = acting;
        let param = |i: usize| params.get(i).map(String::as_str).unwrap_or_default();
        match (endpoint.method.clone(), endpoint.path) {
            (Method::GET, "/keys") => Ok(reply(StatusCode::OK, &self.keys.list(now).await?)),
            (Method::GET, "/keys/{id}") => {
                let key = self.keys.get(param(0), now).await?;
                Ok(reply(StatusCode::OK, &key))
            }
            (Method::POST, "/keys") => {
                let body: CreateKeyBody = read_json(req).await?;
                note.detail("roles", body.roles.join(","));
                may_confer_roles(policy, actor, &body.roles, now)?;
                if let Some(unknown) = body
                    .scopes
                    .iter()
                    .flatten()
                    .find(|s| !self.route_names.contains(s))
                {
                    return Err(invalid(format!(
                        "no route named `{unknown}` in the configuration"
                    )));
                }
                let lifetime = match body.expires_in_secs {
                    Some(s) => duration_secs(s, "expires_in_secs")?,
                    None => self.default_key_lifetime,
                };
                let mut spec = KeySpec::new(body.name, &body.roles, lifetime);
                spec.scopes = body.scopes;
                spec.service = match (body.service, body.instance) {
                    (Some(service), Some(instance)) => Some(ServiceBinding { service, instance }),
                    (None, None) => None,
                    _ => return Err(invalid("service and instance go together")),
                };
                let (key, info) = self.keys.create(&spec, now).await?;
                note.resource = Some(format!("key:{}", info.id));
                tracing::info!(key.id = %info.id, by = %actor.id, "API key created through the admin API");
                Ok(reply(
                    StatusCode::CREATED,
                    &json!({ "key": info, "secret": key.plaintext.expose() }),
                ))
            }
            (Method::DELETE, "/keys/{id}") => {
                let status = match self.keys.revoke(param(0), now).await? {
                    RevokeOutcome::Revoked => "revoked",
                    RevokeOutcome::AlreadyRevoked => "already_revoked",
                    RevokeOutcome::NotFound => return Err(KeyError::NotFound.into()),
                };
                tracing::info!(key.id = param(0), by = %actor.id, "API key revoked through the admin API");
                Ok(reply(
                    StatusCode::OK,
                    &json!({ "id": param(0), "status": status }),
                ))
            }
            (Method::POST, "/keys/{id}/rotate") => {
                let body: RotateBody = read_json(req).await?;
                let old = self.keys.get(param(0), now).await?;
                may_confer_roles(policy, actor, &old.roles, now)?;
                let grace = match body.grace_secs {
                    Some(s) => Duration::from_secs(s),
                    None => self.rotation_grace,
                };
                let rotated = self.keys.rotate(param(0), grace, now).await?;
                note.detail("successor", rotated.info.id.as_str());
                tracing::info!(key.id = param(0), successor = %rotated.info.id, by = %actor.id, "API key rotated through the admin API");
                Ok(reply(
                    StatusCode::CREATED,
                    &json!({
                        "key": rotated.info,
                        "secret": rotated.key.plaintext.expose(),
                        "replaces": param(0),
                        "old_key_expires_at": rotated.old_expires_at,
                        "revoked_successor": rotated.revoked_successor,
                    }),
                ))
            }
            (Method::GET, "/users") => Ok(reply(StatusCode::OK, &self.users.list(now).await?)),
            (Method::GET, "/users/{username}") => {
                Ok(reply(StatusCode::OK, &self.users.get(param(0), now).await?))
            }
            (Method::POST, "/users") => {
                let body: CreateUserBody = read_json(req).await?;
                note.resource = Some(format!("user:{}", body.username.to_ascii_lowercase()));
                note.detail("roles", body.roles.join(","));
                may_confer_roles(policy, actor, &body.roles, now)?;
                let (user, token) = self.users.create(&body.username, &body.roles, now).await?;
                Ok(reply(
                    StatusCode::CREATED,
                    &json!({ "user": user, "setup_token": token.expose() }),
                ))
            }
            (Method::PUT, "/users/{username}/roles") => {
                let body: RolesBody = read_json(req).await?;
                note.detail("roles", body.roles.join(","));
                self.may_manage_user(policy, actor, param(0), now).await?;
                may_confer_roles(policy, actor, &body.roles, now)?;
                let user = self.users.set_roles(param(0), &body.roles, now).await?;
                Ok(reply(StatusCode::OK, &user))
            }
            (Method::POST, "/users/{username}/disable") => {
                self.may_manage_user(policy, actor, param(0), now).await?;
                self.users.disable(param(0), now).await?;
                Ok(reply(StatusCode::OK, &self.users.get(param(0), now).await?))
            }
            (Method::POST, "/users/{username}/enable") => {
                self.may_manage_user(policy, actor, param(0), now).await?;
                self.users.enable(param(0), now).await?;
                Ok(reply(StatusCode::OK, &self.users.get(param(0), now).await?))
            }
            (Method::POST, "/users/{username}/reset-password") => {
                self.may_manage_user(policy, actor, param(0), now).await?;
                let token = self.users.reset_password(param(0), now).await?;
                Ok(reply(
                    StatusCode::OK,
                    &json!({ "username": param(0).to_ascii_lowercase(), "setup_token": token.expose() }),
                ))
            }
            (Method::POST, "/users/{username}/reset-mfa") => {
                self.may_manage_user(policy, actor, param(0), now).await?;
                self.users.reset_mfa(param(0), now).await?;
                Ok(reply(StatusCode::OK, &self.users.get(param(0), now).await?))
            }
            (Method::DELETE, "/users/{username}/sessions") => {
                self.may_manage_user(policy, actor, param(0), now).await?;
                let revoked = self.users.revoke_sessions(param(0), now).await?;
                Ok(reply(
                    StatusCode::OK,
                    &json!({ "revoked_sessions": revoked }),
                ))
            }
            (Method::GET, "/locks") => {
                let locked: Vec<_> = self
                    .users
                    .list(now)
                    .await?
                    .into_iter()
                    .filter(|u| u.locked_until.is_some())
                    .map(|u| json!({ "username": u.username, "locked_until": u.locked_until }))
                    .collect();
                Ok(reply(StatusCode::OK, &locked))
            }
            (Method::PUT, "/locks/{username}") => {
                let body: LockBody = read_json(req).await?;
                let period = match body.duration_secs {
                    Some(s) => secs_i64(duration_secs(s, "duration_secs")?),
                    None => DEFAULT_LOCK_SECS,
                };
                // Locking is no way around the rule: a lesser actor could
                // otherwise shut every administrator out.
                self.may_manage_user(policy, actor, param(0), now).await?;
                self.users
                    .lock(param(0), now.saturating_add(period), now)
                    .await?;
                tracing::info!(by = %actor.id, "admin user locked through the admin API");
                Ok(reply(StatusCode::OK, &self.users.get(param(0), now).await?))
            }
            (Method::DELETE, "/locks/{username}") => {
                self.may_manage_user(policy, actor, param(0), now).await?;
                self.users.unlock(param(0), now).await?;
                Ok(reply(StatusCode::OK, &self.users.get(param(0), now).await?))
            }
            (Method::GET, "/roles") => {
                let roles: Vec<_> = policy.roles().iter().map(|r| self.role_json(r)).collect();
                Ok(reply(StatusCode::OK, &roles))
            }
            (Method::GET, "/roles/{name}") => {
                let role = policy
                    .role(param(0))
                    .ok_or(AdminError::NotFound("no such role"))?;
                Ok(reply(StatusCode::OK, &self.role_json(role)))
            }
            (Method::PUT, "/roles/{name}") => {
                let body: RoleBody = read_json(req).await?;
                let name = param(0);
                if policy.role(name).is_some_and(|r| r.is_predefined()) {
                    return Err(AdminError::Conflict(
                        format!("`{name}` is a predefined role and cannot be changed").into(),
                    )
                    .into());
                }
                let mut wanted = permissions_of_roles(policy, &body.inherits)?;
                for p in &body.permissions {
                    wanted.push(parse_permission(p)?);
                }
                may_confer(policy, actor, &wanted, now)?;
                let created_at = self
                    .access
                    .list_roles()
                    .await?
                    .iter()
                    .find(|r| r.name == name)
                    .map_or(now, |r| r.created_at);
                self.access
                    .put_role(RoleRecord {
                        name: name.to_owned(),
                        description: body.description,
                        permissions: body.permissions,
                        inherits: body.inherits,
                        created_at,
                        updated_at: now,
                    })
                    .await?;
                let policy = self.access.policy().await?;
                let role = policy
                    .role(name)
                    .ok_or(AdminError::NotFound("no such role"))?;
                Ok(reply(StatusCode::OK, &self.role_json(role)))
            }
            (Method::DELETE, "/roles/{name}") => {
                if self.access.delete_role(param(0)).await? {
                    Ok(no_content())
                } else {
                    Err(AdminError::NotFound("no such custom role").into())
                }
            }
            (Method::GET, "/grants") => {
                let principal = match req
                    .uri()
                    .query()
                    .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("principal=")))
                {
                    Some(raw) => Some(percent_decode(raw).ok_or_else(|| {
                        invalid("the principal parameter is not valid percent-encoded UTF-8")
                    })?),
                    None => None,
                };
                let grants: Vec<_> = self
                    .access
                    .list_grants(principal.as_deref())
                    .await?
                    .iter()
                    .map(grant_json)
                    .collect();
                Ok(reply(StatusCode::OK, &grants))
            }
            (Method::POST, "/grants") => {
                let body: GrantBody = read_json(req).await?;
                note.detail("role", body.role.as_str());
                note.detail("principal", body.principal.as_str());
                may_confer_roles(policy, actor, std::slice::from_ref(&body.role), now)?;
                let grant = self
                    .access
                    .grant(
                        &body.principal,
                        &body.role,
                        body.not_before,
                        body.not_after,
                        &actor.id,
                        now,
                    )
                    .await?;
                note.resource = Some(format!("grant:{}", grant.id));
                Ok(reply(StatusCode::CREATED, &grant_json(&grant)))
            }
            (Method::DELETE, "/grants/{id}") => {
                if self.access.revoke_grant(param(0)).await? {
                    Ok(no_content())
                } else {
                    Err(AdminError::NotFound("no such grant").into())
                }
            }
            _ => Err(GatewayError::NotFound),
        }
    }

    /// Who a refused sign-in claimed to be: the user's id when the name
    /// exists, else only a keyed hash of the name (people type passwords
    /// into username fields).
    async fn note_claimed_user(
        &self,
        username: &str,
        reason: users::DenyReason,
        now: i64,
        note: &mut AuditNote,
    ) {
        note.detail("reason", reason.as_str());
        if let Some(until) = reason.locked_now() {
            note.detail("locked_until", until.to_string());
        }
        if reason == users::DenyReason::UnknownUser {
            note.sensitive("username", username);
        } else {
            self.note_claimed(username, now, note).await;
        }
    }

    /// The account a password-checked request names, as the `claimed`
    /// detail: the user's id when the name exists, else only a keyed hash
    /// of the name (people type passwords into username fields).
    async fn note_claimed(&self, username: &str, now: i64, note: &mut AuditNote) {
        match self.users.get(username, now).await {
            Ok(user) => note.detail("claimed", format!("user:{}", user.id)),
            Err(_) => note.sensitive("username", username),
        }
    }

    /// An actor may change a user only if it holds everything the user can
    /// do: otherwise resetting an administrator's password and second
    /// factor would hand the account to a lesser one.
    async fn may_manage_user(
        &self,
        policy: &Policy,
        actor: &Principal,
        username: &str,
        now: i64,
    ) -> Result<(), GatewayError> {
        let user = self.users.get(username, now).await?;
        let target = self
            .access
            .with_stored_grants(user_principal(&user.id, &user.roles))
            .await?;
        let wanted: Vec<Permission> = policy
            .permissions_of(&target, now)
            .iter()
            .filter_map(|p| Permission::parse(p).ok())
            .collect();
        may_confer(policy, actor, &wanted, now)
    }

    fn role_json(&self, role: &amanah_policy::RoleView) -> serde_json::Value {
        let source = if role.is_predefined() {
            "predefined"
        } else if self.access.is_file_role(role.name()) {
            "config"
        } else {
            "custom"
        };
        let strings = |ps: &[Permission]| ps.iter().map(ToString::to_string).collect::<Vec<_>>();
        json!({
            "name": role.name(),
            "description": role.description(),
            "source": source,
            "permissions": strings(role.permissions()),
            "inherits": role.inherits(),
            "effective_permissions": strings(role.effective_permissions()),
        })
    }
}

/// Who carries out a management request, under which policy, when.
#[derive(Clone, Copy)]
struct Acting<'a> {
    policy: &'a Policy,
    actor: &'a Principal,
    now: i64,
}

/// The audit action and resource of an admin endpoint.
fn describe(endpoint: &Endpoint, params: &[&str], note: &mut AuditNote) {
    let action = match (endpoint.method.as_str(), endpoint.path) {
        ("POST", "/session") => "auth.login",
        ("GET", "/session") => "session.read",
        ("DELETE", "/session") => "auth.logout",
        ("POST", "/setup") => "user.setup",
        ("POST", "/mfa/totp") => "mfa.enroll",
        ("POST", "/mfa/totp/confirm") => "mfa.confirm",
        ("POST", "/mfa/recovery-codes") => "mfa.recovery_codes",
        ("POST", "/password") => "user.password",
        ("GET", "/keys") => "key.list",
        ("POST", "/keys") => "key.create",
        ("GET", "/keys/{id}") => "key.read",
        ("DELETE", "/keys/{id}") => "key.revoke",
        ("POST", "/keys/{id}/rotate") => "key.rotate",
        ("GET", "/users") => "user.list",
        ("POST", "/users") => "user.create",
        ("GET", "/users/{username}") => "user.read",
        ("PUT", "/users/{username}/roles") => "user.roles",
        ("POST", "/users/{username}/disable") => "user.disable",
        ("POST", "/users/{username}/enable") => "user.enable",
        ("POST", "/users/{username}/reset-password") => "user.reset_password",
        ("POST", "/users/{username}/reset-mfa") => "user.reset_mfa",
        ("DELETE", "/users/{username}/sessions") => "user.revoke_sessions",
        ("GET", "/locks") => "lock.list",
        ("PUT", "/locks/{username}") => "user.lock",
        ("DELETE", "/locks/{username}") => "user.unlock",
        ("GET", "/roles") => "role.list",
        ("GET", "/roles/{name}") => "role.read",
        ("PUT", "/roles/{name}") => "role.put",
        ("DELETE", "/roles/{name}") => "role.delete",
        ("GET", "/grants") => "grant.list",
        ("POST", "/grants") => "grant.create",
        ("DELETE", "/grants/{id}") => "grant.revoke",
        _ => "admin.request",
    };
    let kind = match endpoint.path.split('/').nth(1) {
        Some("keys") => "key",
        Some("users" | "locks") => "user",
        Some("roles") => "role",
        Some("grants") => "grant",
        _ => "admin",
    };
    let resource = match params.first() {
        Some(p) => format!("{kind}:{}", crate::pipeline::truncate(p, 128)),
        None => kind.to_owned(),
    };
    note.set(action, resource);
}

/// Decodes `%XX` escapes and `+` in a query value; `None` for a broken
/// escape or bytes that are not UTF-8.
pub fn percent_decode(raw: &str) -> Option<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let hex = [bytes.next()?, bytes.next()?];
                let hex = std::str::from_utf8(&hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

fn grant_json(g: &GrantRecord) -> serde_json::Value {
    json!({
        "id": g.id,
        "principal": g.principal,
        "role": g.role,
        "not_before": g.not_before,
        "not_after": g.not_after,
        "created_at": g.created_at,
        "created_by": g.created_by,
    })
}

/// The caller needs [`ADMIN_ACCESS`] and `permission`; a key limited to
/// routes by scopes never reaches the admin API.
fn authorize(
    policy: &Policy,
    principal: &Principal,
    permission: &'static str,
    now: i64,
) -> Result<(), GatewayError> {
    for needed in [ADMIN_ACCESS, permission] {
        let required = RequiredPermission::parse(needed)
            .map_err(|e| GatewayError::IdentityUnavailable(e.to_string()))?;
        let requirement = Requirement::new(ROUTE_NAME, required);
        amanah_policy::authorize(policy, principal.clone(), &requirement, now, ())?;
    }
    Ok(())
}

/// The name scopes and decisions know the admin API by. Route names cannot
/// take it: it is not a valid route name.
pub const ROUTE_NAME: &str = "/admin";
