//! Property tests of the decision against a naive model: random role graphs,
//! permissions, data classes, grants and times.

use std::collections::{BTreeSet, HashMap};

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{subsequence, Index};

use crate::{
    predefined_roles, Denied, Grant, Permission, Policy, PolicyError, Principal, PrincipalKind,
    RequiredPermission, Requirement, RoleDef,
};

const RESOURCES: [&str; 4] = ["llm", "records", "a", "*"];
const ACTIONS: [&str; 4] = ["invoke", "read", "x", "*"];
const ROUTES: [&str; 2] = ["r_a", "r_b"];
const CLASSES: [&str; 2] = ["c0", "c1"];

#[derive(Clone, Debug)]
struct Scenario {
    /// Custom roles; each inherits only predefined roles and custom roles
    /// defined before it, so the graph is acyclic.
    roles: Vec<RoleDef>,
    classes: Vec<(String, Vec<String>)>,
    principal: Principal,
    requirement: Requirement,
    now: i64,
}

impl Scenario {
    fn policy(&self) -> Policy {
        let b = self
            .roles
            .iter()
            .cloned()
            .fold(Policy::builder(), |b, r| b.role(r));
        let b = self
            .classes
            .iter()
            .cloned()
            .fold(b, |b, (name, roles)| b.data_class(name, roles));
        b.build().unwrap()
    }

    fn with_grants(&self, grants: Vec<Grant>) -> Principal {
        Principal {
            grants,
            ..self.principal.clone()
        }
    }
}

fn predefined_names() -> Vec<String> {
    predefined_roles().into_iter().map(|r| r.name).collect()
}

fn custom_name(i: usize) -> String {
    format!("r{i}")
}

fn permission(r: usize, a: usize) -> Permission {
    Permission::parse(&format!("{}:{}", RESOURCES[r], ACTIONS[a])).unwrap()
}

fn grant(names: &[String], (role, nb, na): (Index, Option<i64>, Option<i64>)) -> Grant {
    // One extra slot for a role no policy defines.
    let i = role.index(names.len() + 1);
    Grant {
        role: names.get(i).cloned().unwrap_or_else(|| "ghost".to_owned()),
        not_before: nb,
        not_after: na,
    }
}

type RawGrant = (Index, Option<i64>, Option<i64>);

fn raw_grant() -> impl Strategy<Value = RawGrant> {
    (any::<Index>(), option::of(0i64..10), option::of(0i64..10))
}

fn scenario() -> impl Strategy<Value = (Scenario, Vec<String>)> {
    let role = (vec(any::<Index>(), 0..3), vec((0..4usize, 0..4usize), 0..4));
    (
        vec(role, 0..6),
        vec(vec(any::<Index>(), 0..3), CLASSES.len()),
        vec(raw_grant(), 0..4),
        option::of(subsequence(ROUTES.to_vec(), 0..=ROUTES.len())),
        (0..ROUTES.len(), 0..3usize, 0..3usize, 0..CLASSES.len() + 2),
        0i64..10,
    )
        .prop_map(
            |(raw_roles, raw_classes, raw_grants, scopes, raw_req, now)| {
                let mut names = predefined_names();
                let mut roles = Vec::new();
                for (i, (parents, perms)) in raw_roles.into_iter().enumerate() {
                    let mut inherits: Vec<String> = parents
                        .iter()
                        .map(|p| names[p.index(names.len())].clone())
                        .collect();
                    inherits.dedup();
                    roles.push(RoleDef {
                        name: custom_name(i),
                        permissions: perms.into_iter().map(|(r, a)| permission(r, a)).collect(),
                        inherits,
                        description: String::new(),
                    });
                    names.push(custom_name(i));
                }
                let classes = raw_classes
                    .into_iter()
                    .zip(CLASSES)
                    .map(|(listed, class)| {
                        let listed = listed.iter().map(|i| names[i.index(names.len())].clone());
                        (class.to_owned(), listed.collect())
                    })
                    .collect();
                let (route, r, a, class) = raw_req;
                let requirement = Requirement {
                    route: ROUTES[route].to_owned(),
                    permission: RequiredPermission::try_from(permission(r, a)).unwrap(),
                    // Beyond the declared classes: none, or one never declared.
                    data_class: match class {
                        c if c < CLASSES.len() => Some(CLASSES[c].to_owned()),
                        c if c == CLASSES.len() => None,
                        _ => Some("undeclared".to_owned()),
                    },
                };
                let principal = Principal {
                    id: "p".to_owned(),
                    kind: PrincipalKind::User,
                    grants: raw_grants.into_iter().map(|g| grant(&names, g)).collect(),
                    scopes: scopes.map(|s| s.into_iter().map(str::to_owned).collect()),
                };
                let scenario = Scenario {
                    roles,
                    classes,
                    principal,
                    requirement,
                    now,
                };
                (scenario, names)
            },
        )
}

