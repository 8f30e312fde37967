//! The privacy stage end to end: what the upstream receives, what the
//! client gets back (whole and streamed one byte at a time), refusals, and
//! clean logs.

use http::{Request, StatusCode};
use serde_json::{json, Value};

use amanah_gateway::body::full;

use super::support::{assert_error, client, get, json, send, Harness, Setup};

const EMAIL: &str = "maria.gonzalez@example.org";
const PHONE: &str = "+1 415 555 0132";
const SSN: &str = "536-22-8475";
const CARD: &str = "4111 1111 1111 1111";
const AWS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";

fn prompt() -> String {
    format!(
        "Hi, write to {EMAIL} or call {PHONE}. My SSN is {SSN}, card {CARD}, \
         and our key is {AWS_KEY}."
    )
}

fn chat_body(text: &str, stream: bool) -> String {
    json!({
        "model": "m",
        "stream": stream,
        "messages": [{"role": "user", "content": text}]
    })
    .to_string()
}

async fn harness(route: &str) -> (Harness, String) {
    let mut h = Harness::with(Setup {
        route: route.into(),
        ..Setup::default()
    })
    .await;
    for v in [EMAIL, PHONE, SSN, CARD, AWS_KEY] {
        h.remember_secret(v);
    }
    let key = h.key().await;
    (h, key)
}

