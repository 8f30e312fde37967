//! The privacy stage: personal data and secrets in requests are found by
//! `amanah-pii` and handled per route (`off | detect | redact |
//! pseudonymize | block`) before anything is forwarded; placeholders are
//! restored in the answer, streamed or not, and the answer can be scanned
//! for personal data the model produced on its own.
//!
//! Which values an answer may get back: only those of the caller's own
//! conversation. A conversation is keyed by the principal and the id the
//! client sends in the conversation header; without one, the id is
//! derived from the request's opening, and then only the placeholders of
//! this very request are restored (derived ids of two end users of one
//! key can collide; the request's own values are always the client's).

pub mod conversations;
#[doc(hidden)]
pub mod fuzz_checks;
pub mod json;
pub mod sse;

use std::pin::Pin;
use std::sync::{Arc, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use amanah_pii::operators::{anonymize, Operator, OperatorContext, OperatorPolicy};
use amanah_pii::pseudonym::PseudonymMap;
use amanah_pii::restore::{placeholder_spans, restore, Escape};
use amanah_pii::{Analyzer, Detection, EntityType};
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::Response;
use http_body::{Body as HttpBody, Frame};
use http_body_util::BodyExt;
use serde_json::Value;

use crate::body::{full, Body, BoxError, Tripped};
use crate::config::{Config, PrivacyMode};
use crate::error::GatewayError;
use conversations::{conversation_key, ConversationKey, Conversations, Restorable, TokenVault};
use json::{remove_pointer, Part};
use sse::SseRestorer;

/// The response header that tells how many values the request had
/// replaced (or, in `detect` mode, found).
pub const REDACTIONS_HEADER: HeaderName = HeaderName::from_static("x-amanah-redactions");

/// The longest conversation id accepted from a client.
const MAX_CONVERSATION_ID: usize = 200;

/// One analyzer per process: its gazetteers take a while to load and
/// never change.
///
/// It keeps every candidate (floor 0): `privacy.min_score` is applied
/// afterwards, so a floor below the engine's default takes effect too.
/// Filtering after overlap resolution keeps exactly what filtering before
/// it would, as the resolution is greedy by score: a candidate under the
/// floor is weighed only after every one above it has been placed.
pub fn shared_analyzer() -> Arc<Analyzer> {
    static ANALYZER: OnceLock<Arc<Analyzer>> = OnceLock::new();
    Arc::clone(ANALYZER.get_or_init(|| {
        Arc::new(
            amanah_pii::recognizers::standard(Analyzer::builder())
                .min_score(0.0)
                .build(),
        )
    }))
}

/// Finds and masks personal data in an answer.
pub struct ResponseScan {
    analyzer: Arc<Analyzer>,
    entities: Option<Vec<EntityType>>,
    min_score: f32,
    policy: OperatorPolicy,
}

impl std::fmt::Debug for ResponseScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseScan")
            .field("entities", &self.entities)
            .finish_non_exhaustive()
    }
}

impl ResponseScan {
    /// `text` with what the scan finds masked, placeholders left alone
    /// (they are restored afterwards); and how many values it masked.
    pub fn mask(&self, text: &str) -> (String, usize) {
        let placeholders = placeholder_spans(text);
        let mut found = detect(
            &self.analyzer,
            text,
            self.entities.as_deref(),
            self.min_score,
        );
        found.retain(|d| !placeholders.iter().any(|&(s, e)| d.start < e && s < d.end));
        if found.is_empty() {
            return (text.to_owned(), 0);
        }
        let out = anonymize(
            text,
            &found,
            &self.policy,
            &mut amanah_pii::operators::NoContext,
        );
        let n = out.changed.len();
        (out.text, n)
    }
}

fn detect(
    analyzer: &Analyzer,
    text: &str,
    entities: Option<&[EntityType]>,
    min_score: f32,
) -> Vec<Detection> {
    let mut found = analyzer.analyze(text);
    found.retain(|d| d.score >= min_score && entities.is_none_or(|e| e.contains(&d.entity)));
    found
}

