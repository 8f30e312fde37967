//! Recognizers: DATE_TIME (dates of birth included) and AGE.
//!
//! Dates and times with a shape of their own (ISO 8601, `m/d/yyyy`,
//! `d.m.yyyy`, month names, clock times, weekdays) score on shape; a bare
//! year needs a preposition or context word before it ("in 1987", "since
//! 2006", "born 1954"). An age is a number of 0 to 130 that the words
//! around it make one ("42 years old", "aged 42", "age: 42", "at the age of
//! 42", "turned 42"); the span is the number alone.

use regex::{Regex, RegexSet};

use crate::recognizers::BoundaryRegex;
use crate::{AnalyzerBuilder, Detection, EntityType, Recognizer};

/// Adds this module's recognizers to `builder`.
pub fn register(builder: AnalyzerBuilder) -> AnalyzerBuilder {
    builder
        .recognizer(DateTimeRecognizer::new())
        .recognizer(AgeRecognizer::new())
}

const MONTHS: &str = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?";
const WEEKDAYS: &str = "monday|tuesday|wednesday|thursday|friday|saturday|sunday";

/// Whether the bytes around `start..end` let the match stand as a token of
/// its own: no letter or digit glued to either side.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

/// Dates and times.
#[derive(Debug)]
pub struct DateTimeRecognizer {
    /// (pattern, score)
    shapes: Vec<(Regex, f32)>,
    /// The shapes together: one pass over a text tells which shapes match
    /// at all (most match nowhere), instead of one search per shape.
    any_shape: RegexSet,
    /// A four-digit year after a word that makes it one.
    year: BoundaryRegex,
    /// Weekdays, capitalized.
    weekday: BoundaryRegex,
}

impl Default for DateTimeRecognizer {
    fn default() -> Self {
        Self::new()
    }
}

impl DateTimeRecognizer {
    pub fn new() -> Self {
        let time = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d{1,9})?)?(?:\s?(?:[aApP]\.?[mM]\.?))?(?:\s?(?:Z|UTC|GMT|[+-][01]\d:?[0-5]\d))?";
        let iso_date = r"(?:1[6-9]|20|21)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])";
        let day = r"(?:0?[1-9]|[12]\d|3[01])";
        let month_num = r"(?:0?[1-9]|1[0-2])";
        let year4 = r"(?:1[6-9]|20|21)\d{2}";
        let shapes = [
            // 2022-03-02 09:20:28.384043, 2022-03-02T09:20:28Z
            (format!(r"{iso_date}(?:[T ]{time})?"), 0.85),
            // 3/6/1997, 06-14-1962 (US order) and 25/12/1999, 25.12.1999
            (format!(r"{month_num}[/.-]{day}[/.-]{year4}"), 0.7),
            (format!(r"{day}[/.-]{month_num}[/.-]{year4}"), 0.7),
            // 12/25/99: a two-digit year is weaker evidence (phone numbers
            // and codes have this shape too).
            (format!(r"{month_num}/{day}/\d{{2}}"), 0.5),
            (format!(r"{day}[/.]{month_num}[/.]\d{{2}}"), 0.45),
            // 1999/12/25
            (format!(r"{year4}/{month_num}/{day}"), 0.75),
            // March 3, 2021 / Mar 3rd 2021 / March 2021 / March 3rd
            (
                format!(r"(?i:{MONTHS})\.?\s+{day}(?:st|nd|rd|th)?(?:,?\s+{year4})?"),
                0.6,
            ),
            (format!(r"(?i:{MONTHS})\.?,?\s+{year4}"), 0.6),
            // 3 March 2021 / 3rd of March, 2021 / 3 March
            (
                format!(r"{day}(?:st|nd|rd|th)?(?:\s+of)?\s+(?i:{MONTHS})\.?(?:,?\s+{year4})?"),
                0.6,
            ),
            // 10:30, 10:30 am, 14:21:22 UTC
            (time.to_owned(), 0.5),
            // 9am, 11 p.m.
            (
                r"(?:1[0-2]|0?[1-9])\s?(?:[aApP]\.[mM]\.|[aApP][mM])".to_owned(),
                0.5,
            ),
        ];
        Self {
            any_shape: RegexSet::new(shapes.iter().map(|(p, _)| p)).expect("date patterns"),
            shapes: shapes
                .into_iter()
                .map(|(p, s)| (Regex::new(&p).expect("date pattern"), s))
                .collect(),
            year: BoundaryRegex::new(&format!(
                r"(?i:\b(?:in|during|since|until|till|before|after|by|from|of|born|founded|established|year|circa|c\.)\s+)({year4})(?:s)?"
            ))
            .expect("year pattern"),
            weekday: BoundaryRegex::new(&format!(r"\b(?:{WEEKDAYS}|(?i:today|tomorrow|yesterday|tonight))\b", WEEKDAYS = capitalized(WEEKDAYS)))
                .expect("weekday pattern"),
        }
    }
}

/// `monday|tuesday` as `Monday|Tuesday` (weekdays in prose are capitalized;
/// "may" and "march" are too common as words to match in lower case alone).
fn capitalized(alternation: &str) -> String {
    alternation
        .split('|')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("|")
}

impl Recognizer for DateTimeRecognizer {
    fn name(&self) -> &'static str {
        "date_time"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        // Every shape and the year pattern need an ASCII digit (the digit
        // classes that could take other scripts' digits come after ASCII
        // ones), and most texts have none.
        if has_ascii_digit(text) {
            self.find_numeric(text, out);
        }
        for m in self.weekday.find_iter(text) {
            out.push(Detection::new(
                m.start(),
                m.end(),
                EntityType::DateTime,
                0.5,
                self.name(),
            ));
        }
    }
}

