//! Recognizers: organizations.
//!
//! [`OrganizationRecognizer`]: a run of capitalized (or all-capital) words
//! ending in a legal form or organisation head word from the gazetteer
//! ("Acme Widgets Inc.", "SANIX INCORPORATED", "Bank of Ireland"), and a
//! capitalized run after an employment context ("works at Initech").

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::OnceLock;

use crate::gazetteer::{self, Casing, List};
use crate::recognizers::contact::words_before;
use crate::recognizers::places::{is_all_caps, is_cap, tokenize};
use crate::recognizers::WordHasher;
use crate::{AnalyzerBuilder, Detection, EntityType, Recognizer};

/// Adds this module's recognizers to `builder`.
pub fn register(builder: AnalyzerBuilder) -> AnalyzerBuilder {
    builder.recognizer(OrganizationRecognizer::new())
}

/// Legal forms: strong evidence on their own.
const LEGAL: &[&str] = &[
    "inc",
    "inc.",
    "incorporated",
    "llc",
    "l.l.c.",
    "ltd",
    "ltd.",
    "limited",
    "plc",
    "p.l.c.",
    "gmbh",
    "ggmbh",
    "ag",
    "kg",
    "kgaa",
    "corp",
    "corp.",
    "corporation",
    "co",
    "co.",
    "company",
    "s.a.",
    "sa",
    "s.p.a.",
    "spa",
    "s.r.l.",
    "srl",
    "sarl",
    "s.a.r.l.",
    "sas",
    "s.a.s.",
    "b.v.",
    "bv",
    "n.v.",
    "nv",
    "llp",
    "l.l.p.",
    "lp",
    "l.p.",
    "pty",
    "pty.",
    "oy",
    "oyj",
    "ab",
    "asa",
    "a/s",
    "aps",
    "k.k.",
    "kk",
    "pllc",
    "p.c.",
    "se",
    "bancorp",
    "holdings",
    "holding",
    "aktiengesellschaft",
];

/// Words joining the parts of a name.
const LINKS: &[&str] = &[
    "&", "and", "of", "for", "de", "du", "des", "la", "le", "the", "van", "von",
];

/// Words that stop a name run on the left.
const STOP_LEFT: &[&str] = &[
    "The", "A", "An", "At", "In", "On", "Of", "For", "From", "To", "By", "With", "And", "Or",
    "But", "I", "We", "You", "He", "She", "They", "It", "My", "Our", "Your", "His", "Her", "Their",
    "This", "That", "Dear", "Hi", "Hello", "Mr", "Mrs", "Ms", "Dr", "Prof", "During", "Since",
    "After", "Before", "When", "While", "If", "Is", "Was", "Are", "Please", "Contact", "Address",
    "Name", "Company", "Employer", "Re", "Subject", "Visitor", "Send", "Thanks",
];

/// Lower-case words that never end a lower-case name run on the left.
const LOWER_STOP: &[&str] = &[
    "the",
    "a",
    "an",
    "of",
    "at",
    "in",
    "on",
    "for",
    "from",
    "to",
    "by",
    "with",
    "and",
    "or",
    "is",
    "was",
    "are",
    "her",
    "his",
    "their",
    "our",
    "my",
    "your",
    "its",
    "this",
    "that",
    "big",
    "small",
    "large",
    "new",
    "old",
    "local",
    "public",
    "private",
    "including",
    "city",
    "address",
];

/// Context before a name that says "organisation".
const ORG_CONTEXT: &[&str] = &[
    "works",
    "work",
    "working",
    "worked",
    "employed",
    "joined",
    "join",
    "ceo",
    "cfo",
    "cto",
    "founder",
    "founded",
    "president",
    "chairman",
    "director",
    "employee",
    "employees",
    "employer",
    "hired",
    "company",
    "firm",
    "acquired",
    "subsidiary",
    "intern",
    "interned",
];

/// Organisations.
#[derive(Debug, Default)]
pub struct OrganizationRecognizer;

impl OrganizationRecognizer {
    pub fn new() -> Self {
        Self
    }
}