struct RoutePlan {
    mode: PrivacyMode,
    /// Pointers removed from JSON bodies before anything reads them.
    drop: Vec<String>,
    fields: Vec<String>,
    entities: Option<Vec<EntityType>>,
    policy: OperatorPolicy,
    scan: Option<Arc<ResponseScan>>,
}

/// The privacy stage of every route.
pub struct PrivacyStage {
    analyzer: Option<Arc<Analyzer>>,
    min_score: f32,
    conversation_header: HeaderName,
    routes: Vec<RoutePlan>,
    conversations: Conversations,
    vault: TokenVault,
    hash_key: ring::hmac::Key,
    max_response_bytes: u64,
}

impl std::fmt::Debug for PrivacyStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivacyStage")
            .field("routes", &self.routes.len())
            .field("conversations", &self.conversations)
            .finish_non_exhaustive()
    }
}

/// What the request stage leaves for the answer.
#[derive(Debug, Default)]
pub struct Protection {
    /// The types of the values replaced in the request (found, in
    /// `detect` mode), one entry per value.
    pub types: Vec<EntityType>,
    restorable: Option<Arc<Restorable>>,
    scan: Option<Arc<ResponseScan>>,
    /// The new body's length, when the stage rewrote it.
    rewritten_length: Option<usize>,
}

impl Protection {
    fn touches_answer(&self) -> bool {
        self.restorable.is_some() || self.scan.is_some()
    }

    /// The request headers that must change with the body: its length,
    /// and no compressed answer when the answer must be read.
    pub fn edit_request_headers(&self, headers: &mut HeaderMap) {
        if let Some(n) = self.rewritten_length {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
        }
        if self.touches_answer() {
            headers.remove(header::ACCEPT_ENCODING);
        }
    }
}