fn has_ascii_digit(text: &str) -> bool {
    text.bytes().any(|b| b.is_ascii_digit())
}

impl DateTimeRecognizer {
    /// The shapes and years, in the order `find` reports them.
    fn find_numeric(&self, text: &str, out: &mut Vec<Detection>) {
        let name = self.name();
        for shape in self.any_shape.matches(text).iter() {
            let (re, score) = &self.shapes[shape];
            for m in re.find_iter(text) {
                if stands_alone(text, m.start(), m.end()) {
                    out.push(Detection::new(
                        m.start(),
                        m.end(),
                        EntityType::DateTime,
                        *score,
                        name,
                    ));
                }
            }
        }
        for c in self.year.captures_iter(text) {
            let (Some(whole), Some(year)) = (c.get(0), c.get(1)) else {
                continue;
            };
            if stands_alone(text, year.start(), whole.end()) {
                out.push(Detection::new(
                    year.start(),
                    whole.end(),
                    EntityType::DateTime,
                    0.55,
                    name,
                ));
            }
        }
    }
}

/// Ages: the number only.
#[derive(Debug)]
pub struct AgeRecognizer {
    /// Each pattern captures the number in group 1.
    patterns: Vec<(BoundaryRegex, f32)>,
}

impl Default for AgeRecognizer {
    fn default() -> Self {
        Self::new()
    }
}

impl AgeRecognizer {
    pub fn new() -> Self {
        let n = r"(\d{1,3})";
        let patterns = [
            // 42 years old, 42-year-old, 42 yrs old, 42 y/o, 42yo
            (
                format!(r"(?i)\b{n}(?:\s*|-)(?:years?|yrs?)(?:\s*|-)old\b"),
                0.85,
            ),
            (format!(r"(?i)\b{n}\s?(?:y/o|yo)\b"), 0.7),
            // aged 42, age 42, age: 42, at the age of 42
            (format!(r"(?i)\bage(?:d|\s+of)?\s*[:=]?\s*{n}\b"), 0.8),
            // turned 42, turns 42, turning 42
            (format!(r"(?i)\bturn(?:ed|s|ing)\s+{n}\b"), 0.7),
            // when he was 42 / when I was 42
            (
                format!(r"(?i)\bwhen\s+(?:he|she|i|they|we|you)\s+(?:was|were)\s+{n}\b"),
                0.65,
            ),
        ];
        Self {
            patterns: patterns
                .into_iter()
                .map(|(p, s)| (BoundaryRegex::new(&p).expect("age pattern"), s))
                .collect(),
        }
    }
}

impl Recognizer for AgeRecognizer {
    fn name(&self) -> &'static str {
        "age"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        // An age is an ASCII number (`parse` takes no other digits).
        if !has_ascii_digit(text) {
            return;
        }
        for (re, score) in &self.patterns {
            for c in re.captures_iter(text) {
                let Some(n) = c.get(1) else { continue };
                let plausible = n.as_str().parse::<u32>().is_ok_and(|v| v <= 130);
                if plausible {
                    out.push(Detection::new(
                        n.start(),
                        n.end(),
                        EntityType::Age,
                        *score,
                        self.name(),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Analyzer;

    fn found(text: &str, entity: EntityType) -> Vec<&str> {
        let analyzer = register(Analyzer::builder()).build();
        analyzer
            .analyze(text)
            .iter()
            .filter(|d| d.entity == entity)
            .map(|d| &text[d.start..d.end])
            .collect()
    }

    #[test]
    fn dates_and_times_by_shape() {
        for (text, want) in [
            (
                "entered at 2022-03-02 09:20:28.384043.",
                "2022-03-02 09:20:28.384043",
            ),
            ("stamp 2022-03-02T09:20:28Z ok", "2022-03-02T09:20:28Z"),
            ("DOB 9/19/1955, was admitted", "9/19/1955"),
            ("born 25.12.1999 in Graz", "25.12.1999"),
            ("on March 3, 2021 we met", "March 3, 2021"),
            ("on 3rd of March 2021 we met", "3rd of March 2021"),
            ("meet at 10:30 am sharp", "10:30 am"),
            ("the weather in Cerkno on Thursday?", "Thursday"),
            ("founded in 1987. Since then", "1987"),
            ("During 2012, Shinwa", "2012"),
        ] {
            assert_eq!(found(text, EntityType::DateTime), [want], "{text}");
        }
    }

    #[test]
    fn numbers_that_are_not_dates() {
        for text in [
            "version 1.2.3 released",
            "call 415-555-0132 now",
            "order 12345678 shipped",
            "I may go, march on",
            "room 2012b is free",
            "ratio 3/4 of the total",
            "IP 10.0.0.1 is local",
        ] {
            assert!(found(text, EntityType::DateTime).is_empty(), "{text}");
        }
    }

    #[test]
    fn ages_are_the_number_only() {
        for (text, want) in [
            ("He just turned 72 years old", "72"),
            ("Patient Wade Booker, age 41, DOB", "41"),
            ("retired at the age of 36", "36"),
            ("Mr. Hirai is a 55 year old man", "55"),
            ("a 7-year-old boy", "7"),
            ("Written when he was 61.", "61"),
            ("aged: 19", "19"),
        ] {
            assert_eq!(found(text, EntityType::Age), [want], "{text}");
        }
        for text in [
            "page 41 of 50",
            "the 300 years old castle",
            "we turned left",
            "storage 64",
        ] {
            assert!(found(text, EntityType::Age).is_empty(), "{text}");
        }
    }
}
