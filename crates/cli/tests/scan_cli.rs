//! `amanah scan` through the binary, on a folder made for each test: what
//! is walked (.gitignore, hidden files, `.git/`, binaries), where findings
//! are, the three formats, masking everywhere, exit codes. Every secret is
//! fake and assembled at run time from parts, so no secret scanner
//! mistakes this file for a leak.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const ALNUM: &str = "Qm7xK2pL9vR4tZ8wN3bC6yH1jF5dG0sAeUiOk";

/// `n` varied alphanumeric characters, shifted by `seed` (as in the pii tests).
fn alnum(n: usize, seed: usize) -> String {
    ALNUM.chars().cycle().skip(seed).take(n).collect()
}

fn aws_key_id() -> String {
    format!("{}{}", "AK", "IAQZ7XK2MP5VR4TW6N")
}

fn github_token(seed: usize) -> String {
    format!("{}_{}", "ghp", alnum(36, seed))
}

const EMAIL: &str = "jane.doe@example.org";
const CARD: &str = "4111 1111 1111 1111";
const LATIN_EMAIL: &str = "bob.smith@example.com";

fn pem_block() -> String {
    let body = format!("{}\n{}\n{}==", alnum(64, 1), alnum(64, 2), alnum(30, 3));
    format!(
        "-----BEGIN {}-----\n{body}\n-----END PRIVATE KEY-----",
        "PRIVATE KEY"
    )
}