impl PrivacyStage {
    /// `hash_secret` keys the `hash` operator (derived from the server
    /// secret, so tags are stable across restarts but not across
    /// deployments).
    pub fn new(config: &Config, hash_secret: &[u8]) -> Self {
        let p = &config.privacy;
        let needed = config
            .routes
            .iter()
            .any(|r| r.privacy.mode != PrivacyMode::Off);
        let analyzer = needed.then(shared_analyzer);
        let routes = config
            .routes
            .iter()
            .map(|r| {
                let default = match r.privacy.mode {
                    PrivacyMode::Pseudonymize => Operator::Pseudonymize,
                    _ => Operator::Replace,
                };
                let mut policy = OperatorPolicy::new(default);
                for &(entity, op) in &p.operators {
                    policy = policy.with(entity, op);
                }
                let scan = match (&analyzer, r.privacy.response_scan) {
                    (Some(a), true) => Some(Arc::new(ResponseScan {
                        analyzer: Arc::clone(a),
                        entities: r.privacy.entities.clone(),
                        min_score: p.min_score,
                        policy: OperatorPolicy::masking(),
                    })),
                    _ => None,
                };
                RoutePlan {
                    mode: r.privacy.mode,
                    drop: r.drop_fields.clone(),
                    fields: r.privacy.fields.clone(),
                    entities: r.privacy.entities.clone(),
                    policy,
                    scan,
                }
            })
            .collect();
        let tag = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, hash_secret),
            b"amanah pii hash key v1",
        );
        Self {
            analyzer,
            min_score: p.min_score,
            conversation_header: p.conversation_header.clone(),
            routes,
            conversations: Conversations::new(
                p.conversation_ttl,
                p.max_conversations,
                p.max_values_per_conversation,
            ),
            vault: TokenVault::new(p.token_ttl, p.max_tokens),
            hash_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, tag.as_ref()),
            max_response_bytes: p.max_response_bytes,
        }
    }

    /// Whether route `route` reads its request bodies.
    pub fn applies(&self, route: usize) -> bool {
        let plan = &self.routes[route];
        plan.mode != PrivacyMode::Off || !plan.drop.is_empty()
    }

    /// Runs route `route`'s privacy mode over a request body. Returns the
    /// body to forward and what the answer needs.
    pub async fn protect_request(
        &self,
        route: usize,
        principal: &str,
        headers: &HeaderMap,
        body: Body,
        tripped: &Tripped,
        limit: u64,
    ) -> Result<(Body, Protection), GatewayError> {
        let plan = &self.routes[route];
        if !self.applies(route) {
            return Ok((body, Protection::default()));
        }
        if headers
            .get(header::CONTENT_ENCODING)
            .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"))
        {
            return Err(GatewayError::UnsupportedMediaType(
                "this route scans request bodies; send them without Content-Encoding",
            ));
        }
        let kind = body_kind(headers);
        let bytes = body.collect().await.map_err(|_| {
            if tripped.too_large() {
                GatewayError::PayloadTooLarge { limit }
            } else if tripped.idle() {
                GatewayError::RequestBodyTimeout
            } else {
                GatewayError::BadRequest("the request body could not be read")
            }
        })?;
        let bytes = bytes.to_bytes();
        if bytes.is_empty() {
            return Ok((full(bytes), Protection::default()));
        }
        let document =
            match kind {
                Some(BodyKind::Json) => {
                    Document::Json(serde_json::from_slice(&bytes).map_err(|e| {
                        GatewayError::InvalidBody(format!(
                            "the body is not valid JSON (line {}, column {})",
                            e.line(),
                            e.column()
                        ))
                    })?)
                }
                // `curl -d` labels JSON as a form: what parses as JSON is
                // scanned as JSON, the rest as text.
                Some(BodyKind::Text) => match serde_json::from_slice::<Value>(&bytes) {
                    Ok(v) if v.is_object() || v.is_array() => Document::Json(v),
                    _ => Document::Text(String::from_utf8(bytes.to_vec()).map_err(|_| {
                        GatewayError::BadRequest("the request body is not UTF-8 text")
                    })?),
                },
                None => {
                    return Err(GatewayError::UnsupportedMediaType(
                        "this route scans request bodies; send JSON or text",
                    ))
                }
            };
        let document = match document {
            Document::Json(mut v) => {
                for pointer in &plan.drop {
                    remove_pointer(&mut v, pointer);
                }
                Document::Json(v)
            }
            // Fields can only be dropped from JSON: a text body would pass
            // with the very data the route is meant to keep out.
            Document::Text(_) if !plan.drop.is_empty() => {
                return Err(GatewayError::UnsupportedMediaType(
                    "this route removes fields from request bodies; send JSON",
                ))
            }
            text => text,
        };
        let Some(analyzer) = self
            .analyzer
            .clone()
            .filter(|_| plan.mode != PrivacyMode::Off)
        else {
            // Minimization only: the body as parsed, without the fields.
            let out = document.into_bytes();
            let protection = Protection {
                rewritten_length: Some(out.len()),
                ..Protection::default()
            };
            return Ok((full(out), protection));
        };

        let scope = Scope {
            fields: plan.fields.clone(),
            entities: plan.entities.clone(),
            min_score: self.min_score,
        };
        let (mut document, detections) = if bytes.len() <= INLINE_ANALYSIS_BYTES {
            scope.analyze(&analyzer, document)
        } else {
            // Detection runs at about a megabyte a second per core: a big
            // body must not stall the other requests of this worker.
            tokio::task::spawn_blocking(move || scope.analyze(&analyzer, document))
                .await
                .map_err(|_| GatewayError::BadRequest("the request body could not be analyzed"))?
        };
        match plan.mode {
            PrivacyMode::Off | PrivacyMode::Detect => {
                let mut protection = Protection {
                    types: detections.iter().flatten().map(|d| d.entity).collect(),
                    scan: plan.scan.clone(),
                    ..Protection::default()
                };
                if plan.drop.is_empty() {
                    return Ok((full(bytes), protection));
                }
                // Fields were dropped: forward the document without them.
                let out = document.into_bytes();
                protection.rewritten_length = Some(out.len());
                return Ok((full(out), protection));
            }
            // What passes is what was checked: the body as parsed, written
            // again. The raw bytes could mean something else to another
            // parser (a duplicate key keeps its first value in some).
            PrivacyMode::Block => {
                if detections.iter().any(|d| !d.is_empty()) {
                    let mut types: Vec<EntityType> =
                        detections.iter().flatten().map(|d| d.entity).collect();
                    types.sort_unstable();
                    types.dedup();
                    return Err(GatewayError::PersonalDataRefused(types));
                }
                let out = document.into_bytes();
                let protection = Protection {
                    scan: plan.scan.clone(),
                    rewritten_length: Some(out.len()),
                    ..Protection::default()
                };
                return Ok((full(out), protection));
            }
            PrivacyMode::Redact | PrivacyMode::Pseudonymize => {}
        }

        let (named, conversation) = match conversation_id(headers, &self.conversation_header)? {
            Some(id) => (true, conversation_key(principal, id)),
            None => {
                let seed = match &document {
                    Document::Json(v) => conversation_seed(v),
                    Document::Text(t) => t.chars().take(256).collect(),
                };
                (
                    false,
                    conversation_key(principal, &format!("derived\0{seed}")),
                )
            }
        };
        let now = Instant::now();
        let map = self.conversations.get(conversation, now);
        let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
        let mut ctx = RequestContext {
            map: &mut map,
            vault: &self.vault,
            owner: conversation,
            hash_key: &self.hash_key,
            now,
            used: Restorable::default(),
        };
        // The same traversal again, in the same order: string i gets
        // detections[i].
        let mut types = Vec::new();
        let mut next = detections.iter();
        for_each_string(&mut document, &plan.fields, &mut |s, _| {
            let Some(found) = next.next().filter(|f| !f.is_empty()) else {
                return;
            };
            let out = anonymize(s, found, &plan.policy, &mut ctx);
            types.extend(out.changed);
            *s = out.text;
        });
        let mut restorable = ctx.used;
        if named {
            for (p, v) in map.entries() {
                restorable.insert(p.to_owned(), v.to_owned());
            }
        }
        drop(map);
        let reversible =
            plan.policy.uses(Operator::Pseudonymize) || plan.policy.uses(Operator::Tokenize);
        let out = document.into_bytes();
        let protection = Protection {
            types,
            restorable: (reversible && !restorable.is_empty()).then(|| Arc::new(restorable)),
            scan: plan.scan.clone(),
            rewritten_length: Some(out.len()),
        };
        Ok((full(out), protection))
    }

    /// Restores and scans the answer as the request stage left it to.
    pub async fn protect_response(
        &self,
        protection: &Protection,
        response: Response<Body>,
    ) -> Result<Response<Body>, GatewayError> {
        if !protection.touches_answer() {
            return Ok(response);
        }
        let restorable = protection
            .restorable
            .clone()
            .unwrap_or_else(|| Arc::new(Restorable::default()));
        let (mut parts, body) = response.into_parts();
        let encoded = parts
            .headers
            .get(header::CONTENT_ENCODING)
            .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
        if encoded {
            if protection.scan.is_some() {
                return Err(GatewayError::Upstream(
                    "the answer is compressed and cannot be scanned".into(),
                ));
            }
            // Placeholders stay in an answer we cannot read: nothing leaks.
            return Ok(Response::from_parts(parts, body));
        }
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("text/event-stream") {
            parts.headers.remove(header::CONTENT_LENGTH);
            let restorer = SseRestorer::new(restorable, protection.scan.clone());
            let body = SseBody {
                inner: body,
                restorer,
                finished: false,
            };
            return Ok(Response::from_parts(parts, BodyExt::boxed(body)));
        }
        let json = is_json(&content_type);
        if !json && !content_type.starts_with("text/") {
            return Ok(Response::from_parts(parts, body));
        }
        let limit = usize::try_from(self.max_response_bytes).unwrap_or(usize::MAX);
        let bytes = read_limited(body, limit).await?;
        let out = self.restore_whole(&bytes, json, &restorable, protection.scan.as_deref());
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(out.len()));
        Ok(Response::from_parts(parts, full(out)))
    }

    fn restore_whole(
        &self,
        bytes: &Bytes,
        json: bool,
        restorable: &Restorable,
        scan: Option<&ResponseScan>,
    ) -> Bytes {
        let fix = |s: &str, escape: Escape| -> String {
            let scanned = match scan {
                Some(scan) => scan.mask(s).0,
                None => s.to_owned(),
            };
            restore(&scanned, restorable, escape).0
        };
        if json {
            if let Ok(mut v) = serde_json::from_slice::<Value>(bytes) {
                json::for_each_content_string(&mut v, &[], &mut |s| *s = fix(s, Escape::None));
                return Bytes::from(v.to_string());
            }
        }
        match std::str::from_utf8(bytes) {
            // JSON that did not parse is still JSON text around the values.
            Ok(text) => Bytes::from(fix(text, if json { Escape::Json } else { Escape::None })),
            Err(_) => bytes.clone(),
        }
    }
}

