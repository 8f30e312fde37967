//! Recognizers: contact (email addresses, phone numbers).
//!
//! Also hosts the small span helpers the structured recognizers share:
//! explicit token-boundary checks (`\b` treats `.`, `-` and `@` as
//! boundaries, which splits versions, IPs and emails) and whole-word
//! context look-ups.

use std::borrow::Cow;

use regex::Regex;

use crate::{AnalyzerBuilder, Detection, EntityType, Recognizer};

/// Adds this module's recognizers to `builder`.
pub fn register(builder: AnalyzerBuilder) -> AnalyzerBuilder {
    builder
        .recognizer(EmailRecognizer::new())
        .recognizer(PhoneRecognizer::new())
}

/// True when `text[start..end]` is not part of a longer token: the
/// neighbouring characters are not alphanumeric, and a neighbouring
/// joiner (`.`, `-`, `/`, `:`, `@`, `_`, `+`) does not continue into one.
pub(crate) fn is_bounded(text: &str, start: usize, end: usize) -> bool {
    // Whether `c`, next to the span, with `beyond` on its far side,
    // continues the token.
    let joins = |c: char, beyond: Option<char>| match c {
        '.' | '-' | '/' | '@' | '_' | '+' | '\\' => beyond.is_some_and(char::is_alphanumeric),
        // "SSN:123" is a label; "10:20" is a time.
        ':' => beyond.is_some_and(|b| b.is_ascii_digit()),
        _ => false,
    };
    let mut before = text[..start].chars().rev();
    match before.next() {
        Some(c) if c.is_alphanumeric() || c == '_' || c == '@' => return false,
        Some(c) if joins(c, before.next()) => return false,
        _ => {}
    }
    let mut after = text[end..].chars();
    match after.next() {
        Some(c) if c.is_alphanumeric() || c == '_' || c == '@' => false,
        // "415-555-0132-Office": a dash before a word is a label.
        Some('-') => !after.next().is_some_and(|b| b.is_ascii_digit()),
        Some(c) => !joins(c, after.next()),
        None => true,
    }
}

/// The last `n` words (lowercased, split on non-alphanumerics) before
/// byte `start`, nearest first, looking back at most ~80 bytes.
pub(crate) fn words_before(text: &str, start: usize, n: usize) -> Vec<LowerWord<'_>> {
    lower_words_back(text, start).take(n).collect()
}

/// The words of [`words_before`], nearest first, read lazily: a caller
/// that decides on the first word reads no further.
pub(crate) fn lower_words_back(text: &str, start: usize) -> impl Iterator<Item = LowerWord<'_>> {
    let mut from = start.saturating_sub(80);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    text[from..start]
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .rev()
        .map(LowerWord::new)
}

/// The first `n` words after byte `end` on the same line.
pub(crate) fn words_after(text: &str, end: usize, n: usize) -> Vec<LowerWord<'_>> {
    let line = text[end..].split('\n').next().unwrap_or("");
    line.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(n)
        .map(LowerWord::new)
        .collect()
}

/// A word of the text in lower case (`str::to_lowercase`). Context checks
/// look at many words, nearly all ASCII and already lower case: those are
/// borrowed, not copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LowerWord<'t>(Cow<'t, str>);

