//! `amanah users`, `amanah roles` and `amanah grants`, run as an operator
//! runs them against one data directory, with `--json` answers parsed and
//! checked. Setup tokens are looked for in every output and in the store.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::Value;

fn amanah() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_amanah"));
    // A clean environment: no stray AMANAH_* from the developer's shell.
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// One run of the binary.
struct Run {
    ok: bool,
    /// stdout and stderr.
    all: String,
    stdout: String,
}

/// The binary over one data directory, remembering every output.
struct Cli {
    _dir: tempfile::TempDir,
    data: PathBuf,
    outputs: RefCell<Vec<(String, String)>>,
}

impl Cli {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        Self {
            _dir: dir,
            data,
            outputs: RefCell::default(),
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = amanah()
            .args(args)
            .arg("--data-dir")
            .arg(&self.data)
            .output()
            .unwrap();
        let run = Run {
            ok: out.status.success(),
            all: text(&out),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        };
        self.outputs
            .borrow_mut()
            .push((args.join(" "), run.all.clone()));
        run
    }

    /// Runs a command that must succeed and print one JSON value.
    fn json(&self, args: &[&str]) -> Value {
        let run = self.run(args);
        assert!(run.ok, "{args:?} failed:\n{}", run.all);
        serde_json::from_str(run.stdout.trim())
            .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}):\n{}", run.stdout))
    }

    /// Runs a command that must fail, with `expect` in its message.
    fn fails(&self, args: &[&str], expect: &str) {
        let run = self.run(args);
        assert!(!run.ok, "{args:?} succeeded:\n{}", run.all);
        assert!(
            run.all.contains(expect),
            "{args:?}: missing {expect:?} in:\n{}",
            run.all
        );
    }

    /// Stands in for `POST /admin/v1/setup`: the library call behind it, on
    /// the same data directory.
    fn complete_setup(&self, username: &str, token: &str, password: &str) {
        let source = amanah_gateway::config::Source {
            data_dir: Some(self.data.clone()),
            ..Default::default()
        };
        let config = amanah_gateway::config::load(&source).unwrap();
        let store: Arc<dyn amanah_store::Store> =
            Arc::new(amanah_gateway::open_embedded_store(&config.data_dir).unwrap());
        let access = Arc::new(amanah_gateway::access::AccessControl::new(
            &config,
            store.clone(),
        ));
        let users = amanah_gateway::user_service(&config, store, access).unwrap();
        let password = amanah_crypto::SecretString::new(password.to_owned());
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(users.complete_setup(
                username,
                token,
                &password,
                amanah_gateway::keys::now_unix(),
            ))
            .unwrap();
    }
}

fn status_of(cli: &Cli, username: &str) -> String {
    cli.json(&["users", "show", username, "--json"])["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn now() -> i64 {
    amanah_gateway::keys::now_unix()
}

/// Every file under `dir`, read whole.
fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(all_bytes(&path));
        } else {
            out.extend(std::fs::read(&path).unwrap());
        }
    }
    out
}

