//! Record encryption throughput of `amanah_crypto::envelope`: AES-256-GCM
//! under a data key, for 1 KiB, 16 KiB and 1 MiB records, plus the key
//! operations a read or a KEK rotation costs. See `bench/crypto/README.md`;
//! `bench/crypto/run.sh` compares the figures with `openssl speed`.
//!
//! Each `encrypt` iteration is all of `DataKey::encrypt`: a random nonce,
//! the AAD encoding, one copy of the plaintext into the output, sealing in
//! place. Each `decrypt` iteration is all of `DataKey::decrypt`: header
//! checks, one copy of the ciphertext, opening in place, and wiping the
//! plaintext when it drops.

use std::hint::black_box;

use amanah_crypto::envelope::{Kek, Keyring, RecordAad};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const SIZES: [(usize, &str); 3] = [(1024, "1KiB"), (16 * 1024, "16KiB"), (1024 * 1024, "1MiB")];

fn keyring() -> Keyring {
    Keyring::new(vec![Kek::generate(1, 1_700_000_000).unwrap()]).unwrap()
}

fn record_aad() -> RecordAad<'static> {
    RecordAad {
        record_id: "01JD0000000000000000000000",
        subject: "subject-000042",
        kind: "transcript",
        key_version: 1,
        data_class: "general",
        region: Some("eu"),
        purpose: Some("support"),
    }
}

fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 + 17) as u8).collect()
}

fn bench_encrypt(c: &mut Criterion) {
    let (dek, _) = keyring().new_data_key("subject-000042");
    let aad = record_aad();
    let mut g = c.benchmark_group("envelope/encrypt");
    for (len, name) in SIZES {
        let pt = plaintext(len);
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), &pt, |b, pt| {
            b.iter(|| dek.encrypt(black_box(&aad), black_box(pt)))
        });
    }
    g.finish();
}

fn bench_decrypt(c: &mut Criterion) {
    let (dek, _) = keyring().new_data_key("subject-000042");
    let aad = record_aad();
    let mut g = c.benchmark_group("envelope/decrypt");
    for (len, name) in SIZES {
        let ct = dek.encrypt(&aad, &plaintext(len));
        assert_eq!(dek.decrypt(&aad, &ct).unwrap().len(), len);
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), &ct, |b, ct| {
            b.iter(|| dek.decrypt(black_box(&aad), black_box(ct)).unwrap())
        });
    }
    g.finish();
}

/// Per-subject key costs: unwrapping a data key (once per read without a
/// key cache) and rewrapping it under a new KEK (once per subject per
/// rotation).
fn bench_keys(c: &mut Criterion) {
    let mut ring = keyring();
    let (_, wrapped) = ring.new_data_key("subject-000042");
    ring.rotate(1_700_000_100);
    let mut g = c.benchmark_group("envelope/keys");
    g.bench_function("unwrap", |b| {
        b.iter(|| ring.unwrap(black_box(&wrapped), "subject-000042").unwrap())
    });
    g.bench_function("rewrap", |b| {
        b.iter(|| ring.rewrap(black_box(&wrapped), "subject-000042").unwrap())
    });
    g.bench_function("new_data_key", |b| {
        b.iter(|| ring.new_data_key(black_box("subject-000042")))
    });
    g.finish();
}

criterion_group!(benches, bench_encrypt, bench_decrypt, bench_keys);
criterion_main!(benches);
