//! Tokens minted by another JOSE implementation (PyJWT, see
//! `fixtures/pyjwt/mint.py`) verify here: one per algorithm, with and
//! without `kid`, against the JWK set PyJWT exported.

use amanah_crypto::jwt::{self, Algorithm, JwtError, KeySet, Validation, VerifyingKey};
use amanah_crypto::SecretString;
use serde_json::Value;

const TOKENS: &str = include_str!("fixtures/pyjwt/tokens.json");
const JWKS: &str = include_str!("fixtures/pyjwt/jwks.json");

struct Fixture {
    now: i64,
    keys: KeySet,
    validation: Validation,
    tokens: Vec<(Algorithm, Option<String>, String)>,
}

fn fixture() -> Fixture {
    let doc: Value = serde_json::from_str(TOKENS).unwrap();
    let (mut keys, skipped) = KeySet::from_jwks(JWKS.as_bytes()).unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(keys.len(), 4);
    let secret = SecretString::new(doc["hmac_secret"].as_str().unwrap().to_owned());
    keys.push(VerifyingKey::hmac(&secret, doc["hmac_kid"].as_str()).unwrap());
    let validation = Validation::new(Algorithm::ALL)
        .with_issuer(doc["issuer"].as_str().unwrap())
        .with_audience(doc["audience"].as_str().unwrap())
        .with_max_lifetime_secs(2 * 3600);
    let tokens = doc["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                Algorithm::from_name(t["alg"].as_str().unwrap()).unwrap(),
                t["kid"].as_str().map(str::to_owned),
                t["token"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    Fixture {
        now: doc["now"].as_i64().unwrap(),
        keys,
        validation,
        tokens,
    }
}

#[test]
fn pyjwt_tokens_verify_for_every_algorithm() {
    let f = fixture();
    let mut seen: Vec<Algorithm> = Vec::new();
    for (alg, kid, token) in &f.tokens {
        let claims = jwt::verify(token, &f.keys, &f.validation, f.now)
            .unwrap_or_else(|e| panic!("{alg} kid={kid:?}: {e}"));
        assert_eq!(claims.sub.as_deref(), Some("user-42"));
        assert_eq!(claims.aud, ["amanah", "other"]);
        assert_eq!(claims.exp, Some(f.now + 3600));
        assert_eq!(claims.strings_at("scope"), ["openid", "chat:write"]);
        assert_eq!(claims.strings_at("groups"), ["admins", "devs"]);
        assert_eq!(
            claims.strings_at("realm_access.roles"),
            ["amanah-admin", "viewer"]
        );
        seen.push(*alg);
    }
    for alg in Algorithm::ALL {
        assert!(seen.contains(&alg), "no PyJWT fixture for {alg}");
    }
    assert!(f.tokens.iter().any(|(_, kid, _)| kid.is_none()));
}

#[test]
fn pyjwt_tokens_fail_when_expired_or_misaddressed() {
    let f = fixture();
    for (alg, _, token) in &f.tokens {
        let later = f.now + 3600 + Validation::DEFAULT_LEEWAY_SECS as i64;
        assert_eq!(
            jwt::verify(token, &f.keys, &f.validation, later),
            Err(JwtError::Expired),
            "{alg}"
        );
        let other_aud = Validation::new(Algorithm::ALL).with_audience("not-amanah");
        assert_eq!(
            jwt::verify(token, &f.keys, &other_aud, f.now),
            Err(JwtError::WrongAudience),
            "{alg}"
        );
        let only_eddsa = Validation::new([Algorithm::EdDSA]);
        if *alg != Algorithm::EdDSA {
            assert_eq!(
                jwt::verify(token, &f.keys, &only_eddsa, f.now),
                Err(JwtError::AlgorithmNotAllowed),
                "{alg}"
            );
        }
    }
}

#[test]
fn pyjwt_tokens_fail_against_an_unrelated_key_set() {
    let f = fixture();
    let other =
        KeySet::from_iter([VerifyingKey::hmac_from_bytes(&[7; 64], Some("hmac-1")).unwrap()]);
    for (alg, kid, token) in &f.tokens {
        let r = jwt::verify(token, &other, &f.validation, f.now);
        let expected = match (alg, kid) {
            (Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512, _) => JwtError::BadSignature,
            (_, Some(kid)) => JwtError::UnknownKid(kid.clone()),
            (_, None) => JwtError::NoMatchingKey,
        };
        assert_eq!(r, Err(expected), "{alg}");
    }
}