impl<'t> LowerWord<'t> {
    pub(crate) fn new(word: &'t str) -> Self {
        // For ASCII, `to_lowercase` is `to_ascii_lowercase`; other text
        // takes the general path (its case mappings have special cases).
        if !word.is_ascii() {
            LowerWord(Cow::Owned(word.to_lowercase()))
        } else if word.bytes().any(|b| b.is_ascii_uppercase()) {
            LowerWord(Cow::Owned(word.to_ascii_lowercase()))
        } else {
            LowerWord(Cow::Borrowed(word))
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether any of `words` is among the last `n` words before `start`.
pub(crate) fn has_context(text: &str, start: usize, n: usize, words: &[&str]) -> bool {
    words_before(text, start, n)
        .iter()
        .any(|w| words.contains(&w.as_str()))
}

/// Email addresses: `local@domain.tld`, TLD of two or more letters.
#[derive(Debug)]
pub struct EmailRecognizer {
    re: Regex,
}

impl EmailRecognizer {
    pub fn new() -> Self {
        Self {
            re: Regex::new(
                r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}",
            )
            .expect("email regex"),
        }
    }
}

impl Default for EmailRecognizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Recognizer for EmailRecognizer {
    fn name(&self) -> &'static str {
        "email"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for m in self.re.find_iter(text) {
            let mut start = m.start();
            // Quotes and pipes are legal in a local part but in prose they
            // are punctuation around the address.
            while start < m.end() && matches!(text.as_bytes()[start], b'\'' | b'|' | b'{') {
                start += 1;
            }
            let end = m.end();
            // A domain running on into more word characters (`a@b.co3000`)
            // is not an address we can delimit.
            if text[end..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
            {
                continue;
            }
            if text[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '.')
            {
                continue;
            }
            out.push(Detection::new(
                start,
                end,
                EntityType::EmailAddress,
                0.9,
                self.name(),
            ));
        }
    }
}

const PHONE_CONTEXT: &[&str] = &[
    "phone",
    "phones",
    "tel",
    "telephone",
    "call",
    "calling",
    "called",
    "mobile",
    "mob",
    "cell",
    "cellphone",
    "fax",
    "number",
    "contact",
    "reach",
    "text",
    "sms",
    "whatsapp",
    "dial",
    "ring",
    "answering",
    "landline",
    "hotline",
    "ph",
];

const PHONE_AFTER: &[&str] = &["office", "mobile", "fax", "home", "work", "cell", "tel"];

/// Words that say a nearby number is something else.
const PHONE_NEGATIVE: &[&str] = &[
    "license",
    "licence",
    "driver",
    "dl",
    "account",
    "acct",
    "card",
    "ssn",
    "social",
    "passport",
    "iban",
    "routing",
    "order",
    "invoice",
    "zip",
    "postcode",
    "postal",
    "tracking",
    "version",
    "serial",
    "nhs",
    "insurance",
];

/// Phone numbers in international (E.164, `00`-prefixed) and national
/// shapes. A shape alone scores low; known layouts and context words
/// (before, or `office`/`fax`/`mobile` right after) raise it.
#[derive(Debug)]
pub struct PhoneRecognizer {
    re: Regex,
}

impl PhoneRecognizer {
    pub fn new() -> Self {
        Self {
            re: Regex::new(
                r"(?i-u)(?:\+|\()?[0-9](?:[0-9().\- \t]{0,3}[0-9]){4,20}\)?(?:[ \t]?(?:x|ext\.?|extension)[ \t]?[0-9]{1,6})?",
            )
            .expect("phone regex"),
        }
    }

    fn score(&self, text: &str, start: usize, end: usize) -> Option<f32> {
        let s = &text[start..end];
        // Split off an extension.
        let core = match s.find(|c: char| c.is_ascii_alphabetic()) {
            Some(i) => s[..i].trim_end(),
            None => s,
        };
        let plus = core.starts_with('+');
        // Groups of digits and the separators between them.
        let mut groups: Vec<&str> = Vec::new();
        let mut seps: Vec<&str> = Vec::new();
        let mut i = 0;
        let b = core.as_bytes();
        let mut sep_start = 0;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                let g = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                if !groups.is_empty() {
                    seps.push(&core[sep_start..g]);
                }
                groups.push(&core[g..i]);
                sep_start = i;
            } else {
                i += 1;
            }
        }
        // Separators: one of space, dash, dot, with optional parentheses.
        let mut kinds = 0u8;
        for sep in &seps {
            let t: String = sep.chars().filter(|c| !matches!(c, '(' | ')')).collect();
            match t.as_str() {
                "" => {}
                " " | "\t" => kinds |= 1,
                "-" => kinds |= 2,
                "." => kinds |= 4,
                _ => return None,
            }
        }
        // Dots don't mix with other separators in phone numbers.
        if kinds & 4 != 0 && kinds != 4 {
            return None;
        }
        let opens = core.matches('(').count();
        let closes = core.matches(')').count();
        if opens != closes || opens > 1 {
            return None;
        }
        if opens == 1 {
            let (o, c) = (core.find('(')?, core.find(')')?);
            if c < o || !core[o + 1..c].bytes().all(|b| b.is_ascii_digit()) || c == o + 1 {
                return None;
            }
        }
        // A trunk "(0)" after a country code does not count.
        let trunk = core.contains("(0)");
        let digits: usize = groups.iter().map(|g| g.len()).sum::<usize>() - usize::from(trunk);
        if !(6..=15).contains(&digits) {
            return None;
        }
        // Dates, times, IPs and versions.
        let nums: Vec<u32> = groups
            .iter()
            .map(|g| g.parse().unwrap_or(u32::MAX))
            .collect();
        if groups.len() == 3 && kinds != 1 && opens == 0 && !plus {
            let l: Vec<usize> = groups.iter().map(|g| g.len()).collect();
            let date = (l == [4, 2, 2] && (1000..=2999).contains(&nums[0]) && nums[1] <= 12)
                || (l[2] == 4 && l[0] <= 2 && l[1] <= 2 && (1000..=2999).contains(&nums[2]))
                || (l == [2, 2, 2] && nums[1] <= 12 && nums[2] <= 31);
            if date {
                return None;
            }
        }
        if kinds == 4 && groups.len() == 4 && groups.iter().all(|g| g.len() <= 3) {
            return None;
        }
        if kinds == 4 && groups.iter().any(|g| g.len() == 1) {
            return None;
        }
        let next = text[end..].chars().next();
        let prev = text[..start].chars().next_back();
        if matches!(next, Some(':' | '%' | '/'))
            || matches!(prev, Some(':' | '$' | '€' | '£' | '/'))
        {
            return None;
        }
        let separated = groups.len() > 1;
        let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        let nanp = (!plus
            && (lens == [3, 3, 4] || (lens == [1, 3, 3, 4] && groups[0] == "1") || lens == [3, 7]))
            && (opens == 1 || kinds != 0);
        let base: f32 = if plus && digits >= 8 {
            0.75
        } else if core.starts_with("00") && digits >= 10 && separated {
            0.65
        } else if nanp {
            0.7
        } else if core.starts_with('0') && separated && (9..=12).contains(&digits) {
            0.55
        } else if separated && groups.len() >= 3 && digits >= 8 && lens.iter().all(|&l| l >= 2) {
            0.45
        } else if (separated && digits >= 7) || plus {
            0.3
        } else {
            0.1
        };
        let before = words_before(text, start, 5);
        let negative = before.iter().any(|w| PHONE_NEGATIVE.contains(&w.as_str()));
        let positive = before.iter().any(|w| PHONE_CONTEXT.contains(&w.as_str()));
        let after = words_after(text, end, 1)
            .iter()
            .any(|w| PHONE_AFTER.contains(&w.as_str()));
        if negative && !separated {
            return None;
        }
        // A weak shape followed by a capitalised word is usually a house
        // number and a street ("to 3621 86 Cours Marechal").
        let next_word = text[end..].trim_start_matches([' ', '\t']);
        if base < 0.5
            && !after
            && next_word.chars().next().is_some_and(char::is_uppercase)
            && next_word
                .split(|c: char| !c.is_alphanumeric())
                .next()
                .is_some_and(|w| w.len() > 1 && w.chars().all(char::is_alphabetic))
        {
            return None;
        }
        // "15 000 000" reads as an amount: thousands grouping with no
        // phone words around it.
        // (A 3-3-3 run is as often a phone as an amount; keep it.)
        let thousands = lens[1..].iter().all(|&l| l == 3)
            && opens == 0
            && (lens[0] < 3 || groups[1..].contains(&"000"));
        if base < 0.5 && thousands && !positive && !after {
            return None;
        }
        let mut score = base;
        if (positive && !negative) || after {
            score += 0.35;
        }
        Some(score.min(0.95))
    }
}

