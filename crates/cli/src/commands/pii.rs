//! `amanah pii detect --input IN.jsonl --output OUT.jsonl`: the detector
//! over a labelled data set's lines, in the scorer's format.
//!
//! Input lines are `{"id", "text", ...}`; output lines are
//! `{"id", "spans": [{"start", "end", "label", "score"}]}` with offsets in
//! Unicode code points (Python string indices), end exclusive. A line that
//! is not such an object stops the run with its line number; nothing is
//! skipped silently.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use amanah_pii::{Analyzer, Detection, EntityType};
use anyhow::Context as _;
use serde_json::json;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Detect personal data in JSON lines ({"id","text"}), writing spans per line.
    Detect {
        /// Input file of JSON lines (`-` for standard input).
        #[arg(long, value_name = "IN.jsonl")]
        input: PathBuf,
        /// Output file (`-` for standard output).
        #[arg(long, value_name = "OUT.jsonl")]
        output: PathBuf,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::Detect { input, output } = cmd;
    let reader: Box<dyn BufRead> = if input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file =
            std::fs::File::open(&input).with_context(|| format!("opening {}", input.display()))?;
        Box::new(std::io::BufReader::new(file))
    };
    let writer: Box<dyn Write> = if output.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        let file = std::fs::File::create(&output)
            .with_context(|| format!("creating {}", output.display()))?;
        Box::new(file)
    };
    let mut writer = BufWriter::new(writer);
    let analyzer = Analyzer::standard();
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading line {}", n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let row: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("line {}: not JSON", n + 1))?;
        let (Some(id), Some(text)) = (row.get("id"), row.get("text").and_then(|t| t.as_str()))
        else {
            anyhow::bail!("line {}: needs \"id\" and a string \"text\"", n + 1);
        };
        let spans = code_point_spans(text, &analyzer.analyze(text));
        writeln!(writer, "{}", json!({ "id": id, "spans": spans }))?;
    }
    writer.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Detections with byte offsets turned into code-point offsets, in one
/// pass over the text (detections are sorted and disjoint).
fn code_point_spans(text: &str, detections: &[Detection]) -> Vec<serde_json::Value> {
    let mut boundaries = Vec::with_capacity(detections.len() * 2);
    for d in detections {
        boundaries.push(d.start);
        boundaries.push(d.end);
    }
    let mut chars_before = Vec::with_capacity(boundaries.len());
    let mut indices = text.char_indices().map(|(i, _)| i).chain([text.len()]);
    let mut count = 0;
    let mut at = indices.next();
    for b in boundaries {
        while let Some(i) = at {
            if i >= b {
                break;
            }
            count += 1;
            at = indices.next();
        }
        chars_before.push(count);
    }
    detections
        .iter()
        .zip(chars_before.chunks(2))
        .map(|(d, c)| {
            json!({ "start": c[0], "end": c[1], "label": d.entity.as_str(), "score": d.score })
        })
        .collect()
}

/// `--types SECRET,email_address` into types, each once; an unknown label
/// is an error that lists the valid ones.
pub fn parse_types(list: &str) -> anyhow::Result<Vec<EntityType>> {
    let mut types = Vec::new();
    for label in list.split(',').filter(|l| !l.trim().is_empty()) {
        let Some(t) = EntityType::parse(label) else {
            anyhow::bail!(
                "--types: {:?} is not an entity type; valid types: {}",
                label.trim(),
                EntityType::labels()
            );
        };
        if !types.contains(&t) {
            types.push(t);
        }
    }
    anyhow::ensure!(!types.is_empty(), "--types needs at least one type");
    Ok(types)
}

#[cfg(test)]
mod tests {
    use super::*;
    use amanah_pii::EntityType;

    #[test]
    fn offsets_count_code_points() {
        let text = "Zoë born 1/2/1990 é";
        let start = text.find("1/2").unwrap();
        let d = Detection::new(start, start + 8, EntityType::DateTime, 0.9, "t");
        let spans = code_point_spans(text, &[d]);
        assert_eq!(spans[0]["start"], 9);
        assert_eq!(spans[0]["end"], 17);
    }

    #[test]
    fn types_parse_case_insensitively_and_name_the_valid_ones() {
        assert_eq!(
            parse_types("secret, EMAIL_ADDRESS,SECRET").unwrap(),
            [EntityType::Secret, EntityType::EmailAddress]
        );
        let err = parse_types("SECRET,NOPE").unwrap_err().to_string();
        assert!(
            err.contains("\"NOPE\"") && err.contains("EMAIL_ADDRESS"),
            "{err}"
        );
        assert!(parse_types(" , ").is_err());
    }
}
