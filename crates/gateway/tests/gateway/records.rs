//! The data API through a running gateway: records stored redacted and
//! encrypted, read back, listed and deleted by permission and data class;
//! subjects erased (crypto-shredded) and exported.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};

use super::support::*;
use amanah_gateway::body::full;

const HOUR: Duration = Duration::from_secs(3600);

fn child_data_setup() -> Setup {
    Setup {
        top: "[data_classes]\nchild_data = [\"supervisor\"]\n[roles.model_user]\ndescription = \"calls models only\"\npermissions = [\"llm:invoke\"]\n".into(),
        ..Setup::default()
    }
}

fn request(
    method: &str,
    url: &str,
    key: &str,
    body: Option<serde_json::Value>,
) -> Request<amanah_gateway::body::Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", format!("Bearer {key}"));
    let body = match body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            full(Bytes::from(v.to_string()))
        }
        None => full(Bytes::new()),
    };
    b.body(body).unwrap()
}

fn files_hold(dir: &std::path::Path, needle: &[u8]) -> bool {
    ["amanah.db", "amanah.db-wal", "keys.db", "keys.db-wal"]
        .iter()
        .any(|f| {
            std::fs::read(dir.join(f)).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
        })
}

#[tokio::test]
async fn records_are_stored_redacted_and_encrypted_and_read_by_permission() {
    let mut h = Harness::with(child_data_setup()).await;
    let (_, writer) = h.key_for(&["case_worker"], HOUR).await;
    let (_, model_user) = h.key_for(&["model_user"], HOUR).await;
    let (_, supervisor) = h.key_for(&["supervisor"], HOUR).await;
    let c = client();
    let url = h.url("/v1/records");

    let marker = "TRANSCRIPT-MARKER-4kq";
    let body = serde_json::json!({
        "subject": "caller-17",
        "kind": "transcript",
        "content": format!("{marker}: my email is lena.berg@example.org and my SSN is 536-22-8147"),
    });
    let (status, _, created) = send(&c, request("POST", &url, &writer, Some(body))).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&created)
    );
    let created = json(&created);
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["redacted"], true);
    assert_eq!(created["data_class"], "general");

    // Read back: redacted, never the values.
    let (status, _, got) = send(
        &c,
        request("GET", &h.url(&format!("/v1/records/{id}")), &writer, None),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let got = json(&got);
    let content = got["content"].as_str().unwrap();
    assert!(content.starts_with(marker), "{content}");
    assert!(content.contains("<EMAIL_ADDRESS>"), "{content}");
    assert!(!content.contains("lena.berg") && !content.contains("536-22-8147"));

    // Neither database file holds the text, even redacted.
    let data = h.dir.path().join("data");
    assert!(!files_hold(&data, marker.as_bytes()));
    assert!(!files_hold(&data, b"lena.berg@example.org"));

    // A caller that may only call models holds no records:read.
    let (status, _, body) = send(
        &c,
        request(
            "GET",
            &h.url(&format!("/v1/records/{id}")),
            &model_user,
            None,
        ),
    )
    .await;
    assert_error(status, StatusCode::FORBIDDEN, &body, "forbidden");

    // Raw storage needs records:write_raw, which a case worker lacks.
    let raw = serde_json::json!({
        "subject": "caller-17", "kind": "transcript", "content": "x", "raw": true,
    });
    let (status, _, body) = send(&c, request("POST", &url, &writer, Some(raw))).await;
    assert_error(status, StatusCode::FORBIDDEN, &body, "forbidden");

    // child_data: only the supervisor is cleared; to others the record
    // does not exist, and the listing leaves it out.
    let child = serde_json::json!({
        "subject": "caller-17", "kind": "transcript", "data_class": "child_data",
        "content": "a child's words",
    });
    let (status, _, body) = send(&c, request("POST", &url, &writer, Some(child.clone()))).await;
    assert_error(status, StatusCode::FORBIDDEN, &body, "forbidden");
    let (status, _, body) = send(&c, request("POST", &url, &supervisor, Some(child))).await;
    assert_eq!(status, StatusCode::CREATED);
    let child_id = json(&body)["id"].as_str().unwrap().to_owned();
    let (status, _, body) = send(
        &c,
        request(
            "GET",
            &h.url(&format!("/v1/records/{child_id}")),
            &writer,
            None,
        ),
    )
    .await;
    assert_error(status, StatusCode::NOT_FOUND, &body, "not_found");
    let (status, _, body) = send(
        &c,
        request(
            "GET",
            &h.url("/v1/records?subject=caller-17"),
            &writer,
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let listed: Vec<String> = json(&body)["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, std::slice::from_ref(&id));
    let (_, _, body) = send(
        &c,
        request(
            "GET",
            &h.url("/v1/records?subject=caller-17"),
            &supervisor,
            None,
        ),
    )
    .await;
    assert_eq!(json(&body)["records"].as_array().unwrap().len(), 2);

    // Subject-wide operations are all or nothing: admin holds every
    // permission but is not cleared for child_data, so it may neither
    // export nor erase caller-17, who has a child_data record.
    let (_, admin_for_export) = h.key_for(&["admin"], HOUR).await;
    for (method, path) in [
        ("GET", "/v1/subjects/caller-17/export"),
        ("DELETE", "/v1/subjects/caller-17"),
    ] {
        let (status, _, body) =
            send(&c, request(method, &h.url(path), &admin_for_export, None)).await;
        assert_error(status, StatusCode::FORBIDDEN, &body, "forbidden");
    }
    let (_, _, body) = send(
        &c,
        request(
            "GET",
            &h.url("/v1/records?subject=caller-17"),
            &supervisor,
            None,
        ),
    )
    .await;
    assert_eq!(
        json(&body)["records"].as_array().unwrap().len(),
        2,
        "nothing was erased"
    );

    // Legal hold blocks deletion (409); without it the record goes (204).
    let (status, _, body) = send(
        &c,
        request(
            "PUT",
            &h.url(&format!("/v1/records/{id}/legal-hold")),
            &supervisor,
            Some(serde_json::json!({"hold": true})),
        ),
    )
    .await;
    assert_error(status, StatusCode::FORBIDDEN, &body, "forbidden");
    let (_, admin) = h.key_for(&["admin"], HOUR).await;
    let (status, _, _) = send(
        &c,
        request(
            "PUT",
            &h.url(&format!("/v1/records/{id}/legal-hold")),
            &admin,
            Some(serde_json::json!({"hold": true})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = send(
        &c,
        request(
            "DELETE",
            &h.url(&format!("/v1/records/{id}")),
            &supervisor,
            None,
        ),
    )
    .await;
    assert_error(status, StatusCode::CONFLICT, &body, "conflict");
    send(
        &c,
        request(
            "PUT",
            &h.url(&format!("/v1/records/{id}/legal-hold")),
            &admin,
            Some(serde_json::json!({"hold": false})),
        ),
    )
    .await;
    let (status, _, _) = send(
        &c,
        request(
            "DELETE",
            &h.url(&format!("/v1/records/{id}")),
            &supervisor,
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Whatever the declared type, text is stored redacted; binary content
    // needs raw storage; a media type is a media type.
    let odd = serde_json::json!({
        "subject": "caller-18", "kind": "transcript", "content_type": "application/x-notes",
        "content": "reach lena.berg@example.org",
    });
    let (status, _, body) = send(&c, request("POST", &url, &writer, Some(odd))).await;
    assert_eq!(status, StatusCode::CREATED);
    let odd_id = json(&body)["id"].as_str().unwrap().to_owned();
    let (_, _, body) = send(
        &c,
        request(
            "GET",
            &h.url(&format!("/v1/records/{odd_id}")),
            &writer,
            None,
        ),
    )
    .await;
    assert!(!json(&body)["content"]
        .as_str()
        .unwrap()
        .contains("lena.berg"));
    let keyed = serde_json::json!({
        "subject": "caller-18", "kind": "transcript", "content_type": "application/json",
        "content": "{\"lena.berg@example.org\": 1, \"id\": \"536-22-8147\"}",
    });
    let (status, _, body) = send(&c, request("POST", &url, &writer, Some(keyed))).await;
    assert_eq!(status, StatusCode::CREATED);
    let keyed_id = json(&body)["id"].as_str().unwrap().to_owned();
    let (_, _, body) = send(
        &c,
        request(
            "GET",
            &h.url(&format!("/v1/records/{keyed_id}")),
            &writer,
            None,
        ),
    )
    .await;
    let stored = json(&body)["content"].as_str().unwrap().to_owned();
    assert!(
        !stored.contains("lena.berg") && !stored.contains("536-22-8147"),
        "{stored}"
    );
    let binary = serde_json::json!({
        "subject": "caller-18", "kind": "document", "content_base64": "AAECAwQF/w==",
    });
    let (status, _, body) = send(&c, request("POST", &url, &writer, Some(binary))).await;
    assert_error(status, StatusCode::BAD_REQUEST, &body, "invalid_request");
    assert!(json(&body)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("raw"));
    let smuggle = serde_json::json!({
        "subject": "caller-18", "kind": "transcript", "content": "x",
        "content_type": format!("text/plain; note={}", "a".repeat(200)),
    });
    let (status, _, body) = send(&c, request("POST", &url, &writer, Some(smuggle))).await;
    assert_error(status, StatusCode::BAD_REQUEST, &body, "invalid_request");

    // Bad input: a clear 400 naming the field.
    let bad = serde_json::json!({"subject": "a/b", "kind": "transcript", "content": "x"});
    let (status, _, body) = send(&c, request("POST", &url, &writer, Some(bad))).await;
    assert_error(status, StatusCode::BAD_REQUEST, &body, "invalid_request");
    assert!(json(&body)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("subject"));
    h.finish().await;
}

#[tokio::test]
async fn erasure_returns_a_receipt_and_export_holds_only_the_subject() {
    let mut h = Harness::start().await;
    let (_, writer) = h.key_for(&["case_worker"], HOUR).await;
    let (_, supervisor) = h.key_for(&["supervisor"], HOUR).await;
    let (_, admin) = h.key_for(&["admin"], HOUR).await;
    let c = client();
    let url = h.url("/v1/records");
    let mut mine = Vec::new();
    for (subject, text) in [
        ("subj-a", "first"),
        ("subj-a", "second"),
        ("subj-b", "other"),
    ] {
        let body = serde_json::json!({"subject": subject, "kind": "conversation", "content": text});
        let (status, _, created) = send(&c, request("POST", &url, &writer, Some(body))).await;
        assert_eq!(status, StatusCode::CREATED);
        if subject == "subj-a" {
            mine.push(json(&created)["id"].as_str().unwrap().to_owned());
        }
    }
    let consent =
        serde_json::json!({"purpose": "support", "granted": true, "evidence": "web form v3"});
    let (status, _, _) = send(
        &c,
        request(
            "POST",
            &h.url("/v1/subjects/subj-a/consents"),
            &admin,
            Some(consent),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, _, body) = send(
        &c,
        request(
            "GET",
            &h.url("/v1/subjects/subj-a/export?format=json"),
            &supervisor,
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let export = json(&body);
    // Records created in the same second come in id order: compare sets.
    let mut got: Vec<(String, String)> = export["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let mut ids: Vec<String> = got.iter().map(|(id, _)| id.clone()).collect();
    let mut want = mine.clone();
    want.sort();
    ids.sort();
    assert_eq!(ids, want);
    let mut contents: Vec<String> = got.into_iter().map(|(_, c)| c).collect();
    contents.sort();
    assert_eq!(contents, ["first", "second"]);
    assert_eq!(export["consents"][0]["purpose"], "support");
    assert!(!body.windows(5).any(|w| w == b"other"));

    // A case worker may not erase; a supervisor may.
    let (status, _, body) = send(
        &c,
        request("DELETE", &h.url("/v1/subjects/subj-a"), &writer, None),
    )
    .await;
    assert_error(status, StatusCode::FORBIDDEN, &body, "forbidden");
    let (status, _, body) = send(
        &c,
        request("DELETE", &h.url("/v1/subjects/subj-a"), &supervisor, None),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let receipt = json(&body);
    assert_eq!(receipt["key_destroyed"], true);
    assert_eq!(receipt["records_deleted"].as_array().unwrap().len(), 2);
    assert_eq!(receipt["consents_deleted"], 1);
    let (status, _, body) = send(
        &c,
        request(
            "GET",
            &h.url(&format!("/v1/records/{}", mine[0])),
            &supervisor,
            None,
        ),
    )
    .await;
    assert_error(status, StatusCode::NOT_FOUND, &body, "not_found");
    let (_, _, body) = send(
        &c,
        request(
            "GET",
            &h.url("/v1/subjects/subj-b/export"),
            &supervisor,
            None,
        ),
    )
    .await;
    assert_eq!(json(&body)["records"].as_array().unwrap().len(), 1);

    // Offboarding a tenant: its records go, the same subject elsewhere stays.
    let mut kept = String::new();
    for tenant in ["acme", "globex"] {
        let body = serde_json::json!({"subject": "subj-b", "tenant": tenant, "kind": "conversation", "content": tenant});
        let (status, _, created) = send(&c, request("POST", &url, &writer, Some(body))).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(json(&created)["tenant"], tenant);
        kept = json(&created)["id"].as_str().unwrap().to_owned();
    }
    let (status, _, body) = send(
        &c,
        request("DELETE", &h.url("/v1/tenants/acme"), &supervisor, None),
    )
    .await;
    assert_error(status, StatusCode::FORBIDDEN, &body, "forbidden");
    let (status, _, body) = send(
        &c,
        request("DELETE", &h.url("/v1/tenants/acme"), &admin, None),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let receipt = json(&body);
    assert_eq!(receipt["tenant"], "acme");
    assert_eq!(receipt["records_deleted"].as_array().unwrap().len(), 1);
    assert_eq!(receipt["key_destroyed"], true);
    let (status, _, body) = send(
        &c,
        request(
            "GET",
            &h.url(&format!("/v1/records/{kept}")),
            &supervisor,
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body)["content"], "globex");
    h.finish().await;
}

fn chat_as(
    h: &Harness,
    key: &str,
    subject: Option<&str>,
    body: &serde_json::Value,
) -> Request<amanah_gateway::body::Body> {
    let mut b = Request::post(h.url("/v1/chat/completions"))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json");
    if let Some(s) = subject {
        b = b.header("x-amanah-subject", s);
    }
    b.body(full(Bytes::from(body.to_string()))).unwrap()
}

/// A route that needs consent refuses a request without a subject, or for
/// a subject without consent or whose consent was withdrawn; a subject
/// pinned to another region is refused; the subject header and the
/// dropped fields never reach the provider.
#[tokio::test]
async fn consent_residency_and_minimization_on_a_route() {
    let mut h = Harness::with(Setup {
        provider: "region = \"eu\"\n".into(),
        route: "consent_purpose = \"support\"\ndrop_fields = [\"/user\", \"/metadata/email\"]\n"
            .into(),
        ..Setup::default()
    })
    .await;
    let (_, caller) = h.key_for(&["contributor"], HOUR).await;
    let (_, admin) = h.key_for(&["admin"], HOUR).await;
    let c = client();
    let body = serde_json::json!({
        "model": "m",
        "messages": [{"role": "user", "content": "hello"}],
        "user": "end-user-991",
        "metadata": {"email": "kept.out@example.org", "ticket": "T-5"},
    });

    let (status, _, resp) = send(&c, chat_as(&h, &caller, None, &body)).await;
    assert_error(status, StatusCode::FORBIDDEN, &resp, "consent_required");
    let (status, _, resp) = send(&c, chat_as(&h, &caller, Some("subj-9"), &body)).await;
    assert_error(status, StatusCode::FORBIDDEN, &resp, "consent_required");
    assert_eq!(h.seen_count(), 0);

    let grant = serde_json::json!({"purpose": "support", "granted": true, "evidence": "call recording 14:02"});
    let (status, _, _) = send(
        &c,
        request(
            "POST",
            &h.url("/v1/subjects/subj-9/consents"),
            &admin,
            Some(grant),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, resp) = send(&c, chat_as(&h, &caller, Some("subj-9"), &body)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&resp));
    let seen = h.last_seen();
    assert!(seen.headers.get("x-amanah-subject").is_none());
    let forwarded: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
    assert!(forwarded.get("user").is_none(), "{forwarded}");
    assert_eq!(forwarded["metadata"], serde_json::json!({"ticket": "T-5"}));
    assert_eq!(forwarded["messages"][0]["content"], "hello");

    // Pinned to the US: the EU provider may not get it.
    let pin = serde_json::json!({"regions": ["us"]});
    let (status, _, _) = send(
        &c,
        request(
            "PUT",
            &h.url("/v1/subjects/subj-9/regions"),
            &admin,
            Some(pin),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, resp) = send(&c, chat_as(&h, &caller, Some("subj-9"), &body)).await;
    assert_error(status, StatusCode::FORBIDDEN, &resp, "residency_refused");
    let pin = serde_json::json!({"regions": ["eu", "ch"]});
    send(
        &c,
        request(
            "PUT",
            &h.url("/v1/subjects/subj-9/regions"),
            &admin,
            Some(pin),
        ),
    )
    .await;
    let (status, _, _) = send(&c, chat_as(&h, &caller, Some("subj-9"), &body)).await;
    assert_eq!(status, StatusCode::OK);

    // A tenant pinned elsewhere is refused too, whoever the subject is.
    let with_tenant = |tenant: &str| {
        Request::post(h.url("/v1/chat/completions"))
            .header("authorization", format!("Bearer {caller}"))
            .header("content-type", "application/json")
            .header("x-amanah-subject", "subj-9")
            .header("x-amanah-tenant", tenant)
            .body(full(Bytes::from(body.to_string())))
            .unwrap()
    };
    let pin = serde_json::json!({"regions": ["us"]});
    let (status, _, _) = send(
        &c,
        request("PUT", &h.url("/v1/tenants/acme/regions"), &admin, Some(pin)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, resp) = send(&c, with_tenant("acme")).await;
    assert_error(status, StatusCode::FORBIDDEN, &resp, "residency_refused");
    let (status, _, _) = send(&c, with_tenant("globex")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(h.last_seen().headers.get("x-amanah-tenant").is_none());
    let (_, _, resp) = send(
        &c,
        request("GET", &h.url("/v1/tenants/acme/regions"), &admin, None),
    )
    .await;
    assert_eq!(json(&resp)["regions"], serde_json::json!(["us"]));
    let (status, _, resp) = send(
        &c,
        request(
            "PUT",
            &h.url("/v1/tenants/acme/regions"),
            &caller,
            Some(serde_json::json!({"regions": null})),
        ),
    )
    .await;
    assert_error(status, StatusCode::FORBIDDEN, &resp, "forbidden");

    // Withdrawal blocks the route again.
    let withdraw =
        serde_json::json!({"purpose": "support", "granted": false, "evidence": "email 2026-11-24"});
    send(
        &c,
        request(
            "POST",
            &h.url("/v1/subjects/subj-9/consents"),
            &admin,
            Some(withdraw),
        ),
    )
    .await;
    let (status, _, resp) = send(&c, chat_as(&h, &caller, Some("subj-9"), &body)).await;
    assert_error(status, StatusCode::FORBIDDEN, &resp, "consent_required");

    // An empty regions body does not unpin by accident.
    let (status, _, resp) = send(
        &c,
        request(
            "PUT",
            &h.url("/v1/subjects/subj-9/regions"),
            &admin,
            Some(serde_json::json!({})),
        ),
    )
    .await;
    assert_error(status, StatusCode::BAD_REQUEST, &resp, "invalid_request");

    // Two subjects in one request: refused, not guessed.
    let twice = Request::post(h.url("/v1/chat/completions"))
        .header("authorization", format!("Bearer {caller}"))
        .header("content-type", "application/json")
        .header("x-amanah-subject", "subj-9")
        .header("x-amanah-subject", "subj-other")
        .body(full(Bytes::from(body.to_string())))
        .unwrap();
    let (status, _, resp) = send(&c, twice).await;
    assert_error(status, StatusCode::BAD_REQUEST, &resp, "bad_request");

    // A malformed subject is a 400, not a pass.
    let (status, _, resp) = send(&c, chat_as(&h, &caller, Some("a b"), &body)).await;
    assert_error(status, StatusCode::BAD_REQUEST, &resp, "bad_request");

    // The refusal is in the log, without the subject.
    let (main, _) = logs();
    let log = main.contents();
    assert!(log.contains("pinned to other regions"), "{log}");
    h.finish().await;
}

/// Bring your own key: a master key sealed by an independent
/// implementation (Python's `cryptography`, from the format in the
/// envelope module's docs) under the deployment's root key is imported as
/// the next version and wraps new data keys; a key sealed under another
/// root key, or as an existing version, is refused.
#[tokio::test]
async fn a_master_key_sealed_elsewhere_is_imported() {
    let mut h = Harness::start().await;
    let root = std::fs::read_to_string(h.dir.path().join("data/root.key")).unwrap();
    let keyring = std::sync::Arc::clone(&h.gw.as_ref().unwrap().keyring);
    let decode =
        |t: &str| amanah_crypto::base64::decode_standard_padded(t.trim().as_bytes()).unwrap();
    // Version 1 exists already.
    let dup = super::python::run("seal_kek.py", &["1"], &root);
    let err = keyring.import_sealed(&decode(&dup)).await.unwrap_err();
    assert!(err.to_string().contains("seal it as version 2"), "{err}");
    // Another deployment's root key.
    let other = amanah_crypto::envelope::RootKey::generate().to_base64();
    let foreign = super::python::run("seal_kek.py", &["2"], other.expose());
    let err = keyring.import_sealed(&decode(&foreign)).await.unwrap_err();
    assert!(err.to_string().contains("root key"), "{err}");
    // The right one.
    let good = super::python::run("seal_kek.py", &["2"], &root);
    assert_eq!(keyring.import_sealed(&decode(&good)).await.unwrap(), 2);
    assert_eq!(keyring.current_version(), 2);
    // A new subject's data key is wrapped by the imported key, and its
    // records work.
    let (_, writer) = h.key_for(&["case_worker"], HOUR).await;
    let c = client();
    let body = serde_json::json!({"subject": "byok-1", "kind": "conversation", "content": "hello"});
    let (status, _, created) = send(
        &c,
        request("POST", &h.url("/v1/records"), &writer, Some(body)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = json(&created)["id"].as_str().unwrap().to_owned();
    let (_, _, got) = send(
        &c,
        request("GET", &h.url(&format!("/v1/records/{id}")), &writer, None),
    )
    .await;
    assert_eq!(json(&got)["content"], "hello");
    let keys = amanah_store::SqliteKeyringStore::open(&h.dir.path().join("data/keys.db")).unwrap();
    let stored = amanah_store::KeyringStore::data_key(&keys, "subject:byok-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.kek_version, 2);
    h.remember_secret(root.trim());
    h.finish().await;
}

/// The README's two promises about the data API's answers: they are never
/// cached, and they spend the caller's rate-limit budget like a route.
#[tokio::test]
async fn data_api_answers_are_not_cached_and_are_rate_limited() {
    let mut h = Harness::with(Setup {
        top: "[rate_limits]\nper_principal = { requests = 3, period_secs = 60 }\n".into(),
        ..Setup::default()
    })
    .await;
    let (_, reader) = h.key_for(&["case_worker"], HOUR).await;
    let c = client();
    let list = h.url("/v1/records?subject=nobody");
    for _ in 0..3 {
        let (status, headers, _) = send(&c, request("GET", &list, &reader, None)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["cache-control"], "no-store");
        assert!(headers.contains_key("ratelimit-remaining"));
    }
    let (status, headers, body) = send(&c, request("GET", &list, &reader, None)).await;
    assert_error(status, StatusCode::TOO_MANY_REQUESTS, &body, "rate_limited");
    assert!(headers.contains_key("retry-after"));
    h.finish().await;
}
