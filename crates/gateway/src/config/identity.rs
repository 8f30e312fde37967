//! Phase two for the identity and access sections: JWT issuers, admin
//! users, rate limits, custom roles and data classes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use amanah_crypto::jwt::Algorithm;
use amanah_policy::{Permission, Policy, RoleDef};

use super::raw::{RawJwt, RawQuota, RawRateLimits, RawRole, RawUsers};
use super::validate::{positive, secret_ref};
use super::{defaults, JwksRemote, Jwt, Lockout, PasswordRules, Problem, RateLimits, Users};
use crate::ratelimit::Quota;

/// Algorithms accepted when `jwt.algorithms` is not set: the asymmetric
/// ones. HMAC needs a shared secret and must be chosen explicitly.
pub const DEFAULT_JWT_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

pub(super) fn validate_jwt(mut raw: RawJwt, problems: &mut Vec<Problem>) -> Option<Jwt> {
    let before = problems.len();
    let issuer = match raw.issuer.take() {
        Some(i) if !i.trim().is_empty() => i,
        _ => {
            problems.push(Problem::new(
                "jwt.issuer",
                "missing",
                "set the `iss` value your identity provider puts in its tokens",
            ));
            String::new()
        }
    };
    let audiences = raw.audiences.take().unwrap_or_default();
    if audiences.is_empty() || audiences.iter().any(|a| a.trim().is_empty()) {
        problems.push(Problem::new(
            "jwt.audiences",
            "missing or empty",
            "list the `aud` values meant for this gateway, e.g. audiences = [\"amanah\"]; \
             a token minted for another service must not be accepted here",
        ));
    }
    let algorithms = match raw.algorithms.take() {
        None => DEFAULT_JWT_ALGORITHMS.to_vec(),
        Some(names) => names
            .iter()
            .filter_map(|n| match Algorithm::from_name(n) {
                Some(a) => Some(a),
                None => {
                    problems.push(Problem::new(
                        "jwt.algorithms",
                        format!("`{n}` is not a supported algorithm"),
                        "use HS256, HS384, HS512, RS256, RS384, RS512, PS256, ES256, ES384 or EdDSA \
                         (`none` is never accepted)",
                    ));
                    None
                }
            })
            .collect(),
    };
    if algorithms.is_empty() && problems.len() == before {
        problems.push(Problem::new(
            "jwt.algorithms",
            "empty",
            "list at least one algorithm, or remove the key for the asymmetric defaults",
        ));
    }
    let hmac_secret = raw
        .hmac_secret
        .take()
        .and_then(|r| secret_ref("jwt.hmac_secret", r, problems));
    let wants_hmac = algorithms.iter().any(|a| a.name().starts_with("HS"));
    if wants_hmac != hmac_secret.is_some() {
        problems.push(Problem::new(
            "jwt.hmac_secret",
            if wants_hmac {
                "HS* algorithms are allowed but no HMAC secret is set"
            } else {
                "an HMAC secret is set but no HS* algorithm is allowed"
            },
            "set both jwt.hmac_secret and an HS* entry in jwt.algorithms, or neither",
        ));
    }
    let remote = validate_remote(&raw, &issuer, problems);
    let public_key_files = raw.public_key_files.take().unwrap_or_default();
    if hmac_secret.is_none()
        && public_key_files.is_empty()
        && raw.jwks_file.is_none()
        && remote.is_none()
    {
        problems.push(Problem::new(
            "jwt",
            "no verification key: tokens could never be accepted",
            "set jwt.oidc_discovery = true, jwt.jwks_url, jwt.jwks_file, jwt.public_key_files \
             or jwt.hmac_secret",
        ));
    }
    let roles_claim = raw
        .roles_claim
        .unwrap_or_else(|| defaults::JWT_ROLES_CLAIM.to_owned());
    if roles_claim.is_empty() || roles_claim.split('.').any(str::is_empty) {
        problems.push(Problem::new(
            "jwt.roles_claim",
            format!("`{roles_claim}` is not a claim name or dotted path"),
            "name the claim holding roles or groups, e.g. \"roles\" or \"realm_access.roles\"",
        ));
    }
    let leeway = raw.leeway_secs.unwrap_or(defaults::JWT_LEEWAY_SECS);
    if leeway > 600 {
        problems.push(Problem::new(
            "jwt.leeway_secs",
            format!("{leeway} s of clock skew accepts long-expired tokens"),
            "keep it at most 600 s (default 60)",
        ));
    }
    let max_lifetime = positive(
        "jwt.max_lifetime_secs",
        raw.max_lifetime_secs,
        defaults::JWT_MAX_LIFETIME_SECS,
        problems,
    );
    (problems.len() == before).then(|| Jwt {
        issuer,
        audiences,
        algorithms,
        leeway_secs: leeway,
        max_lifetime_secs: max_lifetime,
        roles_claim,
        role_map: raw.role_map.unwrap_or_default(),
        hmac_secret,
        public_key_files,
        jwks_file: raw.jwks_file,
        remote,
    })
}

