//! Administrator accounts: bootstrap, login, sessions, second factor and
//! lockout, as logic over [`Store`]. No HTTP here: the admin API maps these
//! results to responses (and [`LoginError`] / [`UserError::Denied`] to one
//! and the same 401).
//!
//! # Flows
//!
//! 1. **Bootstrap.** [`UserService::create`] makes a user with roles and no
//!    password and returns a one-time setup token (the CLI prints it once).
//!    There is never a default password. [`UserService::complete_setup`]
//!    takes the token and the chosen password (checked against the policy,
//!    with the username as context); the token is consumed by the same
//!    version-checked write that stores the hash, so it works once, and not
//!    after `users.setup_token_ttl`.
//! 2. **Second factor.** A user holding any role in
//!    `users.mfa_required_roles` cannot sign in before enrolling: the right
//!    password answers [`LoginError::MfaEnrollmentRequired`]. The client then
//!    calls [`UserService::begin_totp`] (username + password; returns the
//!    `otpauth://` URI, the secret is stored sealed but not enabled) and
//!    [`UserService::confirm_totp`] (username + password + a current code;
//!    enables it and returns ten recovery codes, shown once, stored as keyed
//!    tags). Enrollment is refused once a factor is enabled: replacing it
//!    needs an administrator's [`UserService::reset_mfa`], otherwise a stolen
//!    password would be enough to take the second factor over.
//! 3. **Login.** [`UserService::login`] checks the password, then the second
//!    factor (a TOTP code, or a single-use recovery code) and opens a
//!    session: an opaque token (stored only as a keyed tag) plus a CSRF
//!    token derived from it. [`UserService::session`] resolves a token,
//!    enforcing the idle and absolute timeouts.
//! 4. **Recovery.** [`UserService::reset_password`] issues a new setup token
//!    (forgotten password); [`UserService::reset_mfa`] removes a lost
//!    authenticator. Both end the user's sessions.
//!
//! # No user enumeration
//!
//! Unknown, malformed, disabled, locked and not-yet-set-up accounts and a
//! wrong password all cost exactly one Argon2id verification
//! ([`PasswordHasher::verify_dummy`] when there is no real hash) and all give
//! [`LoginError::Denied`], whose public text is the same; the
//! [`DenyReason`] inside is for the log and the audit trail only.
//! [`LoginError::MfaRequired`] and [`LoginError::MfaEnrollmentRequired`] are
//! answered only after a correct password, so they say nothing about who
//! exists.
//!
//! # Lockout
//!
//! `users.lockout.threshold` consecutive failures (a wrong password, or a
//! missing or wrong second factor after a correct one) lock the account for
//! `base × 2^lockouts`, capped at `max`; `lockouts` then grows by one and
//! the failure count restarts. A successful login resets the failure count,
//! not `lockouts`. While locked every attempt is refused, even with the right
//! password, and neither counts nor extends the lock. Counts are written
//! through the store's version check and retried on a lost race, so
//! concurrent failures are all counted. A lock does not end existing
//! sessions (that would let anyone log a user out by guessing); an
//! administrator's [`UserService::lock`] does.

use std::fmt;
use std::sync::Arc;

use amanah_crypto::password::{Params, PasswordHasher, PasswordPolicy, PolicyViolation};
use amanah_crypto::seal::{self, Sealer, TokenTagger};
use amanah_crypto::totp::{
    self, RecoveryCodeHasher, RecoveryCodes, Totp, TotpSecret, DEFAULT_RECOVERY_CODES,
    DEFAULT_SKEW_STEPS,
};
use amanah_crypto::{random, SecretString};
use amanah_policy::{is_valid_role_name, Grant, Permission, Policy, Principal, PrincipalKind};
use amanah_store::{SessionRecord, Store, StoreError, UserRecord};

use crate::access::AccessControl;
use crate::config::{self, Lockout, PasswordRules};

#[cfg(test)]
mod tests;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "amanah_session";
/// The cookie is sent only to the admin API and console.
pub const SESSION_COOKIE_PATH: &str = "/admin";
/// Longest username, in bytes (all ASCII).
pub const MAX_USERNAME_LEN: usize = 64;
/// Prefix of setup tokens, so that a leaked one is recognizable and never
/// mistaken for a session token (`ams_`) or an API key (`amk_`).
pub const SETUP_TOKEN_PREFIX: &str = "amsetup_";
/// Random base62 characters in a setup token (≥ 256 bits).
const SETUP_TOKEN_RANDOM_LEN: usize = 43;
/// `last_seen_at` is written at most this often per session: a busy console
/// costs one write per half minute, and the idle timeout may end a session
/// up to this much early.
pub const SESSION_TOUCH_INTERVAL_SECS: i64 = 30;
/// The issuer shown by authenticator apps.
pub const TOTP_ISSUER: &str = "Amanah";
/// Sealer purpose of TOTP secrets.
const TOTP_PURPOSE: &str = "totp-secret";
/// Token-tag domains: a tag of one kind of token is useless as another.
const SESSION_DOMAIN: &str = "admin-session";
const SETUP_DOMAIN: &str = "admin-setup";
const CSRF_DOMAIN: &str = "admin-csrf";
/// Concurrent Argon2 runs allowed (see `UserService::hashing`).
const MAX_CONCURRENT_HASHES: usize = 4;
/// Version-checked writes that lose a race are retried this often. Every
/// round lets at least one contender through, so this many concurrent
/// writers on one account all succeed.
const MAX_UPDATE_ATTEMPTS: usize = 32;

