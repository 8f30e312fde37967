//! One RBAC decision, as the gateway's authorize stage makes it on every
//! request (issue 3). See `bench/identity/README.md`.
//!
//! - `standard/*`: the predefined roles, a key holding `contributor` (and a
//!   second grant), the route `chat` demanding `llm:invoke`;
//! - `custom/*`: a custom role three levels deep over a predefined one, and
//!   a route that also demands a data class.
//!
//! `decide` borrows the principal; `authorize` takes it by value and wraps
//! the request in a permit, as the pipeline does. Its principal is cloned
//! outside the timed section (`iter_batched`), because in the pipeline it
//! arrives owned from the identify stage.

use std::hint::black_box;

use amanah_policy::{
    authorize, Grant, Permission, Policy, Principal, PrincipalKind, RequiredPermission,
    Requirement, RoleDef,
};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

const NOW: i64 = 1_700_000_000;

fn requirement(route: &str, permission: &str) -> Requirement {
    Requirement::new(route, RequiredPermission::parse(permission).unwrap())
}

fn key(id: &str, roles: &[&str]) -> Principal {
    roles.iter().fold(
        Principal::new(format!("key:{id}"), PrincipalKind::ApiKey),
        |p, r| p.with_grant(Grant::permanent(*r)),
    )
}

/// `team_lead` → `reviewer` → `clerk` → `case_worker` (predefined), and a
/// data class `child_data` cleared for `clerk` (so for everything above it).
fn custom_policy() -> Policy {
    let perm = |p: &str| Permission::parse(p).unwrap();
    Policy::builder()
        .role(
            RoleDef::new("clerk")
                .permission(perm("forms:write"))
                .inherits("case_worker"),
        )
        .role(
            RoleDef::new("reviewer")
                .permission(perm("forms:approve"))
                .permission(perm("reports:*"))
                .inherits("clerk"),
        )
        .role(
            RoleDef::new("team_lead")
                .permission(perm("grants:read"))
                .inherits("reviewer"),
        )
        .data_class("child_data", vec!["clerk".to_owned()])
        .data_class("health", vec!["supervisor".to_owned()])
        .build()
        .unwrap()
}

fn bench_standard(c: &mut Criterion) {
    let policy = Policy::standard();
    let chat = requirement("chat", "llm:invoke");
    let contributor = key("a1b2c3d4", &["contributor"]);
    // Two grants, the first without the permission: the scan goes on.
    let two_grants = Principal {
        grants: vec![
            Grant::permanent("viewer"),
            Grant::between("contributor", NOW - 3600, NOW + 3600),
        ],
        ..key("a1b2c3d4", &[])
    };
    let viewer = key("a1b2c3d4", &["viewer"]);
    assert!(policy.decide(&contributor, &chat, NOW).is_ok());
    assert!(policy.decide(&two_grants, &chat, NOW).is_ok());
    assert!(policy.decide(&viewer, &chat, NOW).is_err());

    let mut g = c.benchmark_group("rbac/standard");
    g.bench_function("decide_allow_contributor", |b| {
        b.iter(|| policy.decide(black_box(&contributor), black_box(&chat), black_box(NOW)))
    });
    g.bench_function("decide_allow_two_grants", |b| {
        b.iter(|| policy.decide(black_box(&two_grants), black_box(&chat), black_box(NOW)))
    });
    // A denial builds the error (clones the principal id and permission),
    // so it costs more than an allow; it is what a refused caller costs.
    g.bench_function("decide_deny_viewer", |b| {
        b.iter(|| policy.decide(black_box(&viewer), black_box(&chat), black_box(NOW)))
    });
    g.bench_function("authorize_allow_contributor", |b| {
        b.iter_batched(
            || contributor.clone(),
            |p| authorize(&policy, p, black_box(&chat), black_box(NOW), ()),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn bench_custom(c: &mut Criterion) {
    let policy = custom_policy();
    // `reports:read` is held only by `reviewer`, two levels below
    // `team_lead`; effective permissions are precomputed at build time.
    let reports = requirement("reports", "reports:read").with_data_class("child_data");
    let lead = key("e5f6a7b8", &["team_lead"]);
    let health = requirement("reports", "reports:read").with_data_class("health");
    assert!(policy.decide(&lead, &reports, NOW).is_ok());
    assert!(policy.decide(&lead, &health, NOW).is_err());

    let mut g = c.benchmark_group("rbac/custom");
    g.bench_function("decide_allow_3_level_data_class", |b| {
        b.iter(|| policy.decide(black_box(&lead), black_box(&reports), black_box(NOW)))
    });
    g.bench_function("decide_deny_data_class", |b| {
        b.iter(|| policy.decide(black_box(&lead), black_box(&health), black_box(NOW)))
    });
    g.finish();
}

criterion_group!(benches, bench_standard, bench_custom);
criterion_main!(benches);