/// Organisation head words the shipped list lacks (weak evidence).
const EXTRA_HEADS: &[&str] = &[
    "ETF",
    "Therapeutics",
    "Brands",
    "Energy",
    "Pharma",
    "Bancshares",
    "Acquisition",
    "Communications",
    "Networks",
    "Entertainment",
    "Resources",
    "Properties",
    "Realty",
    "REIT",
    "Electric",
    "Petroleum",
    "Semiconductor",
    "Software",
    "Healthcare",
    "Foods",
    "Products",
    "Logistics",
    "Biosciences",
    "Biotech",
    "Technology",
    "Telecom",
    "Airways",
    "Railways",
    "Trading",
    "Investments",
    "Securities",
    "Robotics",
    "Dynamics",
    "Aktiengesellschaft",
    "Incorporation",
    "Associates",
    "Advisors",
    "Journal",
    "Magazine",
    "Chemicals",
    "Materials",
    "Minerals",
    "Mining",
    "Metals",
    "Textiles",
    "Shipping",
    "Hotels",
    "Resorts",
    "Restaurants",
    "Stores",
    "Publishing",
    "Broadcasting",
    "Telecommunications",
    "Utilities",
    "Engineering",
    "Electronics",
    "Instruments",
    "Semiconductors",
    "Manufacturing",
    "Aerospace",
    "Diagnostics",
    "Biopharma",
    "Bancorporation",
    "Movers",
    "ETN",
    "UCITS",
];

/// Security classes after a listed company's name.
const SECURITY_CLASS: &[&str] = &[
    "Preferred Shares",
    "Preferred Stock",
    "Depositary Shares",
    "Common Stock",
    "Ordinary Shares",
    "Units",
    "Unit",
    "Warrants",
    "Warrant",
    "Rights",
    "PFD",
    "PREF",
    "ADR",
    "ADS",
];

/// The end of "Preferred Shares Series E" after a legal form ending at
/// `end` (or `end`).
fn security_class_end(text: &str, end: usize) -> usize {
    let rest = &text[end..];
    let Some(r) = rest.strip_prefix(' ') else {
        return end;
    };
    let Some(c) = SECURITY_CLASS.iter().find(|c| {
        r.starts_with(*c)
            && !r[c.len()..]
                .chars()
                .next()
                .is_some_and(char::is_alphanumeric)
    }) else {
        return end;
    };
    let mut e = end + 1 + c.len();
    // "Series E", "Class A"
    for lead in [" Series ", " Class "] {
        if let Some(r) = text[e..].strip_prefix(lead) {
            let w: &str = r.split(|c: char| !c.is_alphanumeric()).next().unwrap_or("");
            if !w.is_empty()
                && w.len() <= 2
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            {
                e += lead.len() + w.len();
            }
        }
    }
    e
}

/// All-capital listing names with a share-class slash ("ETFS FORE/3X LONG
/// EUR SHORT USD", "JPMORGAN CHASE/SH SH"): two or more tokens, one with
/// letters on both sides of a slash, another of letters only.
fn find_listings(text: &str, out: &mut Vec<Detection>) {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"(?:^|[ \t\n:,(>])((?:[A-Z][A-Z0-9.&\-]*[ ])*[A-Z0-9][A-Z0-9.\-]*/[A-Z0-9][A-Z0-9.\-]*(?:[ ][A-Z0-9][A-Z0-9.%\-]*)*)",
        )
        .expect("listing regex")
    });
    for c in re.captures_iter(text) {
        let Some(m) = c.get(1) else { continue };
        let span = m.as_str().trim_end_matches('.');
        let end = m.start() + span.len();
        if text[end..].starts_with(char::is_alphabetic) {
            continue;
        }
        let toks: Vec<&str> = span.split(' ').collect();
        let slashed = toks.iter().any(|t| {
            t.split('/')
                .filter(|p| p.chars().any(|c| c.is_ascii_uppercase()))
                .count()
                >= 2
        });
        let worded = toks
            .iter()
            .any(|t| !t.contains('/') && t.len() >= 2 && t.chars().all(|c| c.is_ascii_uppercase()));
        if toks.len() >= 2 && slashed && worded {
            out.push(Detection::new(
                m.start(),
                end,
                EntityType::Organization,
                0.55,
                "organization",
            ));
        }
    }
}

