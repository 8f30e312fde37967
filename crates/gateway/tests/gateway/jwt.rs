//! Bearer JWTs minted by PyJWT (an implementation independent of ours) for
//! every algorithm, the attacks on JWT verification, and an OIDC issuer on
//! loopback whose signing key rotates mid-test.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use amanah_gateway::body::{full, Body};
use amanah_gateway::server::Handler;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::json;
use tokio::sync::watch;

use super::python;
use super::support::*;

/// A minimal OIDC issuer: a discovery document and a JWK set that the test
/// can replace, counting fetches of the set.
struct Issuer {
    base: Mutex<String>,
    jwks: Mutex<String>,
    jwks_fetches: AtomicUsize,
}

impl Handler for Issuer {
    async fn handle(&self, req: Request<Incoming>, _peer: SocketAddr) -> Response<Body> {
        let body = match req.uri().path() {
            "/.well-known/openid-configuration" => {
                let base = self.base.lock().unwrap().clone();
                json!({"issuer": base, "jwks_uri": format!("{base}/jwks.json")}).to_string()
            }
            "/jwks.json" => {
                self.jwks_fetches.fetch_add(1, Ordering::SeqCst);
                self.jwks.lock().unwrap().clone()
            }
            _ => {
                let mut r = Response::new(full("not found"));
                *r.status_mut() = StatusCode::NOT_FOUND;
                return r;
            }
        };
        Response::new(full(body))
    }
}

async fn serve_issuer(jwks: String) -> (Arc<Issuer>, String, watch::Sender<bool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let issuer = Arc::new(Issuer {
        base: Mutex::new(base.clone()),
        jwks: Mutex::new(jwks),
        jwks_fetches: AtomicUsize::new(0),
    });
    let (stop, rx) = watch::channel(false);
    let limits = amanah_gateway::server::ConnLimits {
        max_connections: 64,
        header_read_timeout: Duration::from_secs(5),
        max_header_bytes: 16 * 1024,
        max_headers: 100,
    };
    tokio::spawn(amanah_gateway::server::serve(
        listener,
        None,
        limits,
        Arc::clone(&issuer),
        rx,
    ));
    (issuer, base, stop)
}

fn now() -> i64 {
    amanah_gateway::keys::now_unix()
}

/// Mints one token per spec with PyJWT.
fn mint(specs: &[serde_json::Value]) -> Vec<String> {
    let out = python::run("jose.py", &["mint"], &json!(specs).to_string());
    let tokens: Vec<String> = out.lines().map(str::to_owned).collect();
    assert_eq!(tokens.len(), specs.len());
    tokens
}

async fn chat_status(h: &Harness, token: &str) -> StatusCode {
    h.chat(token).await.0
}

