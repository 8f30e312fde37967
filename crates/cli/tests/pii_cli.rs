//! `amanah pii detect` through the binary: the scorer's format, code-point
//! offsets, and a clear error on a bad line.

use std::io::Write;
use std::process::{Command, Stdio};

fn detect(input: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_amanah"))
        .args(["pii", "detect", "--input", "-", "--output", "-"])
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