/// Roman numerals after a legal form ("Merger Corp. II").
const SERIES: &[&str] = &["I", "II", "III", "IV", "V", "VI"];

/// Words after an organisation name that say so ("Where is X
/// headquartered?", "X's headquarters").
const ORG_AFTER: &[&str] = &["headquartered", "headquarters", "hq"];

/// The entry of [`EXTRA_HEADS`] that `word` is, ignoring ASCII case.
fn extra_head(word: &str) -> Option<&'static str> {
    // Longer than any head, or not ASCII: none (the heads are ASCII).
    const MAX: usize = 24;
    if word.len() > MAX || !word.is_ascii() {
        return None;
    }
    static BY_LOWER: OnceLock<HashMap<String, &'static str, BuildHasherDefault<WordHasher>>> =
        OnceLock::new();
    let by_lower = BY_LOWER.get_or_init(|| {
        EXTRA_HEADS
            .iter()
            .map(|h| (h.to_ascii_lowercase(), *h))
            .collect()
    });
    let mut buf = [0u8; MAX];
    let lower = &mut buf[..word.len()];
    lower.copy_from_slice(word.as_bytes());
    lower.make_ascii_lowercase();
    by_lower.get(std::str::from_utf8(lower).ok()?).copied()
}

fn is_suffix_at(text: &str, start: usize) -> Option<(usize, Casing, bool)> {
    let word_end = text[start..]
        .find(|c: char| !c.is_alphanumeric())
        .map_or(text.len(), |n| start + n);
    let word = &text[start..word_end];
    if let Some(h) = extra_head(word) {
        let casing = if word == h {
            Casing::Exact
        } else if is_all_caps(word) {
            Casing::Upper
        } else if is_cap(word) {
            Casing::Capitalized
        } else {
            Casing::Lower
        };
        return Some((
            word_end,
            casing,
            word.eq_ignore_ascii_case("aktiengesellschaft"),
        ));
    }
    let (end, casing) = match gazetteer::longest_match_at(List::OrgSuffixes, text, start) {
        Some(m) => (m.end, m.hit.casing),
        None => {
            // "Inc.'s": the possessive hides the suffix from the phrase
            // lookup; try the bare word, with its full stop. Unless the
            // phrase lookup's first token was that word (with or without
            // one full stop): then it has tried these keys already.
            let is_token_mark = |c: char| matches!(c, '\'' | '’' | '.' | '-' | '&');
            let ends_token = |rest: &str| {
                !rest
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphanumeric() || is_token_mark(c))
            };
            let rest = &text[word_end..];
            let tried = !word.is_empty()
                && (ends_token(rest) || rest.starts_with('.') && ends_token(&rest[1..]));
            if tried {
                return None;
            }
            let with_dot = text[word_end..].starts_with('.');
            let dotted = with_dot
                .then(|| gazetteer::lookup(List::OrgSuffixes, &text[start..word_end + 1]))
                .flatten();
            if let Some(h) = dotted {
                (word_end + 1, h.casing)
            } else {
                let h = gazetteer::lookup(List::OrgSuffixes, word)?;
                (word_end, h.casing)
            }
        }
    };
    let w = &text[start..end];
    let legal = LEGAL.contains(&w.to_lowercase().as_str())
        || w.to_lowercase().starts_with("co.")
        || w.contains(' ');
    Some((end, casing, legal))
}

/// Legal forms written glued to the name ("RoadwayCorp", "holdingsInc.").
const GLUED: &[&str] = &["Inc", "Ltd", "Corp", "Limited", "LLC", "Incorporated"];