#[test]
fn users_lifecycle_through_the_cli() {
    let cli = Cli::new();
    let created = cli.json(&["users", "create", "Alice", "--role", "viewer", "--json"]);
    let first_token = created["setup_token"].as_str().unwrap().to_owned();
    assert!(
        first_token.starts_with("amsetup_") && first_token.len() > 40,
        "{first_token}"
    );
    let user = &created["user"];
    assert_eq!(user["username"], "alice", "usernames are lowercased");
    assert_eq!(user["status"], "pending_setup");
    assert_eq!(user["roles"], serde_json::json!(["viewer"]));
    assert!(user["setup_token"].is_null() && user.get("password_hash").is_none());
    let id = user["id"].as_str().unwrap().to_owned();

    cli.fails(
        &["users", "create", "alice", "--role", "viewer"],
        "this username is taken",
    );
    cli.fails(
        &["users", "create", "carol", "--role", "auditor"],
        "no role named `auditor`",
    );
    cli.fails(
        &["users", "create", "not a name", "--role", "viewer"],
        "invalid username",
    );

    let list = cli.json(&["users", "list", "--json"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    let shown = cli.json(&["users", "show", "ALICE", "--json"]);
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["status"], "pending_setup");
    let run = cli.run(&["users", "list"]);
    assert!(
        run.ok && run.all.contains("alice") && run.all.contains(&id),
        "{}",
        run.all
    );

    // Unknown users: a clear message and a failing exit code, everywhere.
    for cmd in [
        "show",
        "disable",
        "enable",
        "lock",
        "unlock",
        "reset-password",
        "reset-mfa",
        "revoke-sessions",
    ] {
        cli.fails(&["users", cmd, "nobody"], "no such user `nobody`");
    }
    cli.fails(
        &["users", "set-roles", "nobody", "--role", "viewer"],
        "no such user",
    );

    // Roles must exist in the policy.
    cli.fails(
        &["users", "set-roles", "alice", "--role", "nope"],
        "no role named `nope`",
    );
    assert_eq!(
        cli.json(&["users", "show", "alice", "--json"])["roles"],
        serde_json::json!(["viewer"])
    );
    let updated = cli.json(&[
        "users",
        "set-roles",
        "alice",
        "--role",
        "viewer",
        "--role",
        "analyst",
        "--json",
    ]);
    assert_eq!(updated["roles"], serde_json::json!(["viewer", "analyst"]));

    // Once the password is set the account is active and can be locked.
    cli.complete_setup("alice", &first_token, "Quiet-Harbour-Lantern-1987");
    assert_eq!(status_of(&cli, "alice"), "active");

    let before = now();
    let locked = cli.json(&["users", "lock", "alice", "--for", "1h", "--json"]);
    assert_eq!(locked["username"], "alice");
    assert_eq!(locked["status"], "locked");
    let until = locked["locked_until"].as_i64().unwrap();
    assert!(
        (before + 3600..=now() + 3600).contains(&until),
        "{until} vs {before}"
    );
    assert_eq!(status_of(&cli, "alice"), "locked");
    let unlocked = cli.json(&["users", "unlock", "alice", "--json"]);
    assert_eq!(unlocked["status"], "active");
    assert!(unlocked["locked_until"].is_null());
    assert_eq!(status_of(&cli, "alice"), "active");
    // The default lock lasts a day.
    let before = now();
    let locked = cli.json(&["users", "lock", "alice", "--json"]);
    let until = locked["locked_until"].as_i64().unwrap();
    assert!(
        (before + 86_400..=now() + 86_400).contains(&until),
        "{until}"
    );
    let run = cli.run(&["users", "unlock", "alice"]);
    assert!(
        run.ok && run.all.contains("unlocked user alice"),
        "{}",
        run.all
    );
    cli.fails(&["users", "lock", "alice", "--for", "0s"], "at least 1s");
    cli.fails(
        &["users", "lock", "alice", "--for", "soon"],
        "not a duration",
    );

    let disabled = cli.json(&["users", "disable", "alice", "--json"]);
    assert_eq!(disabled["status"], "disabled");
    assert_eq!(status_of(&cli, "alice"), "disabled");
    let enabled = cli.json(&["users", "enable", "alice", "--json"]);
    assert_eq!(enabled["status"], "active");

    let revoked = cli.json(&["users", "revoke-sessions", "alice", "--json"]);
    assert_eq!(revoked["revoked_sessions"], 0);
    let reset = cli.json(&["users", "reset-mfa", "alice", "--json"]);
    assert_eq!(reset["mfa_enabled"], false);

    // A forgotten password: a new token, and the account waits for setup.
    let reset = cli.json(&["users", "reset-password", "alice", "--json"]);
    let second_token = reset["setup_token"].as_str().unwrap().to_owned();
    assert!(second_token.starts_with("amsetup_"), "{second_token}");
    assert_ne!(second_token, first_token);
    assert_eq!(reset["username"], "alice");
    assert_eq!(status_of(&cli, "alice"), "pending_setup");

    // The human form prints the token once, with what to do with it.
    let run = cli.run(&["users", "create", "bob", "--role", "viewer"]);
    assert!(run.ok, "{}", run.all);
    let third_token = run
        .stdout
        .split_whitespace()
        .find(|w| w.starts_with("amsetup_"))
        .expect("a setup token")
        .to_owned();
    assert_eq!(
        run.stdout.matches(&third_token).count(),
        1,
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("shown once") && run.stdout.contains("POST /admin/v1/setup"),
        "{}",
        run.stdout
    );
    let run = cli.run(&["users", "show", "bob"]);
    assert!(run.ok && run.all.contains("pending_setup"), "{}", run.all);

    // Setup tokens appear where they were issued and nowhere else: not in
    // any other output, not in the store (which keeps only keyed tags).
    let issued = [
        "users create Alice",
        "users reset-password alice",
        "users create bob --role viewer",
    ];
    for (args, output) in cli.outputs.borrow().iter() {
        if issued.iter().any(|i| args.starts_with(i)) {
            continue;
        }
        for token in [&first_token, &second_token, &third_token] {
            assert!(
                !output.contains(token.as_str()),
                "`{args}` printed a setup token"
            );
            assert!(
                !output.contains(&token[8..]),
                "`{args}` printed a setup token"
            );
        }
    }
    let stored = all_bytes(&cli.data);
    for token in [&first_token, &second_token, &third_token] {
        assert!(
            !stored
                .windows(token.len() - 8)
                .any(|w| w == &token.as_bytes()[8..]),
            "a setup token is stored in the clear"
        );
    }
}

#[test]
fn roles_lifecycle_through_the_cli() {
    let cli = Cli::new();
    let roles = cli.json(&["roles", "list", "--json"]);
    let viewer = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "viewer")
        .expect("viewer is predefined");
    assert_eq!(viewer["source"], "predefined");

    let role = cli.json(&[
        "roles",
        "put",
        "reader-plus",
        "--permission",
        "llm:invoke",
        "--inherits",
        "viewer",
        "--description",
        "Reads everything, calls models",
        "--json",
    ]);
    assert_eq!(role["name"], "reader-plus");
    assert_eq!(role["source"], "custom");
    assert_eq!(role["inherits"], serde_json::json!(["viewer"]));
    assert_eq!(role["permissions"], serde_json::json!(["llm:invoke"]));
    assert_eq!(
        role["effective_permissions"],
        serde_json::json!(["*:read", "llm:invoke"])
    );
    assert_eq!(role["description"], "Reads everything, calls models");

    let ops = cli.json(&[
        "roles",
        "put",
        "ops",
        "--inherits",
        "reader-plus",
        "--permission",
        "grants:write",
        "--json",
    ]);
    let effective = ops["effective_permissions"].as_array().unwrap();
    for p in ["*:read", "llm:invoke", "grants:write"] {
        assert!(effective.iter().any(|e| e == p), "{p} missing: {ops}");
    }

    // A cycle is refused and nothing changes.
    cli.fails(
        &[
            "roles",
            "put",
            "reader-plus",
            "--permission",
            "llm:invoke",
            "--inherits",
            "ops",
        ],
        "cycle",
    );
    let shown = cli.json(&["roles", "show", "reader-plus", "--json"]);
    assert_eq!(shown["inherits"], serde_json::json!(["viewer"]));
    cli.fails(
        &["roles", "put", "x", "--inherits", "nobody"],
        "inherits unknown role `nobody`",
    );
    cli.fails(
        &["roles", "put", "x", "--permission", "no-colon"],
        "not a valid permission",
    );
    cli.fails(
        &["roles", "put", "viewer", "--permission", "llm:invoke"],
        "predefined",
    );
    cli.fails(&["roles", "put", "x"], "--permission");

    // Replacing keeps the name and changes the rest.
    let replaced = cli.json(&[
        "roles",
        "put",
        "reader-plus",
        "--permission",
        "records:read",
        "--json",
    ]);
    assert_eq!(replaced["inherits"], serde_json::json!([]));
    assert_eq!(replaced["description"], "");
    let run = cli.run(&["roles", "list"]);
    assert!(
        run.ok && run.all.contains("reader-plus") && run.all.contains("custom"),
        "{}",
        run.all
    );

    cli.fails(
        &["roles", "delete", "reader-plus"],
        "role `ops` inherits `reader-plus`",
    );
    cli.fails(&["roles", "delete", "viewer"], "predefined");
    let deleted = cli.json(&["roles", "delete", "ops", "--json"]);
    assert_eq!(deleted["deleted"], true);
    let run = cli.run(&["roles", "delete", "reader-plus"]);
    assert!(run.ok, "{}", run.all);
    cli.fails(&["roles", "delete", "reader-plus"], "no custom role named");
    cli.fails(&["roles", "show", "ops"], "no role named `ops`");
    let names: Vec<Value> = cli
        .json(&["roles", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].clone())
        .collect();
    assert!(!names.contains(&"ops".into()) && names.contains(&"viewer".into()));
}

