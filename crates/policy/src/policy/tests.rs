use super::*;
use crate::{authorize, Grant, PrincipalKind, RequiredPermission};

fn perm(s: &str) -> Permission {
    Permission::parse(s).unwrap()
}

fn req(permission: &str) -> Requirement {
    Requirement::new("chat", RequiredPermission::parse(permission).unwrap())
}

fn holder(roles: &[&str]) -> Principal {
    roles.iter().fold(
        Principal::new("key:00000000", PrincipalKind::ApiKey),
        |p, r| p.with_grant(Grant::permanent(*r)),
    )
}

fn allowed(policy: &Policy, roles: &[&str], r: &Requirement) -> bool {
    policy.decide(&holder(roles), r, 0).is_ok()
}

fn cycle_error(policy: Result<Policy, PolicyError>) -> (Vec<String>, String) {
    match policy {
        Err(e @ PolicyError::InheritanceCycle { .. }) => {
            let message = e.to_string();
            let PolicyError::InheritanceCycle { path } = e else {
                unreachable!()
            };
            (path, message)
        }
        other => panic!("expected a cycle, got {other:?}"),
    }
}

#[test]
fn predefined_role_table() {
    let policy = Policy::standard();
    // (permission, roles allowed); every other predefined role is denied.
    let table: &[(&str, &[&str])] = &[
        (
            "llm:invoke",
            &[
                "admin",
                "analyst",
                "contributor",
                "case_worker",
                "supervisor",
            ],
        ),
        (
            "records:read",
            &[
                "admin",
                "analyst",
                "contributor",
                "viewer",
                "case_worker",
                "supervisor",
            ],
        ),
        (
            "records:write",
            &["admin", "contributor", "case_worker", "supervisor"],
        ),
        ("records:delete", &["admin", "supervisor"]),
        ("audit:read", &["admin", "analyst", "viewer"]),
        ("audit:write", &["admin"]),
        (
            "subjects:read",
            &["admin", "analyst", "viewer", "case_worker", "supervisor"],
        ),
        ("subjects:export", &["admin", "supervisor"]),
        ("subjects:erase", &["admin", "supervisor"]),
        ("grants:read", &["admin", "analyst", "viewer", "supervisor"]),
        ("keys:create", &["admin"]),
    ];
    for (permission, yes) in table {
        for role in policy.roles() {
            let expected = yes.contains(&role.name());
            assert_eq!(
                allowed(&policy, &[role.name()], &req(permission)),
                expected,
                "{} on {permission}",
                role.name()
            );
        }
    }
}

#[test]
fn viewer_cannot_invoke_models_or_write() {
    let policy = Policy::standard();
    let viewer = holder(&["viewer"]);
    assert_eq!(
        policy.decide(&viewer, &req("llm:invoke"), 0),
        Err(Denied::MissingPermission {
            principal: "key:00000000".into(),
            permission: RequiredPermission::parse("llm:invoke").unwrap(),
        })
    );
    assert!(policy.decide(&viewer, &req("records:write"), 0).is_err());
    assert!(policy.decide(&viewer, &req("records:read"), 0).is_ok());
}

#[test]
fn role_views_describe_the_roles() {
    let policy = Policy::standard();
    let names: Vec<&str> = policy.roles().iter().map(RoleView::name).collect();
    assert_eq!(
        names,
        [
            "admin",
            "analyst",
            "contributor",
            "viewer",
            "case_worker",
            "supervisor"
        ]
    );
    let sup = policy.role("supervisor").unwrap();
    assert!(sup.is_predefined());
    assert_eq!(sup.inherits(), ["case_worker"]);
    assert_eq!(sup.closure(), ["supervisor", "case_worker"]);
    assert_eq!(sup.permissions().len(), 4);
    let effective: Vec<&str> = sup
        .effective_permissions()
        .iter()
        .map(Permission::as_str)
        .collect();
    assert_eq!(
        effective,
        [
            "grants:read",
            "llm:invoke",
            "records:delete",
            "records:read",
            "records:write",
            "subjects:erase",
            "subjects:export",
            "subjects:read",
        ]
    );
    // `audit:read` is implied by `*:read`, so it drops out.
    let analyst: Vec<&str> = policy
        .role("analyst")
        .unwrap()
        .effective_permissions()
        .iter()
        .map(Permission::as_str)
        .collect();
    assert_eq!(analyst, ["*:read", "llm:invoke"]);
    assert!(policy.knows_role("viewer"));
    assert!(!policy.knows_role("ghost"));
    assert!(policy.role("ghost").is_none());
}