/// Why an operation on users failed. Messages are static and safe to show;
/// none contains a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserError {
    #[error("invalid username: use 1 to 64 characters among a-z, 0-9, '.', '_', '@' and '-'")]
    InvalidUsername,
    #[error("this username is taken")]
    UsernameTaken,
    #[error("no such user")]
    NotFound,
    #[error("invalid role name `{0}`: use lowercase letters, digits, - and _")]
    InvalidRole(String),
    #[error("a user needs at least one role")]
    NoRole,
    #[error("the password does not meet the policy")]
    WeakPassword(Vec<PolicyViolation>),
    #[error("the setup token is invalid or expired")]
    InvalidSetupToken,
    /// Same public answer as [`LoginError::Denied`]; the reason is for logs.
    #[error("invalid credentials")]
    Denied(DenyReason),
    #[error("the session has ended; sign in again")]
    NoSession,
    #[error("the code is invalid")]
    InvalidCode,
    #[error("a second factor is already enabled; an administrator must reset it first")]
    MfaAlreadyEnabled,
    #[error("no second-factor enrollment is in progress; begin again")]
    NoPendingEnrollment,
    #[error("no second factor is enabled for this account")]
    NoSecondFactor,
    #[error("password hashing failed")]
    Hashing,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// Every [`DenyReason`] gives this one public answer, so that a client
    /// cannot tell an unknown user from a wrong password or a locked account.
    #[error("invalid credentials")]
    Denied(DenyReason),
    /// The password was right; send it again with a second factor.
    #[error("a second factor is required")]
    MfaRequired,
    /// The password was right, but this account must enroll a second factor
    /// first (`begin_totp` / `confirm_totp`).
    #[error("a second factor must be enrolled before signing in")]
    MfaEnrollmentRequired,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl LoginError {
    /// A stable, secret-free label for logs and audit records.
    pub fn reason(&self) -> &'static str {
        match self {
            LoginError::Denied(r) => r.as_str(),
            LoginError::MfaRequired => "mfa_required",
            LoginError::MfaEnrollmentRequired => "mfa_enrollment_required",
            LoginError::Store(_) => "store_unavailable",
        }
    }
}

/// What really happened behind a denied login. Never shown to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenyReason {
    /// No such user, or a name that cannot be one.
    UnknownUser,
    Disabled,
    /// The setup token has not been used yet: there is no password.
    PendingSetup,
    /// Locked by earlier failures or by an administrator.
    Locked {
        until: i64,
    },
    /// `locked_until` is set when this failure locked the account.
    WrongPassword {
        locked_until: Option<i64>,
    },
    /// A wrong TOTP or recovery code after a correct password (a missing
    /// one is [`LoginError::MfaRequired`]). `locked_until` as for
    /// [`DenyReason::WrongPassword`].
    WrongSecondFactor {
        locked_until: Option<i64>,
    },
}

impl DenyReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            DenyReason::UnknownUser => "unknown_user",
            DenyReason::Disabled => "disabled",
            DenyReason::PendingSetup => "pending_setup",
            DenyReason::Locked { .. } => "locked",
            DenyReason::WrongPassword { .. } => "wrong_password",
            DenyReason::WrongSecondFactor { .. } => "wrong_second_factor",
        }
    }

    /// When this failure locked the account, until when.
    pub fn locked_now(&self) -> Option<i64> {
        match self {
            DenyReason::WrongPassword { locked_until }
            | DenyReason::WrongSecondFactor { locked_until } => *locked_until,
            _ => None,
        }
    }
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Internal outcome of the steps shared by login and the password-checked
/// operations.
#[derive(Debug)]
enum AuthFail {
    Denied(DenyReason),
    Store(StoreError),
}

impl From<StoreError> for AuthFail {
    fn from(e: StoreError) -> Self {
        AuthFail::Store(e)
    }
}

impl From<AuthFail> for LoginError {
    fn from(e: AuthFail) -> Self {
        match e {
            AuthFail::Denied(r) => LoginError::Denied(r),
            AuthFail::Store(e) => LoginError::Store(e),
        }
    }
}

impl From<AuthFail> for UserError {
    fn from(e: AuthFail) -> Self {
        match e {
            AuthFail::Denied(r) => UserError::Denied(r),
            AuthFail::Store(e) => UserError::Store(e),
        }
    }
}

/// A sign-in attempt. `Debug` shows the username only.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    pub username: String,
    pub password: SecretString,
    pub second_factor: Option<SecondFactor>,
}

/// The second factor offered with a password.
#[derive(Debug, Clone)]
pub enum SecondFactor {
    /// A code from the authenticator app.
    Totp(SecretString),
    /// One of the recovery codes; each works once.
    Recovery(SecretString),
}

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// Created; the setup token has not been used.
    PendingSetup,
    Active,
    Locked,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::PendingSetup => "pending_setup",
            UserStatus::Active => "active",
            UserStatus::Locked => "locked",
            UserStatus::Disabled => "disabled",
        }
    }
}

/// A user as listed: never the hash, the TOTP secret or any tag.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserInfo {
    pub id: String,
    pub username: String,
    pub roles: Vec<String>,
    pub status: UserStatus,
    pub mfa_enabled: bool,
    /// Whether the roles demand a second factor.
    pub mfa_required: bool,
    /// Set only while the lock lasts.
    pub locked_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub disabled_at: Option<i64>,
    /// Unused recovery codes; filled by [`UserService::list`] and
    /// [`UserService::get`] for users with a second factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes_left: Option<u32>,
}

/// The public facts of a session.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionInfo {
    pub created_at: i64,
    pub last_seen_at: i64,
    /// The absolute end, whatever the activity.
    pub expires_at: i64,
    /// The end if nothing happens before then.
    pub idle_expires_at: i64,
}

/// A new session: the token goes into the cookie ([`UserService::cookie`]),
/// the CSRF token into the page. Both are shown once.
#[derive(Debug)]
pub struct Session {
    pub token: SecretString,
    pub csrf: SecretString,
    pub info: SessionInfo,
    pub user: UserInfo,
}

/// A live session resolved from its token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionUser {
    pub user: UserInfo,
    pub session: SessionInfo,
}