impl Default for PhoneRecognizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Recognizer for PhoneRecognizer {
    fn name(&self) -> &'static str {
        "phone"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for m in self.re.find_iter(text) {
            let mut start = m.start();
            let mut end = m.end();
            // Trim separators the greedy class took at the ends, and an
            // opening parenthesis that never closes.
            let s = &text[start..end];
            let trimmed = s.trim_end_matches([' ', '\t', '.', '-']);
            end = start + trimmed.len();
            if text[start..end].starts_with('(') && !text[start..end].contains(')') {
                start += 1;
            }
            if text[start..end].ends_with(')') && !text[start..end].contains('(') {
                end -= 1;
            }
            if start >= end || !is_bounded(text, start, end) {
                continue;
            }
            if let Some(score) = self.score(text, start, end) {
                if score >= 0.4 {
                    out.push(Detection::new(
                        start,
                        end,
                        EntityType::PhoneNumber,
                        score,
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
    use crate::recognizers::test_support::spans;

    #[test]
    fn emails() {
        let r = EmailRecognizer::new();
        for (text, want) in [
            ("mail jane.doe@example.com.", "jane.doe@example.com"),
            ("<a.b+tag@sub.mail.co.uk>", "a.b+tag@sub.mail.co.uk"),
            ("Grüße an anna_m@firma.de!", "anna_m@firma.de"),
            ("x | JorgBlau@rhyta.com | y", "JorgBlau@rhyta.com"),
            ("(bob@ex.org)", "bob@ex.org"),
            ("to: o'neil@x.ie,", "o'neil@x.ie"),
            ("ID99@corp.io", "ID99@corp.io"),
            ("first.last@dept.uni.edu;", "first.last@dept.uni.edu"),
            ("用户 user@example.cn 你好", "user@example.cn"),
            ("U@EXAMPLE.COM", "U@EXAMPLE.COM"),
        ] {
            assert_eq!(spans(&r, text), [want], "{text}");
        }
        for text in [
            "user@localhost",
            "@example.com",
            "name@domain.c",
            "a@b.co3000",
            "user@123.45",
            "twitter @handle",
            "price 5@3.50",
            "git@host",
            "email at example dot com",
            "me@.com",
        ] {
            assert!(spans(&r, text).is_empty(), "{text}");
        }
    }

    #[test]
    fn phones() {
        let r = PhoneRecognizer::new();
        for (text, want) in [
            ("Call (415) 555-0132 today", "(415) 555-0132"),
            ("at 415-555-0132.", "415-555-0132"),
            ("at 415.555.0132", "415.555.0132"),
            ("dial 1-415-555-0132 x123", "1-415-555-0132 x123"),
            ("ring +44 20 7946 0958", "+44 20 7946 0958"),
            ("tel 020 7946 0958", "020 7946 0958"),
            ("mobile 07700 900123", "07700 900123"),
            ("+33 1 23 45 67 89", "+33 1 23 45 67 89"),
            ("call 0049 30 123456", "0049 30 123456"),
            ("+41 (0)50 619 18 96 fax", "+41 (0)50 619 18 96"),
            ("my phone number is 4155550132", "4155550132"),
            ("Phone: 35 84 45", "35 84 45"),
            ("0490 39 07 81-Office,", "0490 39 07 81"),
            ("4089554880-Fax", "4089554880"),
        ] {
            assert_eq!(spans(&r, text), [want], "{text}");
        }
        for text in [
            "on 2023-10-12 we met",
            "version 1.2.3.4.5",
            "server 10.0.0.25",
            "order 4155550132 shipped",
            "at 2022-03-02 09:20:28",
            "12/10/2023",
            "costs $1 000 000",
            "my driver's license number is 32345554",
            "ref ABC4155550132",
            "pages 12-15",
            "v2.10.3 released",
            "1234567890123456789",
            "Apt. 678 469 72 Acheron Road",
            "a budget of 15 000 000 for 2024",
            "population 8 336 817 in 2020",
            "call a taxi to 3621 86 Cours Marechal",
        ] {
            assert!(spans(&r, text).is_empty(), "{text}: {:?}", spans(&r, text));
        }
    }

    #[test]
    fn boundaries_and_context() {
        assert!(is_bounded("a 12 b", 2, 4));
        assert!(!is_bounded("a1.12 b", 3, 5));
        assert!(is_bounded("end 12.", 4, 6));
        assert!(has_context("my phone is 1", 12, 3, &["phone"]));
        assert!(!has_context("phoney 1", 7, 3, &["phone"]));
    }
}
