//! `amanah pii detect` and `amanah redact` through the binary: the
//! scorer's format, code-point offsets, a clear error on a bad line, and
//! what redaction writes.

use std::io::Write;
use std::process::{Command, Stdio};

/// `amanah ARGS`, with `input` on standard input.
fn amanah(args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_amanah"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn detect(input: &str) -> std::process::Output {
    amanah(&["pii", "detect", "--input", "-", "--output", "-"], input)
}

#[test]
fn detect_writes_code_point_spans_per_line() {
    let out = detect(
        "{\"id\":\"a\",\"text\":\"Zoë turned 41 on 2024-01-02.\"}\n\n{\"id\":7,\"text\":\"nothing here\"}\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "a");
    let spans = lines[0]["spans"].as_array().unwrap();
    let labels: Vec<(&str, u64, u64)> = spans
        .iter()
        .map(|s| {
            (
                s["label"].as_str().unwrap(),
                s["start"].as_u64().unwrap(),
                s["end"].as_u64().unwrap(),
            )
        })
        .collect();
    // "Zoë" is three code points and four bytes: the offsets after it show which.
    assert_eq!(
        labels,
        [("PERSON", 0, 3), ("AGE", 11, 13), ("DATE_TIME", 17, 27)]
    );
    assert_eq!(lines[1]["id"], 7);
    assert_eq!(lines[1]["spans"], serde_json::json!([]));
}

#[test]
fn a_bad_line_stops_the_run_naming_it() {
    let out = detect("{\"id\":\"a\",\"text\":\"ok\"}\n{\"id\":\"b\"}\n");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
}

fn redact(args: &[&str], input: &str) -> std::process::Output {
    amanah(&[&["redact"], args].concat(), input)
}

const LETTER: &str = "Write to maria.gonzalez@example.org or maria.gonzalez@example.org, \
card 4111 1111 1111 1111, key AKIAIOSFODNN7EXAMPLE.\n";

#[test]
fn redact_replaces_values_in_every_mode_and_never_prints_them() {
    let cases = [
        (
            "redact",
            "Write to <EMAIL_ADDRESS> or <EMAIL_ADDRESS>, card <CREDIT_CARD>, key <SECRET>.\n",
        ),
        (
            "mask",
            "Write to *****.********@*******.*** or *****.********@*******.***, \
card **** **** **** 1111, key ********************.\n",
        ),
        (
            "pseudonymize",
            "Write to <EMAIL_ADDRESS_1> or <EMAIL_ADDRESS_1>, card <CREDIT_CARD_1>, key <SECRET_1>.\n",
        ),
    ];
    for (mode, want) in cases {
        let out = redact(&["--mode", mode], LETTER);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8(out.stdout).unwrap(), want, "{mode}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            err.trim(),
            "4 replaced: CREDIT_CARD 1, EMAIL_ADDRESS 2, SECRET 1"
        );
    }
}

#[test]
fn redact_reads_files_narrows_types_and_speaks_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("letter.txt");
    std::fs::write(&path, LETTER).unwrap();
    let out = redact(&["--types", "secret", "--json", path.to_str().unwrap()], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["replaced"], serde_json::json!({"SECRET": 1}));
    let text = v["text"].as_str().unwrap();
    assert!(text.contains("maria.gonzalez@example.org") && !text.contains("AKIA"));

    let out = redact(&["--types", "EMAIL"], LETTER);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an entity type"));
    let out = redact(&[dir.path().join("missing").to_str().unwrap()], "");
    assert!(!out.status.success());
}