/// The whole answer, up to `limit` bytes.
async fn read_limited(mut body: Body, limit: usize) -> Result<Bytes, GatewayError> {
    let mut out = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| GatewayError::Upstream(format!("reading the answer: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(GatewayError::Upstream(format!(
                    "the answer exceeds privacy.max_response_bytes ({limit})"
                )));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out.freeze())
}

/// Bodies up to this size are analyzed on the request's own task; larger
/// ones on the blocking pool.
const INLINE_ANALYSIS_BYTES: usize = 32 * 1024;

/// What a route looks for, and where.
struct Scope {
    fields: Vec<String>,
    entities: Option<Vec<EntityType>>,
    min_score: f32,
}

impl Scope {
    /// The detections of every string of `document`, in traversal order.
    fn analyze(
        &self,
        analyzer: &Analyzer,
        mut document: Document,
    ) -> (Document, Vec<Vec<Detection>>) {
        let mut detections = Vec::new();
        for_each_string(&mut document, &self.fields, &mut |s, part| {
            let mut found = detect(analyzer, s, self.entities.as_deref(), self.min_score);
            if part == Part::Protocol {
                found.retain(|d| EntityType::SHAPED.contains(&d.entity));
            }
            detections.push(found);
        });
        (document, detections)
    }
}

enum Document {
    Json(Value),
    Text(String),
}