/// The decision as the documentation states it, computed the slow way:
/// closures by recursion, permissions by splitting strings.
fn reference(s: &Scenario, principal: &Principal) -> Result<(), &'static str> {
    let defs: HashMap<String, RoleDef> = predefined_roles()
        .into_iter()
        .chain(s.roles.iter().cloned())
        .map(|r| (r.name.clone(), r))
        .collect();
    fn closure(defs: &HashMap<String, RoleDef>, role: &str, out: &mut BTreeSet<String>) {
        if out.insert(role.to_owned()) {
            for parent in &defs[role].inherits {
                closure(defs, parent, out);
            }
        }
    }
    let implies = |held: &str, wanted: &str| {
        let (hr, ha) = held.split_once(':').unwrap();
        let (wr, wa) = wanted.split_once(':').unwrap();
        (hr == "*" || hr == wr) && (ha == "*" || ha == wa)
    };
    let req = &s.requirement;
    if let Some(scopes) = &principal.scopes {
        if !scopes.contains(&req.route) {
            return Err("out_of_scope");
        }
    }
    let active: Vec<BTreeSet<String>> = principal
        .grants
        .iter()
        .filter(|g| {
            g.not_before.is_none_or(|t| t <= s.now) && g.not_after.is_none_or(|t| s.now < t)
        })
        .filter(|g| defs.contains_key(&g.role))
        .map(|g| {
            let mut c = BTreeSet::new();
            closure(&defs, &g.role, &mut c);
            c
        })
        .collect();
    let holds = active.iter().flatten().any(|role| {
        defs[role]
            .permissions
            .iter()
            .any(|p| implies(p.as_str(), req.permission.as_str()))
    });
    if !holds {
        return Err("missing_permission");
    }
    if let Some(class) = &req.data_class {
        let Some((_, listed)) = s.classes.iter().find(|(c, _)| c == class) else {
            return Err("unknown_data_class");
        };
        if !active.iter().flatten().any(|role| listed.contains(role)) {
            return Err("data_class");
        }
    }
    Ok(())
}

fn decide(s: &Scenario, principal: &Principal) -> Result<(), &'static str> {
    s.policy()
        .decide(principal, &s.requirement, s.now)
        .map_err(|d| d.reason())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// (c) The compiled decision equals the naive one, reason included.
    #[test]
    fn decision_matches_reference((s, _) in scenario()) {
        prop_assert_eq!(decide(&s, &s.principal), reference(&s, &s.principal));
    }

    /// (a) Deny by default: without an active grant nothing is permitted,
    /// whatever the roles, classes and requirement.
    #[test]
    fn no_active_grant_is_denied(
        (s, names) in scenario(),
        inactive in vec((any::<Index>(), 1i64..5, any::<bool>()), 0..4),
    ) {
        let grants = inactive
            .into_iter()
            .map(|(role, by, expired)| {
                let g = grant(&names, (role, None, None));
                if expired {
                    // not_after is exclusive: `now` itself is already past.
                    Grant { not_after: Some(s.now + 1 - by), ..g }
                } else {
                    Grant { not_before: Some(s.now + by), ..g }
                }
            })
            .collect();
        let p = s.with_grants(grants);
        prop_assert_eq!(p.roles_at(s.now).count(), 0);
        let outcome = s.policy().decide(&p, &s.requirement, s.now);
        prop_assert!(outcome.is_err());
    }

    /// (b) Adding a grant never turns a permit into a deny; removing one
    /// never turns a deny into a permit.
    #[test]
    fn grants_are_monotonic(
        (s, names) in scenario(),
        extra in raw_grant(),
        drop in any::<Index>(),
    ) {
        let policy = s.policy();
        let ok = |p: &Principal| policy.decide(p, &s.requirement, s.now).is_ok();
        let before = ok(&s.principal);

        let mut more = s.principal.grants.clone();
        more.push(grant(&names, extra));
        prop_assert!(!before || ok(&s.with_grants(more)));

        if !s.principal.grants.is_empty() {
            let mut fewer = s.principal.grants.clone();
            fewer.remove(drop.index(fewer.len()));
            prop_assert!(before || !ok(&s.with_grants(fewer)));
        }
    }

    /// (d) A role graph containing a cycle never builds, and the reported
    /// path is a real cycle of that graph.
    #[test]
    fn cyclic_graphs_are_rejected(
        n in 1usize..7,
        extra_edges in vec((any::<Index>(), any::<Index>()), 0..8),
        cycle in vec(any::<Index>(), 1..7),
    ) {
        let mut inherits: Vec<Vec<usize>> = vec![Vec::new(); n];
        // Forward edges only (i inherits j < i): acyclic on their own.
        for (a, b) in extra_edges {
            let (i, j) = (a.index(n), b.index(n));
            if j < i {
                inherits[i].push(j);
            }
        }
        // Then a loop through distinct roles, in random order.
        let mut members: Vec<usize> = cycle.iter().map(|i| i.index(n)).collect();
        let mut seen = BTreeSet::new();
        members.retain(|m| seen.insert(*m));
        for (k, &m) in members.iter().enumerate() {
            inherits[m].push(members[(k + 1) % members.len()]);
        }
        let builder = (0..n).fold(Policy::builder(), |b, i| {
            let def = inherits[i].iter().fold(RoleDef::new(custom_name(i)), |d, &j| {
                d.inherits(custom_name(j))
            });
            b.role(def)
        });
        match builder.build() {
            Err(PolicyError::InheritanceCycle { path }) => {
                prop_assert!(path.len() >= 2);
                prop_assert_eq!(path.first(), path.last());
                let index = |name: &String| (0..n).find(|&i| custom_name(i) == *name).unwrap();
                for pair in path.windows(2) {
                    prop_assert!(inherits[index(&pair[0])].contains(&index(&pair[1])));
                }
            }
            other => prop_assert!(false, "expected a cycle, got {:?}", other.map(|_| ())),
        }
    }

    /// Denials always name the principal asked about.
    #[test]
    fn denials_name_the_principal((s, _) in scenario()) {
        if let Err(d) = s.policy().decide(&s.principal, &s.requirement, s.now) {
            prop_assert_eq!(d.principal(), "p");
            let out_of_scope = matches!(d, Denied::OutOfScope { .. });
            prop_assert!(!out_of_scope || s.principal.scopes.is_some());
        }
    }
}
