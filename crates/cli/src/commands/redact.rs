//! `amanah redact [--mode redact|mask|pseudonymize] [FILE|-]`: the text
//! with its personal data and secrets replaced, on standard output.
//!
//! `redact` writes `<TYPE>`, `mask` keeps separators and, for card and
//! account numbers, the last four digits, `pseudonymize` writes
//! `<TYPE_N>`, the same for the same value throughout the input. A summary
//! of what was replaced (types and counts, never values) goes to standard
//! error, or with `--json` a document `{"text", "replaced": {TYPE: n}}` to
//! standard output.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use amanah_pii::operators::{anonymize, NoContext, Operator, OperatorPolicy};
use amanah_pii::pseudonym::PseudonymMap;
use amanah_pii::Analyzer;
use anyhow::Context as _;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Mode {
    /// `<TYPE>`.
    Redact,
    /// `****@*******.***`; card and account numbers keep their last four.
    Mask,
    /// `<TYPE_N>`, the same for the same value.
    Pseudonymize,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// What replaces a value.
    #[arg(long, value_enum, default_value = "redact")]
    mode: Mode,
    /// Only these types (labels such as EMAIL_ADDRESS,SECRET); default every type.
    #[arg(long, value_name = "TYPE,...")]
    types: Option<String>,
    /// Print {"text", "replaced": {TYPE: count}} instead of the text.
    #[arg(long)]
    json: bool,
    /// The file to read (`-` or nothing: standard input).
    #[arg(value_name = "FILE|-")]
    input: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let types = args
        .types
        .as_deref()
        .map(super::pii::parse_types)
        .transpose()?;
    let mut bytes = Vec::new();
    match args.input.as_deref() {
        None => std::io::stdin().read_to_end(&mut bytes),
        Some(p) if p.as_os_str() == "-" => std::io::stdin().read_to_end(&mut bytes),
        Some(p) => std::fs::File::open(p)
            .with_context(|| format!("opening {}", p.display()))?
            .read_to_end(&mut bytes),
    }
    .context("reading the input")?;
    let text = String::from_utf8(bytes).context("the input is not UTF-8 text")?;

    let analyzer = Analyzer::standard();
    let mut found = analyzer.analyze(&text);
    if let Some(types) = &types {
        found.retain(|d| types.contains(&d.entity));
    }
    let out = match args.mode {
        Mode::Redact => anonymize(
            &text,
            &found,
            &OperatorPolicy::new(Operator::Replace),
            &mut NoContext,
        ),
        Mode::Mask => anonymize(&text, &found, &OperatorPolicy::masking(), &mut NoContext),
        Mode::Pseudonymize => anonymize(
            &text,
            &found,
            &OperatorPolicy::new(Operator::Pseudonymize),
            &mut PseudonymMap::with_capacity(usize::MAX),
        ),
    };
    let mut replaced: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &out.changed {
        *replaced.entry(t.as_str()).or_default() += 1;
    }
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let doc = serde_json::json!({ "text": out.text, "replaced": replaced });
        writeln!(stdout, "{doc}")?;
    } else {
        stdout.write_all(out.text.as_bytes())?;
        let summary: Vec<String> = replaced.iter().map(|(t, n)| format!("{t} {n}")).collect();
        eprintln!(
            "{} replaced{}{}",
            out.changed.len(),
            if summary.is_empty() { "" } else { ": " },
            summary.join(", ")
        );
    }
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}