#[test]
fn custom_roles_inherit_transitively() {
    let policy = Policy::builder()
        .role(RoleDef::new("intake").permission(perm("forms:submit")))
        .role(
            RoleDef::new("lead")
                .inherits("intake")
                .inherits("supervisor")
                .permission(perm("reports:*")),
        )
        .role(RoleDef::new("director").inherits("lead"))
        .build()
        .unwrap();
    let director = policy.role("director").unwrap();
    assert!(!director.is_predefined());
    assert_eq!(
        director.closure(),
        ["director", "lead", "intake", "supervisor", "case_worker"]
    );
    for p in [
        "forms:submit",
        "reports:publish",
        "records:delete",
        "llm:invoke",
    ] {
        assert!(allowed(&policy, &["director"], &req(p)), "{p}");
    }
    assert!(!allowed(&policy, &["intake"], &req("reports:publish")));
    assert!(!allowed(&policy, &["director"], &req("audit:read")));
}

#[test]
fn diamond_inheritance_is_not_a_cycle() {
    let policy = Policy::builder()
        .role(RoleDef::new("a").inherits("b").inherits("c"))
        .role(RoleDef::new("b").inherits("d"))
        .role(RoleDef::new("c").inherits("d"))
        .role(RoleDef::new("d").permission(perm("x:y")))
        .build()
        .unwrap();
    assert_eq!(policy.role("a").unwrap().closure(), ["a", "b", "c", "d"]);
    assert!(allowed(&policy, &["a"], &req("x:y")));
}

#[test]
fn self_cycle_is_rejected() {
    let (path, message) = cycle_error(
        Policy::builder()
            .role(RoleDef::new("a").inherits("a"))
            .build(),
    );
    assert_eq!(path, ["a", "a"]);
    assert_eq!(message, "roles inherit in a cycle: a -> a");
}

#[test]
fn two_cycle_is_rejected() {
    let (path, message) = cycle_error(
        Policy::builder()
            .role(RoleDef::new("a").inherits("b"))
            .role(RoleDef::new("b").inherits("a"))
            .build(),
    );
    assert_eq!(path, ["a", "b", "a"]);
    assert!(message.ends_with("a -> b -> a"), "{message}");
}

#[test]
fn three_cycle_is_rejected_with_its_path() {
    let (path, message) = cycle_error(
        Policy::builder()
            .role(RoleDef::new("entry").inherits("a").inherits("viewer"))
            .role(RoleDef::new("a").inherits("b"))
            .role(RoleDef::new("b").inherits("c"))
            .role(RoleDef::new("c").inherits("a"))
            .build(),
    );
    // The path is the loop itself, not the way into it.
    assert_eq!(path, ["a", "b", "c", "a"]);
    assert!(message.ends_with("a -> b -> c -> a"), "{message}");
}

#[test]
fn bad_definitions_are_rejected() {
    let build = |b: PolicyBuilder| b.build().unwrap_err();
    assert_eq!(
        build(Policy::builder().role(RoleDef::new("Ops"))),
        PolicyError::InvalidRoleName("Ops".into())
    );
    assert_eq!(
        build(Policy::builder().role(RoleDef::new("a:b"))),
        PolicyError::InvalidRoleName("a:b".into())
    );
    assert_eq!(
        build(Policy::builder().role(RoleDef::new("admin"))),
        PolicyError::ReservedRoleName("admin".into())
    );
    assert_eq!(
        build(
            Policy::builder()
                .role(RoleDef::new("ops"))
                .role(RoleDef::new("ops"))
        ),
        PolicyError::DuplicateRole("ops".into())
    );
    assert_eq!(
        build(Policy::builder().role(RoleDef::new("ops").inherits("ghost"))),
        PolicyError::UnknownInheritedRole {
            role: "ops".into(),
            inherits: "ghost".into()
        }
    );
    assert_eq!(
        build(Policy::builder().data_class("child_data", vec!["ghost".into()])),
        PolicyError::UnknownRoleInDataClass {
            class: "child_data".into(),
            role: "ghost".into()
        }
    );
    assert_eq!(
        build(
            Policy::builder()
                .data_class("child_data", vec![])
                .data_class("child_data", vec![])
        ),
        PolicyError::DuplicateDataClass("child_data".into())
    );
    assert_eq!(
        build(Policy::builder().data_class("Child Data", vec![])),
        PolicyError::InvalidDataClassName("Child Data".into())
    );
}

