//! Typed errors inside the pipeline, and the one place that turns them into
//! HTTP responses.
//!
//! Clients see a status, a stable `code`, a short generic `message` and the
//! request id, never a cause: causes go to the log, where the redactor
//! guards them.

use amanah_policy::Denied;
use amanah_store::StoreError;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Response, StatusCode};

use crate::body::{full, Body};
use crate::ratelimit::RateDecision;

/// Why identification failed. Logged, never shown: the client gets the same
/// answer for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Malformed,
    Ambiguous,
    UnknownKey,
    WrongSecret,
    Expired,
    Revoked,
    /// A bearer JWT failed verification (signature, algorithm, claims).
    InvalidToken,
}

impl AuthFailure {
    pub const ALL: [AuthFailure; 8] = [
        AuthFailure::Missing,
        AuthFailure::Malformed,
        AuthFailure::Ambiguous,
        AuthFailure::UnknownKey,
        AuthFailure::WrongSecret,
        AuthFailure::Expired,
        AuthFailure::Revoked,
        AuthFailure::InvalidToken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing",
            AuthFailure::Malformed => "malformed",
            AuthFailure::Ambiguous => "ambiguous",
            AuthFailure::UnknownKey => "unknown_key",
            AuthFailure::WrongSecret => "wrong_secret",
            AuthFailure::Expired => "expired",
            AuthFailure::Revoked => "revoked",
            AuthFailure::InvalidToken => "invalid_token",
        }
    }
}