/// What an authenticator app needs: the URI for a QR code, or the secret to
/// type. Both contain the secret.
#[derive(Debug)]
pub struct TotpEnrollment {
    pub uri: SecretString,
    pub secret_base32: SecretString,
}

/// The admin-user service.
pub struct UserService {
    store: Arc<dyn Store>,
    /// Roles and grants, to decide who needs a second factor.
    access: Arc<AccessControl>,
    /// Shared with the blocking pool, where Argon2 runs.
    hasher: Arc<PasswordHasher>,
    /// Argon2 runs at once at most this many at a time: each holds
    /// `m_cost` of memory (19 MiB with OWASP's parameters), so a flood of
    /// sign-ins queues here instead of exhausting memory.
    hashing: tokio::sync::Semaphore,
    policy: PasswordPolicy,
    users: config::Users,
    totp: Totp,
    sessions: TokenTagger,
    setup: TokenTagger,
    csrf: TokenTagger,
    recovery: RecoveryCodeHasher,
    sealer: Sealer,
    issuer: String,
    /// Argon2 verifications run, so tests can prove every path pays one.
    #[cfg(test)]
    verifications: std::sync::atomic::AtomicU64,
}

impl fmt::Debug for UserService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserService")
            .field("hasher", &self.hasher)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// Lowercases `input` and checks it: 1 to 64 of `[a-z0-9._@-]`.
pub fn normalize_username(input: &str) -> Option<String> {
    let lowered = input.to_ascii_lowercase();
    let valid = (1..=MAX_USERNAME_LEN).contains(&lowered.len())
        && lowered.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'@' | b'-')
        });
    valid.then_some(lowered)
}

