//! The admin API over real HTTP: bootstrap with a setup token, TOTP codes
//! from pyotp, sessions with CSRF, lockout after exactly the configured
//! count, no user enumeration, keys and permissions, no escalation.

use std::time::Duration;

use amanah_gateway::body::full;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use serde_json::{json, Value};

use super::python;
use super::support::*;

const PASSWORD: &str = "Correct-Horse-7-Battery";

/// How a request authenticates.
#[derive(Clone, Copy, Default)]
struct As<'a> {
    cookie: Option<&'a str>,
    csrf: Option<&'a str>,
    bearer: Option<&'a str>,
}

fn anonymous() -> As<'static> {
    As::default()
}

fn with_key(key: &str) -> As<'_> {
    As {
        bearer: Some(key),
        ..As::default()
    }
}

async fn call(
    h: &Harness,
    method: Method,
    path: &str,
    body: Option<Value>,
    who: As<'_>,
) -> (StatusCode, HeaderMap, Bytes) {
    let mut b = Request::builder()
        .method(method)
        .uri(h.url(&format!("/admin/v1{path}")));
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    if let Some(c) = who.cookie {
        b = b.header("cookie", c);
    }
    if let Some(t) = who.csrf {
        b = b.header("x-csrf-token", t);
    }
    if let Some(k) = who.bearer {
        b = b.header("authorization", format!("Bearer {k}"));
    }
    let body = body.map_or_else(Bytes::new, |v| Bytes::from(v.to_string()));
    send(&client(), b.body(full(body)).unwrap()).await
}

/// The `name=value` part of the session cookie set by a response.
fn session_cookie(headers: &HeaderMap) -> String {
    let set = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("amanah_session="))
        .expect("a session cookie is set");
    set.split(';').next().unwrap().to_owned()
}

fn login_body(username: &str, password: &str) -> Value {
    json!({ "username": username, "password": password })
}

/// pyotp's codes for the secret, `offsets` seconds from now.
fn pyotp_codes(secret: &str, offsets: &[i64]) -> Vec<String> {
    let args: Vec<String> = offsets.iter().map(ToString::to_string).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    python::run("totp.py", &args, secret)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The error body without its request id, for comparing two refusals.
fn without_request_id(body: &Bytes) -> Value {
    let mut v = json(body);
    v["error"]
        .as_object_mut()
        .expect("an error body")
        .remove("request_id");
    v
}

/// Creates a user as `amanah users create` would, then sets its password
/// through the API with the one-time setup token.
async fn active_user(h: &mut Harness, name: &str, roles: &[&str]) {
    let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
    let users = &h.gw.as_ref().unwrap().users;
    let (_, token) = users
        .create(name, &roles, amanah_gateway::keys::now_unix())
        .await
        .unwrap();
    let token = token.expose().to_owned();
    h.remember_secret(&token);
    let body = json!({ "username": name, "setup_token": token, "password": PASSWORD });
    let (status, _, b) = call(h, Method::POST, "/setup", Some(body), anonymous()).await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "{}",
        String::from_utf8_lossy(&b)
    );
}

