//! JWT verification per algorithm, and the API-key check for comparison
//! (issue 3). See `bench/identity/README.md`.
//!
//! Tokens and keys are the committed PyJWT interoperability fixtures
//! (`tests/fixtures/pyjwt/`: throwaway test keys, RSA 2048, P-256,
//! Ed25519, and an HMAC secret): real third-party tokens with a typical
//! payload (`sub`, `iss`, two audiences, `iat`/`nbf`/`exp`, `scope`,
//! `groups`, nested `realm_access.roles`), each naming its key by `kid`.
//! Nothing is fetched or generated at run time except the API key.
//!
//! Each `verify/*` iteration is the whole of `jwt::verify`: base64url
//! decoding, header and payload JSON, key selection, signature, claims.

use std::hint::black_box;

use amanah_crypto::api_key::{KeyHasher, PresentedKey};
use amanah_crypto::jwt::{self, Algorithm, KeySet, Validation, VerifyingKey};
use amanah_crypto::SecretString;
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::Value;

const TOKENS: &str = include_str!("../tests/fixtures/pyjwt/tokens.json");
const JWKS: &str = include_str!("../tests/fixtures/pyjwt/jwks.json");

struct Fixture {
    now: i64,
    keys: KeySet,
    validation: Validation,
    doc: Value,
}

impl Fixture {
    fn load() -> Self {
        let doc: Value = serde_json::from_str(TOKENS).unwrap();
        let (mut keys, skipped) = KeySet::from_jwks(JWKS.as_bytes()).unwrap();
        assert!(skipped.is_empty());
        let secret = SecretString::new(doc["hmac_secret"].as_str().unwrap().to_owned());
        keys.push(VerifyingKey::hmac(&secret, doc["hmac_kid"].as_str()).unwrap());
        // What a deployment would configure: its issuer, its audience, a
        // lifetime cap; the algorithm list does not change the cost.
        let validation = Validation::new(Algorithm::ALL)
            .with_issuer(doc["issuer"].as_str().unwrap())
            .with_audience(doc["audience"].as_str().unwrap())
            .with_max_lifetime_secs(2 * 3600);
        Self {
            now: doc["now"].as_i64().unwrap(),
            keys,
            validation,
            doc,
        }
    }

    /// The fixture token for `alg` that names its key by `kid`.
    fn token(&self, alg: &str) -> String {
        self.doc["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["alg"] == alg && t["kid"].is_string())
            .and_then(|t| t["token"].as_str())
            .unwrap()
            .to_owned()
    }
}

fn bench_verify(c: &mut Criterion) {
    let f = Fixture::load();
    let mut g = c.benchmark_group("jwt/verify");
    for alg in ["HS256", "ES256", "RS256", "EdDSA"] {
        let token = f.token(alg);
        let claims = jwt::verify(&token, &f.keys, &f.validation, f.now).unwrap();
        assert_eq!(claims.sub.as_deref(), Some("user-42"));
        g.bench_function(alg, |b| {
            b.iter(|| {
                jwt::verify(
                    black_box(&token),
                    black_box(&f.keys),
                    &f.validation,
                    black_box(f.now),
                )
            })
        });
    }
    g.finish();
}

/// What an API key costs in this crate: parse `amk_<id>_<secret>` and
/// check its HMAC-SHA256 tag. The store lookup is the gateway's.
fn bench_api_key(c: &mut Criterion) {
    let hasher = KeyHasher::new(&SecretString::new(
        "bench-only-server-secret-0123456789abcdef".to_owned(),
    ))
    .unwrap();
    let key = hasher.generate();
    let presented = key.plaintext.expose().to_owned();
    assert!(hasher.verify(PresentedKey::parse(&presented).unwrap(), &key.tag));
    let mut g = c.benchmark_group("api_key");
    g.bench_function("parse_and_verify_hmac", |b| {
        b.iter(|| {
            let p = PresentedKey::parse(black_box(&presented)).unwrap();
            hasher.verify(p, black_box(&key.tag))
        })
    });
    g.finish();
}

criterion_group!(benches, bench_verify, bench_api_key);
criterion_main!(benches);
