//! Token counts of a model's answer, for the audit event of the call.
//!
//! Only a non-streamed JSON answer of known, modest length is read: the
//! model has produced all of it by the time its head arrives, so reading it
//! here costs no waiting, and the event can be written before the answer
//! leaves. Streamed answers pass untouched (their usage, when a client
//! asks for it, comes in the last event, after the event is written).

use bytes::Bytes;
use http::{header, Response};
use http_body_util::BodyExt;
use serde::Deserialize;

use crate::body::{full, Body};
use crate::error::GatewayError;

/// The largest answer read for its token counts.
pub const MAX_USAGE_BODY: u64 = 1024 * 1024;

/// Tokens as the provider reported them (OpenAI's `prompt_tokens` /
/// `completion_tokens` or Anthropic's `input_tokens` / `output_tokens`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input: Option<u64>,
    pub output: Option<u64>,
    pub total: Option<u64>,
}

#[derive(Deserialize)]
struct Answer {
    usage: Option<RawUsage>,
}

#[derive(Deserialize)]
struct RawUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    total_tokens: Option<u64>,
}

/// The usage in a JSON answer body, if it has one.
pub fn parse(body: &[u8]) -> Option<Usage> {
    let raw = serde_json::from_slice::<Answer>(body).ok()?.usage?;
    let input = raw.prompt_tokens.or(raw.input_tokens);
    let output = raw.completion_tokens.or(raw.output_tokens);
    let total = raw
        .total_tokens
        .or_else(|| input.zip(output).map(|(i, o)| i.saturating_add(o)));
    Some(Usage {
        input,
        output,
        total,
    })
}

/// Reads a small, non-streamed JSON answer whole and returns it rebuilt,
/// with its usage; anything else is returned as it is. An answer that
/// fails while being read is the upstream's failure (502).
pub async fn read(
    response: Response<Body>,
) -> Result<(Response<Body>, Option<Usage>), GatewayError> {
    let h = response.headers();
    let json = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().starts_with("application/json"));
    let small = h
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n <= MAX_USAGE_BODY);
    if !json || !small || h.contains_key(header::CONTENT_ENCODING) {
        return Ok((response, None));
    }
    let (parts, body) = response.into_parts();
    let bytes: Bytes = body
        .collect()
        .await
        .map_err(|e| GatewayError::Upstream(format!("the answer could not be read: {e}")))?
        .to_bytes();
    let usage = parse(&bytes);
    Ok((Response::from_parts(parts, full(bytes)), usage))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_and_anthropic_usage_are_read() {
        let openai = br#"{"id":"x","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42}}"#;
        assert_eq!(
            parse(openai),
            Some(Usage {
                input: Some(12),
                output: Some(30),
                total: Some(42)
            })
        );
        let anthropic = br#"{"content":[],"usage":{"input_tokens":5,"output_tokens":7}}"#;
        assert_eq!(
            parse(anthropic),
            Some(Usage {
                input: Some(5),
                output: Some(7),
                total: Some(12)
            })
        );
        assert_eq!(parse(br#"{"choices":[]}"#), None);
        assert_eq!(parse(b"not json"), None);
        assert_eq!(
            parse(br#"{"usage":{"prompt_tokens":"12"}}"#),
            None,
            "wrong types are ignored"
        );
    }
}
