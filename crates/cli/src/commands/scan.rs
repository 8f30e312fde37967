//! `amanah scan PATH...`: the detector over files and folders.
//!
//! Folders are walked the way git sees them: `.gitignore` files (and
//! `.git/info/exclude`) are respected, in a repository or not; hidden files
//! such as `.env` are scanned; `.git/` is never entered. A PATH named on the
//! command line is scanned even when ignored. Binary files (a NUL byte in
//! the first 8 KiB) and files over `--max-file-size` are skipped and
//! counted; a file that cannot be read is a warning, counted, and the scan
//! goes on. Files are read one at a time, each analysed whole, so findings
//! may span lines (PEM private keys).
//!
//! Found values are masked in every format ([`mask`]): the clear value is
//! never printed. Lines and columns are 1-based, columns in characters
//! (Unicode code points); an end column is the one just after the finding.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{IsTerminal, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use amanah_pii::{Analyzer, Detection, EntityType};
use serde_json::json;

/// How many leading bytes are looked at for a NUL (as git does).
const BINARY_PROBE: usize = 8 * 1024;
/// Stars in a masked value: always this many, so the length is not told.
const MASK_STARS: usize = 8;
/// A value keeps its last four characters only from this length on.
const MASK_KEEP_FROM: usize = 12;
const MASK_KEEP: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One row per finding (`path:line:col  TYPE  masked  score`), then a summary.
    Table,
    /// One JSON document: {"findings": [...], "files_scanned", "files_skipped", ...}.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Exit status: 0 when nothing was found, 1 when there are findings, 2 on an error
(a PATH that does not exist, a bad option). Files that cannot be read are
warnings on standard error and do not change the exit status.

Found values are always masked: at most the last 4 characters of a value of 12
or more characters are shown (`********1234`).")]
pub struct Args {
    /// Files and folders to scan (folders recursively, respecting .gitignore).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Report only these types, comma-separated (e.g. SECRET,EMAIL_ADDRESS).
    #[arg(long, value_name = "TYPE,...")]
    types: Option<String>,
    /// Report only findings scoring at least this (0.0 to 1.0; default: the detector's floor, 0.4).
    #[arg(long, value_name = "F")]
    min_score: Option<f32>,
    /// Skip files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 10 * 1024 * 1024)]
    max_file_size: u64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match scan(args) {
        Ok(code) => Ok(code),
        // Exit 2, not main's 1: 1 means "findings" to scripts.
        Err(e) => {
            eprintln!("error: {e:#}");
            Ok(ExitCode::from(2))
        }
    }
}

fn scan(args: Args) -> anyhow::Result<ExitCode> {
    let types = args
        .types
        .as_deref()
        .map(super::pii::parse_types)
        .transpose()?;
    let mut builder = amanah_pii::recognizers::standard(Analyzer::builder());
    if let Some(min) = args.min_score {
        anyhow::ensure!(
            (0.0..=1.0).contains(&min),
            "--min-score must be between 0.0 and 1.0, not {min}"
        );
        builder = builder.min_score(min);
    }
    let analyzer = builder.build();
    // Every PATH is checked before anything is scanned.
    for path in &args.paths {
        match std::fs::symlink_metadata(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                anyhow::bail!("{}: no such file or folder", path.display())
            }
            Err(e) => anyhow::bail!("cannot scan {}: {e}", path.display()),
        }
    }

    let mut scan = Scan {
        analyzer,
        types,
        max_file_size: args.max_file_size,
        findings: Vec::new(),
        counts: Counts::default(),
        progress: Progress::new(),
    };
    for path in &args.paths {
        scan.walk(path);
    }
    scan.progress.clear();

    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    match args.format {
        Format::Table => write_table(&mut out, &scan.findings, &scan.counts)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &json_report(&scan.findings, &scan.counts))?;
            writeln!(out)?;
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut out, &sarif_report(&scan.findings))?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(if scan.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One finding, already masked: the clear value is not kept.
#[derive(Debug)]
struct Finding {
    path: String,
    start: Position,
    end: Position,
    entity: EntityType,
    masked: String,
    score: f32,
    recognizer: &'static str,
}

/// 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    line: usize,
    column: usize,
}

