//! Per-request cost of identification plus the RBAC decision: what the
//! pipeline's identify (4) and authorize (7) stages do, for an API key and
//! for bearer JWTs (issue 3). See `bench/identity/README.md`.
//!
//! Set-up as in `amanah_gateway::start`: a `SqliteStore` in a temporary
//! directory, a `KeyService` with one `contributor` key, `AccessControl`
//! with the predefined roles, the in-process rate limiter (the identify
//! stage peeks the auth-failure budget of the source address), and a
//! `JwtVerifier` over a JWK set file. Tokens and keys are the committed
//! PyJWT fixtures of `amanah-crypto` (throwaway test keys); nothing is
//! fetched at run time.
//!
//! Groups:
//! - `auth_rbac`: one credential check plus `amanah_policy::authorize`
//!   (the "API key + RBAC"), against JWT ES256/RS256 + RBAC;
//! - `stages`: `Identifier::identify` (credential extraction from the
//!   headers, the auth-failure peek, stored grants), `AccessControl::policy`
//!   and `authorize`, exactly the calls of `pipeline.rs`;
//! - `cold`: the same with every cache empty (each iteration gets a fresh
//!   `KeyService`/`AccessControl`; only the measured call is timed), and a
//!   well-formed key with an unknown id (never cached).
//!
//! Warm caches expire after 1 s (`KEY_CACHE_TTL`, `ACCESS_CACHE_TTL`), so
//! the warm figures include one store read per second, as in production
//! for a busy key. Each sample runs its iterations inside one `block_on`
//! of a current-thread runtime, so no per-call runtime entry is counted.

use std::collections::BTreeMap;
use std::future::Future;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use amanah_crypto::api_key::KeyHasher;
use amanah_crypto::jwt::Algorithm;
use amanah_crypto::SecretString;
use amanah_gateway::access::AccessControl;
use amanah_gateway::config::{defaults, Jwt};
use amanah_gateway::identify::Identifier;
use amanah_gateway::jwt::JwtVerifier;
use amanah_gateway::keys::{KeyService, KeySpec};
use amanah_gateway::ratelimit::{LocalLimiter, Quota, RateLimiter};
use amanah_policy::{authorize, Policy, RequiredPermission, Requirement};
use amanah_store::{SqliteStore, Store};
use criterion::{criterion_group, criterion_main, Criterion};
use http::{header, HeaderMap, HeaderValue};
use serde_json::Value;

const TOKENS: &str = include_str!("../../crypto/tests/fixtures/pyjwt/tokens.json");
const JWKS: &str = include_str!("../../crypto/tests/fixtures/pyjwt/jwks.json");
const SERVER_SECRET: &str = "bench-only-server-secret-0123456789abcdef";
const IP: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));

struct World {
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    /// The fixtures' clock: the tokens are valid at this instant.
    now: i64,
    identifier: Identifier,
    requirement: Requirement,
    /// The plaintext key, `amk_<id>_<secret>`.
    key: String,
    tokens: BTreeMap<&'static str, String>,
}

fn hasher() -> KeyHasher {
    KeyHasher::new(&SecretString::new(SERVER_SECRET.to_owned())).unwrap()
}

fn bearer(credential: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {credential}")).unwrap(),
    );
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h
}

fn world() -> World {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("amanah.db")).unwrap());
    let doc: Value = serde_json::from_str(TOKENS).unwrap();
    let now = doc["now"].as_i64().unwrap();

    let keys = Arc::new(KeyService::new(Arc::clone(&store), hasher()));
    let spec = KeySpec::new(
        "bench",
        &["contributor".to_owned()],
        Duration::from_secs(90 * 86_400),
    );
    let (key, _info) = rt.block_on(keys.create(&spec, now)).unwrap();

    std::fs::write(dir.path().join("jwks.json"), JWKS).unwrap();
    // An IdP group mapped to an Amanah role, as a deployment would.
    let jwt = Jwt {
        issuer: doc["issuer"].as_str().unwrap().to_owned(),
        audiences: vec![doc["audience"].as_str().unwrap().to_owned()],
        algorithms: vec![Algorithm::ES256, Algorithm::RS256],
        leeway_secs: defaults::JWT_LEEWAY_SECS,
        max_lifetime_secs: defaults::JWT_MAX_LIFETIME_SECS,
        roles_claim: "groups".to_owned(),
        role_map: BTreeMap::from([("devs".to_owned(), "contributor".to_owned())]),
        hmac_secret: None,
        public_key_files: Vec::new(),
        jwks_file: Some(dir.path().join("jwks.json")),
        remote: None,
    };
    // Used only to fetch a remote JWK set, which this set-up has none of.
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    let jwt = JwtVerifier::new(&jwt, None, tls).unwrap();

    let limiter: Arc<dyn RateLimiter> = Arc::new(LocalLimiter::default());
    let (limit, period) = defaults::AUTH_FAILURES_PER_IP;
    let identifier = Identifier {
        keys,
        jwt: Some(Arc::new(jwt)),
        access: Arc::new(AccessControl::with_roles(
            Arc::clone(&store),
            Vec::new(),
            Vec::new(),
        )),
        limiter,
        failures_per_ip: Some(Quota {
            limit: limit as u32,
            period: Duration::from_secs(period),
        }),
    };
    let tokens = ["ES256", "RS256"]
        .into_iter()
        .map(|alg| {
            let token = doc["tokens"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["alg"] == alg && t["kid"].is_string())
                .and_then(|t| t["token"].as_str())
                .unwrap();
            (alg, token.to_owned())
        })
        .collect();
    World {
        rt,
        _dir: dir,
        store,
        now,
        identifier,
        requirement: Requirement::new("chat", RequiredPermission::parse("llm:invoke").unwrap()),
        key: key.plaintext.expose().to_owned(),
        tokens,
    }
}