/// The configured rules as the crypto crate's policy (the maximum length
/// keeps its default).
pub fn password_policy(rules: &PasswordRules) -> PasswordPolicy {
    PasswordPolicy {
        min_chars: rules.min_chars,
        require_letter: rules.require_letter,
        require_digit: rules.require_digit,
        require_symbol: rules.require_symbol,
        reject_common: rules.reject_common,
        ..PasswordPolicy::default()
    }
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// `base × 2^lockouts`, capped at `max`, in seconds.
fn lock_period(lockout: &Lockout, lockouts: i64) -> i64 {
    let exponent = u32::try_from(lockouts.clamp(0, 63)).unwrap_or(63);
    let factor = 1u64 << exponent;
    let period = lockout
        .base
        .as_secs()
        .saturating_mul(factor)
        .min(lockout.max.as_secs());
    i64::try_from(period).unwrap_or(i64::MAX)
}

fn locked_until(user: &UserRecord, now: i64) -> Option<i64> {
    user.locked_until.filter(|&until| until > now)
}

fn last_step(user: &UserRecord) -> Option<u64> {
    user.totp_last_step.and_then(|s| u64::try_from(s).ok())
}

fn looks_like_session_token(token: &str) -> bool {
    token.len() == seal::SESSION_TOKEN_PREFIX.len() + seal::SESSION_TOKEN_RANDOM_LEN
        && token.starts_with(seal::SESSION_TOKEN_PREFIX)
}

fn new_setup_token() -> SecretString {
    let mut token = String::with_capacity(SETUP_TOKEN_PREFIX.len() + SETUP_TOKEN_RANDOM_LEN);
    token.push_str(SETUP_TOKEN_PREFIX);
    // Wrapped so the temporary is wiped too.
    let random = SecretString::new(random::base62(SETUP_TOKEN_RANDOM_LEN));
    token.push_str(random.expose());
    SecretString::new(token)
}

impl UserService {
    /// `server_secret` is the deployment secret (`keys.hmac_secret`, at
    /// least 32 characters, judged by `SecretRef::resolve`). Session, setup
    /// and CSRF tags, recovery-code tags and the TOTP sealing key are each
    /// derived from it under their own domain. Builds the password hasher,
    /// which costs one Argon2 run.
    pub fn new(
        store: Arc<dyn Store>,
        access: Arc<AccessControl>,
        server_secret: &SecretString,
        users: &config::Users,
        params: Params,
    ) -> Self {
        Self {
            store,
            access,
            hasher: Arc::new(PasswordHasher::new(params)),
            hashing: tokio::sync::Semaphore::new(MAX_CONCURRENT_HASHES),
            policy: password_policy(&users.password),
            users: users.clone(),
            totp: Totp::default(),
            sessions: TokenTagger::new(server_secret, SESSION_DOMAIN),
            setup: TokenTagger::new(server_secret, SETUP_DOMAIN),
            csrf: TokenTagger::new(server_secret, CSRF_DOMAIN),
            recovery: RecoveryCodeHasher::new(server_secret),
            sealer: Sealer::derive(server_secret, TOTP_PURPOSE),
            issuer: TOTP_ISSUER.to_owned(),
            #[cfg(test)]
            verifications: Default::default(),
        }
    }

    // --- administration ---

    /// Creates a user with `roles` and no password, and returns the one-time
    /// setup token (valid `users.setup_token_ttl`) that sets it. Show the
    /// token once; only its tag is stored.
    pub async fn create(
        &self,
        username: &str,
        roles: &[String],
        now: i64,
    ) -> Result<(UserInfo, SecretString), UserError> {
        let username = normalize_username(username).ok_or(UserError::InvalidUsername)?;
        check_roles(roles)?;
        let token = new_setup_token();
        for _ in 0..8 {
            let user = UserRecord {
                id: random::hex(16),
                username: username.clone(),
                roles: roles.to_vec(),
                password_hash: None,
                setup_tag: Some(self.setup.tag(token.expose()).to_vec()),
                setup_expires_at: Some(now.saturating_add(secs(self.users.setup_token_ttl))),
                totp_sealed: None,
                totp_enabled: false,
                totp_last_step: None,
                failed_logins: 0,
                locked_until: None,
                lockouts: 0,
                created_at: now,
                updated_at: now,
                disabled_at: None,
                version: 0,
            };
            match self.store.insert_user(&user).await {
                Ok(()) => {
                    tracing::info!(user.id = %user.id, user.name = %user.username, "admin user created");
                    return Ok((self.info(&user, now).await?, token));
                }
                Err(StoreError::Conflict) => {
                    if self.store.user_by_name(&username).await?.is_some() {
                        return Err(UserError::UsernameTaken);
                    }
                    // An id collision: draw again.
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict.into())
    }

    /// All users, oldest first.
    pub async fn list(&self, now: i64) -> Result<Vec<UserInfo>, UserError> {
        let mut out = Vec::new();
        for user in self.store.list_users().await? {
            out.push(self.info_with_codes(&user, now).await?);
        }
        Ok(out)
    }

    pub async fn get(&self, username: &str, now: i64) -> Result<UserInfo, UserError> {
        let user = self.existing(username).await?;
        self.info_with_codes(&user, now).await
    }

    /// Replaces the user's roles. A user who gains a role that requires a
    /// second factor without having one loses their sessions at once (see
    /// [`UserService::session`]) and must enroll.
    pub async fn set_roles(
        &self,
        username: &str,
        roles: &[String],
        now: i64,
    ) -> Result<UserInfo, UserError> {
        check_roles(roles)?;
        let user = self.existing(username).await?;
        let (user, ()) = self
            .modify(user, now, |u| {
                u.roles = roles.to_vec();
                Ok::<_, UserError>(())
            })
            .await?;
        Ok(self.info(&user, now).await?)
    }

    /// Disables the account and ends its sessions.
    pub async fn disable(&self, username: &str, now: i64) -> Result<(), UserError> {
        let user = self.existing(username).await?;
        let (user, ()) = self
            .modify(user, now, |u| {
                u.disabled_at.get_or_insert(now);
                Ok::<_, UserError>(())
            })
            .await?;
        self.store.revoke_user_sessions(&user.id, now).await?;
        tracing::info!(user.id = %user.id, "admin user disabled");
        Ok(())
    }

    pub async fn enable(&self, username: &str, now: i64) -> Result<(), UserError> {
        let user = self.existing(username).await?;
        self.modify(user, now, |u| {
            u.disabled_at = None;
            Ok::<_, UserError>(())
        })
        .await?;
        Ok(())
    }

    /// Locks the account until `until` and ends its sessions.
    pub async fn lock(&self, username: &str, until: i64, now: i64) -> Result<(), UserError> {
        let user = self.existing(username).await?;
        let (user, ()) = self
            .modify(user, now, |u| {
                u.locked_until = Some(until);
                Ok::<_, UserError>(())
            })
            .await?;
        self.store.revoke_user_sessions(&user.id, now).await?;
        tracing::info!(user.id = %user.id, until, "admin user locked by an administrator");
        Ok(())
    }

    /// Lifts a lock and forgets the failures counted so far. `lockouts` is
    /// kept, so the next automatic lock is still longer.
    pub async fn unlock(&self, username: &str, now: i64) -> Result<(), UserError> {
        let user = self.existing(username).await?;
        self.modify(user, now, |u| {
            u.locked_until = None;
            u.failed_logins = 0;
            Ok::<_, UserError>(())
        })
        .await?;
        Ok(())
    }

    /// Forgotten password: removes it, lifts any lock, ends the sessions and
    /// returns a new setup token for [`UserService::complete_setup`]. The
    /// second factor is kept.
    pub async fn reset_password(
        &self,
        username: &str,
        now: i64,
    ) -> Result<SecretString, UserError> {
        let user = self.existing(username).await?;
        let token = new_setup_token();
        let tag = self.setup.tag(token.expose()).to_vec();
        let expires = now.saturating_add(secs(self.users.setup_token_ttl));
        let (user, ()) = self
            .modify(user, now, |u| {
                u.password_hash = None;
                u.setup_tag = Some(tag.clone());
                u.setup_expires_at = Some(expires);
                u.locked_until = None;
                u.failed_logins = 0;
                Ok::<_, UserError>(())
            })
            .await?;
        self.store.revoke_user_sessions(&user.id, now).await?;
        tracing::info!(user.id = %user.id, "admin user password reset");
        Ok(token)
    }

    /// Lost authenticator: removes the second factor and the recovery codes
    /// and ends the sessions. The user enrolls again at the next login.
    pub async fn reset_mfa(&self, username: &str, now: i64) -> Result<(), UserError> {
        let user = self.existing(username).await?;
        let (user, ()) = self
            .modify(user, now, |u| {
                u.totp_sealed = None;
                u.totp_enabled = false;
                Ok::<_, UserError>(())
            })
            .await?;
        self.store.set_recovery_codes(&user.id, &[]).await?;
        self.store.revoke_user_sessions(&user.id, now).await?;
        tracing::info!(user.id = %user.id, "admin user second factor reset");
        Ok(())
    }

    /// Ends every session of the user; returns how many were live.
    pub async fn revoke_sessions(&self, username: &str, now: i64) -> Result<u64, UserError> {
        let user = self.existing(username).await?;
        Ok(self.store.revoke_user_sessions(&user.id, now).await?)
    }

    // --- setup and passwords ---

    /// Sets the first password with the setup token from
    /// [`UserService::create`] or [`UserService::reset_password`]. A wrong,
    /// used or expired token, an unknown user and a disabled one all give
    /// [`UserError::InvalidSetupToken`]; a weak password does not use the
    /// token up.
    pub async fn complete_setup(
        &self,
        username: &str,
        setup_token: &str,
        new_password: &SecretString,
        now: i64,
    ) -> Result<(), UserError> {
        let valid_token = |u: &UserRecord| {
            u.disabled_at.is_none()
                && u.setup_expires_at.is_some_and(|at| now < at)
                && u.setup_tag
                    .as_deref()
                    .is_some_and(|tag| self.setup.matches(setup_token, tag))
        };
        let user = match normalize_username(username) {
            Some(name) => self.store.user_by_name(&name).await?,
            None => None,
        };
        let user = user
            .filter(|u| valid_token(u))
            .ok_or(UserError::InvalidSetupToken)?;
        self.check_password(&user.username, new_password)?;
        let hash = self.hash(new_password).await?;
        let (user, ()) = self
            .modify(user, now, |u| {
                // Re-checked on every re-read: of two racing uses, one wins.
                if !valid_token(u) {
                    return Err(UserError::InvalidSetupToken);
                }
                u.password_hash = Some(hash.clone());
                u.setup_tag = None;
                u.setup_expires_at = None;
                u.failed_logins = 0;
                Ok(())
            })
            .await?;
        tracing::info!(user.id = %user.id, "admin user password set");
        Ok(())
    }

    /// Changes the password of the session's user after checking the old
    /// one (a wrong one counts towards the lockout). Every session of the
    /// user ends, the presented one included; the returned session replaces
    /// it.
    pub async fn change_password(
        &self,
        session_token: &str,
        old_password: &SecretString,
        new_password: &SecretString,
        now: i64,
    ) -> Result<Session, UserError> {
        let current = self
            .session(session_token, now)
            .await?
            .ok_or(UserError::NoSession)?;
        self.check_password(&current.user.username, new_password)?;
        let user = self
            .authenticate(&current.user.username, old_password, now)
            .await?;
        let hash = self.hash(new_password).await?;
        let old_hash = user.password_hash.clone();
        let (user, ()) = self
            .modify(user, now, |u| {
                if u.password_hash != old_hash {
                    // Changed meanwhile: the old password no longer holds.
                    return Err(UserError::Denied(DenyReason::WrongPassword {
                        locked_until: None,
                    }));
                }
                u.password_hash = Some(hash.clone());
                u.failed_logins = 0;
                Ok(())
            })
            .await?;
        self.store.revoke_user_sessions(&user.id, now).await?;
        tracing::info!(user.id = %user.id, "admin user changed their password");
        Ok(self.open_session(&user, now).await?)
    }

    // --- login and sessions ---

    /// Checks the password and, where enabled, the second factor, and opens
    /// a session. See the module documentation for the order of checks and
    /// why every denial looks the same.
    pub async fn login(&self, attempt: LoginAttempt, now: i64) -> Result<Session, LoginError> {
        let user = self
            .authenticate(&attempt.username, &attempt.password, now)
            .await?;
        let user = if user.totp_enabled {
            match &attempt.second_factor {
                None => {
                    // Counted, so that "password right, no code" is not a
                    // free oracle; reset by the success that follows.
                    self.record_failure(user, now).await?;
                    return Err(LoginError::MfaRequired);
                }
                Some(SecondFactor::Totp(code)) => self.check_totp(user, code, now).await?,
                Some(SecondFactor::Recovery(code)) => self.check_recovery(user, code, now).await?,
            }
        } else if self.requires_mfa(&user, now).await? {
            return Err(LoginError::MfaEnrollmentRequired);
        } else {
            user
        };
        let user = self.after_success(user, &attempt.password, now).await?;
        let session = self.open_session(&user, now).await?;
        tracing::info!(user.id = %user.id, "admin user signed in");
        Ok(session)
    }

    /// The live session for `token`, or `None` when it is unknown, revoked,
    /// past its absolute end, idle for `users.session_idle_timeout`, or its
    /// user is disabled, has no password, or lacks a second factor their
    /// roles require. A session found past either timeout is revoked, so it
    /// stays ended. Records activity at most every
    /// [`SESSION_TOUCH_INTERVAL_SECS`].
    pub async fn session(&self, token: &str, now: i64) -> Result<Option<SessionUser>, UserError> {
        if !looks_like_session_token(token) {
            return Ok(None);
        }
        let tag = self.sessions.tag(token);
        let Some(mut record) = self.store.session(&tag).await? else {
            return Ok(None);
        };
        if record.revoked_at.is_some() {
            return Ok(None);
        }
        let idle = secs(self.users.session_idle_timeout);
        if now >= record.expires_at || now.saturating_sub(record.last_seen_at) >= idle {
            // Ended for good: a clock that later reads earlier (another
            // process, an adjustment) must not bring it back.
            self.store.revoke_session(&tag, now).await?;
            return Ok(None);
        }
        let Some(user) = self.store.user(&record.user_id).await? else {
            return Ok(None);
        };
        if user.disabled_at.is_some()
            || user.password_hash.is_none()
            || (!user.totp_enabled && self.requires_mfa(&user, now).await?)
        {
            return Ok(None);
        }
        if now.saturating_sub(record.last_seen_at) >= SESSION_TOUCH_INTERVAL_SECS {
            self.store.touch_session(&tag, now).await?;
            record.last_seen_at = now;
        }
        Ok(Some(SessionUser {
            user: self.info(&user, now).await?,
            session: self.session_info(&record),
        }))
    }

    /// Ends the session; false if it was not live.
    pub async fn logout(&self, token: &str, now: i64) -> Result<bool, UserError> {
        if !looks_like_session_token(token) {
            return Ok(false);
        }
        Ok(self
            .store
            .revoke_session(&self.sessions.tag(token), now)
            .await?)
    }

    /// Whether `presented` is the CSRF token of `session_token`
    /// (`HMAC(server secret, "admin-csrf" || 0 || token)`, hex), compared in
    /// constant time. Stateless: nothing is stored.
    pub fn csrf_matches(&self, session_token: &str, presented: &str) -> bool {
        self.csrf_token(session_token).ct_eq(presented)
    }

    /// `Set-Cookie` value for a new session: `HttpOnly`, `SameSite=Strict`,
    /// scoped to `/admin`, lasting the absolute timeout. `secure` is false
    /// only for plain HTTP on loopback.
    pub fn cookie(&self, session: &Session, secure: bool) -> SecretString {
        let max_age = session
            .info
            .expires_at
            .saturating_sub(session.info.created_at)
            .max(0);
        let secure = if secure { "; Secure" } else { "" };
        SecretString::new(format!(
            "{SESSION_COOKIE}={}; Path={SESSION_COOKIE_PATH}; HttpOnly; SameSite=Strict{secure}; Max-Age={max_age}",
            session.token.expose()
        ))
    }

    /// `Set-Cookie` value that removes the session cookie.
    pub fn clear_cookie(&self, secure: bool) -> &'static str {
        if secure {
            "amanah_session=; Path=/admin; HttpOnly; SameSite=Strict; Secure; Max-Age=0"
        } else {
            "amanah_session=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0"
        }
    }

    // --- second factor ---

    /// Starts TOTP enrollment for a user without an enabled factor (the
    /// password proves who asks; a wrong one counts towards the lockout).
    /// The secret is stored sealed but not enabled until
    /// [`UserService::confirm_totp`]; beginning again replaces it.
    pub async fn begin_totp(
        &self,
        username: &str,
        password: &SecretString,
        now: i64,
    ) -> Result<TotpEnrollment, UserError> {
        let user = self.authenticate(username, password, now).await?;
        if user.totp_enabled {
            return Err(UserError::MfaAlreadyEnabled);
        }
        let secret = TotpSecret::generate();
        let sealed = self.sealer.seal(secret.as_bytes(), user.id.as_bytes());
        let (user, ()) = self
            .modify(user, now, |u| {
                if u.totp_enabled {
                    return Err(UserError::MfaAlreadyEnabled);
                }
                u.totp_sealed = Some(sealed.clone());
                u.totp_last_step = None;
                u.failed_logins = 0;
                Ok(())
            })
            .await?;
        Ok(TotpEnrollment {
            uri: self.totp.otpauth_uri(&self.issuer, &user.username, &secret),
            secret_base32: secret.to_base32(),
        })
    }

    /// Enables the pending TOTP secret once `code` proves the app has it,
    /// and returns ten new recovery codes (show them once). A wrong code
    /// here does not count towards the lockout: the password was right and
    /// the secret is the user's own.
    pub async fn confirm_totp(
        &self,
        username: &str,
        password: &SecretString,
        code: &str,
        now: i64,
    ) -> Result<RecoveryCodes, UserError> {
        let user = self.authenticate(username, password, now).await?;
        let (user, ()) = self
            .modify(user, now, |u| {
                if u.totp_enabled {
                    return Err(UserError::MfaAlreadyEnabled);
                }
                let secret = self.open_totp(u)?.ok_or(UserError::NoPendingEnrollment)?;
                let step = self
                    .totp
                    .verify(&secret, code, now, DEFAULT_SKEW_STEPS, last_step(u))
                    .ok_or(UserError::InvalidCode)?;
                u.totp_enabled = true;
                u.totp_last_step = Some(i64::try_from(step).unwrap_or(i64::MAX));
                u.failed_logins = 0;
                Ok(())
            })
            .await?;
        // Only the enrollment that won the version check stores its codes.
        let codes = self.store_new_recovery_codes(&user.id).await?;
        tracing::info!(user.id = %user.id, "admin user enrolled a second factor");
        Ok(codes)
    }

    /// Replaces the recovery codes after checking the password and a
    /// current TOTP code (failures count towards the lockout).
    pub async fn regenerate_recovery_codes(
        &self,
        username: &str,
        password: &SecretString,
        code: &str,
        now: i64,
    ) -> Result<RecoveryCodes, UserError> {
        let user = self.authenticate(username, password, now).await?;
        if !user.totp_enabled {
            return Err(UserError::NoSecondFactor);
        }
        let user = self
            .check_totp(user, &SecretString::new(code.to_owned()), now)
            .await?;
        Ok(self.store_new_recovery_codes(&user.id).await?)
    }

    // --- internals ---

    async fn store_new_recovery_codes(&self, user_id: &str) -> Result<RecoveryCodes, StoreError> {
        let codes = RecoveryCodes::generate(DEFAULT_RECOVERY_CODES);
        let tags: Vec<Vec<u8>> = self
            .recovery
            .tags(&codes)
            .iter()
            .map(|t| t.to_vec())
            .collect();
        self.store.set_recovery_codes(user_id, &tags).await?;
        Ok(codes)
    }

    async fn existing(&self, username: &str) -> Result<UserRecord, UserError> {
        let name = normalize_username(username).ok_or(UserError::NotFound)?;
        self.store
            .user_by_name(&name)
            .await?
            .ok_or(UserError::NotFound)
    }

    /// Whether the user must have a second factor: some role they hold
    /// at `now` (their own or granted) is listed in
    /// `users.mfa_required_roles`, inherits a listed role, or opens the
    /// admin API ([`ADMIN_ACCESS`]) — so a custom `*:*` role or an
    /// `admin` grant cannot sidestep the requirement. An empty list turns
    /// the requirement off.
    async fn requires_mfa(&self, user: &UserRecord, now: i64) -> Result<bool, StoreError> {
        if self.users.mfa_required_roles.is_empty() {
            return Ok(false);
        }
        let policy = self.access.policy().await?;
        let principal = self
            .access
            .with_stored_grants(user_principal(&user.id, &user.roles))
            .await?;
        let required = principal
            .roles_at(now)
            .any(|role| role_requires_mfa(&policy, &self.users.mfa_required_roles, role));
        Ok(required)
    }

    fn check_password(&self, username: &str, password: &SecretString) -> Result<(), UserError> {
        self.policy
            .check(password.expose(), &[username])
            .map_err(UserError::WeakPassword)
    }

    /// The CSRF token belonging to `session_token`, for a page that
    /// reloads: the same value [`Session::csrf`] carried at sign-in.
    pub fn csrf_token_for(&self, session_token: &str) -> SecretString {
        self.csrf_token(session_token)
    }

    fn csrf_token(&self, session_token: &str) -> SecretString {
        SecretString::new(random::encode_hex(&self.csrf.tag(session_token)))
    }

    /// The user's TOTP secret, if one is stored. A value that does not open
    /// (another server secret, a copied row) is reported as corrupt data.
    fn open_totp(&self, user: &UserRecord) -> Result<Option<TotpSecret>, StoreError> {
        let Some(sealed) = &user.totp_sealed else {
            return Ok(None);
        };
        let corrupt = || StoreError::Corrupt("a TOTP secret cannot be opened".into());
        let bytes = self
            .sealer
            .open(sealed, user.id.as_bytes())
            .map_err(|_| corrupt())?;
        TotpSecret::from_bytes(&bytes)
            .map(Some)
            .map_err(|_| corrupt())
    }

    /// Argon2id on the blocking pool.
    async fn hash(&self, password: &SecretString) -> Result<String, UserError> {
        let hasher = Arc::clone(&self.hasher);
        let password = password.clone();
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|_| UserError::Hashing)?;
        tokio::task::spawn_blocking(move || hasher.hash(&password))
            .await
            .map_err(|_| UserError::Hashing)?
            .map_err(|_| UserError::Hashing)
    }

    /// Exactly one Argon2id verification whatever `user` is: against the
    /// stored hash, or the dummy when there is none. Runs on the blocking
    /// pool; a failed task counts as a mismatch.
    async fn verify_password(&self, user: Option<&UserRecord>, password: &SecretString) -> bool {
        #[cfg(test)]
        self.verifications
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let hasher = Arc::clone(&self.hasher);
        let password = password.clone();
        let phc = user.and_then(|u| u.password_hash.clone());
        let Ok(_permit) = self.hashing.acquire().await else {
            return false;
        };
        tokio::task::spawn_blocking(move || match phc {
            Some(phc) => hasher.verify(password.expose(), &phc),
            None => {
                hasher.verify_dummy(password.expose());
                false
            }
        })
        .await
        .unwrap_or(false)
    }

    /// The password step shared by login and the password-checked
    /// operations: one verification on every path, then the account state,
    /// then the result. A wrong password is counted.
    async fn authenticate(
        &self,
        username: &str,
        password: &SecretString,
        now: i64,
    ) -> Result<UserRecord, AuthFail> {
        let user = match normalize_username(username) {
            Some(name) => self.store.user_by_name(&name).await?,
            None => None,
        };
        let password_ok = self.verify_password(user.as_ref(), password).await;
        let deny = |r| Err(AuthFail::Denied(r));
        let Some(user) = user else {
            return deny(DenyReason::UnknownUser);
        };
        if user.disabled_at.is_some() {
            return deny(DenyReason::Disabled);
        }
        if let Some(until) = locked_until(&user, now) {
            return deny(DenyReason::Locked { until });
        }
        if user.password_hash.is_none() {
            return deny(DenyReason::PendingSetup);
        }
        if !password_ok {
            let locked_until = self.record_failure(user, now).await?;
            return deny(DenyReason::WrongPassword { locked_until });
        }
        Ok(user)
    }

    /// Counts one failure, locking the account at the threshold. Returns
    /// the lock's end when this failure set it. Nothing is counted while the
    /// account is locked or disabled.
    async fn record_failure(&self, user: UserRecord, now: i64) -> Result<Option<i64>, StoreError> {
        let lockout = self.users.lockout;
        let (user, locked) = self
            .modify(user, now, |u| {
                if locked_until(u, now).is_some() || u.disabled_at.is_some() {
                    return Ok(None);
                }
                u.failed_logins += 1;
                if u.failed_logins < i64::from(lockout.threshold) {
                    return Ok(None);
                }
                let until = now.saturating_add(lock_period(&lockout, u.lockouts));
                u.locked_until = Some(until);
                u.lockouts += 1;
                u.failed_logins = 0;
                Ok::<_, StoreError>(Some(until))
            })
            .await?;
        if let Some(until) = locked {
            tracing::warn!(
                user.id = %user.id,
                until,
                lockouts = user.lockouts,
                "admin account locked after repeated failed logins"
            );
        }
        Ok(locked)
    }

    /// Verifies a TOTP code and records its step in the same version-checked
    /// write, so that of two logins racing with one code only one passes.
    async fn check_totp(
        &self,
        user: UserRecord,
        code: &SecretString,
        now: i64,
    ) -> Result<UserRecord, AuthFail> {
        let (user, accepted) = self
            .modify(user, now, |u| {
                let Some(secret) = self.open_totp(u)? else {
                    return Ok(false);
                };
                match self.totp.verify(
                    &secret,
                    code.expose(),
                    now,
                    DEFAULT_SKEW_STEPS,
                    last_step(u),
                ) {
                    Some(step) => {
                        u.totp_last_step = Some(i64::try_from(step).unwrap_or(i64::MAX));
                        u.failed_logins = 0;
                        Ok::<_, AuthFail>(true)
                    }
                    None => Ok(false),
                }
            })
            .await?;
        if accepted {
            return Ok(user);
        }
        let locked_until = self.record_failure(user, now).await?;
        Err(AuthFail::Denied(DenyReason::WrongSecondFactor {
            locked_until,
        }))
    }

    /// Spends a recovery code (the store marks it used atomically).
    async fn check_recovery(
        &self,
        user: UserRecord,
        code: &SecretString,
        now: i64,
    ) -> Result<UserRecord, AuthFail> {
        let consumed = match totp::normalize_recovery_code(code.expose()) {
            Some(code) => {
                self.store
                    .consume_recovery_code(&user.id, &self.recovery.tag(&code), now)
                    .await?
            }
            None => false,
        };
        if consumed {
            tracing::info!(user.id = %user.id, "admin user signed in with a recovery code");
            return Ok(user);
        }
        let locked_until = self.record_failure(user, now).await?;
        Err(AuthFail::Denied(DenyReason::WrongSecondFactor {
            locked_until,
        }))
    }

    /// After a complete login: resets the failure count and re-hashes a
    /// password stored under older parameters.
    async fn after_success(
        &self,
        user: UserRecord,
        password: &SecretString,
        now: i64,
    ) -> Result<UserRecord, StoreError> {
        let old_hash = user.password_hash.clone();
        let rehashed = match &old_hash {
            Some(phc) if self.hasher.needs_rehash(phc) => self.hash(password).await.ok(),
            _ => None,
        };
        let (user, ()) = self
            .modify(user, now, |u| {
                u.failed_logins = 0;
                // Never over a password changed meanwhile.
                if let Some(new) = &rehashed {
                    if u.password_hash == old_hash {
                        u.password_hash = Some(new.clone());
                    }
                }
                Ok::<_, StoreError>(())
            })
            .await?;
        Ok(user)
    }

    async fn open_session(&self, user: &UserRecord, now: i64) -> Result<Session, StoreError> {
        let token = seal::session_token();
        let record = SessionRecord {
            tag: self.sessions.tag(token.expose()).to_vec(),
            user_id: user.id.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: now.saturating_add(secs(self.users.session_absolute_timeout)),
            revoked_at: None,
        };
        self.store.insert_session(&record).await?;
        Ok(Session {
            csrf: self.csrf_token(token.expose()),
            token,
            info: self.session_info(&record),
            user: self.info(user, now).await?,
        })
    }

    fn session_info(&self, record: &SessionRecord) -> SessionInfo {
        let idle = secs(self.users.session_idle_timeout);
        SessionInfo {
            created_at: record.created_at,
            last_seen_at: record.last_seen_at,
            expires_at: record.expires_at,
            idle_expires_at: record
                .last_seen_at
                .saturating_add(idle)
                .min(record.expires_at),
        }
    }

    async fn info(&self, user: &UserRecord, now: i64) -> Result<UserInfo, StoreError> {
        let locked = locked_until(user, now);
        let status = if user.disabled_at.is_some() {
            UserStatus::Disabled
        } else if user.password_hash.is_none() {
            UserStatus::PendingSetup
        } else if locked.is_some() {
            UserStatus::Locked
        } else {
            UserStatus::Active
        };
        Ok(UserInfo {
            id: user.id.clone(),
            username: user.username.clone(),
            roles: user.roles.clone(),
            status,
            mfa_enabled: user.totp_enabled,
            mfa_required: self.requires_mfa(user, now).await?,
            locked_until: locked,
            created_at: user.created_at,
            updated_at: user.updated_at,
            disabled_at: user.disabled_at,
            recovery_codes_left: None,
        })
    }

    async fn info_with_codes(&self, user: &UserRecord, now: i64) -> Result<UserInfo, UserError> {
        let mut info = self.info(user, now).await?;
        if user.totp_enabled {
            info.recovery_codes_left = Some(self.store.unused_recovery_codes(&user.id).await?);
        }
        Ok(info)
    }

    /// Applies `edit` to the user and writes the result through the store's
    /// version check. On a lost race the record is read again and `edit`
    /// runs again on the fresh copy, so its checks see the latest state. An
    /// edit that changes nothing writes nothing; an `Err` from `edit` writes
    /// nothing and is returned.
    async fn modify<T, E>(
        &self,
        mut user: UserRecord,
        now: i64,
        mut edit: impl FnMut(&mut UserRecord) -> Result<T, E>,
    ) -> Result<(UserRecord, T), E>
    where
        E: From<StoreError>,
    {
        for _ in 0..MAX_UPDATE_ATTEMPTS {
            let mut next = user.clone();
            let out = edit(&mut next)?;
            if next == user {
                return Ok((user, out));
            }
            next.updated_at = now;
            match self.store.update_user(&next).await {
                Ok(version) => {
                    next.version = version;
                    return Ok((next, out));
                }
                Err(StoreError::Stale) => {
                    user = self.store.user(&user.id).await?.ok_or(StoreError::Stale)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Stale.into())
    }
}

/// The permission that opens the admin API; whoever holds it through a
/// role needs a second factor when any role does.
pub const ADMIN_ACCESS: &str = "admin:access";

/// The principal a user acts as: `user:<id>` holding its roles. Stored
/// grants are added by [`AccessControl::with_stored_grants`].
pub fn user_principal(id: &str, roles: &[String]) -> Principal {
    let mut principal = Principal::new(format!("user:{id}"), PrincipalKind::User);
    for role in roles {
        principal = principal.with_grant(Grant::permanent(role.clone()));
    }
    principal
}

fn role_requires_mfa(policy: &Policy, listed: &[String], role: &str) -> bool {
    let Some(view) = policy.role(role) else {
        return listed.iter().any(|l| l == role);
    };
    let admin_access = Permission::parse(ADMIN_ACCESS).ok();
    view.closure().iter().any(|r| listed.contains(r))
        || view
            .effective_permissions()
            .iter()
            .any(|p| admin_access.as_ref().is_some_and(|a| p.implies(a)))
}

fn check_roles(roles: &[String]) -> Result<(), UserError> {
    if roles.is_empty() {
        return Err(UserError::NoRole);
    }
    match roles.iter().find(|r| !is_valid_role_name(r)) {
        Some(bad) => Err(UserError::InvalidRole(bad.clone())),
        None => Ok(()),
    }
}