#[derive(Debug, Default)]
struct Counts {
    scanned: u64,
    binary: u64,
    too_large: u64,
    unreadable: u64,
}

impl Counts {
    fn skipped(&self) -> u64 {
        self.binary + self.too_large + self.unreadable
    }
}

#[derive(Debug)]
struct Scan {
    analyzer: Analyzer,
    types: Option<Vec<EntityType>>,
    max_file_size: u64,
    findings: Vec<Finding>,
    counts: Counts,
    progress: Progress,
}

/// What reading a file gave.
#[derive(Debug)]
enum Content {
    Text(String),
    Binary,
    TooLarge,
}

impl Scan {
    fn walk(&mut self, root: &Path) {
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .require_git(false)
            // Only the repository's own rules: not the user's global
            // excludes (which often hide `.env`), not `.ignore` files.
            .git_global(false)
            .ignore(false)
            .filter_entry(|e| e.file_name() != ".git")
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    self.counts.unreadable += 1;
                    self.progress.warn(&format!("warning: {e}"));
                    continue;
                }
            };
            // Regular files; a PATH given on the command line may be a link to one.
            let is_file = if entry.depth() == 0 {
                entry.path().is_file()
            } else {
                entry.file_type().is_some_and(|t| t.is_file())
            };
            if is_file {
                self.file(entry.path());
            }
        }
    }

    fn file(&mut self, path: &Path) {
        let shown = display_path(path);
        match self.read(path) {
            Ok(Content::Text(text)) => {
                self.counts.scanned += 1;
                let mut detections = self.analyzer.analyze(&text);
                if let Some(types) = &self.types {
                    detections.retain(|d| types.contains(&d.entity));
                }
                self.record(&shown, &text, &detections);
            }
            Ok(Content::Binary) => self.counts.binary += 1,
            Ok(Content::TooLarge) => self.counts.too_large += 1,
            Err(e) => {
                self.counts.unreadable += 1;
                self.progress
                    .warn(&format!("warning: cannot read {shown}: {e}"));
            }
        }
        self.progress
            .tick(self.counts.scanned, self.findings.len() as u64);
    }

    fn read(&self, path: &Path) -> std::io::Result<Content> {
        let file = std::fs::File::open(path)?;
        if file.metadata()?.len() > self.max_file_size {
            return Ok(Content::TooLarge);
        }
        // One byte more than allowed tells a file that grew meanwhile.
        let mut bytes = Vec::new();
        file.take(self.max_file_size.saturating_add(1))
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > self.max_file_size {
            return Ok(Content::TooLarge);
        }
        if bytes[..bytes.len().min(BINARY_PROBE)].contains(&0) {
            return Ok(Content::Binary);
        }
        Ok(Content::Text(match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }))
    }

    fn record(&mut self, path: &str, text: &str, detections: &[Detection]) {
        // Detections are sorted and disjoint: one pass finds every position.
        let mut cursor = Cursor::new(text);
        for d in detections {
            let start = cursor.advance_to(d.start);
            let end = cursor.advance_to(d.end);
            self.findings.push(Finding {
                path: path.to_owned(),
                start,
                end,
                entity: d.entity,
                masked: mask(&text[d.start..d.end]),
                score: d.score,
                recognizer: d.recognizer,
            });
        }
    }
}

/// Walks a text forwards, turning byte offsets into lines and columns.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
    pos: Position,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            at: 0,
            pos: Position { line: 1, column: 1 },
        }
    }

    /// The position of byte `offset` (a char boundary, not before the last one asked).
    fn advance_to(&mut self, offset: usize) -> Position {
        if offset > self.at {
            for c in self.text[self.at..offset].chars() {
                if c == '\n' {
                    self.pos.line += 1;
                    self.pos.column = 1;
                } else {
                    self.pos.column += 1;
                }
            }
            self.at = offset;
        }
        self.pos
    }
}

