//! Independent implementations from Python (PyJWT, pyotp), in a virtual
//! environment that `.ci/test-venv` creates once under `target/`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The virtual environment's interpreter, created on first use.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let root = repo_root();
        let status = Command::new("bash")
            .arg(root.join(".ci/test-venv"))
            .status()
            .expect("running .ci/test-venv");
        assert!(status.success(), ".ci/test-venv failed");
        root.join("target/test-venv/bin/python")
    })
}

/// Runs `tests/python/<script>` with `args`, feeding `stdin`; returns stdout.
pub fn run(script: &str, args: &[&str], stdin: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let mut child = Command::new(python())
        .arg(path)
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
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