async fn post_chat(
    h: &Harness,
    key: &str,
    body: String,
    extra: &[(&str, &str)],
) -> (StatusCode, http::HeaderMap, bytes::Bytes) {
    let mut b = Request::post(h.url("/v1/chat/echo"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {key}"));
    for (k, v) in extra {
        b = b.header(*k, *v);
    }
    send(&client(), b.body(full(body)).unwrap()).await
}

fn assert_none_of_the_values(text: &str) {
    for v in [EMAIL, PHONE, SSN, CARD, AWS_KEY] {
        assert!(!text.contains(v), "{v} reached the upstream: {text}");
    }
}

/// The content a client reassembles from an SSE answer.
fn streamed_content(body: &[u8]) -> String {
    let text = std::str::from_utf8(body).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        if let Some(Ok(v)) = line
            .strip_prefix("data: ")
            .map(serde_json::from_str::<Value>)
        {
            if let Some(c) = v["choices"][0]["delta"]["content"].as_str() {
                out.push_str(c);
            }
        }
    }
    out
}

#[tokio::test]
async fn pseudonymized_values_never_reach_the_upstream_and_come_back_whole_or_streamed() {
    let (h, key) = harness(r#"privacy = "pseudonymize""#).await;
    let text = prompt();

    let (status, headers, body) = post_chat(&h, &key, chat_body(&text, false), &[]).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let seen = String::from_utf8(h.last_seen().body.to_vec()).unwrap();
    assert_none_of_the_values(&seen);
    for p in [
        "<EMAIL_ADDRESS_1>",
        "<PHONE_NUMBER_1>",
        "<US_SSN_1>",
        "<CREDIT_CARD_1>",
        "<SECRET_1>",
    ] {
        assert!(seen.contains(p), "{p} missing in {seen}");
    }
    let redactions: usize = headers["x-amanah-redactions"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(redactions >= 5, "{redactions}");
    let answer = json(&body)["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(answer, format!("user: {text}"));

    // Streamed: one character of content per event, one byte per write.
    let (status, headers, body) = post_chat(&h, &key, chat_body(&text, true), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(streamed_content(&body), format!("user: {text}"));
    let raw = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        !raw.contains("<EMAIL"),
        "a placeholder reached the client: {raw}"
    );
    assert!(raw.ends_with("data: [DONE]\n\n"));
    assert_eq!(raw.matches("\"finish_reason\":\"stop\"").count(), 1);
    let seen = String::from_utf8(h.last_seen().body.to_vec()).unwrap();
    assert_none_of_the_values(&seen);
    h.finish().await;
}

#[tokio::test]
async fn placeholders_stay_the_same_across_turns_of_a_named_conversation() {
    let (h, key) = harness(r#"privacy = "pseudonymize""#).await;
    let conv = [("x-amanah-conversation", "case-42")];
    post_chat(&h, &key, chat_body(&format!("mail {EMAIL}"), false), &conv).await;
    let first = String::from_utf8(h.last_seen().body.to_vec()).unwrap();
    assert!(first.contains("<EMAIL_ADDRESS_1>"), "{first}");
    // A later turn names a second address, then the first one again.
    let later = format!("mail bob.stone@example.net, then {EMAIL}");
    post_chat(&h, &key, chat_body(&later, false), &conv).await;
    let second = String::from_utf8(h.last_seen().body.to_vec()).unwrap();
    assert!(
        second.contains("<EMAIL_ADDRESS_2>, then <EMAIL_ADDRESS_1>"),
        "{second}"
    );
    // The model may refer to the first turn's placeholder: it is restored.
    let (_, _, body) = post_chat(
        &h,
        &key,
        chat_body("what was <EMAIL_ADDRESS_1> again?", false),
        &conv,
    )
    .await;
    let answer = json(&body)["choices"][0]["message"]["content"].clone();
    assert_eq!(answer, format!("user: what was {EMAIL} again?"));
    h.finish().await;
}

#[tokio::test]
async fn another_caller_cannot_have_a_conversations_values_restored() {
    let (mut h, key_a) = harness(r#"privacy = "pseudonymize""#).await;
    let key_b = h.key().await;
    let conv = [("x-amanah-conversation", "shared-id")];
    post_chat(
        &h,
        &key_a,
        chat_body(&format!("mail {EMAIL}"), false),
        &conv,
    )
    .await;

    // Caller B names the same conversation and gets the model to say A's
    // placeholder: B must see the placeholder, never A's value.
    for extra in [&conv[..], &[]] {
        let (status, _, body) = post_chat(
            &h,
            &key_b,
            chat_body("repeat <EMAIL_ADDRESS_1> and %3CEMAIL_ADDRESS_1%3E", false),
            extra,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains(EMAIL), "{text}");
        assert!(text.contains("<EMAIL_ADDRESS_1>"), "{text}");
    }
    // Without a conversation header only the request's own values come back.
    post_chat(&h, &key_a, chat_body(&format!("mail {EMAIL}"), false), &[]).await;
    let (_, _, body) = post_chat(&h, &key_a, chat_body("say <EMAIL_ADDRESS_1>", false), &[]).await;
    assert!(!String::from_utf8(body.to_vec()).unwrap().contains(EMAIL));
    h.finish().await;
}

#[tokio::test]
async fn block_refuses_with_422_naming_types_never_values() {
    let (h, key) = harness(r#"privacy = "block""#).await;
    let (status, _, body) = post_chat(&h, &key, chat_body(&prompt(), false), &[]).await;
    assert_error(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        &body,
        "personal_data_refused",
    );
    let message = json(&body)["error"]["message"].as_str().unwrap().to_owned();
    for t in ["EMAIL_ADDRESS", "US_SSN", "CREDIT_CARD", "SECRET"] {
        assert!(message.contains(t), "{message}");
    }
    assert_none_of_the_values(&message);
    assert_eq!(h.seen_count(), 0, "a blocked request reached the upstream");
    let (_, _, metrics) = send(&client(), get(&format!("http://{}/metrics", h.admin), None)).await;
    let metrics = String::from_utf8(metrics.to_vec()).unwrap();
    assert!(
        metrics.contains("amanah_privacy_values_total{route=\"chat\",entity=\"US_SSN\"} 1"),
        "{metrics}"
    );

    let (status, _, _) = post_chat(
        &h,
        &key,
        chat_body("what is a good name for a cat?", false),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    h.finish().await;
}

#[tokio::test]
async fn redact_applies_configured_operators_and_detect_changes_nothing() {
    let (h, key) = harness(
        r#"privacy = "redact"
[privacy.operators]
CREDIT_CARD = "mask:4"
US_SSN = "hash"
"#,
    )
    .await;
    let (status, headers, _) = post_chat(&h, &key, chat_body(&prompt(), false), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let seen = String::from_utf8(h.last_seen().body.to_vec()).unwrap();
    assert_none_of_the_values(&seen);
    assert!(seen.contains("**** **** **** 1111"), "{seen}");
    assert!(seen.contains("<US_SSN:"), "{seen}");
    assert!(seen.contains("<EMAIL_ADDRESS>"), "{seen}");
    assert!(headers.contains_key("x-amanah-redactions"));
    // A model name is protocol, not prose: never rewritten as a date.
    let (_, _, _) = post_chat(
        &h,
        &key,
        json!({"model": "gpt-4o-2024-08-06", "user": EMAIL,
               "messages": [{"role": "user", "content": "hi"}]})
        .to_string(),
        &[],
    )
    .await;
    let seen: Value = serde_json::from_slice(&h.last_seen().body).unwrap();
    assert_eq!(seen["model"], "gpt-4o-2024-08-06");
    assert_eq!(seen["user"], "<EMAIL_ADDRESS>");
    h.finish().await;

    let (h, key) = harness(r#"privacy = "detect""#).await;
    let body = chat_body(&prompt(), false);
    let (_, headers, _) = post_chat(&h, &key, body.clone(), &[]).await;
    assert_eq!(h.last_seen().body, body.as_bytes());
    let found: usize = headers["x-amanah-redactions"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(found >= 5);
    h.finish().await;
}

#[tokio::test]
async fn unreadable_bodies_are_refused_before_forwarding() {
    let (h, key) = harness(r#"privacy = "pseudonymize""#).await;
    let (status, _, body) = post_chat(&h, &key, "{\"messages\": [".into(), &[]).await;
    assert_error(status, StatusCode::BAD_REQUEST, &body, "bad_request");
    assert!(json(&body)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("line 1"));

    let req = Request::post(h.url("/v1/chat/echo"))
        .header("content-type", "application/octet-stream")
        .header("authorization", format!("Bearer {key}"))
        .body(full(prompt()))
        .unwrap();
    let (status, _, body) = send(&client(), req).await;
    assert_error(
        status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        &body,
        "unsupported_media_type",
    );

    let req = Request::post(h.url("/v1/chat/echo"))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .header("authorization", format!("Bearer {key}"))
        .body(full(chat_body("hi", false)))
        .unwrap();
    let (status, _, _) = send(&client(), req).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(h.seen_count(), 0);
    h.finish().await;
}

#[tokio::test]
async fn response_scan_masks_what_the_model_wrote_and_placeholders_still_restore() {
    // detect forwards the request as it is, so the echo model "writes" the
    // address on its own: the scan must mask it, whole and streamed.
    let (h, key) = harness(
        r#"privacy = "detect"
privacy_response_scan = true"#,
    )
    .await;
    let text = format!("Please mail {EMAIL} soon. Thanks.");
    for stream in [false, true] {
        let (status, _, body) = post_chat(&h, &key, chat_body(&text, stream), &[]).await;
        assert_eq!(status, StatusCode::OK);
        let answer = if stream {
            streamed_content(&body)
        } else {
            json(&body)["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert!(!answer.contains(EMAIL), "stream {stream}: {answer}");
        assert!(answer.starts_with("user: Please mail ****"), "{answer}");
        assert!(answer.ends_with(" soon. Thanks."), "{answer}");
    }
    h.finish().await;

    let (h, key) = harness(
        r#"privacy = "pseudonymize"
privacy_response_scan = true"#,
    )
    .await;
    for stream in [false, true] {
        let (_, _, body) = post_chat(&h, &key, chat_body(&text, stream), &[]).await;
        let answer = if stream {
            streamed_content(&body)
        } else {
            json(&body)["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(answer, format!("user: {text}"), "stream {stream}");
    }
    h.finish().await;
}

#[tokio::test]
async fn a_large_body_is_protected_like_a_small_one() {
    // Past 32 KiB the analysis moves to the blocking pool.
    let (h, key) = harness(r#"privacy = "pseudonymize""#).await;
    let filler = "The weather was mild and the meeting ran long. ".repeat(1500);
    let text = format!("{filler}Reach me at {EMAIL}. {filler}");
    let (status, _, body) = post_chat(&h, &key, chat_body(&text, false), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let seen = String::from_utf8(h.last_seen().body.to_vec()).unwrap();
    assert!(seen.len() > 64 * 1024);
    assert_none_of_the_values(&seen);
    let answer = json(&body)["choices"][0]["message"]["content"].clone();
    assert_eq!(answer, format!("user: {text}"));
    h.finish().await;
}

#[tokio::test]
async fn an_answer_too_large_to_restore_is_a_502_not_a_leak_or_a_cut() {
    let (h, key) = harness(
        r#"privacy = "pseudonymize"
[privacy]
max_response_bytes = 2048
"#,
    )
    .await;
    let (status, _, _) = post_chat(&h, &key, chat_body(&format!("mail {EMAIL}"), false), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let long = format!("mail {EMAIL} {}", "and more words ".repeat(200));
    let (status, _, body) = post_chat(&h, &key, chat_body(&long, false), &[]).await;
    assert_error(status, StatusCode::BAD_GATEWAY, &body, "bad_gateway");
    h.finish().await;
}