#[tokio::test]
async fn tokens_from_another_implementation_and_the_attacks_on_them() {
    let keys = tempfile::tempdir().unwrap();
    let dir = keys.path().to_str().unwrap().to_owned();
    python::run("jose.py", &["keys", &dir], "");
    let jwks1 = std::fs::read_to_string(keys.path().join("jwks-1.json")).unwrap();
    let (issuer, base, stop_issuer) = serve_issuer(jwks1).await;
    let hmac_secret = random_secret("jwt-hmac-");
    let hmac_path = keys.path().join("hmac.secret");
    write_private(&hmac_path, &hmac_secret);

    let mut h = Harness::with(Setup {
        top: format!(
            r#"
[jwt]
issuer = "{base}"
audiences = ["amanah"]
algorithms = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
hmac_secret = {{ file = "{hmac}" }}
oidc_discovery = true
jwks_refetch_min_interval_secs = 0
leeway_secs = 30
max_lifetime_secs = 3600
[rate_limits]
auth_failures_per_ip = {{ requests = 0 }}
"#,
            hmac = hmac_path.display()
        ),
        ..Setup::default()
    })
    .await;
    h.remember_secret(&hmac_secret);

    let t = now();
    let claims = |extra: serde_json::Value| {
        let mut c = json!({
            "iss": base, "aud": "amanah", "sub": "alice", "roles": ["contributor"],
            "iat": t, "exp": t + 600,
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    let key = |name: &str| format!("{dir}/{name}.pem");
    let signed = |alg: &str, kid: &str, file: &str, extra: serde_json::Value| json!({"alg": alg, "kid": kid, "key": key(file), "claims": claims(extra)});
    let hs = |alg: &str, extra: serde_json::Value| json!({"alg": alg, "hmac": hmac_secret, "claims": claims(extra)});

    // Every algorithm, signed by PyJWT, is accepted.
    let good = [
        hs("HS256", json!({})),
        hs("HS384", json!({})),
        hs("HS512", json!({})),
        signed("RS256", "rsa-1", "rsa-1", json!({})),
        signed("RS384", "rsa-1", "rsa-1", json!({})),
        signed("RS512", "rsa-1", "rsa-1", json!({})),
        signed("PS256", "rsa-1", "rsa-1", json!({})),
        signed("ES256", "ec256", "ec256", json!({})),
        signed("ES384", "ec384", "ec384", json!({})),
        signed("EdDSA", "ed25519", "ed25519", json!({})),
        // aud may be a list holding ours.
        signed(
            "ES256",
            "ec256",
            "ec256",
            json!({"aud": ["other", "amanah"]}),
        ),
        // Within the leeway.
        signed("ES256", "ec256", "ec256", json!({"exp": t - 10})),
    ];
    let tokens = mint(&good);
    for (spec, token) in good.iter().zip(&tokens) {
        h.remember_secret(token);
        assert_eq!(
            chat_status(&h, token).await,
            StatusCode::OK,
            "{}",
            spec["alg"]
        );
    }
    assert_eq!(
        issuer.jwks_fetches.load(Ordering::SeqCst),
        1,
        "the set is cached"
    );
    let seen = h.last_seen();
    assert!(
        !seen.headers.contains_key("authorization")
            || !seen.headers["authorization"]
                .to_str()
                .unwrap()
                .contains(&tokens[0]),
        "the token went upstream"
    );

    // Every way a token can be wrong: the same 401.
    let bad = [
        (
            "expired",
            signed("ES256", "ec256", "ec256", json!({"exp": t - 120})),
        ),
        (
            "not yet valid",
            signed("ES256", "ec256", "ec256", json!({"nbf": t + 120})),
        ),
        (
            "issued in the future",
            signed("ES256", "ec256", "ec256", json!({"iat": t + 300})),
        ),
        (
            "wrong audience",
            signed("ES256", "ec256", "ec256", json!({"aud": "other"})),
        ),
        (
            "no audience",
            signed("ES256", "ec256", "ec256", json!({"aud": null})),
        ),
        (
            "wrong issuer",
            signed(
                "ES256",
                "ec256",
                "ec256",
                json!({"iss": "https://evil.example"}),
            ),
        ),
        (
            "no expiry",
            signed("ES256", "ec256", "ec256", json!({"exp": null})),
        ),
        (
            "lifetime too long",
            signed("ES256", "ec256", "ec256", json!({"exp": t + 7200})),
        ),
        (
            "alg none",
            json!({"alg": "none", "claims": claims(json!({}))}),
        ),
        (
            "alg none with kid",
            json!({"alg": "none", "kid": "ec256", "claims": claims(json!({}))}),
        ),
        (
            "HS256 keyed with the RSA public key",
            json!({"alg": "confused", "key": format!("{dir}/rsa-1.pub.pem"), "kid": "rsa-1", "claims": claims(json!({}))}),
        ),
        (
            "HS256 keyed with the RSA public key, no kid",
            json!({"alg": "confused", "key": format!("{dir}/rsa-1.pub.pem"), "claims": claims(json!({}))}),
        ),
        (
            "ES256 with the P-384 key's kid",
            signed("ES256", "ec384", "ec256", json!({})),
        ),
        (
            "signed by a key the issuer never published",
            signed("RS256", "rsa-1", "rsa-2", json!({})),
        ),
        (
            "wrong HMAC secret",
            json!({"alg": "HS256", "hmac": "x".repeat(40), "claims": claims(json!({}))}),
        ),
    ];
    let specs: Vec<_> = bad.iter().map(|(_, s)| s.clone()).collect();
    let tokens = mint(&specs);
    let mut bodies = Vec::new();
    for ((what, _), token) in bad.iter().zip(&tokens) {
        h.remember_secret(token);
        let (status, _, body) = h.chat(token).await;
        assert_error(status, StatusCode::UNAUTHORIZED, &body, "unauthorized");
        let mut v = json(&body);
        v["error"]["request_id"] = json!(null);
        bodies.push((what, v));
    }
    assert!(
        bodies.windows(2).all(|w| w[0].1 == w[1].1),
        "every refusal looks the same: {bodies:?}"
    );
    // Tampering with a good token.
    let token = &mint(&[signed("ES256", "ec256", "ec256", json!({}))])[0];
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].replace('A', "B");
    assert_eq!(
        chat_status(&h, &parts.join(".")).await,
        StatusCode::UNAUTHORIZED
    );

    // A viewer's token: identified, then denied the model (403, not 401).
    let viewer = &mint(&[signed(
        "ES256",
        "ec256",
        "ec256",
        json!({"roles": ["viewer"]}),
    )])[0];
    h.remember_secret(viewer);
    assert_eq!(chat_status(&h, viewer).await, StatusCode::FORBIDDEN);

    // The issuer rotates: rsa-2 replaces rsa-1. A token naming rsa-2 makes
    // the gateway refetch the set once and then pass.
    *issuer.jwks.lock().unwrap() =
        std::fs::read_to_string(keys.path().join("jwks-2.json")).unwrap();
    let before = issuer.jwks_fetches.load(Ordering::SeqCst);
    let rotated = &mint(&[signed("RS256", "rsa-2", "rsa-2", json!({}))])[0];
    h.remember_secret(rotated);
    assert_eq!(chat_status(&h, rotated).await, StatusCode::OK);
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), before + 1);
    assert_eq!(chat_status(&h, rotated).await, StatusCode::OK);
    assert_eq!(
        issuer.jwks_fetches.load(Ordering::SeqCst),
        before + 1,
        "a known kid needs no fetch"
    );
    // rsa-1 is gone from the set the gateway now holds.
    let retired = &mint(&[signed("RS256", "rsa-1", "rsa-1", json!({}))])[0];
    assert_eq!(chat_status(&h, retired).await, StatusCode::UNAUTHORIZED);

    let _ = stop_issuer.send(true);
    h.finish().await;
}