#[test]
fn grants_lifecycle_through_the_cli() {
    let cli = Cli::new();
    let user = cli.json(&["users", "create", "dana", "--role", "viewer", "--json"]);
    let user_id = user["user"]["id"].as_str().unwrap().to_owned();
    let key = cli.json(&[
        "keys", "create", "--name", "bot", "--role", "viewer", "--json",
    ]);
    let key_id = key["id"].as_str().unwrap().to_owned();
    let user_p = format!("user:{user_id}");
    let key_p = format!("key:{key_id}");

    let temporary = cli.json(&[
        "grants",
        "add",
        "--principal",
        &user_p,
        "--role",
        "analyst",
        "--for",
        "2h",
        "--json",
    ]);
    assert_eq!(temporary["principal"], user_p.as_str());
    assert_eq!(temporary["role"], "analyst");
    assert_eq!(temporary["status"], "active");
    assert_eq!(temporary["created_by"], "cli");
    assert!(temporary["not_before"].is_null());
    // RFC 3339 in UTC compares as text.
    assert!(
        temporary["not_after"].as_str().unwrap() > temporary["created_at"].as_str().unwrap(),
        "{temporary}"
    );
    let temporary_id = temporary["id"].as_str().unwrap().to_owned();

    // --for counts from --not-before; offsets are honoured.
    let scheduled = cli.json(&[
        "grants",
        "add",
        "--principal",
        &user_p,
        "--role",
        "contributor",
        "--not-before",
        "2030-01-01T02:00:00+02:00",
        "--for",
        "1d",
        "--json",
    ]);
    assert_eq!(scheduled["not_before"], "2030-01-01T00:00:00Z");
    assert_eq!(scheduled["not_after"], "2030-01-02T00:00:00Z");
    assert_eq!(scheduled["status"], "scheduled");

    let for_key = cli.json(&[
        "grants",
        "add",
        "--principal",
        &key_p,
        "--role",
        "contributor",
        "--not-after",
        "4102444800",
        "--json",
    ]);
    assert_eq!(for_key["not_after"], "2100-01-01T00:00:00Z");

    let ids = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|g| g["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let of_user = cli.json(&["grants", "list", "--principal", &user_p, "--json"]);
    assert_eq!(ids(&of_user).len(), 2);
    assert!(of_user
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["principal"] == user_p.as_str()));
    let of_key = cli.json(&["grants", "list", "--principal", &key_p, "--json"]);
    assert_eq!(ids(&of_key), [for_key["id"].as_str().unwrap()]);
    assert_eq!(ids(&cli.json(&["grants", "list", "--json"])).len(), 3);
    let run = cli.run(&["grants", "list"]);
    assert!(
        run.ok && run.all.contains(&temporary_id) && run.all.contains("scheduled"),
        "{}",
        run.all
    );

    // Mistakes are refused with the reason.
    cli.fails(
        &[
            "grants",
            "add",
            "--principal",
            "user:dana",
            "--role",
            "analyst",
        ],
        &format!("user:{user_id}"),
    );
    cli.fails(
        &[
            "grants",
            "add",
            "--principal",
            "key:ffffffff",
            "--role",
            "analyst",
        ],
        "no key with id `ffffffff`",
    );
    cli.fails(
        &["grants", "add", "--principal", "dana", "--role", "analyst"],
        "key:<id> or user:<id>",
    );
    cli.fails(
        &["grants", "add", "--principal", &user_p, "--role", "nope"],
        "no role named `nope`",
    );
    cli.fails(
        &[
            "grants",
            "add",
            "--principal",
            &user_p,
            "--role",
            "analyst",
            "--for",
            "1h",
            "--not-after",
            "2030-01-01T00:00:00Z",
        ],
        "cannot be used with",
    );
    cli.fails(
        &[
            "grants",
            "add",
            "--principal",
            &user_p,
            "--role",
            "analyst",
            "--not-before",
            "2030-01-02T00:00:00Z",
            "--not-after",
            "2030-01-01T00:00:00Z",
        ],
        "not_after must be later than not_before",
    );
    cli.fails(
        &[
            "grants",
            "add",
            "--principal",
            &user_p,
            "--role",
            "analyst",
            "--not-before",
            "next tuesday",
        ],
        "not a time",
    );

    let revoked = cli.json(&["grants", "revoke", &temporary_id, "--json"]);
    assert_eq!(revoked["revoked"], true);
    let of_user = cli.json(&["grants", "list", "--principal", &user_p, "--json"]);
    assert_eq!(ids(&of_user), [scheduled["id"].as_str().unwrap()]);
    cli.fails(&["grants", "revoke", &temporary_id], "no grant with id");
}
