//! The records the store keeps. Plain data: the rules that produce and
//! judge them live in the gateway and the pure crates.

/// An API key as stored: never the key itself, only its keyed hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Public 8-hex-digit id, the lookup handle.
    pub id: String,
    pub name: String,
    pub roles: Vec<String>,
    /// `HMAC-SHA256(server_secret, key)`.
    pub tag: Vec<u8>,
    /// Last four characters of the secret, for the masked display.
    pub last4: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// Source address of the last use.
    pub last_used_ip: Option<String>,
    /// Route names the key may call; `None` means every route.
    pub scopes: Option<Vec<String>>,
    /// Set for a machine-to-machine key: one live key per service instance.
    pub service: Option<ServiceBinding>,
    /// The key that replaced this one; set by rotation.
    pub replaced_by: Option<String>,
}

/// Which server or region a service key belongs to. At most one live key
/// (not revoked, not replaced) exists per binding, so a leaked key points at
/// one machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceBinding {
    pub service: String,
    pub instance: String,
}

impl ApiKeyRecord {
    pub fn status(&self, now: i64) -> KeyStatus {
        if self.revoked_at.is_some() {
            KeyStatus::Revoked
        } else if now >= self.expires_at {
            KeyStatus::Expired
        } else if self.replaced_by.is_some() {
            KeyStatus::Grace
        } else {
            KeyStatus::Active
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    /// Rotated: still accepted until its (shortened) expiry.
    Grace,
    Expired,
    Revoked,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Grace => "grace",
            KeyStatus::Expired => "expired",
            KeyStatus::Revoked => "revoked",
        }
    }

    /// Whether a key in this state authenticates.
    pub fn accepts(self) -> bool {
        matches!(self, KeyStatus::Active | KeyStatus::Grace)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevokeOutcome {
    Revoked,
    AlreadyRevoked,
    NotFound,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The successor is stored. `revoked_successor` names the successor of
    /// an earlier rotation of the same key, revoked by this one.
    Rotated {
        revoked_successor: Option<String>,
    },
    NotFound,
    /// Revoked or expired keys are not rotated: mint a new one.
    NotActive,
}

/// One use of a key, for the batched last-used update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUse {
    pub id: String,
    pub at: i64,
    pub ip: Option<String>,
}

/// An administrator account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// Random, stable; the username may be renamed later without breaking grants.
    pub id: String,
    /// Lowercase; unique.
    pub username: String,
    pub roles: Vec<String>,
    /// Argon2id PHC string; `None` until the setup token has been used.
    pub password_hash: Option<String>,
    /// Keyed tag of the one-time setup token, while unused.
    pub setup_tag: Option<Vec<u8>>,
    pub setup_expires_at: Option<i64>,
    /// The TOTP secret, sealed under a key derived from the server secret.
    pub totp_sealed: Option<Vec<u8>>,
    pub totp_enabled: bool,
    /// The last accepted TOTP time step; a code is never accepted twice.
    pub totp_last_step: Option<i64>,
    /// Failed logins since the last success or lock.
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    /// How many times the account has been locked; the lock grows with it.
    pub lockouts: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub disabled_at: Option<i64>,
    /// Optimistic-concurrency counter, owned by the store.
    pub version: i64,
}

/// A login session. The cookie holds the token; the store holds its tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub tag: Vec<u8>,
    pub user_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// Absolute end, whatever the activity.
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

/// A deployment-wide setting operators change at run time (lockdown),
/// shared by every gateway and CLI on the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingRecord {
    pub name: String,
    pub value: String,
    pub updated_at: i64,
    /// Who changed it: `user:<id>`, `key:<id>`, `cli:<os user>`.
    pub updated_by: String,
}

/// A custom role (predefined roles live in code, in `amanah-policy`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleRecord {
    pub name: String,
    pub description: String,
    pub permissions: Vec<String>,
    pub inherits: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A role given to a principal (`key:<id>` or `user:<id>`), possibly for
/// a limited time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRecord {
    pub id: String,
    pub principal: String,
    pub role: String,
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
    pub created_at: i64,
    pub created_by: String,
}