impl Document {
    /// The document written out: what the upstream receives.
    fn into_bytes(self) -> Bytes {
        match self {
            Document::Json(v) => Bytes::from(v.to_string()),
            Document::Text(t) => Bytes::from(t),
        }
    }
}

#[derive(Clone, Copy)]
enum BodyKind {
    Json,
    Text,
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence == "application/json" || essence.ends_with("+json")
}

fn body_kind(headers: &HeaderMap) -> Option<BodyKind> {
    let Some(ct) = headers.get(header::CONTENT_TYPE) else {
        return Some(BodyKind::Text);
    };
    let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
    let essence = ct.split(';').next().unwrap_or("").trim();
    if is_json(essence) {
        Some(BodyKind::Json)
    } else if essence.starts_with("text/") || essence == "application/x-www-form-urlencoded" {
        Some(BodyKind::Text)
    } else {
        None
    }
}

fn for_each_string(doc: &mut Document, fields: &[String], f: &mut dyn FnMut(&mut String, Part)) {
    match doc {
        Document::Json(v) => json::for_each_string(v, fields, f),
        Document::Text(t) => f(t, Part::Content),
    }
}

/// The client's conversation id, if it sent a usable one.
fn conversation_id<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
) -> Result<Option<&'h str>, GatewayError> {
    let Some(v) = headers.get(name) else {
        return Ok(None);
    };
    let id = v
        .to_str()
        .ok()
        .filter(|s| !s.is_empty() && s.len() <= MAX_CONVERSATION_ID)
        .ok_or(GatewayError::BadRequest(
            "the conversation header must be 1 to 200 visible ASCII characters",
        ))?;
    Ok(Some(id))
}