impl World {
    /// Runs `iters` calls of `f` inside one `block_on` and returns the time
    /// they took.
    fn time<F, Fut>(&self, iters: u64, mut f: F) -> Duration
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ()>,
    {
        self.rt.block_on(async {
            let start = Instant::now();
            for _ in 0..iters {
                f().await;
            }
            start.elapsed()
        })
    }

    /// Stages 4 and 7 of the pipeline for a request carrying `headers`.
    async fn stages(&self, identifier: &Identifier, headers: &HeaderMap) {
        let principal = identifier
            .identify(black_box(headers), IP, self.now)
            .await
            .unwrap();
        let policy = identifier.access.policy().await.unwrap();
        let permit = authorize(&policy, principal, &self.requirement, self.now, ()).unwrap();
        black_box(permit);
    }

    /// An identifier sharing the store and limiter but with empty caches.
    fn cold_identifier(&self) -> Identifier {
        Identifier {
            keys: Arc::new(KeyService::new(Arc::clone(&self.store), hasher())),
            jwt: None,
            access: Arc::new(AccessControl::with_roles(
                Arc::clone(&self.store),
                Vec::new(),
                Vec::new(),
            )),
            limiter: Arc::clone(&self.identifier.limiter),
            failures_per_ip: self.identifier.failures_per_ip,
        }
    }
}

fn bench_auth_rbac(c: &mut Criterion) {
    let w = &world();
    let policy = &Policy::standard();
    let keys = &w.identifier.keys;
    let jwt = w.identifier.jwt.as_deref().unwrap();
    // Every path must allow before it is timed.
    for (name, credential) in [("key", &w.key), ("es", &w.tokens["ES256"])] {
        let p =
            w.rt.block_on(w.identifier.identify(&bearer(credential), IP, w.now))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        authorize(policy, p, &w.requirement, w.now, ()).unwrap();
    }

    let mut g = c.benchmark_group("auth_rbac");
    g.bench_function("api_key_identify_only", |b| {
        b.iter_custom(|iters| {
            w.time(iters, move || async move {
                let p = keys.identify_key(black_box(&w.key), Some(IP), w.now).await;
                black_box(p.unwrap());
            })
        })
    });
    g.bench_function("api_key", |b| {
        b.iter_custom(|iters| {
            w.time(iters, move || async move {
                let p = keys.identify_key(black_box(&w.key), Some(IP), w.now).await;
                let permit = authorize(policy, p.unwrap(), &w.requirement, w.now, ());
                black_box(permit.unwrap());
            })
        })
    });
    for alg in ["ES256", "RS256"] {
        let token = &w.tokens[alg];
        g.bench_function(format!("jwt_{}", alg.to_lowercase()), |b| {
            b.iter_custom(|iters| {
                w.time(iters, move || async move {
                    let p = jwt.identify(black_box(token), w.now).await;
                    let permit = authorize(policy, p.unwrap(), &w.requirement, w.now, ());
                    black_box(permit.unwrap());
                })
            })
        });
    }
    g.finish();
}

fn bench_stages(c: &mut Criterion) {
    let w = &world();
    let mut g = c.benchmark_group("stages");
    let key = &bearer(&w.key);
    g.bench_function("api_key", |b| {
        b.iter_custom(|iters| w.time(iters, move || w.stages(&w.identifier, key)))
    });
    for alg in ["ES256", "RS256"] {
        let token = &bearer(&w.tokens[alg]);
        g.bench_function(format!("jwt_{}", alg.to_lowercase()), |b| {
            b.iter_custom(|iters| w.time(iters, move || w.stages(&w.identifier, token)))
        });
    }
    g.finish();
}

fn bench_cold(c: &mut Criterion) {
    let w = &world();
    let mut g = c.benchmark_group("cold");
    // Only the measured call is timed; building the fresh services is not.
    g.bench_function("api_key_identify_only", |b| {
        b.iter_custom(|iters| {
            w.rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let keys = KeyService::new(Arc::clone(&w.store), hasher());
                    let start = Instant::now();
                    let p = keys.identify_key(black_box(&w.key), Some(IP), w.now).await;
                    total += start.elapsed();
                    black_box(p.unwrap());
                }
                total
            })
        })
    });
    g.bench_function("stages_api_key", |b| {
        let key = bearer(&w.key);
        b.iter_custom(|iters| {
            w.rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let identifier = w.cold_identifier();
                    let start = Instant::now();
                    w.stages(&identifier, &key).await;
                    total += start.elapsed();
                }
                total
            })
        })
    });
    // Same id length and alphabet as a real key, an id that does not exist:
    // a store read and an HMAC every time (unknown ids are not cached).
    let mut unknown = w.key.clone();
    let id_at = amanah_crypto::api_key::PREFIX.len();
    let flipped = if &unknown[id_at..=id_at] == "0" {
        "1"
    } else {
        "0"
    };
    unknown.replace_range(id_at..=id_at, flipped);
    let unknown = &unknown;
    let keys = &w.identifier.keys;
    assert!(w
        .rt
        .block_on(keys.identify_key(unknown, Some(IP), w.now))
        .is_err());
    g.bench_function("api_key_unknown_id", |b| {
        b.iter_custom(|iters| {
            w.time(iters, move || async move {
                let r = keys.identify_key(black_box(unknown), Some(IP), w.now).await;
                black_box(r.unwrap_err());
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench_auth_rbac, bench_stages, bench_cold);
criterion_main!(benches);