#[tokio::test]
async fn bootstrap_mfa_sessions_and_csrf() {
    let mut h = Harness::start().await;
    h.remember_secret(PASSWORD);
    let now = amanah_gateway::keys::now_unix();
    let (_, setup) =
        h.gw.as_ref()
            .unwrap()
            .users
            .create("root", &["admin".to_owned()], now)
            .await
            .unwrap();
    let setup = setup.expose().to_owned();
    h.remember_secret(&setup);

    // No password exists until the setup token sets one, under the policy.
    let (s, _, b) = call(
        &h,
        Method::POST,
        "/session",
        Some(login_body("root", PASSWORD)),
        anonymous(),
    )
    .await;
    assert_error(s, StatusCode::UNAUTHORIZED, &b, "unauthorized");
    let weak = json!({ "username": "root", "setup_token": setup, "password": "password1234" });
    let (s, _, b) = call(&h, Method::POST, "/setup", Some(weak), anonymous()).await;
    assert_error(s, StatusCode::UNPROCESSABLE_ENTITY, &b, "weak_password");
    let good = json!({ "username": "root", "setup_token": setup, "password": PASSWORD });
    let (s, _, _) = call(&h, Method::POST, "/setup", Some(good.clone()), anonymous()).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, b) = call(&h, Method::POST, "/setup", Some(good), anonymous()).await;
    assert_error(s, StatusCode::UNAUTHORIZED, &b, "unauthorized");

    // Admins must enroll a second factor before their first session.
    let (s, _, b) = call(
        &h,
        Method::POST,
        "/session",
        Some(login_body("root", PASSWORD)),
        anonymous(),
    )
    .await;
    assert_error(s, StatusCode::FORBIDDEN, &b, "mfa_enrollment_required");
    let (s, _, b) = call(
        &h,
        Method::POST,
        "/mfa/totp",
        Some(login_body("root", PASSWORD)),
        anonymous(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    let enrollment = json(&b);
    let secret = enrollment["secret"].as_str().unwrap().to_owned();
    h.remember_secret(&secret);
    let uri = enrollment["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Amanah:root?"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")));

    // Codes from pyotp: one confirms the enrollment, the next step signs in.
    let codes = pyotp_codes(&secret, &[0, 30]);
    let wrong = json!({ "username": "root", "password": PASSWORD, "code": "000000" });
    let (s, _, b) = call(
        &h,
        Method::POST,
        "/mfa/totp/confirm",
        Some(wrong),
        anonymous(),
    )
    .await;
    if codes[0] != "000000" {
        assert_error(s, StatusCode::BAD_REQUEST, &b, "invalid_request");
    }
    let confirm = json!({ "username": "root", "password": PASSWORD, "code": codes[0] });
    let (s, _, b) = call(
        &h,
        Method::POST,
        "/mfa/totp/confirm",
        Some(confirm),
        anonymous(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    let recovery: Vec<String> = json(&b)["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    recovery.iter().for_each(|c| h.remember_secret(c));

    let (s, _, b) = call(
        &h,
        Method::POST,
        "/session",
        Some(login_body("root", PASSWORD)),
        anonymous(),
    )
    .await;
    assert_error(s, StatusCode::UNAUTHORIZED, &b, "mfa_required");
    let with_code = json!({ "username": "root", "password": PASSWORD, "totp_code": codes[1] });
    let (s, headers, b) = call(
        &h,
        Method::POST,
        "/session",
        Some(with_code.clone()),
        anonymous(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    let set_cookie = headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/admin", "Max-Age="] {
        assert!(set_cookie.contains(attribute), "{attribute} missing");
    }
    assert_eq!(headers["cache-control"], "no-store");
    let cookie = session_cookie(&headers);
    h.remember_secret(cookie.trim_start_matches("amanah_session="));
    let csrf = json(&b)["csrf_token"].as_str().unwrap().to_owned();
    h.remember_secret(&csrf);
    assert_eq!(json(&b)["user"]["mfa_enabled"], true);

    // A code works once: the same one again is refused.
    let (s, _, b) = call(&h, Method::POST, "/session", Some(with_code), anonymous()).await;
    assert_error(s, StatusCode::UNAUTHORIZED, &b, "unauthorized");

    // Reads need the cookie; writes need the CSRF token too.
    let session = As {
        cookie: Some(&cookie),
        ..As::default()
    };
    let (s, _, b) = call(&h, Method::GET, "/users", None, session).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)[0]["username"], "root");
    let (s, _, b) = call(&h, Method::GET, "/session", None, session).await;
    assert_eq!(json(&b)["csrf_token"], csrf.as_str(), "{s}");
    let new_user = json!({ "username": "ops", "roles": ["viewer"] });
    let (s, _, b) = call(&h, Method::POST, "/users", Some(new_user.clone()), session).await;
    assert_error(s, StatusCode::FORBIDDEN, &b, "csrf_failed");
    let forged = As {
        csrf: Some("00ff"),
        ..session
    };
    let (s, _, b) = call(&h, Method::POST, "/users", Some(new_user.clone()), forged).await;
    assert_error(s, StatusCode::FORBIDDEN, &b, "csrf_failed");
    let session = As {
        csrf: Some(&csrf),
        ..session
    };
    let (s, _, b) = call(&h, Method::POST, "/users", Some(new_user), session).await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let ops_token = json(&b)["setup_token"].as_str().unwrap().to_owned();
    h.remember_secret(&ops_token);
    assert!(ops_token.starts_with("amsetup_"));

    // A recovery code signs in once.
    let with_recovery =
        json!({ "username": "root", "password": PASSWORD, "recovery_code": recovery[3] });
    let (s, _, _) = call(
        &h,
        Method::POST,
        "/session",
        Some(with_recovery.clone()),
        anonymous(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, b) = call(
        &h,
        Method::POST,
        "/session",
        Some(with_recovery),
        anonymous(),
    )
    .await;
    assert_error(s, StatusCode::UNAUTHORIZED, &b, "unauthorized");

    // Logout ends the session on the server, not just in the browser.
    let (s, headers, _) = call(&h, Method::DELETE, "/session", None, session).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let (s, _, b) = call(&h, Method::GET, "/users", None, session).await;
    assert_error(s, StatusCode::UNAUTHORIZED, &b, "unauthorized");
    h.finish().await;
}

#[tokio::test]
async fn lockout_after_exactly_the_configured_count() {
    let mut h = Harness::with(Setup {
        top: "[users]\nlockout_threshold = 4\nlockout_base_secs = 600\n\
              [rate_limits]\nauth_failures_per_ip = { requests = 1000, period_secs = 60 }\n"
            .into(),
        ..Setup::default()
    })
    .await;
    h.remember_secret(PASSWORD);
    active_user(&mut h, "dana", &["viewer"]).await;
    let (_, admin_key) = h.key_for(&["admin"], Duration::from_secs(600)).await;
    let wrong = login_body("dana", "Wrong-Password-42!");

    // Three failures, then the right password: the count starts again.
    for _ in 0..3 {
        let (s, _, b) = call(
            &h,
            Method::POST,
            "/session",
            Some(wrong.clone()),
            anonymous(),
        )
        .await;
        assert_error(s, StatusCode::UNAUTHORIZED, &b, "unauthorized");
    }
    let (s, _, _) = call(
        &h,
        Method::POST,
        "/session",
        Some(login_body("dana", PASSWORD)),
        anonymous(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // Exactly four in a row lock the account: three do not.
    for i in 1..=4 {
        let (s, _, _) = call(
            &h,
            Method::POST,
            "/session",
            Some(wrong.clone()),
            anonymous(),
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (_, _, b) = call(&h, Method::GET, "/locks", None, with_key(&admin_key)).await;
        let locked = json(&b).as_array().unwrap().len();
        assert_eq!(locked, usize::from(i == 4), "after {i} failures");
    }
    // Locked: the right password gets the same answer as a wrong one.
    let (s, _, b) = call(
        &h,
        Method::POST,
        "/session",
        Some(login_body("dana", PASSWORD)),
        anonymous(),
    )
    .await;
    assert_error(s, StatusCode::UNAUTHORIZED, &b, "unauthorized");
    let (_, _, b) = call(&h, Method::GET, "/users/dana", None, with_key(&admin_key)).await;
    let user = json(&b);
    assert_eq!(user["status"], "locked");
    let until = user["locked_until"].as_i64().unwrap();
    let now = amanah_gateway::keys::now_unix();
    assert!((now + 590..=now + 610).contains(&until), "{until} vs {now}");

    // An administrator lifts the lock.
    let (s, _, _) = call(
        &h,
        Method::DELETE,
        "/locks/dana",
        None,
        with_key(&admin_key),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = call(
        &h,
        Method::POST,
        "/session",
        Some(login_body("dana", PASSWORD)),
        anonymous(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // And can lock by hand, which also ends the sessions.
    let (s, _, b) = call(
        &h,
        Method::PUT,
        "/locks/dana",
        Some(json!({ "duration_secs": 60 })),
        with_key(&admin_key),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["status"], "locked");
    let (s, _, _) = call(
        &h,
        Method::POST,
        "/session",
        Some(login_body("dana", PASSWORD)),
        anonymous(),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    h.finish().await;
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_look_the_same() {
    let mut h = Harness::with(Setup {
        top: "[users]\nlockout_threshold = 2\n\
              [rate_limits]\nauth_failures_per_ip = { requests = 1000, period_secs = 60 }\n"
            .into(),
        ..Setup::default()
    })
    .await;
    h.remember_secret(PASSWORD);
    active_user(&mut h, "erin", &["viewer"]).await;
    active_user(&mut h, "gone", &["viewer"]).await;
    active_user(&mut h, "locked", &["viewer"]).await;
    let (_, admin_key) = h.key_for(&["admin"], Duration::from_secs(600)).await;
    let (s, _, _) = call(
        &h,
        Method::POST,
        "/users/gone/disable",
        None,
        with_key(&admin_key),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = call(&h, Method::PUT, "/locks/locked", None, with_key(&admin_key)).await;
    assert_eq!(s, StatusCode::OK);
    let users = &h.gw.as_ref().unwrap().users;
    let (_, pending) = users
        .create(
            "pending",
            &["viewer".to_owned()],
            amanah_gateway::keys::now_unix(),
        )
        .await
        .unwrap();
    h.remember_secret(pending.expose());

    let attempts = [
        login_body("nobody", PASSWORD),          // no such user
        login_body("erin", "Wrong-Password-1!"), // wrong password
        login_body("gone", PASSWORD),            // disabled, right password
        login_body("locked", PASSWORD),          // locked, right password
        login_body("pending", PASSWORD),         // no password set yet
        login_body("Not A Name!", PASSWORD),     // cannot be a username
    ];
    let mut answers = Vec::new();
    for body in attempts {
        let (s, headers, b) = call(&h, Method::POST, "/session", Some(body), anonymous()).await;
        let mut names: Vec<String> = headers
            .keys()
            .map(|k| k.as_str().to_owned())
            .filter(|k| k != "date" && k != "x-request-id")
            .collect();
        names.sort();
        answers.push((s, names, without_request_id(&b)));
    }
    for a in &answers[1..] {
        assert_eq!(a, &answers[0], "two refusals differ");
    }
    assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);
    h.finish().await;
}

#[tokio::test]
async fn failure_brake_stops_password_guessing_from_one_address() {
    let mut h = Harness::with(Setup {
        top: "[rate_limits]\nauth_failures_per_ip = { requests = 3, period_secs = 300 }\n".into(),
        ..Setup::default()
    })
    .await;
    h.remember_secret(PASSWORD);
    active_user(&mut h, "fay", &["viewer"]).await;
    for _ in 0..3 {
        let (s, _, _) = call(
            &h,
            Method::POST,
            "/session",
            Some(login_body("fay", "Guess-Number-1!")),
            anonymous(),
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits now: no password is checked at all.
    let (s, headers, b) = call(
        &h,
        Method::POST,
        "/session",
        Some(login_body("fay", PASSWORD)),
        anonymous(),
    )
    .await;
    assert_error(s, StatusCode::TOO_MANY_REQUESTS, &b, "rate_limited");
    assert!(headers.contains_key("retry-after"));
    h.finish().await;
}

#[tokio::test]
async fn keys_roles_and_grants_by_api_key_without_escalation() {
    let mut h = Harness::start().await;
    let (_, admin_key) = h.key_for(&["admin"], Duration::from_secs(600)).await;
    let (_, viewer_key) = h.key_for(&["viewer"], Duration::from_secs(600)).await;
    let admin = with_key(&admin_key);

    // The document is public; everything else needs a credential.
    let (s, _, b) = call(&h, Method::GET, "/openapi.json", None, anonymous()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(json(&b)["openapi"], "3.1.0");
    let (s, _, b) = call(&h, Method::GET, "/keys", None, anonymous()).await;
    assert_error(s, StatusCode::UNAUTHORIZED, &b, "unauthorized");
    // A viewer reads everything on the traffic routes, but holds no admin:access.
    let (s, _, b) = call(&h, Method::GET, "/keys", None, with_key(&viewer_key)).await;
    assert_error(s, StatusCode::FORBIDDEN, &b, "forbidden");
    let (s, _, b) = call(&h, Method::GET, "/nope", None, admin).await;
    assert_error(s, StatusCode::NOT_FOUND, &b, "not_found");
    let (s, headers, _) = call(&h, Method::PATCH, "/keys", None, admin).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "GET, POST");

    // Keys: create, read, rotate, revoke.
    let body = json!({ "name": "ci", "roles": ["contributor"], "expires_in_secs": 3600, "scopes": ["chat"] });
    let (s, _, b) = call(&h, Method::POST, "/keys", Some(body), admin).await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let created = json(&b);
    let ci_secret = created["secret"].as_str().unwrap().to_owned();
    h.remember_secret(&ci_secret);
    let ci_id = created["key"]["id"].as_str().unwrap().to_owned();
    assert_eq!(h.chat(&ci_secret).await.0, StatusCode::OK);
    let bad = json!({ "name": "x", "roles": ["contributor"], "scopes": ["no-such-route"] });
    let (s, _, b) = call(&h, Method::POST, "/keys", Some(bad), admin).await;
    assert_error(s, StatusCode::BAD_REQUEST, &b, "invalid_request");
    assert!(json(&b)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no-such-route"));
    let typo = json!({ "name": "x", "roles": ["contributor"], "role": "admin" });
    let (s, _, b) = call(&h, Method::POST, "/keys", Some(typo), admin).await;
    assert_error(s, StatusCode::BAD_REQUEST, &b, "invalid_request");
    let (s, _, b) = call(&h, Method::GET, &format!("/keys/{ci_id}"), None, admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(json(&b)["scopes"], json!(["chat"]));
    assert!(!String::from_utf8_lossy(&b).contains(&ci_secret));
    let (s, _, b) = call(
        &h,
        Method::POST,
        &format!("/keys/{ci_id}/rotate"),
        Some(json!({ "grace_secs": 60 })),
        admin,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let rotated = json(&b);
    let successor = rotated["secret"].as_str().unwrap().to_owned();
    h.remember_secret(&successor);
    assert_eq!(h.chat(&ci_secret).await.0, StatusCode::OK, "grace period");
    assert_eq!(h.chat(&successor).await.0, StatusCode::OK);
    let successor_id = rotated["key"]["id"].as_str().unwrap().to_owned();
    // A grace too long to count in seconds keeps the old key, never ends it.
    let (s, _, b) = call(
        &h,
        Method::POST,
        &format!("/keys/{successor_id}/rotate"),
        Some(json!({ "grace_secs": u64::MAX })),
        admin,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    h.remember_secret(json(&b)["secret"].as_str().unwrap());
    assert_eq!(h.chat(&successor).await.0, StatusCode::OK);
    let (s, _, _) = call(
        &h,
        Method::DELETE,
        &format!("/keys/{successor_id}"),
        None,
        admin,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(h.chat(&successor).await.0, StatusCode::UNAUTHORIZED);

    // A scoped key never opens the admin API, even with the admin role.
    let body = json!({ "name": "scoped-admin", "roles": ["admin"], "scopes": ["chat"] });
    let (_, _, b) = call(&h, Method::POST, "/keys", Some(body), admin).await;
    let scoped = json(&b)["secret"].as_str().unwrap().to_owned();
    h.remember_secret(&scoped);
    let (s, _, b) = call(&h, Method::GET, "/keys", None, with_key(&scoped)).await;
    assert_error(s, StatusCode::FORBIDDEN, &b, "forbidden");

    // Custom roles: a key reader, and a user manager who cannot mint admins.
    let role = json!({ "permissions": ["admin:access", "keys:read"], "description": "reads keys" });
    let (s, _, b) = call(&h, Method::PUT, "/roles/key_reader", Some(role), admin).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["source"], "custom");
    let role = json!({ "permissions": ["admin:access", "users:read", "users:write", "keys:read", "keys:write", "llm:invoke", "records:read", "records:write"] });
    let (s, _, _) = call(&h, Method::PUT, "/roles/user_manager", Some(role), admin).await;
    assert_eq!(s, StatusCode::OK);
    let cycle = json!({ "permissions": [], "inherits": ["key_reader"] });
    let (s, _, _) = call(&h, Method::PUT, "/roles/a_role", Some(cycle), admin).await;
    assert_eq!(s, StatusCode::OK);
    let cycle = json!({ "permissions": ["admin:access"], "inherits": ["a_role"] });
    let (s, _, b) = call(&h, Method::PUT, "/roles/key_reader", Some(cycle), admin).await;
    assert_error(s, StatusCode::BAD_REQUEST, &b, "invalid_request");
    assert!(json(&b)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("cycle"));
    let (s, _, b) = call(
        &h,
        Method::PUT,
        "/roles/admin",
        Some(json!({ "permissions": [] })),
        admin,
    )
    .await;
    assert_error(s, StatusCode::CONFLICT, &b, "conflict");

    let (_, reader) = h.key_for(&["key_reader"], Duration::from_secs(600)).await;
    let (s, _, _) = call(&h, Method::GET, "/keys", None, with_key(&reader)).await;
    assert_eq!(s, StatusCode::OK);
    let body = json!({ "name": "x", "roles": ["viewer"] });
    let (s, _, b) = call(&h, Method::POST, "/keys", Some(body), with_key(&reader)).await;
    assert_error(s, StatusCode::FORBIDDEN, &b, "forbidden");

    let (_, manager) = h.key_for(&["user_manager"], Duration::from_secs(600)).await;
    let manager = with_key(&manager);
    let body = json!({ "username": "new-admin", "roles": ["admin"] });
    let (s, _, b) = call(&h, Method::POST, "/users", Some(body), manager).await;
    assert_error(s, StatusCode::FORBIDDEN, &b, "escalation_refused");
    let body = json!({ "name": "x", "roles": ["admin"] });
    let (s, _, b) = call(&h, Method::POST, "/keys", Some(body), manager).await;
    assert_error(s, StatusCode::FORBIDDEN, &b, "escalation_refused");
    let (s, _, b) = call(
        &h,
        Method::POST,
        &format!("/keys/{ci_id}/rotate"),
        None,
        manager,
    )
    .await;
    assert_eq!(
        s,
        StatusCode::CREATED,
        "a contributor key is within its reach: {}",
        String::from_utf8_lossy(&b)
    );
    h.remember_secret(json(&b)["secret"].as_str().unwrap());
    let body = json!({ "username": "helper", "roles": ["contributor"] });
    let (s, _, b) = call(&h, Method::POST, "/users", Some(body), manager).await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    h.remember_secret(json(&b)["setup_token"].as_str().unwrap());
    // Nor may it take over an administrator's account.
    active_user(&mut h, "boss", &["analyst"]).await;
    let (s, _, _) = call(&h, Method::POST, "/users/boss/reset-password", None, admin).await;
    assert_eq!(s, StatusCode::OK, "the admin may");
    for (method, path) in [
        (Method::POST, "/users/boss/reset-password"),
        (Method::POST, "/users/boss/reset-mfa"),
        (Method::POST, "/users/boss/disable"),
        (Method::PUT, "/locks/boss"),
        (Method::DELETE, "/users/boss/sessions"),
    ] {
        let (s, _, b) = call(&h, method, path, None, manager).await;
        assert_error(s, StatusCode::FORBIDDEN, &b, "escalation_refused");
    }

    // Grants: a time-bound admin grant to a key, listed and revoked.
    let (viewer_id, _) = h.key_for(&["viewer"], Duration::from_secs(600)).await;
    let now = amanah_gateway::keys::now_unix();
    let body = json!({ "principal": format!("key:{viewer_id}"), "role": "contributor", "not_after": now + 3600 });
    let (s, _, b) = call(&h, Method::POST, "/grants", Some(body.clone()), manager).await;
    assert_error(s, StatusCode::FORBIDDEN, &b, "forbidden");
    let (s, _, b) = call(&h, Method::POST, "/grants", Some(body), admin).await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let grant_id = json(&b)["id"].as_str().unwrap().to_owned();
    for query in [format!("key:{viewer_id}"), format!("key%3A{viewer_id}")] {
        let path = format!("/grants?principal={query}");
        let (_, _, b) = call(&h, Method::GET, &path, None, admin).await;
        assert_eq!(json(&b).as_array().unwrap().len(), 1, "{query}");
    }
    let (s, _, _) = call(
        &h,
        Method::DELETE,
        &format!("/grants/{grant_id}"),
        None,
        admin,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, _) = call(
        &h,
        Method::DELETE,
        &format!("/grants/{grant_id}"),
        None,
        admin,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, _, _) = call(&h, Method::DELETE, "/roles/a_role", None, admin).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    h.finish().await;
}

#[tokio::test]
async fn bodies_must_be_declared_json_and_errors_never_quote_them() {
    let h = Harness::start().await;
    // What a cross-site form can send without a preflight.
    let form = Request::post(h.url("/admin/v1/session"))
        .header("content-type", "text/plain")
        .body(full(login_body("root", PASSWORD).to_string()))
        .unwrap();
    let (s, _, b) = send(&client(), form).await;
    assert_error(
        s,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        &b,
        "unsupported_media_type",
    );

    // A mistyped password is refused without being repeated.
    let typed = json!({ "username": "root", "password": 98_765_432_109_u64 });
    let (s, _, b) = call(&h, Method::POST, "/session", Some(typed), anonymous()).await;
    assert_error(s, StatusCode::BAD_REQUEST, &b, "invalid_request");
    assert!(!String::from_utf8_lossy(&b).contains("98765432109"));
    let broken = Request::post(h.url("/admin/v1/session"))
        .header("content-type", "application/json")
        .body(full(r#"{"username":"root","password":"Sup3r-secret-pw"#))
        .unwrap();
    let (s, _, b) = send(&client(), broken).await;
    assert_error(s, StatusCode::BAD_REQUEST, &b, "invalid_request");
    assert!(!String::from_utf8_lossy(&b).contains("Sup3r"));
    h.finish().await;
}