/// Everything that must never be printed in clear.
fn clear_values() -> Vec<String> {
    let mut v = vec![
        EMAIL.to_owned(),
        CARD.to_owned(),
        CARD.replace(' ', ""),
        LATIN_EMAIL.to_owned(),
        aws_key_id(),
        github_token(3),
        github_token(5),
        github_token(7),
        github_token(9),
    ];
    // Each line of the key's body.
    v.extend(pem_block().lines().skip(1).take(3).map(str::to_owned));
    v
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// `proj/` inside a fresh temporary folder:
    ///
    /// - `notes.txt`: an email (line 2), an AWS key id (line 3), a card (line 4)
    /// - `.env`: a token (hidden, scanned)
    /// - `ignored.txt`: a token, listed in `.gitignore` (not scanned)
    /// - `blob.bin`: a NUL and a token (binary, skipped)
    /// - `.git/config`: a token (never entered)
    /// - `sub/deeper/key.pem`: a PEM private key from line 2
    /// - `latin.txt`: Latin-1 bytes before an email (decoded lossily)
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let proj = dir.path().join("proj");
        std::fs::create_dir_all(proj.join("sub/deeper")).unwrap();
        std::fs::create_dir_all(proj.join(".git")).unwrap();
        let write = |rel: &str, body: &[u8]| std::fs::write(proj.join(rel), body).unwrap();
        write(
            "notes.txt",
            format!(
                "hello\ncontact: {EMAIL}\naws id={}\nmy card {CARD}\n",
                aws_key_id()
            )
            .as_bytes(),
        );
        write(".gitignore", b"ignored.txt\n");
        write(
            "ignored.txt",
            format!("GITHUB_TOKEN={}\n", github_token(5)).as_bytes(),
        );
        write(
            ".env",
            format!("GITHUB_TOKEN={}\n", github_token(3)).as_bytes(),
        );
        let mut blob = b"\x00\x01\x02 GITHUB_TOKEN=".to_vec();
        blob.extend_from_slice(github_token(7).as_bytes());
        write("blob.bin", &blob);
        write(
            ".git/config",
            format!("[remote]\n  token = {}\n", github_token(9)).as_bytes(),
        );
        write(
            "sub/deeper/key.pem",
            format!("key:\n{}\n", pem_block()).as_bytes(),
        );
        let mut latin = b"caf\xe9 mail: ".to_vec();
        latin.extend_from_slice(LATIN_EMAIL.as_bytes());
        latin.push(b'\n');
        write("latin.txt", &latin);
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `amanah scan ARGS...` run from the temporary folder.
    fn scan(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_amanah"))
            .arg("scan")
            .args(args)
            .current_dir(self.path())
            .output()
            .unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_no_clear_values(o: &Output) {
    let all = format!("{}{}", stdout(o), stderr(o));
    for v in clear_values() {
        assert!(!all.contains(&v), "clear value {v:?} printed:\n{all}");
    }
    assert!(!all.contains("scanning:"), "progress outside a terminal");
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// `(path, line, column, type)` of every finding in a JSON report.
fn places(report: &Value) -> Vec<(String, u64, u64, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn place(path: &str, line: u64, column: u64, kind: &str) -> (String, u64, u64, String) {
    (path.to_owned(), line, column, kind.to_owned())
}

#[test]
fn json_reports_every_finding_where_it_is_masked() {
    let fx = Fixture::new();
    let out = fx.scan(&["proj", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_no_clear_values(&out);
    let report = json(&out);
    let found = places(&report);
    for expected in [
        place("proj/notes.txt", 2, 10, "EMAIL_ADDRESS"),
        place("proj/notes.txt", 3, 8, "SECRET"),
        place("proj/notes.txt", 4, 9, "CREDIT_CARD"),
        place("proj/.env", 1, 14, "SECRET"),
        place("proj/sub/deeper/key.pem", 2, 1, "SECRET"),
        // "café" decoded lossily: é is one replacement character.
        place("proj/latin.txt", 1, 12, "EMAIL_ADDRESS"),
    ] {
        assert!(found.contains(&expected), "{expected:?} not in {found:?}");
    }
    // Nothing from the ignored file, the binary or .git/.
    let files: std::collections::BTreeSet<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        [
            "proj/.env",
            "proj/latin.txt",
            "proj/notes.txt",
            "proj/sub/deeper/key.pem"
        ]
    );
    // notes, .gitignore, .env, key.pem, latin; blob.bin skipped.
    assert_eq!(report["files_scanned"], 5);
    assert_eq!(report["files_skipped"], 1);

    let findings = report["findings"].as_array().unwrap();
    let by_place = |path: &str, line: u64| {
        findings
            .iter()
            .find(|f| f["path"] == path && f["line"] == line)
            .unwrap()
    };
    let aws = by_place("proj/notes.txt", 3);
    assert_eq!(aws["value_masked"], "********TW6N");
    assert_eq!(aws["end_line"], 3);
    assert_eq!(aws["end_column"], 8 + 20);
    assert_eq!(aws["recognizer"], "aws_access_key_id");
    let score = aws["score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&score), "{score}");
    assert_eq!(
        by_place("proj/notes.txt", 2)["value_masked"],
        "********.org"
    );
    assert_eq!(
        by_place("proj/notes.txt", 4)["value_masked"],
        "********1111"
    );
    // The PEM key is one finding over five lines.
    let pem = by_place("proj/sub/deeper/key.pem", 2);
    assert_eq!(pem["end_line"], 6);
    assert_eq!(pem["end_column"], "-----END PRIVATE KEY-----".len() + 1);
    assert_eq!(pem["recognizer"], "pem_private_key");
    for f in findings {
        for field in ["path", "type", "value_masked", "recognizer"] {
            assert!(f[field].is_string(), "{field} in {f}");
        }
        for field in ["line", "column", "end_line", "end_column"] {
            assert!(f[field].as_u64().unwrap() >= 1, "{field} in {f}");
        }
        assert!(f["value_masked"].as_str().unwrap().starts_with("********"));
    }
}

#[test]
fn table_lists_rows_then_a_summary() {
    let fx = Fixture::new();
    let out = fx.scan(&["proj"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_no_clear_values(&out);
    let text = stdout(&out);
    let row = text
        .lines()
        .find(|l| l.starts_with("proj/notes.txt:3:8 "))
        .unwrap_or_else(|| panic!("no AWS row in:\n{text}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[1..3], ["SECRET", "********TW6N"]);
    assert!(cells[3].parse::<f32>().is_ok(), "{row}");
    assert!(text
        .lines()
        .any(|l| l.starts_with("proj/.env:1:14 ") && l.contains("SECRET")));
    let summary = text.lines().last().unwrap();
    assert!(
        summary.starts_with("5 files scanned, 1 skipped (1 binary"),
        "{summary}"
    );
    assert!(!text.contains("ignored.txt") && !text.contains("blob.bin"));
    assert!(!text.contains(".git/"), "{text}");
}

#[test]
fn sarif_is_2_1_0_with_rules_levels_and_regions() {
    let fx = Fixture::new();
    let out = fx.scan(&["proj", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_no_clear_values(&out);
    let sarif = json(&out);
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"].as_str().unwrap().contains("sarif"));
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "amanah");
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let results = run["results"].as_array().unwrap();
    let mut rule_ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let mut sorted_rules = rules.clone();
    sorted_rules.sort_unstable();
    assert_eq!(sorted_rules, rule_ids, "one rule per type found");
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        let expected = match id {
            "SECRET" | "CREDIT_CARD" => "error",
            "EMAIL_ADDRESS" => "warning",
            _ => continue,
        };
        assert_eq!(r["level"], expected, "{r}");
        let message = r["message"]["text"].as_str().unwrap();
        assert!(
            message.contains(id) && message.contains("********"),
            "{message}"
        );
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(loc["artifactLocation"]["uri"].is_string());
        for field in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(
                loc["region"][field].as_u64().unwrap() >= 1,
                "{field} in {r}"
            );
        }
    }
    let aws = results
        .iter()
        .find(|r| {
            r["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    == "proj/notes.txt"
        })
        .unwrap();
    assert_eq!(aws["ruleId"], "SECRET");
    assert_eq!(aws["message"]["text"], "SECRET found: ********TW6N");
    let region = &aws["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (
            &region["startLine"],
            &region["startColumn"],
            &region["endLine"],
            &region["endColumn"]
        ),
        (
            &Value::from(3),
            &Value::from(8),
            &Value::from(3),
            &Value::from(28)
        )
    );
    assert!(results.iter().any(|r| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "proj/sub/deeper/key.pem"
    }));
}

#[test]
fn types_and_min_score_filter() {
    let fx = Fixture::new();
    let out = fx.scan(&["proj", "--format", "json", "--types", "EMAIL_ADDRESS"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut found = places(&json(&out));
    found.sort();
    assert_eq!(
        found,
        [
            place("proj/latin.txt", 1, 12, "EMAIL_ADDRESS"),
            place("proj/notes.txt", 2, 10, "EMAIL_ADDRESS"),
        ]
    );

    let out = fx.scan(&["proj", "--format", "json", "--types", "US_SSN"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["findings"], serde_json::json!([]));

    let out = fx.scan(&["proj", "--format", "json", "--min-score", "1.0"]);
    let report = json(&out);
    for f in report["findings"].as_array().unwrap() {
        assert!(f["score"].as_f64().unwrap() >= 0.999, "{f}");
    }
}

#[test]
fn an_unknown_type_is_a_clear_error() {
    let fx = Fixture::new();
    let out = fx.scan(&["proj", "--types", "SECRET,PASSWORDZ"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("PASSWORDZ"), "{err}");
    assert!(
        err.contains("EMAIL_ADDRESS") && err.contains("SECRET"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn a_missing_path_is_an_error_exit_2() {
    let fx = Fixture::new();
    let out = fx.scan(&["proj", "no-such-dir"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: ") && err.contains("no-such-dir"),
        "{err}"
    );
    assert!(stdout(&out).is_empty(), "nothing scanned before the check");
}

#[test]
fn a_clean_folder_exits_0() {
    let fx = Fixture::new();
    let clean = fx.path().join("clean/inner");
    std::fs::create_dir_all(&clean).unwrap();
    std::fs::write(clean.join("readme.md"), "nothing to see here\n").unwrap();
    let out = fx.scan(&["clean"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "1 files scanned, 0 skipped (0 binary, 0 too large, 0 unreadable), 0 findings"
    );
    let out = fx.scan(&["clean", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(0));
    let sarif = json(&out);
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));
    assert_eq!(
        sarif["runs"][0]["tool"]["driver"]["rules"],
        serde_json::json!([])
    );
}

#[test]
fn a_file_path_is_scanned_even_when_ignored_and_large_files_are_skipped() {
    let fx = Fixture::new();
    // Named on the command line: scanned although .gitignore lists it.
    let out = fx.scan(&["proj/ignored.txt", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_no_clear_values(&out);
    assert_eq!(
        places(&json(&out)),
        [place("proj/ignored.txt", 1, 14, "SECRET")]
    );

    let out = fx.scan(&["proj", "--format", "json", "--max-file-size", "20"]);
    let report = json(&out);
    // Only .gitignore (12 bytes) is small enough.
    assert_eq!(report["files_scanned"], 1, "{report}");
    assert_eq!(report["files_skipped"], 5);
    assert_eq!(report["files_skipped_too_large"], 5);
    assert_eq!(out.status.code(), Some(0));
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_a_warning_and_the_scan_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new();
    let locked = fx.path().join("proj/locked.txt");
    std::fs::write(&locked, "x\n").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_ok() {
        return; // root reads anything: nothing to test here.
    }
    let out = fx.scan(&["proj", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("warning: cannot read proj/locked.txt"),
        "{err}"
    );
    let report = json(&out);
    assert_eq!(report["files_unreadable"], 1);
    assert_eq!(report["files_scanned"], 5);
}
