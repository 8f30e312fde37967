//! The `amanah` binary, run as a user runs it: start-up refusals,
//! `config check`, the key lifecycle and `demo` driven with curl. Every
//! process's output is scanned for the secrets it handled.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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

fn write_private(path: &Path, value: &str) {
    std::fs::write(path, value).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

fn write_config(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("amanah.toml");
    std::fs::write(&p, body).unwrap();
    p
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `serve` must refuse, with the message naming the problem and its fix.
fn assert_refused(config_body: &str, setup: impl FnOnce(&Path), expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let cfg = write_config(dir.path(), config_body);
    let mut cmd = amanah();
    cmd.args(["serve", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path().join("data"));
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    let all = text(&out);
    assert!(
        !out.status.success(),
        "serve started with:\n{config_body}\n{all}"
    );
    for e in expect {
        assert!(all.contains(e), "missing {e:?} in:\n{all}");
    }
    assert!(all.contains("fix:"), "{all}");
}

#[test]
fn startup_refuses_a_public_address_without_opt_in_and_tls() {
    assert_refused(
        "[server]\nlisten = \"0.0.0.0:0\"\n",
        |_| {},
        &["server.listen", "allow_public"],
    );
    assert_refused(
        "[server]\nlisten = \"0.0.0.0:0\"\nallow_public = true\n",
        |_| {},
        &["server.listen", "TLS"],
    );
}

#[test]
fn startup_refuses_short_and_example_secrets() {
    assert_refused(
        "[keys]\nhmac_secret = { file = \"short.key\" }\n",
        |d| write_private(&d.join("short.key"), "only-20-characters!!"),
        &["keys.hmac_secret", "shorter than 32"],
    );
    for example in amanah_gateway::config::EXAMPLE_SECRETS {
        let example = example.to_string();
        assert_refused(
            "[keys]\nhmac_secret = { file = \"ex.key\" }\n",
            |d| write_private(&d.join("ex.key"), &example),
            &["keys.hmac_secret", "examples"],
        );
    }
    // The same refusal for a provider credential from the environment.
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "[providers.p]\nbase_url = \"https://x.example/v1\"\ncredential = { env = \"PROVIDER_KEY\" }\n",
    );
    let out = amanah()
        .args(["serve", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("PROVIDER_KEY", "sk-short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let all = text(&out);
    assert!(
        all.contains("providers.p.credential") && all.contains("shorter than 32"),
        "{all}"
    );
    assert!(!all.contains("sk-short"), "a secret was echoed: {all}");
}

#[test]
fn startup_refuses_unknown_keys() {
    assert_refused(
        "[server]\nlisen = \"127.0.0.1:8080\"\n",
        |_| {},
        &["server.lisen", "unknown key"],
    );
}

#[test]
fn config_check_passes_a_good_file_and_lists_every_problem_in_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    write_private(&dir.path().join("hmac.key"), &"k".repeat(48));
    let good = write_config(
        dir.path(),
        &format!(
            "data_dir = \"{}\"\n[keys]\nhmac_secret = {{ file = \"{}\" }}\n[providers.p]\nbase_url = \"https://api.example.com/v1\"\n[[routes]]\nname = \"chat\"\npath_prefix = \"/v1\"\nmethods = [\"POST\"]\nprovider = \"p\"\n",
            dir.path().join("data").display(),
            dir.path().join("hmac.key").display()
        ),
    );
    let out = amanah()
        .args(["config", "check", "--config"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("configuration ok"));
    assert!(
        !dir.path().join("data").exists(),
        "config check must not create anything"
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[server]\nlisten = \"0.0.0.0:80\"\ntimeout = 3\n[cors]\nallowed_origins = [\"*\"]\nallow_credentials = true\n").unwrap();
    let out = amanah()
        .args(["config", "check", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let all = text(&out);
    for expected in [
        "server.timeout",
        "server.listen",
        "cors.allowed_origins[0]",
        "3 problem(s)",
    ] {
        assert!(all.contains(expected), "missing {expected} in:\n{all}");
    }
    assert_eq!(all.matches("fix:").count(), 3, "{all}");

    let out = amanah()
        .args(["config", "check", "--config"])
        .arg(dir.path().join("missing.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("cannot read the configuration file"));
}

#[test]
fn env_overrides_reach_config_check() {
    let out = amanah()
        .args(["config", "check"])
        .env("AMANAH_SERVER__LISTEN", "0.0.0.0:8080")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("server.listen"), "{}", text(&out));
    let out = amanah()
        .args(["config", "check"])
        .env("AMANAH_SERVER__LISEN", "x")
        .output()
        .unwrap();
    assert!(
        text(&out).contains("AMANAH_SERVER__LISEN"),
        "{}",
        text(&out)
    );
}

#[test]
fn keys_lifecycle_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        let out = amanah()
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap();
        (
            out.status.success(),
            text(&out),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, all, stdout) = run(&[
        "keys",
        "create",
        "--name",
        "ci bot",
        "--role",
        "contributor",
        "--role",
        "viewer",
        "--expires",
        "30d",
        "--json",
    ]);
    assert!(ok, "{all}");
    let created: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(
        key.starts_with(&format!("amk_{id}_")) && key.len() == 53,
        "{key}"
    );

    let (ok, all, stdout) = run(&["keys", "list", "--json"]);
    assert!(ok, "{all}");
    assert!(!all.contains(&key[13..]), "list shows the secret");
    let list: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(
        list[0]["key"],
        format!("amk_{id}_…{}", &key[key.len() - 4..]).as_str()
    );
    assert_eq!(list[0]["status"], "active");
    assert_eq!(
        list[0]["roles"],
        serde_json::json!(["contributor", "viewer"])
    );

    let (ok, all, _) = run(&["keys", "list"]);
    assert!(
        ok && all.contains("ci bot") && !all.contains(&key[13..]),
        "{all}"
    );

    let (ok, all, _) = run(&["keys", "revoke", &id]);
    assert!(ok && all.contains("revoked"), "{all}");
    let (_, _, stdout) = run(&["keys", "list", "--json"]);
    assert!(stdout.contains("\"revoked\""), "{stdout}");
    let (ok, _, _) = run(&["keys", "revoke", "ffffffff"]);
    assert!(!ok, "revoking an unknown key must fail");

    let (ok, all, _) = run(&["keys", "create", "--name", "x", "--role", "Bad Role"]);
    assert!(!ok && all.contains("no role named `Bad Role`"), "{all}");
    let (ok, all, _) = run(&["keys", "create", "--name", "x", "--role", "auditor"]);
    assert!(!ok && all.contains("no role named `auditor`"), "{all}");
    let (ok, all, _) = run(&[
        "keys", "create", "--name", "x", "--role", "viewer", "--scope", "nope",
    ]);
    assert!(!ok && all.contains("no route named `nope`"), "{all}");

    // A service key: one live key per instance; rotation hands the slot on.
    let service = |extra: &[&str]| {
        let mut args = vec![
            "keys",
            "create",
            "--name",
            "ingest",
            "--role",
            "contributor",
            "--service",
            "ingest",
            "--instance",
            "eu-1",
            "--json",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let (ok, all, stdout) = service(&[]);
    assert!(ok, "{all}");
    let svc: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(svc["instance"], "eu-1");
    let svc_id = svc["id"].as_str().unwrap().to_owned();
    let (ok, all, _) = service(&[]);
    assert!(
        !ok && all.contains("already exists for this service instance"),
        "{all}"
    );

    let (ok, all, stdout) = run(&["keys", "rotate", &svc_id, "--grace", "1h", "--json"]);
    assert!(ok, "{all}");
    let rotated: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(rotated["replaces"], svc_id.as_str());
    assert!(rotated["revoked_successor"].is_null());
    let first_successor = rotated["id"].as_str().unwrap().to_owned();
    // The retry of a rotation whose answer was lost.
    let (ok, all, stdout) = run(&["keys", "rotate", &svc_id, "--json"]);
    assert!(ok, "{all}");
    let retried: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(retried["revoked_successor"], first_successor.as_str());
    assert_eq!(
        retried["old_key_expires_at"], rotated["old_key_expires_at"],
        "a retry does not restart the grace period"
    );
    let (_, _, stdout) = run(&["keys", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let status = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == id)
            .map(|k| k["status"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(status(&svc_id), "grace");
    assert_eq!(status(&first_successor), "revoked");
    assert_eq!(status(retried["id"].as_str().unwrap()), "active");
    let (ok, all, _) = run(&["keys", "rotate", &first_successor]);
    assert!(!ok && all.contains("revoked or expired"), "{all}");
    let (ok, all, _) = run(&[
        "keys",
        "create",
        "--name",
        "x",
        "--role",
        "viewer",
        "--expires",
        "soon",
    ]);
    assert!(!ok && all.contains("not a duration"), "{all}");
}

struct Demo {
    child: Child,
    stdout: String,
    stderr_path: PathBuf,
    port: u16,
    admin_port: u16,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_demo(dir: &Path, extra: &[&str]) -> Demo {
    start_demo_with_env(dir, extra, &[])
}

fn start_demo_with_env(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Demo {
    let port = free_port();
    let admin_port = free_port();
    let stderr_path = dir.join("demo.stderr");
    let mut child = amanah()
        .args([
            "demo",
            "--port",
            &port.to_string(),
            "--admin-port",
            &admin_port.to_string(),
            "--data-dir",
        ])
        .arg(dir.join("data"))
        .args(extra)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut stdout = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !stdout.contains("Press Ctrl-C") {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || Instant::now() > deadline {
            panic!(
                "demo did not start:\n{stdout}\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        stdout.push_str(&line);
    }
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = reader.read_to_string(&mut sink);
    });
    Demo {
        child,
        stdout,
        stderr_path,
        port,
        admin_port,
    }
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl is installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn demo_works_as_the_readme_says() {
    let dir = tempfile::tempdir().unwrap();
    let demo = start_demo(dir.path(), &[]);
    let key = demo_key(&demo);
    let base = format!("http://127.0.0.1:{}", demo.port);
    let auth = format!("Authorization: Bearer {key}");

    let answer = curl(&[
        &format!("{base}/v1/chat/completions"),
        "-H",
        &auth,
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"model":"demo","messages":[{"role":"user","content":"Hello from Amanah"}]}"#,
    ]);
    let v: serde_json::Value = serde_json::from_str(&answer).unwrap_or_else(|_| panic!("{answer}"));
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "user: Hello from Amanah"
    );

    // Personal data: the model sees placeholders, the client the values.
    let personal = curl(&[
        "-i",
        &format!("{base}/v1/chat/completions"),
        "-H",
        &auth,
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"model":"demo","messages":[{"role":"user","content":"I am Maria Gonzalez, write to maria.gonzalez@example.org"}]}"#,
    ]);
    assert!(
        personal.contains("user: I am Maria Gonzalez, write to maria.gonzalez@example.org"),
        "{personal}"
    );
    assert!(
        personal
            .to_ascii_lowercase()
            .contains("x-amanah-redactions: 2"),
        "{personal}"
    );

    let streamed = curl(&[
        "-N",
        &format!("{base}/v1/chat/completions"),
        "-H",
        &auth,
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"model":"demo","stream":true,"messages":[{"role":"user","content":"Stream this"}]}"#,
    ]);
    assert!(streamed.matches("data: ").count() >= 4, "{streamed}");
    assert!(streamed.trim_end().ends_with("data: [DONE]"), "{streamed}");

    // The record lines of the printed tour work with the demo key.
    let stored = curl(&[
        &format!("{base}/v1/records"),
        "-H",
        &format!("Authorization: Bearer {key}"),
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"subject":"caller-1","kind":"transcript","content":"Caller Maria, maria.gonzalez@example.org"}"#,
    ]);
    let stored: serde_json::Value =
        serde_json::from_str(&stored).unwrap_or_else(|_| panic!("{stored}"));
    assert_eq!(stored["redacted"], true, "{stored}");
    let listed = curl(&[
        &format!("{base}/v1/records?subject=caller-1"),
        "-H",
        &format!("Authorization: Bearer {key}"),
    ]);
    assert!(listed.contains(stored["id"].as_str().unwrap()), "{listed}");
    let denied = curl(&["-i", &format!("{base}/v1/models")]);
    assert!(denied.starts_with("HTTP/1.1 401"), "{denied}");

    let metrics = curl(&[&format!("http://127.0.0.1:{}/metrics", demo.admin_port)]);
    assert!(
        metrics.contains("amanah_requests_total{route=\"chat\",status=\"200\"} 3"),
        "{metrics}"
    );

    // The key works from the CLI's view of the same data directory.
    let out = amanah()
        .args(["keys", "list", "--json", "--data-dir"])
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"demo\""));

    // Nothing the demo logged contains the key.
    let stderr = std::fs::read_to_string(&demo.stderr_path).unwrap();
    assert!(
        stderr.contains("route.name"),
        "access log present: {stderr}"
    );
    assert!(!stderr.contains(&key[13..]), "the demo key reached the log");
    let received = stderr
        .lines()
        .find(|l| l.contains("the model received") && l.contains("write to"))
        .unwrap_or_else(|| panic!("no model log line: {stderr}"));
    assert!(received.contains("<EMAIL_ADDRESS_1>"), "{received}");
    assert!(received.contains("<PERSON_1>"), "{received}");
    assert!(!stderr.contains("maria.gonzalez@example.org"), "{stderr}");
    assert_eq!(
        demo.stdout.matches(&key).count(),
        2,
        "the key is printed once (and in the export line)"
    );
}

fn demo_key(demo: &Demo) -> String {
    demo.stdout
        .split_whitespace()
        .find(|w| w.starts_with("amk_"))
        .expect("demo printed a key")
        .trim_matches('\'')
        .to_owned()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn demo_upstream_flag_replaces_the_mock() {
    let model_port = free_port();
    let _model = Killed(
        amanah()
            .args([
                "mock-upstream",
                "--listen",
                &format!("127.0.0.1:{model_port}"),
                "--chunk-delay-ms",
                "0",
            ])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let upstream = format!("http://127.0.0.1:{model_port}/v1");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", model_port)).is_err() {
        assert!(Instant::now() < deadline, "mock-upstream did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let dir = tempfile::tempdir().unwrap();
    let demo = start_demo(dir.path(), &["--upstream", &upstream]);
    assert!(demo.stdout.contains(&upstream), "{}", demo.stdout);
    let key = demo_key(&demo);
    let answer = curl(&[
        &format!("http://127.0.0.1:{}/v1/chat/completions", demo.port),
        "-H",
        &format!("X-API-Key: {key}"),
        "-d",
        r#"{"model":"m","messages":[{"role":"user","content":"via the flag"}]}"#,
    ]);
    assert!(answer.contains("user: via the flag"), "{answer}");
}

/// `config check` judges what `serve` judges: a credential that cannot be
/// sent as a header value is reported by both.
#[test]
fn config_check_refuses_a_credential_that_is_not_a_header_value() {
    let dir = tempfile::tempdir().unwrap();
    write_private(
        &dir.path().join("p.key"),
        &format!("sk-{}\u{1}tail", "a".repeat(40)),
    );
    let cfg = write_config(
        dir.path(),
        "[providers.p]\nbase_url = \"https://x.example/v1\"\ncredential = { file = \"p.key\" }\n",
    );
    for cmd in [&["config", "check"][..], &["serve"][..]] {
        let out = amanah()
            .args(cmd)
            .arg("--config")
            .arg(&cfg)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .output()
            .unwrap();
        let all = text(&out);
        assert!(!out.status.success(), "{cmd:?}: {all}");
        assert!(
            all.contains("providers.p.credential") && all.contains("not allowed in a header"),
            "{cmd:?}: {all}"
        );
        assert!(
            !all.contains("aaaaaaaaaa"),
            "{cmd:?} echoed the secret: {all}"
        );
    }
}

/// One `POST /v1/chat/completions` over a fresh connection: the status and
/// the `x-request-id` of the answer, or `None` when no answer came.
fn chat_once(port: u16, key: &str) -> Option<(u16, String)> {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let body = r#"{"model":"demo","messages":[{"role":"user","content":"hi"}]}"#;
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).ok()?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, _) = answer.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let rid = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("x-request-id")
            .then(|| value.trim().to_owned())
    })?;
    Some((status, rid))
}

fn exported_request_ids(data: &Path) -> std::collections::HashSet<String> {
    let out = amanah()
        .args(["audit", "export", "--json", "--data-dir"])
        .arg(data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["event"]["request_id"].as_str().map(str::to_owned)
        })
        .collect()
}

#[test]
fn kill_9_during_heavy_traffic_loses_no_answered_event() {
    let dir = tempfile::tempdir().unwrap();
    // No request budgets: every request is a model call with its event.
    let mut demo = start_demo_with_env(
        dir.path(),
        &[],
        &[
            ("AMANAH_RATE_LIMITS__PER_PRINCIPAL__REQUESTS", "0"),
            ("AMANAH_RATE_LIMITS__PER_IP__REQUESTS", "0"),
        ],
    );
    let key = demo_key(&demo);
    let port = demo.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..12)
        .map(|_| {
            let (key, stop) = (key.clone(), std::sync::Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut answered = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    match chat_once(port, &key) {
                        Some((200, rid)) => answered.push(rid),
                        Some((status, _)) => panic!("unexpected status {status}"),
                        None => break, // the gateway is gone
                    }
                }
                answered
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    demo.child.kill().unwrap(); // SIGKILL: no shutdown, no final checkpoint
    demo.child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let answered: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(
        answered.len() >= 100,
        "heavy traffic: only {} answers",
        answered.len()
    );

    let data = dir.path().join("data");
    let out = amanah()
        .args(["audit", "verify", "--json", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success(), "the chain verifies: {}", text(&out));
    let logged = exported_request_ids(&data);
    let missing: Vec<_> = answered.iter().filter(|r| !logged.contains(*r)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} answered requests have no audit event: {:?}",
        missing.len(),
        answered.len(),
        &missing[..missing.len().min(5)]
    );
}

#[test]
fn incident_lockdown_revoke_and_report_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let demo = start_demo(dir.path(), &[]);
    let key = demo_key(&demo);
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        let out = amanah()
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .env("USER", "oncall")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let (_, stdout) = (
        0,
        run(&[
            "keys", "create", "--name", "ops", "--role", "admin", "--json",
        ]),
    );
    let admin_key = serde_json::from_str::<serde_json::Value>(stdout.trim()).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(chat_once(demo.port, &key).unwrap().0, 200);

    run(&["incident", "lockdown", "on"]);
    let wait_for = |want: u16, key: &str| {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let status = chat_once(demo.port, key).unwrap().0;
            if status == want || Instant::now() > deadline {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    assert_eq!(
        wait_for(503, &key),
        503,
        "a non-admin is refused in lockdown"
    );
    assert_eq!(
        chat_once(demo.port, &admin_key).unwrap().0,
        200,
        "an admin is served"
    );
    run(&["incident", "lockdown", "off"]);
    assert_eq!(wait_for(200, &key), 200, "served again after lockdown");

    let key_id = key.split('_').nth(1).unwrap().to_owned();
    run(&["incident", "revoke", "--key", &key_id]);
    assert_eq!(wait_for(401, &key), 401, "a revoked key is refused");

    let report = run(&["incident", "report", "--since", "1h", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert!(
        report["actors"][format!("key:{key_id}")]["events"]
            .as_u64()
            .unwrap()
            >= 2
    );
    let changes: Vec<String> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["actor"].as_str().unwrap(),
                c["action"].as_str().unwrap()
            )
        })
        .collect();
    // The actor is the process's real account, whatever $USER says.
    let me = cli_user();
    for want in [
        format!("{me} incident.lockdown"),
        format!("{me} incident.revoke"),
    ] {
        assert!(changes.contains(&want), "{want} not in {changes:?}");
    }
    assert!(!changes.iter().any(|c| c.contains("oncall")), "{changes:?}");
    let out = amanah()
        .args(["audit", "verify", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "CLI events join the chain: {}",
        text(&out)
    );
    drop(demo);
}

#[test]
fn changes_made_from_the_cli_are_in_the_audit_chain() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        let out = amanah()
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .env("USER", "tester")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let created = run(&[
        "keys", "create", "--name", "bot", "--role", "admin", "--json",
    ]);
    let id = serde_json::from_str::<serde_json::Value>(created.trim()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run(&["keys", "revoke", &id]);
    let subject = "erin.cli@example.com";
    let record = dir.path().join("note.txt");
    std::fs::write(&record, "call notes").unwrap();
    let put = run(
        &["records", "put", "--subject", subject, "--kind", "document"]
            .iter()
            .copied()
            .chain([record.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    let record_id = put.trim().to_owned();
    run(&["records", "get", &record_id]);
    run(&["subjects", "erase", subject]);

    let export = run(&["audit", "export", "--json"]);
    let events: Vec<serde_json::Value> = export
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event"].clone())
        .collect();
    let seen: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["actor"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["resource"].as_str().unwrap()
            )
        })
        .collect();
    let me = cli_user();
    for want in [
        format!("{me} key.create key:{id}"),
        format!("{me} key.revoke key:{id}"),
        format!("{me} record.put record:{record_id}"),
        format!("{me} record.read record:{record_id}"),
        format!("{me} subject.erase subject"),
    ] {
        assert!(seen.contains(&want), "{want} not in {seen:?}");
    }
    assert_eq!(events[0]["details"]["roles"], "admin");
    assert!(
        !export.contains(subject),
        "subject ids are written only as keyed hashes"
    );
    // No gateway ran, so no checkpoint was signed: the chain is intact but
    // nothing anchors it, which verify reports apart (exit 2).
    let out = amanah()
        .args(["audit", "verify", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not anchored"), "{}", text(&out));
}

/// How the CLI names the account running these tests in audit events.
fn cli_user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    format!("cli:{}", String::from_utf8_lossy(&out.stdout).trim())
}
