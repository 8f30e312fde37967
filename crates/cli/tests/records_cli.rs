//! `amanah records`, `amanah subjects` and `amanah keyring` through the
//! binary, on a fresh data directory: records stored redacted and
//! encrypted, erased with their key, exported; master keys rotated,
//! rewrapped and retired.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `amanah ARGS --data-dir DIR`, with `input` on standard input.
fn amanah(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_amanah"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("AMANAH_CONFIG")
        .env_remove("AMANAH_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn files_hold(dir: &Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| {
        std::fs::read(e.unwrap().path()).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
    })
}

#[test]
fn records_put_get_list_erase_export() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let marker = "CLI-MARKER-q81";
    let input = format!("{marker} reach me at jo.doe@example.net\n");
    let id = ok(&amanah(
        &dir,
        &[
            "records",
            "put",
            "--subject",
            "s-1",
            "--kind",
            "transcript",
            "-",
        ],
        input.as_bytes(),
    ))
    .trim()
    .to_owned();
    assert!(id.starts_with("rec_"), "{id}");
    let json_id = ok(&amanah(
        &dir,
        &[
            "records",
            "put",
            "--subject",
            "s-1",
            "--kind",
            "document",
            "--json",
            "-",
        ],
        b"second",
    ));
    let json_id: serde_json::Value = serde_json::from_str(&json_id).unwrap();
    assert!(json_id["id"].as_str().unwrap().starts_with("rec_"));

    // Stored redacted, encrypted: neither the text nor the address is on disk.
    let got = ok(&amanah(&dir, &["records", "get", &id], b""));
    assert!(
        got.starts_with(marker) && got.contains("<EMAIL_ADDRESS>"),
        "{got}"
    );
    assert!(!files_hold(&dir, marker.as_bytes()));
    assert!(!files_hold(&dir, b"jo.doe@example.net"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("root.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "root.key mode {mode:o}");
    }

    let listed: serde_json::Value = serde_json::from_str(&ok(&amanah(
        &dir,
        &["records", "list", "--subject", "s-1", "--json"],
        b"",
    )))
    .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);

    let export: serde_json::Value =
        serde_json::from_str(&ok(&amanah(&dir, &["subjects", "export", "s-1"], b""))).unwrap();
    assert_eq!(export["records"].as_array().unwrap().len(), 2);

    // An unknown kind is refused with the fix.
    let out = amanah(
        &dir,
        &[
            "records",
            "put",
            "--subject",
            "s-1",
            "--kind",
            "mystery",
            "-",
        ],
        b"x",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("[records.retention]"));

    let receipt: serde_json::Value = serde_json::from_str(&ok(&amanah(
        &dir,
        &["subjects", "erase", "s-1", "--json"],
        b"",
    )))
    .unwrap();
    assert_eq!(receipt["key_destroyed"], true);
    assert_eq!(receipt["records_deleted"].as_array().unwrap().len(), 2);
    let out = amanah(&dir, &["records", "get", &id], b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no record"));
}

#[test]
fn keyring_rotate_rewrap_retire() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let id = ok(&amanah(
        &dir,
        &[
            "records",
            "put",
            "--subject",
            "s-2",
            "--kind",
            "document",
            "-",
        ],
        b"kept across rotations",
    ))
    .trim()
    .to_owned();
    let status: serde_json::Value =
        serde_json::from_str(&ok(&amanah(&dir, &["keyring", "status", "--json"], b""))).unwrap();
    assert_eq!(status["current"], 1);
    let rotated: serde_json::Value =
        serde_json::from_str(&ok(&amanah(&dir, &["keyring", "rotate", "--json"], b""))).unwrap();
    assert_eq!(rotated["current"], 2);
    // Retiring version 1 is refused while a data key hangs on it.
    let out = amanah(&dir, &["keyring", "retire", "2"], b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("rewrap"));
    let rewrapped: serde_json::Value =
        serde_json::from_str(&ok(&amanah(&dir, &["keyring", "rewrap", "--json"], b""))).unwrap();
    assert_eq!(rewrapped["rewrapped"], 1);
    ok(&amanah(&dir, &["keyring", "retire", "2"], b""));
    let status: serde_json::Value =
        serde_json::from_str(&ok(&amanah(&dir, &["keyring", "status", "--json"], b""))).unwrap();
    assert_eq!(status["min_decryption_version"], 2);
    assert_eq!(
        ok(&amanah(&dir, &["records", "get", &id], b"")),
        "kept across rotations"
    );
}

#[test]
fn sweep_reports_what_expired_and_spares_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    // Expire at once: a retention of one second, then wait it out.
    let config = tmp.path().join("amanah.toml");
    std::fs::write(&config, "[records.retention]\nflash = 1\n").unwrap();
    let put = |hold: bool| {
        let out = Command::new(env!("CARGO_BIN_EXE_amanah"))
            .args([
                "records",
                "put",
                "--subject",
                "s-3",
                "--kind",
                "flash",
                "--config",
            ])
            .arg(&config)
            .arg("--data-dir")
            .arg(&dir)
            .arg("-")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let id = ok(&out).trim().to_owned();
        if hold {
            ok(&run_with_config(&dir, &config, &["records", "hold", &id]));
        }
        id
    };
    let gone = put(false);
    let held = put(true);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let report: serde_json::Value = serde_json::from_str(&ok(&run_with_config(
        &dir,
        &config,
        &["records", "sweep", "--json"],
    )))
    .unwrap();
    let ids: Vec<&str> = report["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [gone.as_str()]);
    let listed = ok(&run_with_config(
        &dir,
        &config,
        &["records", "list", "--subject", "s-3", "--json"],
    ));
    assert!(listed.contains(&held) && !listed.contains(&gone));
}

fn run_with_config(dir: &Path, config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_amanah"))
        .args(args)
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}
