//! Amanah's key material and API-key primitives.
//!
//! This crate does no IO and runs no async code: it turns bytes into bytes so
//! that every decision about secrets can be unit-tested, property-tested and
//! fuzzed on its own.
//!
//! Seams:
//! - [`SecretString`]: any secret the gateway holds (provider credentials,
//!   the API-key HMAC secret). Zeroized on drop; its `Debug` never prints it.
//! - [`api_key`]: the `amk_<id>_<secret>` format, its generation, parsing,
//!   keyed hashing ([`api_key::KeyHasher`]) and masked display.
//! - [`jwt`]: JWS/JWT verification and JWK sets.
//! - [`password`]: Argon2id password hashing and the password policy.
//! - [`totp`]: RFC 6238 one-time codes and recovery codes.
//! - [`seal`]: authenticated encryption of small values under a key derived
//!   from a deployment secret.
//! - [`envelope`]: envelope encryption of records at rest: a root key from
//!   a [`envelope::KeyProvider`] seals versioned KEKs, a [`envelope::Keyring`]
//!   of KEKs wraps per-subject data keys, data keys encrypt records;
//!   rotation rewraps keys, never records.
//! - [`random`]: the one source of randomness (the OS generator via `ring`).

#![forbid(unsafe_code)]

pub mod api_key;
pub mod base64;
pub mod envelope;
pub mod jwt;
pub mod password;
pub mod random;
pub mod seal;
mod secret;
pub mod totp;

pub use secret::SecretString;
