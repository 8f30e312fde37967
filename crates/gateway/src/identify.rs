//! The identify stage: which credential was presented, who it names, and
//! the brake on guessing.
//!
//! `Authorization: Bearer <credential>` or `X-API-Key: <credential>`; an
//! `amk_` credential is an API key, a three-part dotted one a JWT (when
//! `[jwt]` is configured). Every failure is the same 401; a source address
//! that keeps failing gets 429 before any credential is even looked at, so
//! it cannot keep guessing at full speed.

use std::net::IpAddr;
use std::sync::Arc;

use amanah_policy::{Principal, PrincipalKind};
use http::HeaderMap;

use crate::access::AccessControl;
use crate::error::{AuthFailure, GatewayError};
use crate::jwt::{JwtVerifier, TokenError};
use crate::keys::{presented_credential, KeyService};
use crate::ratelimit::{LimitKey, LimiterError, Quota, RateLimiter};

#[derive(Debug)]
pub struct Identifier {
    pub keys: Arc<KeyService>,
    pub jwt: Option<Arc<JwtVerifier>>,
    pub access: Arc<AccessControl>,
    pub limiter: Arc<dyn RateLimiter>,
    /// Failed authentications allowed per source network.
    pub failures_per_ip: Option<Quota>,
}

fn limiter_down(e: LimiterError) -> GatewayError {
    GatewayError::IdentityUnavailable(e.to_string())
}

impl Identifier {
    pub async fn identify(
        &self,
        headers: &HeaderMap,
        ip: IpAddr,
        now: i64,
    ) -> Result<Principal, GatewayError> {
        if let Some(quota) = self.failures_per_ip {
            let budget = self
                .limiter
                .peek(&LimitKey::auth_failures(ip), quota)
                .await
                .map_err(limiter_down)?;
            if !budget.allowed {
                return Err(GatewayError::RateLimited("auth_failures", budget));
            }
        }
        let principal = match self.verify(headers, ip, now).await {
            Ok(p) => p,
            Err(e @ GatewayError::Unauthenticated(_)) => {
                if let Some(quota) = self.failures_per_ip {
                    self.limiter
                        .acquire(&LimitKey::auth_failures(ip), quota)
                        .await
                        .map_err(limiter_down)?;
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        match principal.kind {
            // Tokens carry their roles; grants are kept for keys and users.
            PrincipalKind::Jwt => Ok(principal),
            _ => Ok(self.access.with_stored_grants(principal).await?),
        }
    }

    async fn verify(
        &self,
        headers: &HeaderMap,
        ip: IpAddr,
        now: i64,
    ) -> Result<Principal, GatewayError> {
        let presented = presented_credential(headers).map_err(GatewayError::Unauthenticated)?;
        if presented.starts_with(amanah_crypto::api_key::PREFIX) {
            return self.keys.identify_key(presented, Some(ip), now).await;
        }
        match &self.jwt {
            Some(jwt) if presented.bytes().filter(|&b| b == b'.').count() == 2 => {
                match jwt.identify(presented, now).await {
                    Ok(p) => Ok(p),
                    Err(TokenError::Invalid(e)) => {
                        tracing::debug!(reason = %e, "bearer token refused");
                        Err(GatewayError::Unauthenticated(AuthFailure::InvalidToken))
                    }
                    Err(TokenError::Unavailable(e)) => Err(GatewayError::IdentityUnavailable(e)),
                }
            }
            _ => Err(GatewayError::Unauthenticated(AuthFailure::Malformed)),
        }
    }
}

/// The account a presented API key names (`key:<id>`), whether or not it
/// verified: the id is public (it is shown in listings), the secret is
/// never looked at. `None` for anything else, JWTs included, whose claims
/// mean nothing before verification.
pub fn claimed_account(headers: &HeaderMap) -> Option<String> {
    let presented = presented_credential(headers).ok()?;
    amanah_crypto::api_key::PresentedKey::parse(presented).map(|k| format!("key:{}", k.id()))
}