fn validate_remote(raw: &RawJwt, issuer: &str, problems: &mut Vec<Problem>) -> Option<JwksRemote> {
    let discovery = raw.oidc_discovery.unwrap_or(false);
    let url = match (&raw.jwks_url, discovery) {
        (Some(_), true) => {
            problems.push(Problem::new(
                "jwt.jwks_url",
                "set together with jwt.oidc_discovery",
                "use one: discovery finds the JWKS from the issuer, jwks_url names it directly",
            ));
            return None;
        }
        (Some(u), false) => u.clone(),
        (None, true) => format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        ),
        (None, false) => return None,
    };
    let key = if discovery {
        "jwt.issuer"
    } else {
        "jwt.jwks_url"
    };
    let uri = match url.parse::<http::Uri>() {
        Ok(u) if matches!(u.scheme_str(), Some("https" | "http")) && u.host().is_some() => u,
        _ => {
            problems.push(Problem::new(
                key,
                format!("`{url}` is not an absolute http(s) URL"),
                "write the URL in full, e.g. https://login.example.com/realms/main",
            ));
            return None;
        }
    };
    if uri.scheme_str() == Some("http")
        && !is_loopback_host(uri.host().unwrap_or_default())
        && !raw.allow_plaintext.unwrap_or(false)
    {
        problems.push(Problem::new(
            key,
            "keys fetched over plain http can be replaced on the way, and with them every token",
            "use https (or set jwt.allow_plaintext = true for a network you trust)",
        ));
    }
    let fetch = JwksFetch {
        cache: Duration::from_secs(positive(
            "jwt.jwks_cache_secs",
            raw.jwks_cache_secs,
            defaults::JWKS_CACHE_SECS,
            problems,
        )),
        timeout: Duration::from_millis(positive(
            "jwt.jwks_fetch_timeout_ms",
            raw.jwks_fetch_timeout_ms,
            defaults::JWKS_FETCH_TIMEOUT_MS,
            problems,
        )),
        refetch_min_interval: Duration::from_secs(
            raw.jwks_refetch_min_interval_secs
                .unwrap_or(defaults::JWKS_REFETCH_MIN_INTERVAL_SECS),
        ),
    };
    Some(if discovery {
        JwksRemote::Discovery { url: uri, fetch }
    } else {
        JwksRemote::Url { url: uri, fetch }
    })
}

/// How remote key sets are fetched and kept.
#[derive(Debug, Clone, Copy)]
pub struct JwksFetch {
    pub cache: Duration,
    pub timeout: Duration,
    /// Unknown `kid`s trigger a refetch at most this often: the `kid` is
    /// chosen by whoever sends the token.
    pub refetch_min_interval: Duration,
}

pub(super) fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub(super) fn validate_users(raw: RawUsers, problems: &mut Vec<Problem>) -> Users {
    let mfa_required_roles = raw.mfa_required_roles.unwrap_or_else(|| {
        defaults::MFA_REQUIRED_ROLES
            .iter()
            .map(|r| (*r).to_owned())
            .collect()
    });
    let secs = |key: &str, v: Option<u64>, d: u64, problems: &mut Vec<Problem>| {
        Duration::from_secs(positive(key, v, d, problems))
    };
    let idle = secs(
        "users.session_idle_timeout_secs",
        raw.session_idle_timeout_secs,
        defaults::SESSION_IDLE_TIMEOUT_SECS,
        problems,
    );
    let absolute = secs(
        "users.session_absolute_timeout_secs",
        raw.session_absolute_timeout_secs,
        defaults::SESSION_ABSOLUTE_TIMEOUT_SECS,
        problems,
    );
    if absolute < idle {
        problems.push(Problem::new(
            "users.session_absolute_timeout_secs",
            "shorter than the idle timeout",
            "make the absolute timeout at least as long as users.session_idle_timeout_secs",
        ));
    }
    let threshold = positive(
        "users.lockout_threshold",
        raw.lockout_threshold,
        defaults::LOCKOUT_THRESHOLD,
        problems,
    );
    let base = secs(
        "users.lockout_base_secs",
        raw.lockout_base_secs,
        defaults::LOCKOUT_BASE_SECS,
        problems,
    );
    let max = secs(
        "users.lockout_max_secs",
        raw.lockout_max_secs,
        defaults::LOCKOUT_MAX_SECS,
        problems,
    );
    if max < base {
        problems.push(Problem::new(
            "users.lockout_max_secs",
            "shorter than users.lockout_base_secs",
            "the longest lock must be at least the first one",
        ));
    }
    let p = raw.password;
    let min_chars = positive(
        "users.password.min_chars",
        p.min_chars,
        defaults::PASSWORD_MIN_CHARS,
        problems,
    );
    if min_chars < 8 {
        problems.push(Problem::new(
            "users.password.min_chars",
            format!("{min_chars} characters is too short for an administrator password"),
            "require at least 8 (default 12)",
        ));
    }
    Users {
        mfa_required_roles,
        setup_token_ttl: secs(
            "users.setup_token_ttl_secs",
            raw.setup_token_ttl_secs,
            defaults::SETUP_TOKEN_TTL_SECS,
            problems,
        ),
        session_idle_timeout: idle,
        session_absolute_timeout: absolute,
        lockout: Lockout {
            threshold: u32::try_from(threshold).unwrap_or(u32::MAX),
            base,
            max,
        },
        password: PasswordRules {
            min_chars: min_chars as usize,
            require_letter: p.require_letter.unwrap_or(true),
            require_digit: p.require_digit.unwrap_or(true),
            require_symbol: p.require_symbol.unwrap_or(true),
            reject_common: p.reject_common.unwrap_or(true),
        },
    }
}