/// An unknown `kid` is chosen by the sender: it must not make the gateway
/// fetch the issuer's keys on every request.
#[tokio::test]
async fn unknown_kids_do_not_cause_a_fetch_storm() {
    let keys = tempfile::tempdir().unwrap();
    let dir = keys.path().to_str().unwrap().to_owned();
    python::run("jose.py", &["keys", &dir], "");
    let jwks1 = std::fs::read_to_string(keys.path().join("jwks-1.json")).unwrap();
    let (issuer, base, stop_issuer) = serve_issuer(jwks1).await;
    let mut h = Harness::with(Setup {
        top: format!(
            "[jwt]\nissuer = \"{base}\"\naudiences = [\"amanah\"]\njwks_url = \"{base}/jwks.json\"\n\
             [rate_limits]\nauth_failures_per_ip = {{ requests = 0 }}\n"
        ),
        ..Setup::default()
    })
    .await;
    let t = now();
    let specs: Vec<_> = (0..20)
        .map(|i| {
            json!({"alg": "RS256", "kid": format!("made-up-{i}"), "key": format!("{dir}/rsa-1.pem"),
                   "claims": {"iss": base, "aud": "amanah", "sub": "m", "iat": t, "exp": t + 60}})
        })
        .collect();
    for token in mint(&specs) {
        h.remember_secret(&token);
        assert_eq!(chat_status(&h, &token).await, StatusCode::UNAUTHORIZED);
    }
    // The first use fetches; one refetch for the first unknown kid; then the
    // 30 s minimum interval holds.
    assert!(issuer.jwks_fetches.load(Ordering::SeqCst) <= 2);
    let _ = stop_issuer.send(true);
    h.finish().await;
}