#[test]
fn grants_are_bounded_in_time() {
    let policy = Policy::standard();
    let p = Principal::new("u", PrincipalKind::User).with_grant(Grant::between(
        "contributor",
        100,
        200,
    ));
    let r = req("llm:invoke");
    assert!(policy.decide(&p, &r, 99).is_err());
    assert!(policy.decide(&p, &r, 100).is_ok());
    assert!(policy.decide(&p, &r, 199).is_ok());
    assert!(
        policy.decide(&p, &r, 200).is_err(),
        "not_after is exclusive"
    );
    assert_eq!(policy.permissions_of(&p, 99), Vec::<String>::new());
    assert_eq!(
        policy.permissions_of(&p, 150),
        ["llm:invoke", "records:read", "records:write"]
    );
}

#[test]
fn scopes_are_checked_first() {
    let policy = Policy::standard();
    let p = holder(&["admin"]).with_scopes(["embeddings"]);
    assert_eq!(
        policy.decide(&p, &req("llm:invoke"), 0),
        Err(Denied::OutOfScope {
            principal: "key:00000000".into(),
            route: "chat".into()
        })
    );
    let r = Requirement::new(
        "embeddings",
        RequiredPermission::parse("llm:invoke").unwrap(),
    );
    assert!(policy.decide(&p, &r, 0).is_ok());
    // Scopes narrow, never widen: in scope but without the permission.
    let viewer = holder(&["viewer"]).with_scopes(["embeddings"]);
    assert!(matches!(
        policy.decide(&viewer, &r, 0),
        Err(Denied::MissingPermission { .. })
    ));
}

#[test]
fn data_classes_follow_inheritance_and_exclude_admin() {
    let policy = Policy::builder()
        .data_class("child_data", vec!["case_worker".into()])
        .build()
        .unwrap();
    let r = req("subjects:read").with_data_class("child_data");
    assert!(allowed(&policy, &["case_worker"], &r));
    assert!(
        allowed(&policy, &["supervisor"], &r),
        "inherits case_worker"
    );
    assert_eq!(
        policy.decide(&holder(&["admin"]), &r, 0),
        Err(Denied::DataClass {
            principal: "key:00000000".into(),
            class: "child_data".into()
        })
    );
    // Cleared by one role, permitted by another: the principal holds both.
    let p = holder(&["viewer"]);
    assert!(policy.decide(&p, &r, 0).is_err());
    let p = holder(&["case_worker", "analyst"]);
    assert!(policy
        .decide(&p, &req("audit:read").with_data_class("child_data"), 0)
        .is_ok());
    // Permission is checked before the data class.
    assert!(matches!(
        policy.decide(
            &holder(&["case_worker"]),
            &req("records:delete").with_data_class("child_data"),
            0
        ),
        Err(Denied::MissingPermission { .. })
    ));
    assert_eq!(
        policy.data_class("child_data"),
        Some(&["case_worker".to_owned()][..])
    );
}

#[test]
fn unknown_data_class_denies_everyone() {
    let policy = Policy::standard();
    let r = req("llm:invoke").with_data_class("child_data");
    assert_eq!(
        policy.decide(&holder(&["admin"]), &r, 0),
        Err(Denied::UnknownDataClass {
            principal: "key:00000000".into(),
            class: "child_data".into()
        })
    );
}

#[test]
fn unknown_roles_are_ignored() {
    let policy = Policy::standard();
    assert!(!allowed(&policy, &["ghost"], &req("llm:invoke")));
    assert!(!allowed(&policy, &["Admin"], &req("llm:invoke")));
    assert!(allowed(
        &policy,
        &["ghost", "contributor"],
        &req("llm:invoke")
    ));
    assert_eq!(
        policy.permissions_of(&holder(&["ghost"]), 0),
        Vec::<String>::new()
    );
}

#[test]
fn permissions_of_merges_active_roles() {
    let policy = Policy::standard();
    assert_eq!(
        policy.permissions_of(&holder(&["viewer", "contributor"]), 0),
        ["*:read", "llm:invoke", "records:write"]
    );
    assert_eq!(
        policy.permissions_of(&holder(&["admin", "viewer"]), 0),
        ["*:*"]
    );
}

#[test]
fn authorize_wraps_the_request_in_a_permit() {
    let policy = Policy::standard();
    let permit = authorize(&policy, holder(&["contributor"]), &req("llm:invoke"), 0, 7).unwrap();
    assert_eq!(*permit.get(), 7);
    assert_eq!(permit.principal().id, "key:00000000");
    let (value, principal) = permit.map(|v| v + 1).into_parts();
    assert_eq!((value, principal.kind), (8, PrincipalKind::ApiKey));
    let denied = authorize(&policy, holder(&["viewer"]), &req("llm:invoke"), 0, 7).unwrap_err();
    assert_eq!(denied.principal(), "key:00000000");
    assert_eq!(denied.reason(), "missing_permission");
}