/// `requests = 0` turns a limit off; a missing table takes the default.
pub(super) fn quota(
    key: &str,
    raw: Option<RawQuota>,
    default: Option<(u64, u64)>,
    problems: &mut Vec<Problem>,
) -> Option<Quota> {
    let (requests, period) = match (raw, default) {
        (None, None) => return None,
        (None, Some(d)) => d,
        (Some(r), d) => (
            r.requests.or(d.map(|d| d.0)).unwrap_or(0),
            r.period_secs.or(d.map(|d| d.1)).unwrap_or(60),
        ),
    };
    if requests == 0 {
        return None;
    }
    if period == 0 || period > 86_400 || requests > u64::from(u32::MAX) {
        problems.push(Problem::new(
            key,
            format!("{requests} requests per {period} s is not a usable limit"),
            "use period_secs between 1 and 86400 and requests below 4294967296 \
             (requests = 0 turns the limit off)",
        ));
        return None;
    }
    Some(Quota {
        limit: requests as u32,
        period: Duration::from_secs(period),
    })
}

pub(super) fn validate_rate_limits(raw: RawRateLimits, problems: &mut Vec<Problem>) -> RateLimits {
    RateLimits {
        per_principal: quota(
            "rate_limits.per_principal",
            raw.per_principal,
            Some(defaults::RATE_PER_PRINCIPAL),
            problems,
        ),
        per_ip: quota(
            "rate_limits.per_ip",
            raw.per_ip,
            Some(defaults::RATE_PER_IP),
            problems,
        ),
        auth_failures_per_ip: quota(
            "rate_limits.auth_failures_per_ip",
            raw.auth_failures_per_ip,
            Some(defaults::AUTH_FAILURES_PER_IP),
            problems,
        ),
    }
}

/// Data class names with the roles cleared for each.
type DataClasses = Vec<(String, Vec<String>)>;

/// Custom roles and data classes from the file, checked by building the
/// policy they make with the predefined roles (cycles, unknown roles).
pub(super) fn validate_roles(
    roles: BTreeMap<String, RawRole>,
    data_classes: BTreeMap<String, Vec<String>>,
    problems: &mut Vec<Problem>,
) -> (Vec<RoleDef>, DataClasses, Policy) {
    let before = problems.len();
    let mut defs = Vec::new();
    for (name, raw) in roles {
        let mut def = RoleDef::new(name.clone()).description(raw.description.unwrap_or_default());
        for p in raw.permissions.unwrap_or_default() {
            match Permission::parse(&p) {
                Ok(p) => def = def.permission(p),
                Err(e) => problems.push(Problem::new(
                    format!("roles.{name}.permissions"),
                    e.to_string(),
                    "write permissions as resource:action, e.g. \"records:read\" or \"llm:*\"",
                )),
            }
        }
        for parent in raw.inherits.unwrap_or_default() {
            def = def.inherits(parent);
        }
        defs.push(def);
    }
    if data_classes.contains_key(crate::data_api::DEFAULT_DATA_CLASS) {
        problems.push(Problem::new(
            format!("data_classes.{}", crate::data_api::DEFAULT_DATA_CLASS),
            "`general` is the class of records that name none; it is open to every reader with the permission",
            "name the restricted class otherwise, e.g. internal",
        ));
    }
    let classes: Vec<(String, Vec<String>)> = data_classes.into_iter().collect();
    let mut builder = Policy::builder();
    for d in &defs {
        builder = builder.role(d.clone());
    }
    for (name, allowed) in &classes {
        builder = builder.data_class(name.clone(), allowed.clone());
    }
    let policy = match builder.build() {
        Ok(p) => p,
        Err(e) => {
            if problems.len() == before {
                problems.push(Problem::new(
                    "roles",
                    e.to_string(),
                    "fix the role definitions: names in lowercase, no inheritance cycles, \
                     no reuse of a predefined role's name, data classes naming defined roles",
                ));
            }
            Policy::standard()
        }
    };
    (defs, classes, policy)
}

/// Paths named by the identity sections, for anchoring at the config's directory.
pub(super) fn jwt_paths(raw: &mut RawJwt) -> impl Iterator<Item = &mut PathBuf> {
    raw.public_key_files
        .iter_mut()
        .flatten()
        .chain(raw.jwks_file.iter_mut())
        .chain(raw.hmac_secret.iter_mut().flat_map(|s| s.file.iter_mut()))
}
