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
//! - [`random`]: the one source of randomness (the OS generator via `ring`).

#![forbid(unsafe_code)]

pub mod api_key;
pub mod random;
mod secret;

pub use secret::SecretString;
