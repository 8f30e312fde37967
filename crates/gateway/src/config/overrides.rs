//! `AMANAH_...` environment variables override keys of the file.
//!
//! `AMANAH_SERVER__LISTEN` sets `server.listen`: the prefix is dropped, `__`
//! separates levels, names are lowercased, a number indexes an existing
//! array (`AMANAH_ROUTES__0__MAX_BODY_BYTES`). Values are read as TOML
//! literals when they parse as one (`8080`, `true`, `["a", "b"]`) and as
//! strings otherwise; quote a string that looks like a number (`'"123"'`).
//! An override that names no known key is reported like a typo in the file.

use std::collections::HashSet;

use toml::{Table, Value};

use super::Problem;

pub const PREFIX: &str = "AMANAH_";
/// Variables the command line reads itself; they are not config keys.
pub const RESERVED: &[&str] = &["AMANAH_CONFIG"];

/// One applied override, kept to attribute later problems to the variable.
#[derive(Debug, Clone)]
pub struct Applied {
    pub var: String,
    pub path: String,
}

pub fn apply(
    table: &mut Table,
    env: &[(String, String)],
    secret_vars: &HashSet<String>,
) -> (Vec<Applied>, Vec<Problem>) {
    let mut applied = Vec::new();
    let mut problems = Vec::new();
    let mut vars: Vec<&(String, String)> = env
        .iter()
        .filter(|(k, _)| {
            k.starts_with(PREFIX) && !RESERVED.contains(&k.as_str()) && !secret_vars.contains(k)
        })
        .collect();
    vars.sort();
    for (var, raw) in vars {
        let segments: Vec<String> = var[PREFIX.len()..]
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect();
        if segments.iter().any(String::is_empty) {
            problems.push(Problem::new(
                var,
                "the variable name has an empty segment",
                "separate levels with exactly two underscores, e.g. AMANAH_SERVER__LISTEN",
            ));
            continue;
        }
        match set_path(table, &segments, parse_value(raw)) {
            Ok(path) => applied.push(Applied {
                var: var.clone(),
                path,
            }),
            Err(message) => problems.push(Problem::new(
                var,
                message,
                "check the variable name against the configuration reference",
            )),
        }
    }
    (applied, problems)
}

fn parse_value(raw: &str) -> Value {
    let doc = format!("v = {raw}");
    match doc.parse::<Table>() {
        Ok(mut t) if t.len() == 1 => t.remove("v").unwrap_or_else(|| Value::String(raw.into())),
        _ => Value::String(raw.to_owned()),
    }
}

fn set_path(table: &mut Table, segments: &[String], value: Value) -> Result<String, String> {
    let path = segments.join(".");
    let (first, rest) = segments.split_first().ok_or("empty key")?;
    let Some((last, middle)) = rest.split_last() else {
        table.insert(first.clone(), value);
        return Ok(path);
    };
    let mut cursor = table
        .entry(first.clone())
        .or_insert_with(|| Value::Table(Table::new()));
    for seg in middle {
        cursor = descend(cursor, seg)?;
    }
    match cursor {
        Value::Table(t) => {
            t.insert(last.clone(), value);
        }
        Value::Array(items) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("`{last}` is not a list index"))?;
            *items
                .get_mut(i)
                .ok_or_else(|| format!("list index {i} is out of range"))? = value;
        }
        _ => return Err(format!("cannot set `{path}`: its parent is not a table")),
    }
    Ok(path)
}

fn descend<'a>(value: &'a mut Value, seg: &str) -> Result<&'a mut Value, String> {
    match value {
        Value::Table(t) => Ok(t
            .entry(seg.to_owned())
            .or_insert_with(|| Value::Table(Table::new()))),
        Value::Array(items) => {
            let i: usize = seg
                .parse()
                .map_err(|_| format!("`{seg}` is not a list index"))?;
            items
                .get_mut(i)
                .ok_or_else(|| format!("list index {i} is out of range"))
        }
        _ => Err(format!("cannot descend into a value at `{seg}`")),
    }
}