/// Where an error came from; metrics and retry logic read this, not text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Client,
    Upstream,
    Internal,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("request headers exceed the configured limits")]
    HeadersTooLarge,
    #[error("authentication failed: {}", .0.as_str())]
    Unauthenticated(AuthFailure),
    #[error("authorization denied: {0}")]
    Forbidden(#[from] Denied),
    #[error("origin not in the CORS allow-list")]
    CorsRejected,
    #[error("no route for this path")]
    NotFound,
    #[error("method not allowed on this route")]
    MethodNotAllowed(Vec<Method>),
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: u64 },
    #[error("request body stalled")]
    RequestBodyTimeout,
    #[error("upstream unreachable: {0}")]
    UpstreamConnect(String),
    #[error("upstream timed out ({0})")]
    UpstreamTimeout(&'static str),
    #[error("upstream failed: {0}")]
    Upstream(String),
    #[error("store unavailable: {0}")]
    Store(#[from] StoreError),
    /// A budget is spent: requests (per principal, address or route) or
    /// failed authentications from one address.
    #[error("rate limited ({0})")]
    RateLimited(&'static str, RateDecision),
    /// Identity cannot be decided (the token issuer's keys cannot be
    /// fetched, the rate limiter cannot answer): refuse rather than guess.
    #[error("identity unavailable: {0}")]
    IdentityUnavailable(String),
    /// An admin API request that cannot be carried out as asked.
    #[error("admin request refused: {0}")]
    Admin(#[from] crate::admin_api::AdminError),
    /// A body the route cannot read (415).
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(&'static str),
    /// A body that does not parse; the message gives a position, never
    /// the content.
    #[error("invalid body: {0}")]
    InvalidBody(String),
    /// The route blocks personal data and the request holds these types
    /// (never the values).
    #[error("personal data refused: {}", type_list(.0))]
    PersonalDataRefused(Vec<amanah_pii::EntityType>),
    /// The route needs the data subject's consent for its purpose, and the
    /// request names no subject or one without it.
    #[error("no consent for the route's purpose")]
    ConsentRequired,
    /// The subject is pinned to regions the route's provider is not in.
    #[error("the subject's data may not go to this provider's region")]
    ResidencyRefused,
    /// An upload refused by its content (format, sample rate, duration,
    /// size); the reason names no content.
    #[error("upload refused: {0}")]
    UploadRejected(amanah_media::Rejection),
    /// The request's audit event could not be written durably and its
    /// route fails closed.
    #[error("audit log unavailable: {0}")]
    AuditUnavailable(String),
    /// The gateway is in lockdown: only administrators are served.
    #[error("lockdown: only administrators are served")]
    Lockdown,
}

fn type_list(types: &[amanah_pii::EntityType]) -> String {
    types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl GatewayError {
    pub fn status(&self) -> StatusCode {
        match self {
            GatewayError::BadRequest(_) => StatusCode::BAD_REQUEST,
            GatewayError::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            GatewayError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            GatewayError::Forbidden(_) | GatewayError::CorsRejected => StatusCode::FORBIDDEN,
            GatewayError::NotFound => StatusCode::NOT_FOUND,
            GatewayError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            GatewayError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            GatewayError::RequestBodyTimeout => StatusCode::REQUEST_TIMEOUT,
            GatewayError::UpstreamConnect(_) | GatewayError::Upstream(_) => StatusCode::BAD_GATEWAY,
            GatewayError::UpstreamTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            GatewayError::Store(_)
            | GatewayError::IdentityUnavailable(_)
            | GatewayError::AuditUnavailable(_)
            | GatewayError::Lockdown => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::RateLimited(..) => StatusCode::TOO_MANY_REQUESTS,
            GatewayError::Admin(e) => e.status(),
            GatewayError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            GatewayError::InvalidBody(_) => StatusCode::BAD_REQUEST,
            GatewayError::PersonalDataRefused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            GatewayError::ConsentRequired | GatewayError::ResidencyRefused => StatusCode::FORBIDDEN,
            GatewayError::UploadRejected(r) => {
                StatusCode::from_u16(r.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
            }
        }
    }

    /// Stable machine-readable code, part of the HTTP contract.
    pub fn code(&self) -> &'static str {
        match self {
            GatewayError::BadRequest(_) => "bad_request",
            GatewayError::HeadersTooLarge => "headers_too_large",
            GatewayError::Unauthenticated(_) => "unauthorized",
            GatewayError::Forbidden(_) => "forbidden",
            GatewayError::CorsRejected => "cors_rejected",
            GatewayError::NotFound => "not_found",
            GatewayError::MethodNotAllowed(_) => "method_not_allowed",
            GatewayError::PayloadTooLarge { .. } => "payload_too_large",
            GatewayError::RequestBodyTimeout => "request_timeout",
            GatewayError::UpstreamConnect(_) | GatewayError::Upstream(_) => "bad_gateway",
            GatewayError::UpstreamTimeout(_) => "gateway_timeout",
            GatewayError::Store(_) | GatewayError::IdentityUnavailable(_) => "unavailable",
            GatewayError::AuditUnavailable(_) => "audit_unavailable",
            GatewayError::Lockdown => "lockdown",
            GatewayError::RateLimited(..) => "rate_limited",
            GatewayError::Admin(e) => e.code(),
            GatewayError::UnsupportedMediaType(_) => "unsupported_media_type",
            GatewayError::InvalidBody(_) => "bad_request",
            GatewayError::PersonalDataRefused(_) => "personal_data_refused",
            GatewayError::ConsentRequired => "consent_required",
            GatewayError::ResidencyRefused => "residency_refused",
            GatewayError::UploadRejected(r) => match r.status() {
                413 => "payload_too_large",
                415 => "unsupported_media_type",
                _ => "invalid_upload",
            },
        }
    }

    /// Short generic text for the client. Static strings only: nothing from
    /// the request or the cause can reach it.
    pub fn public_message(&self) -> &'static str {
        match self {
            GatewayError::BadRequest(m) => m,
            GatewayError::HeadersTooLarge => "request headers are too large or too many",
            GatewayError::Unauthenticated(_) => "missing or invalid credentials",
            GatewayError::Forbidden(_) => "you are not allowed to use this route",
            GatewayError::CorsRejected => "this origin is not allowed",
            GatewayError::NotFound => "no route matches this path",
            GatewayError::MethodNotAllowed(_) => "this method is not allowed on this route",
            GatewayError::PayloadTooLarge { .. } => "request body is too large",
            GatewayError::RequestBodyTimeout => "request body was not received in time",
            GatewayError::UpstreamConnect(_) | GatewayError::Upstream(_) => {
                "the upstream service failed"
            }
            GatewayError::UpstreamTimeout(_) => "the upstream service did not answer in time",
            GatewayError::Store(_) | GatewayError::IdentityUnavailable(_) => {
                "the service is temporarily unavailable"
            }
            GatewayError::RateLimited(..) => "too many requests; retry after the time given",
            GatewayError::Admin(_) => "the admin request was refused",
            GatewayError::UnsupportedMediaType(m) => m,
            GatewayError::InvalidBody(_) => "the request body is not valid",
            GatewayError::PersonalDataRefused(_) => {
                "the request holds personal data or secrets this route does not accept"
            }
            GatewayError::ConsentRequired => {
                "this route needs the data subject's consent: name the subject in X-Amanah-Subject, and record their consent for the route's purpose"
            }
            GatewayError::ResidencyRefused => {
                "the data subject is pinned to regions this route's provider is not in"
            }
            GatewayError::UploadRejected(_) => "the upload was refused",
            GatewayError::AuditUnavailable(_) => {
                "the request could not be recorded in the audit log, so it is refused; retry later"
            }
            GatewayError::Lockdown => {
                "the service is in lockdown after a security incident; only administrators are served"
            }
        }
    }

    /// The message the client sees: [`GatewayError::public_message`], or
    /// for the admin API the reason, which names only what the
    /// administrator sent.
    pub fn client_message(&self) -> std::borrow::Cow<'static, str> {
        match self {
            GatewayError::Admin(e) => e.to_string().into(),
            // A position in the body, never its content.
            GatewayError::InvalidBody(m) => m.clone().into(),
            // Fixed reasons and numbers from the header, never content.
            GatewayError::UploadRejected(r) => r.to_string().into(),
            // Type names only: the client knows what it sent.
            GatewayError::PersonalDataRefused(types) => format!(
                "the request holds personal data or secrets this route does not accept: {}",
                type_list(types)
            )
            .into(),
            other => other.public_message().into(),
        }
    }

    pub fn origin(&self) -> Origin {
        match self {
            GatewayError::UpstreamConnect(_)
            | GatewayError::UpstreamTimeout(_)
            | GatewayError::Upstream(_) => Origin::Upstream,
            GatewayError::Store(_)
            | GatewayError::IdentityUnavailable(_)
            | GatewayError::AuditUnavailable(_)
            | GatewayError::Lockdown => Origin::Internal,
            _ => Origin::Client,
        }
    }

    /// Whether the same request may succeed if retried.
    pub fn retryable(&self) -> bool {
        matches!(self.origin(), Origin::Upstream | Origin::Internal)
            || matches!(self, GatewayError::RateLimited(..))
    }
}

/// The JSON error body: `{"error":{"code","message","request_id"}}`.
pub fn error_body(code: &str, message: &str, request_id: &str) -> Bytes {
    let v = serde_json::json!({
        "error": { "code": code, "message": message, "request_id": request_id }
    });
    Bytes::from(v.to_string())
}

/// The edge: one error, one response.
pub fn into_response(err: &GatewayError, request_id: &str) -> Response<Body> {
    let mut resp = Response::new(full(error_body(
        err.code(),
        &err.client_message(),
        request_id,
    )));
    *resp.status_mut() = err.status();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    match err {
        GatewayError::Unauthenticated(_) => {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        GatewayError::MethodNotAllowed(methods) => {
            let allow = methods
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            if let Ok(v) = HeaderValue::from_str(&allow) {
                h.insert(header::ALLOW, v);
            }
        }
        GatewayError::RateLimited(_, decision) => decision.write_headers(h),
        GatewayError::HeadersTooLarge
        | GatewayError::PayloadTooLarge { .. }
        | GatewayError::RequestBodyTimeout => {
            // The rest of the request may still be in flight; don't reuse the connection.
            h.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        _ => {}
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_auth_failure_looks_the_same_to_the_client() {
        let all = [
            AuthFailure::Missing,
            AuthFailure::Malformed,
            AuthFailure::Ambiguous,
            AuthFailure::UnknownKey,
            AuthFailure::WrongSecret,
            AuthFailure::Expired,
            AuthFailure::Revoked,
            AuthFailure::InvalidToken,
        ];
        let bodies: Vec<Bytes> = all
            .iter()
            .map(|f| {
                let e = GatewayError::Unauthenticated(*f);
                assert_eq!(e.status(), StatusCode::UNAUTHORIZED);
                error_body(e.code(), e.public_message(), "rid")
            })
            .collect();
        assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn causes_never_reach_the_body() {
        let e = GatewayError::UpstreamConnect("10.0.0.7:443 connection refused sk-secret".into());
        let body = error_body(e.code(), e.public_message(), "rid");
        let text = std::str::from_utf8(&body).unwrap();
        assert!(
            !text.contains("10.0.0.7") && !text.contains("sk-secret"),
            "{text}"
        );
    }
}