/// A found value as it may be shown: a fixed run of stars, then the last
/// four characters only when the value has at least twelve (`********1234`);
/// shorter values are all stars. Control characters in the kept part show
/// as `?`, so a value cannot break a line of output.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = "*".repeat(MASK_STARS);
    if chars.len() >= MASK_KEEP_FROM {
        out.extend(chars[chars.len() - MASK_KEEP..].iter().map(|&c| {
            if c.is_control() {
                '?'
            } else {
                c
            }
        }));
    }
    out
}

/// The path as walked from the PATH given, with `/` separators and no
/// leading `./`.
fn display_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.components() {
        match c {
            Component::CurDir if out.is_empty() => continue,
            Component::RootDir => out.push('/'),
            Component::Prefix(p) => out.push_str(&p.as_os_str().to_string_lossy()),
            other => {
                if !out.is_empty() && !out.ends_with('/') {
                    out.push('/');
                }
                out.push_str(&other.as_os_str().to_string_lossy());
            }
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// A SARIF `artifactLocation.uri`: a relative reference for a relative
/// path, a `file://` URI for an absolute one; percent-encoded.
fn sarif_uri(path: &str) -> String {
    let mut out = String::new();
    if path.starts_with('/') {
        out.push_str("file://");
    } else if path.as_bytes().get(1) == Some(&b':') {
        out.push_str("file:///");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A score with three decimals, as JSON shows it (not 0.949999988...).
fn rounded(score: f32) -> f64 {
    (f64::from(score) * 1000.0).round() / 1000.0
}

fn level(entity: EntityType) -> &'static str {
    match entity {
        EntityType::Secret
        | EntityType::CreditCard
        | EntityType::UsSsn
        | EntityType::IbanCode
        | EntityType::UkNino
        | EntityType::UkNhs
        | EntityType::UsBankNumber
        | EntityType::UsDriverLicense => "error",
        _ => "warning",
    }
}

fn write_table(out: &mut impl Write, findings: &[Finding], counts: &Counts) -> anyhow::Result<()> {
    let location = |f: &Finding| format!("{}:{}:{}", f.path, f.start.line, f.start.column);
    let loc_width = findings
        .iter()
        .map(|f| location(f).chars().count())
        .max()
        .unwrap_or(0);
    let type_width = findings
        .iter()
        .map(|f| f.entity.as_str().len())
        .max()
        .unwrap_or(0);
    let mask_width = findings
        .iter()
        .map(|f| f.masked.chars().count())
        .max()
        .unwrap_or(0);
    for f in findings {
        writeln!(
            out,
            "{:<loc_width$}  {:<type_width$}  {:<mask_width$}  {:.2}",
            location(f),
            f.entity.as_str(),
            f.masked,
            f.score
        )?;
    }
    if !findings.is_empty() {
        writeln!(out)?;
    }
    writeln!(
        out,
        "{} files scanned, {} skipped ({} binary, {} too large, {} unreadable), {} findings",
        counts.scanned,
        counts.skipped(),
        counts.binary,
        counts.too_large,
        counts.unreadable,
        findings.len()
    )?;
    Ok(())
}

fn json_report(findings: &[Finding], counts: &Counts) -> serde_json::Value {
    let findings: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            json!({
                "path": f.path,
                "line": f.start.line,
                "column": f.start.column,
                "end_line": f.end.line,
                "end_column": f.end.column,
                "type": f.entity.as_str(),
                "value_masked": f.masked,
                "score": rounded(f.score),
                "recognizer": f.recognizer,
            })
        })
        .collect();
    json!({
        "findings": findings,
        "files_scanned": counts.scanned,
        "files_skipped": counts.skipped(),
        "files_skipped_binary": counts.binary,
        "files_skipped_too_large": counts.too_large,
        "files_unreadable": counts.unreadable,
    })
}

fn sarif_report(findings: &[Finding]) -> serde_json::Value {
    let types: BTreeSet<EntityType> = findings.iter().map(|f| f.entity).collect();
    let types: Vec<EntityType> = types.into_iter().collect();
    let rules: Vec<serde_json::Value> = types
        .iter()
        .map(|&t| {
            json!({
                "id": t.as_str(),
                "shortDescription": { "text": format!("{} found in a file", t.as_str()) },
                "defaultConfiguration": { "level": level(t) },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.entity.as_str(),
                "ruleIndex": types.iter().position(|&t| t == f.entity),
                "level": level(f.entity),
                "message": { "text": format!("{} found: {}", f.entity.as_str(), f.masked) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": sarif_uri(&f.path) },
                        "region": {
                            "startLine": f.start.line,
                            "startColumn": f.start.column,
                            "endLine": f.end.line,
                            "endColumn": f.end.column,
                        },
                    },
                }],
                "properties": { "score": rounded(f.score), "recognizer": f.recognizer },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "amanah",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                },
            },
            // Our columns count characters, not SARIF's default UTF-16 units.
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// `\rscanning: N files, M findings` on standard error, only when it is a
/// terminal; at most ten updates a second.
#[derive(Debug)]
struct Progress {
    enabled: bool,
    last: Option<Instant>,
    width: usize,
}

impl Progress {
    fn new() -> Self {
        Self {
            enabled: std::io::stderr().is_terminal(),
            last: None,
            width: 0,
        }
    }

    fn tick(&mut self, files: u64, findings: u64) {
        if !self.enabled
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(Instant::now());
        let line = format!("scanning: {files} files, {findings} findings");
        let pad = self.width.saturating_sub(line.len());
        self.width = line.len();
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}{:pad$}", "");
        let _ = err.flush();
    }

    /// Blanks the progress line, if one is shown.
    fn clear(&mut self) {
        if self.enabled && self.width > 0 {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{:w$}\r", "", w = self.width);
            let _ = err.flush();
            self.width = 0;
            self.last = None;
        }
    }

    fn warn(&mut self, message: &str) {
        self.clear();
        eprintln!("{message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_keeps_the_last_four_of_long_values_only() {
        assert_eq!(mask("AKIAQZ7XK2MP5VR4TW6N"), "********TW6N");
        assert_eq!(mask("123456789012"), "********9012");
        assert_eq!(mask("12345678901"), "********");
        assert_eq!(mask("a@b.co"), "********");
        assert_eq!(mask(""), "********");
    }

    #[test]
    fn mask_hides_the_length_and_counts_characters() {
        assert_eq!(mask(&"x".repeat(12)).len(), mask(&"x".repeat(400)).len());
        assert_eq!(mask("zoë.müller@exämple.org"), "********.org");
        assert_eq!(mask("ééééééééééééabçd"), "********abçd");
        assert_eq!(mask("KEY-----\n-----EN\tD\r\n"), "********?D??");
    }

    #[test]
    fn cursor_gives_lines_and_character_columns() {
        let text = "é1\nab X\n\nZoë Y";
        let mut c = Cursor::new(text);
        assert_eq!(c.advance_to(0), Position { line: 1, column: 1 });
        assert_eq!(c.advance_to(2), Position { line: 1, column: 2 });
        assert_eq!(
            c.advance_to(text.find('X').unwrap()),
            Position { line: 2, column: 4 }
        );
        assert_eq!(
            c.advance_to(text.find('Y').unwrap()),
            Position { line: 4, column: 5 }
        );
        assert_eq!(c.advance_to(text.len()), Position { line: 4, column: 6 });
    }

    #[test]
    fn paths_use_slashes_without_a_leading_dot() {
        assert_eq!(display_path(Path::new("./dir/sub/a.txt")), "dir/sub/a.txt");
        assert_eq!(display_path(Path::new("dir/./a.txt")), "dir/a.txt");
        assert_eq!(display_path(Path::new("/tmp/x")), "/tmp/x");
        assert_eq!(display_path(Path::new("../x/.env")), "../x/.env");
        assert_eq!(display_path(Path::new(".")), ".");
    }

    #[test]
    fn sarif_uris_are_encoded() {
        assert_eq!(sarif_uri("dir/a b.txt"), "dir/a%20b.txt");
        assert_eq!(sarif_uri("/tmp/ü"), "file:///tmp/%C3%BC");
    }
}
