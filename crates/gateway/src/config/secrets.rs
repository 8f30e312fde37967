//! Secret references and their resolution: where a secret lives, how it
//! is read, and the rules it must pass (length, documented placeholders,
//! file mode). Generated secrets are created here, atomically.

use std::path::{Path, PathBuf};

use amanah_crypto::SecretString;

use super::{Problem, EXAMPLE_SECRETS, MIN_SECRET_CHARS};

/// Where a secret lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    File(PathBuf),
    Env(String),
    /// A file Amanah creates with a fresh random value on first use.
    Generated(PathBuf),
}

impl SecretRef {
    /// Reads the secret and judges it. `key` names it in problems.
    pub fn resolve(&self, key: &str) -> Result<SecretString, Problem> {
        let value = self.read(key)?;
        judge_secret(key, &value)?;
        Ok(value)
    }

    /// Reads a password chosen by another system (a mail account's), which
    /// Amanah cannot hold to its own length rule: it must only be non-empty
    /// and not a value from Amanah's examples.
    pub fn resolve_password(&self, key: &str) -> Result<SecretString, Problem> {
        let value = self.read(key)?;
        if value.char_len() == 0 {
            return Err(Problem::new(
                key,
                "the password is empty",
                "put the mail account's password in the file or variable",
            ));
        }
        if EXAMPLE_SECRETS.iter().any(|example| value.ct_eq(example)) {
            return Err(Problem::new(
                key,
                "the password is a value published in Amanah's own examples",
                "use the mail account's real password",
            ));
        }
        Ok(value)
    }

    fn read(&self, key: &str) -> Result<SecretString, Problem> {
        let value = match self {
            SecretRef::Env(var) => std::env::var(var).map_err(|_| {
                Problem::new(
                    key,
                    format!("environment variable {var} is not set or not valid UTF-8"),
                    format!("export {var} in the service's environment"),
                )
            })?,
            SecretRef::File(path) => read_secret_file(key, path)?,
            SecretRef::Generated(path) => {
                if !path.exists() {
                    create_secret_file(key, path)?;
                }
                read_secret_file(key, path)?
            }
        };
        Ok(SecretString::new(
            value.trim_end_matches(['\n', '\r']).to_owned(),
        ))
    }
}

fn judge_secret(key: &str, value: &SecretString) -> Result<(), Problem> {
    if EXAMPLE_SECRETS.iter().any(|example| value.ct_eq(example)) {
        return Err(Problem::new(
            key,
            "the secret is a value published in Amanah's own examples",
            "generate a fresh one: openssl rand -base64 48",
        ));
    }
    if value.char_len() < MIN_SECRET_CHARS {
        return Err(Problem::new(
            key,
            format!(
                "the secret is shorter than {MIN_SECRET_CHARS} characters ({} given)",
                value.char_len()
            ),
            "use a random value of at least 32 characters: openssl rand -base64 48",
        ));
    }
    Ok(())
}

fn read_secret_file(key: &str, path: &Path) -> Result<String, Problem> {
    let meta = std::fs::metadata(path).map_err(|e| {
        Problem::new(
            key,
            format!("cannot read secret file {}: {e}", path.display()),
            "check the path and that the service account may read it",
        )
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(Problem::new(
                key,
                format!(
                    "secret file {} is readable or writable by group or others (mode {:o})",
                    path.display(),
                    mode & 0o777
                ),
                format!("chmod 600 {}", path.display()),
            ));
        }
    }
    let _ = meta;
    std::fs::read_to_string(path).map_err(|e| {
        Problem::new(
            key,
            format!("cannot read secret file {}: {e}", path.display()),
            "check the path and that the file holds UTF-8 text",
        )
    })
}

/// Creates the secret atomically: the value is written and synced in a
/// private temporary file, then hard-linked into place. A concurrent
/// process either wins the link or finds the complete file; nobody reads a
/// half-written secret or overwrites another's.
fn create_secret_file(key: &str, path: &Path) -> Result<(), Problem> {
    use std::io::Write;
    let fail = |e: std::io::Error| {
        Problem::new(
            key,
            format!("cannot create secret file {}: {e}", path.display()),
            "make the data directory writable, or configure the secret explicitly",
        )
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(fail)?;
    let tmp = dir.join(format!(".tmp-secret-{}", amanah_crypto::random::hex(16)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(amanah_crypto::random::base62(48).as_bytes())?;
        f.sync_all()
    });
    let linked = written.and_then(|()| match std::fs::hard_link(&tmp, path) {
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    });
    let _ = std::fs::remove_file(&tmp);
    linked.map_err(fail)
}

/// Creates `dir` (and parents) readable only by the owner.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}
