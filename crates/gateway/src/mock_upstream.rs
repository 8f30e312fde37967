//! A mock OpenAI-compatible model for `amanah demo` and tests.
//!
//! It answers with what it received (`role: content` per message), so a
//! user sees exactly what the model saw. `stream: true` returns the answer
//! as Server-Sent Events, one word per chunk, with a short pause between
//! chunks so streaming is visible.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::{json, Value};

use crate::body::{full, Body, ChannelBody};
use crate::server::Handler;

const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;
pub const MODEL: &str = "amanah-mock-echo";

#[derive(Debug, Clone)]
pub struct MockUpstream {
    /// Pause between streamed chunks.
    pub chunk_delay: Duration,
}

impl Default for MockUpstream {
    fn default() -> Self {
        Self {
            chunk_delay: Duration::from_millis(40),
        }
    }
}

fn json_response(status: StatusCode, v: &Value) -> Response<Body> {
    let mut r = Response::new(full(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn openai_error(status: StatusCode, message: &str) -> Response<Body> {
    json_response(
        status,
        &json!({"error": {"message": message, "type": "invalid_request_error"}}),
    )
}

/// The text of one message's `content`: a string, or the text parts of an
/// array of content parts.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// What the mock answers: the conversation as it arrived.
pub fn echo(request: &Value) -> String {
    let Some(messages) = request.get("messages").and_then(Value::as_array) else {
        return String::new();
    };
    messages
        .iter()
        .map(|m| {
            let role = m.get("role").and_then(Value::as_str).unwrap_or("?");
            format!(
                "{role}: {}",
                content_text(m.get("content").unwrap_or(&Value::Null))
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn words(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

impl MockUpstream {
    async fn chat(&self, req: Request<Incoming>) -> Response<Body> {
        let bytes = match Limited::new(req.into_body(), MAX_REQUEST_BYTES)
            .collect()
            .await
        {
            Ok(b) => b.to_bytes(),
            Err(_) => return openai_error(StatusCode::PAYLOAD_TOO_LARGE, "request too large"),
        };
        let request: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(_) => return openai_error(StatusCode::BAD_REQUEST, "the body is not valid JSON"),
        };
        if request.get("messages").and_then(Value::as_array).is_none() {
            return openai_error(StatusCode::BAD_REQUEST, "`messages` must be an array");
        }
        let answer = echo(&request);
        // What a model provider would see: placeholders, when the route
        // pseudonymizes.
        tracing::info!(target: "amanah::mock_upstream", received = %answer, "the model received");
        let model = request
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(MODEL)
            .to_owned();
        let id = format!("chatcmpl-{}", amanah_crypto::random::hex(24));
        if request.get("stream").and_then(Value::as_bool) == Some(true) {
            return self.stream(id, model, answer);
        }
        let prompt_tokens = words(&String::from_utf8_lossy(&bytes));
        json_response(
            StatusCode::OK,
            &json!({
                "id": id,
                "object": "chat.completion",
                "created": crate::keys::now_unix(),
                "model": model,
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": answer},
                    "finish_reason": "stop"
                }],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": words(&answer),
                    "total_tokens": prompt_tokens + words(&answer)
                }
            }),
        )
    }

    fn stream(&self, id: String, model: String, answer: String) -> Response<Body> {
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
        let delay = self.chunk_delay;
        tokio::spawn(async move {
            let created = crate::keys::now_unix();
            let chunk = |delta: Value, finish: Value| {
                let v = json!({
                    "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
                });
                Bytes::from(format!("data: {v}\n\n"))
            };
            if tx
                .send(chunk(
                    json!({"role": "assistant", "content": ""}),
                    Value::Null,
                ))
                .await
                .is_err()
            {
                return;
            }
            // Split after whitespace so the pieces concatenate to the answer.
            let mut rest = answer.as_str();
            while !rest.is_empty() {
                let cut = rest
                    .char_indices()
                    .find(|&(i, c)| i > 0 && c.is_whitespace())
                    .map(|(i, c)| i + c.len_utf8())
                    .unwrap_or(rest.len());
                let (piece, tail) = rest.split_at(cut);
                rest = tail;
                tokio::time::sleep(delay).await;
                if tx
                    .send(chunk(json!({"content": piece}), Value::Null))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            let _ = tx.send(chunk(json!({}), json!("stop"))).await;
            let _ = tx.send(Bytes::from_static(b"data: [DONE]\n\n")).await;
        });
        let mut r = Response::new(ChannelBody(rx).boxed());
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        r
    }
}

impl Handler for MockUpstream {
    async fn handle(&self, req: Request<Incoming>, _peer: SocketAddr) -> Response<Body> {
        let path = req.uri().path().to_owned();
        match *req.method() {
            Method::POST if path.ends_with("/chat/completions") => self.chat(req).await,
            Method::GET if path.ends_with("/models") => json_response(
                StatusCode::OK,
                &json!({"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "amanah"}]}),
            ),
            _ => openai_error(StatusCode::NOT_FOUND, "unknown endpoint"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_renders_string_and_part_contents() {
        let req = json!({"messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hello"}, {"type": "image_url", "image_url": {}}]}
        ]});
        assert_eq!(echo(&req), "system: be brief\nuser: hello");
    }
}