/// What stays the same across the turns of one conversation: the first
/// user message (the history is resent with every turn), else the prompt
/// or input.
fn conversation_seed(body: &Value) -> String {
    if let Some(messages) = body.get("messages").and_then(Value::as_array) {
        if let Some(first) = messages
            .iter()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        {
            return first
                .get("content")
                .map(Value::to_string)
                .unwrap_or_default();
        }
    }
    for key in ["prompt", "input"] {
        if let Some(v) = body.get(key) {
            return v.to_string().chars().take(256).collect();
        }
    }
    String::new()
}

struct RequestContext<'a> {
    map: &'a mut PseudonymMap,
    vault: &'a TokenVault,
    owner: ConversationKey,
    hash_key: &'a ring::hmac::Key,
    now: Instant,
    used: Restorable,
}

impl OperatorContext for RequestContext<'_> {
    fn keyed_hash(&self, value: &str) -> Option<[u8; 32]> {
        let tag = ring::hmac::sign(self.hash_key, value.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        Some(out)
    }

    fn pseudonym(&mut self, entity: EntityType, value: &str) -> Option<String> {
        let p = self.map.placeholder(entity, value)?;
        self.used.insert(p.clone(), value.to_owned());
        Some(p)
    }

    fn token(&mut self, entity: EntityType, value: &str) -> Option<String> {
        let mut fresh = || format!("<{}_{}>", entity.as_str(), random_token_id());
        let t = self
            .vault
            .tokenize(self.owner, entity, value, self.now, &mut fresh);
        self.used.insert(t.clone(), value.to_owned());
        Some(t)
    }
}

/// 16 characters of `A-Z2-7` (80 random bits): a placeholder's inner
/// alphabet, never a number a counter would make.
fn random_token_id() -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bytes: [u8; 16] = amanah_crypto::random::bytes();
    let mut id = String::from("T");
    id.extend(
        bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b & 31)])),
    );
    id
}

/// An SSE answer with its placeholders restored event by event.
struct SseBody {
    inner: Body,
    restorer: SseRestorer,
    finished: bool,
}

impl HttpBody for SseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => match this.restorer.push(&data) {
                        Ok(out) if out.is_empty() => continue,
                        Ok(out) => return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out))))),
                        Err(e) => return Poll::Ready(Some(Err(e.into()))),
                    },
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => {
                    if !this.finished {
                        this.finished = true;
                        let out = this.restorer.finish();
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                        }
                    }
                    return Poll::Ready(None);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `privacy.min_score` below the engine's default floor finds what the
    /// default floor drops ("Inject" scores as a weak name at the start of
    /// this text).
    #[test]
    fn a_floor_below_the_engine_default_takes_effect() {
        let text = "Inject SELECT * FROM Users";
        let default_floor = amanah_pii::DEFAULT_MIN_SCORE;
        assert!(Analyzer::standard()
            .analyze(text)
            .iter()
            .all(|d| d.score >= default_floor));
        let weak: Vec<Detection> = detect(&shared_analyzer(), text, None, 0.0)
            .into_iter()
            .filter(|d| d.score < default_floor)
            .collect();
        let first = weak.first().expect("a candidate under the default floor");
        let found = detect(&shared_analyzer(), text, None, first.score);
        assert!(found
            .iter()
            .any(|d| d.start == first.start && d.end == first.end));
        let above = detect(&shared_analyzer(), text, None, first.score + 0.01);
        assert!(!above
            .iter()
            .any(|d| d.start == first.start && d.score <= first.score));
    }
}