/// A token ending in a glued legal form: the span to report, if any.
fn glued_suffix(text: &str, start: usize, end: usize) -> Option<usize> {
    let w = &text[start..end];
    // "holdingsInc.", and "HOLDINGSInc." / "MEDIASEEKinc.": the case
    // change marks the seam
    let (suffix, upper_stem) = match GLUED.iter().find(|g| w.ends_with(*g)) {
        Some(g) => (g.len(), false),
        None => (
            ["inc", "ltd", "corp"]
                .iter()
                .find(|g| w.ends_with(*g) && text[end..].starts_with('.'))?
                .len(),
            true,
        ),
    };
    let stem = &w[..w.len() - suffix];
    let upper = stem.chars().count() >= 3 && is_all_caps(stem);
    if stem.chars().count() < 3
        || !(stem.chars().last().is_some_and(char::is_lowercase) && !upper_stem || upper)
    {
        return None;
    }
    Some(if text[end..].starts_with('.') {
        end + 1
    } else {
        end
    })
}

impl Recognizer for OrganizationRecognizer {
    fn name(&self) -> &'static str {
        "organization"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        let toks = tokenize(text);
        let mut covered_to = 0usize;
        let mut i = 0;
        while i < toks.len() {
            let t = toks[i];
            i += 1;
            if t.start < covered_to {
                continue;
            }
            let Some((mut end, casing, mut legal)) = is_suffix_at(text, t.start) else {
                continue;
            };
            let lower_text = !text.chars().any(char::is_uppercase);
            if !(casing.is_proper() || casing == Casing::Upper || lower_text && legal) {
                continue;
            }
            if casing == Casing::Upper && !legal {
                continue;
            }
            // "Umbrete SE 41806": a region code before a postal code.
            if text[t.start..end].len() <= 3
                && text[end..]
                    .trim_start_matches([' ', '\t'])
                    .starts_with(|c: char| c.is_ascii_digit())
            {
                continue;
            }
            // more suffixes after: "Holdings Corporation", "Co., Ltd."
            let mut j = i;
            while j < toks.len() && toks[j].start < end {
                j += 1;
            }
            loop {
                let gap_end = text[end..]
                    .char_indices()
                    .find(|&(_, c)| !matches!(c, ' ' | ','))
                    .map_or(text.len(), |(k, _)| end + k);
                if gap_end - end > 2 || gap_end == end && end < text.len() {
                    break;
                }
                match is_suffix_at(text, gap_end) {
                    Some((e, c, l)) if c.is_proper() || c == Casing::Upper => {
                        end = e;
                        legal |= l;
                        while j < toks.len() && toks[j].start < end {
                            j += 1;
                        }
                    }
                    _ => break,
                }
            }
            // "James Halstead PLC Preferred Shares", "CENAQ Energy Corp. Unit"
            if legal {
                end = security_class_end(text, end);
            }
            // "Legato Merger Corp. II"
            if legal {
                let rest = &text[end..];
                if let Some(r) = rest.strip_prefix(' ') {
                    let w = r.split(|c: char| !c.is_alphanumeric()).next().unwrap_or("");
                    if SERIES.contains(&w) {
                        end += 1 + w.len();
                    }
                }
            }
            // "Bank of Ireland", "University of Oxford"
            if !legal && text[end..].starts_with(" of ") {
                let k = j + 1;
                if k < toks.len() && text[toks[j].start..toks[j].end] == *"of" {
                    let w = &text[toks[k].start..toks[k].end];
                    if is_cap(w) && toks[k].start == toks[j].end + 1 {
                        end = toks[k].end;
                        let mut k2 = k + 1;
                        while k2 < toks.len()
                            && toks[k2].start == end + 1
                            && is_cap(&text[toks[k2].start..toks[k2].end])
                        {
                            end = toks[k2].end;
                            k2 += 1;
                        }
                        out.push(Detection::new(
                            t.start,
                            end,
                            EntityType::Organization,
                            0.6,
                            "organization",
                        ));
                        covered_to = end;
                        i = k2;
                        continue;
                    }
                }
            }
            // name words to the left, on the same line
            let mut start = t.start;
            let mut words = 0;
            let mut k = i - 1;
            let upper_suffix = casing == Casing::Upper;
            while k > 0 && words < 6 {
                let p = toks[k - 1];
                let gap = &text[p.end..start];
                let w = &text[p.start..p.end];
                let co_dot = gap == "." && w.eq_ignore_ascii_case("co");
                if !(gap == " "
                    || gap == " ("
                    || gap == ") "
                    || gap == " & "
                    || gap == "&"
                    || gap == ". "
                    || gap == "/"
                    || gap == ", "
                    || co_dot)
                {
                    break;
                }
                if gap == ", " && !legal {
                    break;
                }
                let w = &text[p.start..p.end];
                let linked = LINKS.contains(&w) && w != "of";
                let ok = if lower_text && casing == Casing::Lower {
                    w.chars().all(char::is_lowercase) && !LOWER_STOP.contains(&w)
                } else if upper_suffix {
                    is_all_caps(w)
                        || w.chars().all(|c| c.is_ascii_digit())
                        || w.len() == 1 && is_cap(w)
                } else {
                    is_cap(w) || linked || w.chars().all(|c| c.is_ascii_digit())
                };
                // "Open Water I Corp.": a numeral inside a name
                let numeral = w == "I"
                    && k >= 2
                    && is_cap(&text[toks[k - 2].start..toks[k - 2].end])
                    && &text[toks[k - 2].end..p.start] == " ";
                if !ok || STOP_LEFT.contains(&w) && !numeral {
                    break;
                }
                // "CKD Corporation and John Hancock Investors Trust": a link
                // after another organisation ends this one
                let legal_at = |q: crate::recognizers::places::Tok| {
                    is_suffix_at(text, q.start).is_some_and(|(e, _, l)| l && e >= q.end)
                };
                if w == "and" && k >= 2 && legal_at(toks[k - 2]) || gap.contains('&') && legal_at(p)
                {
                    break;
                }
                if gap == ", " {
                    // "Smith, Jones Ltd"? keep simple: stop at a comma
                    break;
                }
                start = p.start;
                words += 1;
                k -= 1;
            }
            // drop leading link words
            while words > 0 {
                let first_end = text[start..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '&'))
                    .map_or(text.len(), |n| start + n);
                let w = &text[start..first_end];
                if LINKS.contains(&w) || w == "&" {
                    let next = text[first_end..]
                        .find(|c: char| c.is_alphanumeric())
                        .map_or(end, |n| first_end + n);
                    start = next;
                    words -= 1;
                } else {
                    break;
                }
            }
            if words == 0 {
                continue;
            }
            let ctx = words_before(text, start, 3)
                .iter()
                .any(|w| ORG_CONTEXT.contains(&w.as_str()));
            let mut score: f32 = if casing == Casing::Lower {
                0.5
            } else if legal {
                0.9
            } else {
                0.55
            };
            if ctx {
                score += 0.1;
            }
            if !legal && words == 1 {
                // "Green Bank", "Art Club": weak; "European Union": a
                // demonym and a head word is a polity more often than not
                score -= 0.1;
                if gazetteer::is_nationality(text[start..t.start].trim_end()) {
                    score -= 0.2;
                }
            }
            if start == 0
                || !legal && crate::recognizers::places::sentence_initial(text, start) && words == 1
            {
                score -= 0.0;
            }
            let end = end.min(text.len());
            out.push(Detection::new(
                start,
                end,
                EntityType::Organization,
                score.min(0.95),
                "organization",
            ));
            covered_to = end;
            while i < toks.len() && toks[i].start < end {
                i += 1;
            }
        }
        // glued legal forms: "RoadwayCorp", "Shiseido CompanyLimited"
        for (idx, t) in toks.iter().enumerate() {
            let Some(end) = glued_suffix(text, t.start, t.end) else {
                continue;
            };
            let mut start = t.start;
            let mut k = idx;
            while k > 0 && idx - k < 4 {
                let p = toks[k - 1];
                let w = &text[p.start..p.end];
                if &text[p.end..start] != " "
                    || !(is_cap(w) || is_all_caps(w))
                    || STOP_LEFT.contains(&w)
                {
                    break;
                }
                start = p.start;
                k -= 1;
            }
            out.push(Detection::new(
                start,
                end,
                EntityType::Organization,
                0.8,
                "organization",
            ));
        }
        // "PIMCO FXD/SHS GBP": an exchange's all-caps listing name
        if text.contains('/') && !crate::recognizers::places::mostly_upper(text) {
            find_listings(text, out);
        }
        // "Where is X headquartered?", "X's headquarters"
        for (idx, t) in toks.iter().enumerate() {
            let w = &text[t.start..t.end];
            if !ORG_AFTER.iter().any(|a| w.eq_ignore_ascii_case(a)) || idx == 0 {
                continue;
            }
            let mut k = idx;
            let gap0 = &text[toks[k - 1].end..t.start];
            if !matches!(gap0, " " | "'s " | "’s ") {
                continue;
            }
            let last = &text[toks[k - 1].start..toks[k - 1].end];
            let end = if last.ends_with("'s") || last.ends_with("’s") {
                toks[k - 1].start + last.len()
                    - last
                        .chars()
                        .rev()
                        .take(2)
                        .map(char::len_utf8)
                        .sum::<usize>()
            } else {
                toks[k - 1].end + usize::from(text[toks[k - 1].end..].starts_with('.'))
            };
            let mut start = end;
            let mut n = 0;
            while k > 0 && n < 8 {
                let p = toks[k - 1];
                let pw = &text[p.start..p.end];
                let gap = &text[p.end..if k == idx { p.end } else { start }];
                if k != idx && !matches!(gap, " " | ". " | " & " | "/" | "-" | " (" | ") " | ".") {
                    break;
                }
                let ok = (is_cap(pw) || is_all_caps(pw) || pw.chars().any(|c| c.is_ascii_digit()))
                    && !STOP_LEFT.contains(&pw)
                    || n > 0 && LINKS.contains(&pw) && pw != "the";
                if !ok {
                    break;
                }
                start = p.start;
                n += 1;
                k -= 1;
            }
            // drop leading links
            while n > 0 {
                let w0 = text[start..].split(' ').next().unwrap_or("");
                if !LINKS.contains(&w0) {
                    break;
                }
                start += w0.len() + 1;
                n -= 1;
            }
            if n > 0 && start < end {
                out.push(Detection::new(
                    start,
                    end,
                    EntityType::Organization,
                    0.6,
                    "organization",
                ));
            }
        }
        // capitalized run after an employment context: "works at Initech"
        for (idx, t) in toks.iter().enumerate() {
            if t.start < covered_to.min(t.start) {
                continue;
            }
            let w = &text[t.start..t.end];
            if !(is_cap(w) || is_all_caps(w)) || STOP_LEFT.contains(&w) {
                continue;
            }
            let before = words_before(text, t.start, 3);
            let Some(first) = before.first() else {
                continue;
            };
            let strong = matches!(first.as_str(), "at" | "for" | "by" | "of" | "joined")
                && before.iter().any(|b| ORG_CONTEXT.contains(&b.as_str()));
            if !strong
                || idx > 0
                    && toks[idx - 1].end + 1 < t.start
                    && text[toks[idx - 1].end..t.start].trim() != ""
            {
                continue;
            }
            let mut end = t.end;
            let mut n = idx + 1;
            let caps = is_all_caps(w);
            while n < toks.len()
                && (toks[n].start == end + 1 || caps && &text[end..toks[n].start] == "/")
                && n < idx + 6
            {
                let nw = &text[toks[n].start..toks[n].end];
                // "XTRACKERS NIKKEL 22/JPY": an all-caps listing name
                let listing = caps
                    && (is_all_caps(nw)
                        || nw
                            .chars()
                            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
                if !(is_cap(nw) || is_all_caps(nw) || nw == "&" || listing) {
                    break;
                }
                end = toks[n].end;
                n += 1;
            }
            out.push(Detection::new(
                t.start,
                end,
                EntityType::Organization,
                0.5,
                "organization",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        OrganizationRecognizer::new().find(text, &mut out);
        out.iter()
            .map(|d| text[d.start..d.end].to_string())
            .collect()
    }

    #[test]
    fn suffixed_names() {
        assert_eq!(
            find("During 1994, Hind Syntex Ltd invested"),
            ["Hind Syntex Ltd"]
        );
        assert_eq!(find("The Invesco Ltd. office"), ["Invesco Ltd."]);
        assert_eq!(find("SANIX INCORPORATED filed"), ["SANIX INCORPORATED"]);
        assert!(find("I baked an Apple pie").is_empty());
    }
}
