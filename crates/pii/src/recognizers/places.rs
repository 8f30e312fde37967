//! Recognizers: places.
//!
//! - [`LocationRecognizer`]: countries, US states, continents and cities
//!   from the gazetteer, scored by kind, casing, population and context;
//!   unknown capitalized names right after a strong place context ("live
//!   in X", "returned to X") at a modest score.
//! - [`StreetAddressRecognizer`]: a street core (house number + name +
//!   street type, a street name with a European street word and a number,
//!   a military address), extended over units ("Apt 4B") and a city /
//!   state / postal code tail when the tail ends in something address-like.
//! - [`ZipCodeRecognizer`]: postal codes after a label ("ZIP:", "postcode")
//!   or after a two-letter state/region code, and UK postcodes by shape.
//! - [`NrpRecognizer`]: nationalities, religions and political groups.

use std::cell::OnceCell;
use std::sync::OnceLock;

use regex::Regex;

use crate::gazetteer::{self, Casing, List, PlaceKind};
use crate::recognizers::contact::{is_bounded, lower_words_back, words_after, words_before};
use crate::recognizers::{may_have_digit, BoundaryRegex};

mod gated;
use crate::{AnalyzerBuilder, Detection, EntityType, Recognizer};
use gated::GatedRegex;

/// Adds this module's recognizers to `builder`.
pub fn register(builder: AnalyzerBuilder) -> AnalyzerBuilder {
    builder
        .recognizer(LocationRecognizer::new())
        .recognizer(StreetAddressRecognizer::new())
        .recognizer(ZipCodeRecognizer::new())
        .recognizer(NrpRecognizer::new())
}

/// A word of the text: a run of letters and digits, with inner hyphens and
/// apostrophes ("Chavannes-près-Renens", "O'Brien").
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tok {
    pub start: usize,
    pub end: usize,
}

/// Splits `text` into [`Tok`]s once: runs of letters and digits, with
/// inner hyphens and apostrophes ("O'Brien", "Saint-Denis").
pub(crate) fn tokenize(text: &str) -> Vec<Tok> {
    // Room for words of five bytes or so: rarely any regrowth.
    let mut out = Vec::with_capacity(text.len() / 4 + 1);
    let mut start: Option<usize> = None;
    let mut i = 0;
    while let Some(c) = char_at(text, i) {
        let next = i + c.len_utf8();
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
            }
        } else if matches!(c, '-' | '\'' | '’')
            && start.is_some()
            && char_at(text, next).is_some_and(char::is_alphanumeric)
        {
            // inner joiner, keep going
        } else if let Some(s) = start.take() {
            out.push(Tok { start: s, end: i });
        }
        i = next;
    }
    if let Some(s) = start {
        out.push(Tok {
            start: s,
            end: text.len(),
        });
    }
    out
}

/// The char at byte `i` (a char boundary) of `text`, ASCII decoded
/// directly (nearly every char).
#[inline]
fn char_at(text: &str, i: usize) -> Option<char> {
    match text.as_bytes().get(i) {
        Some(&b) if b.is_ascii() => Some(char::from(b)),
        Some(_) => text[i..].chars().next(),
        None => None,
    }
}

pub(crate) fn is_cap(w: &str) -> bool {
    w.chars().next().is_some_and(char::is_uppercase)
}

pub(crate) fn is_all_caps(w: &str) -> bool {
    let mut letters = 0;
    for c in w.chars() {
        if c.is_lowercase() {
            return false;
        }
        if c.is_alphabetic() {
            letters += 1;
        }
    }
    letters >= 2
}

/// Whether the text is shouting (mostly capitals), where case says nothing.
pub(crate) fn mostly_upper(text: &str) -> bool {
    let (mut up, mut low) = (0usize, 0usize);
    for c in text.chars() {
        if c.is_uppercase() {
            up += 1;
        } else if c.is_lowercase() {
            low += 1;
        }
    }
    up > 3 * low && up >= 8
}

/// Whether byte `start` opens a sentence or line.
pub(crate) fn sentence_initial(text: &str, start: usize) -> bool {
    for c in text[..start].chars().rev() {
        if c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '(' || c == '*' {
            continue;
        }
        return matches!(c, '.' | '!' | '?' | '\n' | ':' | '>' | '|' | '-' | '•');
    }
    true
}

const PLACE_PREPS: &[&str] = &[
    "in",
    "from",
    "to",
    "near",
    "visit",
    "visiting",
    "visited",
    "across",
    "throughout",
    "around",
    "towards",
    "toward",
    "into",
    "outside",
    "inside",
    "of",
    "at",
];

/// Words that, a few words before a preposition, make a place very likely.
const PLACE_VERBS: &[&str] = &[
    "live",
    "lives",
    "living",
    "lived",
    "born",
    "moved",
    "move",
    "moving",
    "based",
    "located",
    "situated",
    "headquartered",
    "travel",
    "traveling",
    "travelling",
    "travelled",
    "traveled",
    "trip",
    "flew",
    "fly",
    "flying",
    "weather",
    "returned",
    "return",
    "relocated",
    "relocating",
    "originally",
    "raised",
    "grew",
    "stay",
    "staying",
    "stayed",
    "valid",
    "vacation",
    "holiday",
    "holidays",
    "am",
    "i'm",
    "im",
    "we're",
    "currently",
    "city",
    "town",
    "village",
    "country",
    "arrived",
    "arrive",
    "went",
    "go",
    "going",
    "headed",
    "heading",
    "drive",
    "drove",
    "resident",
    "residing",
    "reside",
    "resides",
    "hometown",
    "hail",
    "hails",
    "come",
    "comes",
    "came",
    "emigrated",
    "immigrated",
    "welcome",
    "m",
    "ward",
    "admitted",
    "hospitalized",
    "hospitalised",
    "street",
    "road",
    "avenue",
    "conference",
    "meeting",
    "office",
    "offices",
    "branch",
    "stationed",
    "died",
    "married",
    "studied",
    "settled",
];

/// Lower-case words inside place names.
const PLACE_LINKS: &[&str] = &[
    "de", "del", "della", "di", "da", "do", "dos", "das", "la", "le", "les", "am", "an", "im",
    "sur", "en", "v", "y", "upon", "bei", "ob", "pri", "na", "nad", "pod",
];

/// Capitalized words that extend a place name to the left.
const PLACE_PREFIXES: &[&str] = &[
    "new", "north", "south", "east", "west", "northern", "southern", "eastern", "western", "upper",
    "lower", "greater", "central", "great", "little", "old",
];

/// Words that make a place likely even several words before the
/// preposition ("born on 4/10/1972 in X", "admitted to the ward in X").
const FAR_PLACE_VERBS: &[&str] = &[
    "born",
    "admitted",
    "ward",
    "street",
    "located",
    "based",
    "raised",
    "died",
    "married",
    "headquartered",
    "situated",
    "live",
    "lives",
    "living",
    "weather",
];

/// Words that are never the start of an unknown place.
const NOT_PLACE: &[&str] = &[
    "the",
    "a",
    "an",
    "my",
    "our",
    "your",
    "his",
    "her",
    "their",
    "this",
    "that",
    "these",
    "those",
    "i",
    "we",
    "you",
    "he",
    "she",
    "it",
    "they",
    "me",
    "him",
    "them",
    "us",
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "christmas",
    "easter",
    "new",
    "order",
    "person",
    "english",
    "french",
    "spanish",
    "german",
    "summer",
    "winter",
    "spring",
    "autumn",
    "fall",
    "time",
    "school",
    "work",
    "office",
    "home",
    "god",
    "church",
    "hospital",
    "jail",
    "prison",
    "bed",
    "what",
    "which",
    "who",
    "where",
    "when",
    "how",
    "some",
    "any",
    "all",
    "each",
    "every",
    "one",
    "two",
    "three",
    "please",
    "thanks",
    "thank",
    "hello",
    "hi",
    "dear",
    "sir",
    "madam",
    "ok",
    "okay",
    "yes",
    "no",
    "not",
    "and",
    "or",
    "but",
    "if",
    "so",
    "as",
    "for",
    "to",
    "in",
    "on",
    "at",
    "by",
    "with",
    "from",
    "apt",
    "suite",
    "unit",
    "room",
    "floor",
    "street",
    "road",
    "avenue",
    "via",
    "rue",
    "is",
    "was",
    "be",
    "there",
    "here",
    "now",
    "then",
    "today",
    "tomorrow",
    "yesterday",
    "morning",
    "evening",
    "night",
    "week",
    "month",
    "year",
];

/// City names that are also everyday words: they need context.
const COMMON_WORD_PLACES: &[&str] = &[
    "of",
    "reading",
    "mobile",
    "nice",
    "bath",
    "split",
    "best",
    "deal",
    "hope",
    "march",
    "may",
    "bank",
    "union",
    "police",
    "page",
    "golden",
    "university",
    "independence",
    "liberty",
    "victoria",
    "delta",
    "temple",
    "university",
    "orange",
    "bonus",
    "fame",
    "gap",
    "goes",
    "lens",
    "male",
    "mango",
    "marks",
    "mode",
    "most",
    "much",
    "natal",
    "opportunity",
    "palm",
    "paradise",
    "peru",
    "plenty",
    "pop",
    "post",
    "price",
    "pride",
    "progress",
    "rest",
    "riches",
    "royal",
    "sale",
    "sandy",
    "spa",
    "sun",
    "surprise",
    "taft",
    "trust",
    "usa",
    "van",
    "vine",
    "wells",
    "worth",
    "young",
    "enterprise",
    "friendship",
    "harmony",
    "mission",
    "normal",
    "commerce",
    "concord",
    "conway",
    "garden",
    "grove",
    "lowell",
    "marine",
    "media",
    "moody",
    "ocean",
    "plain",
    "plaza",
    "pleasant",
    "porto",
    "rich",
    "salem",
    "sterling",
    "summit",
    "sunrise",
    "union",
    "unity",
    "valley",
    "venture",
    "vista",
    "waterloo",
    "centre",
    "center",
    "ball",
    "bar",
    "bay",
    "beach",
    "bell",
    "bend",
    "blue",
    "brook",
    "camp",
    "cliff",
    "deer",
    "dover",
    "early",
    "eagle",
    "erie",
    "fountain",
    "hamburg",
    "haven",
    "hill",
    "hollywood",
    "homestead",
    "hospital",
    "hunt",
    "iron",
    "lake",
    "lancaster",
    "laredo",
    "leader",
    "lima",
    "lincoln",
    "march",
    "marion",
    "mercedes",
    "miles",
    "mills",
    "monroe",
    "motor",
    "oak",
    "palmer",
    "park",
    "pine",
    "pinto",
    "plant",
    "pleasanton",
    "port",
    "portage",
    "prima",
    "rock",
    "rose",
    "ruby",
    "saint",
    "san",
    "santa",
    "sale",
    "santos",
    "sen",
    "shelby",
    "sky",
    "spring",
    "springs",
    "star",
    "station",
    "sydney",
    "teller",
    "troy",
    "tyler",
    "vera",
    "west",
    "east",
    "north",
    "south",
    "central",
    "wood",
    "york",
    "zion",
    "ware",
    "ward",
    "kent",
    "essex",
    "tours",
    "angers",
    "chance",
    "grace",
    "hong",
    "kong",
    "wake",
    "aurora",
    "carmel",
    "eden",
    "faith",
    "florence",
    "joy",
    "love",
    "luck",
    "mercy",
    "olive",
    "pearl",
    "rainbow",
    "salt",
    "sand",
    "soul",
    "stone",
    "sweet",
    "umbrella",
    "wedding",
    "white",
    "black",
    "green",
    "brown",
    "gray",
    "grey",
    "red",
    "turkey",
    "chad",
    "jordan",
    "guinea",
    "china",
    "jersey",
    "georgia",
    "niger",
    "chile",
    "japan",
    "panama",
    "java",
    "cuba",
    "oman",
    "bristol",
];

/// Countries that double as common nouns: need context when followed by a
/// lower-case word ("Turkey sandwich", "China plates").
const NOUN_COUNTRIES: &[&str] = &[
    "turkey", "chad", "jordan", "guinea", "china", "jersey", "georgia", "niger", "chile", "japan",
    "panama", "java", "cuba", "oman", "mali", "peru", "togo", "iran",
];

/// Lower-case words after a place that keep it a place ("Italy is nice").
const FUNCTION_WORDS: &[&str] = &[
    "is",
    "was",
    "has",
    "had",
    "and",
    "or",
    "but",
    "for",
    "to",
    "in",
    "on",
    "at",
    "by",
    "with",
    "from",
    "of",
    "as",
    "the",
    "a",
    "an",
    "are",
    "were",
    "will",
    "would",
    "can",
    "could",
    "it",
    "this",
    "that",
    "where",
    "which",
    "who",
    "since",
    "until",
    "before",
    "after",
    "during",
    "because",
    "so",
    "if",
    "then",
    "last",
    "next",
    "yesterday",
    "today",
    "tomorrow",
    "soon",
    "again",
    "too",
    "also",
    "recently",
    "now",
    "did",
    "does",
    "do",
    "should",
    "may",
    "might",
    "must",
    "be",
    "been",
    "being",
    "i",
    "we",
    "you",
    "he",
    "she",
    "they",
    "my",
    "our",
    "your",
    "his",
    "her",
    "their",
    "about",
    "for",
    "than",
    "when",
    "while",
    "while",
    "via",
];

/// Countries, US states, continents and cities.
#[derive(Debug, Default)]
pub struct LocationRecognizer;

impl LocationRecognizer {
    pub fn new() -> Self {
        Self
    }
}

/// Context evidence before a candidate place: (a place preposition right
/// before it, a strong place context). The words before are read only as
/// far as needed, nearest first.
fn place_context(text: &str, start: usize) -> (bool, bool) {
    let mut before = lower_words_back(text, start).take(7);
    let Some(first) = before.next() else {
        return (false, false);
    };
    let first = first.as_str();
    let prep = PLACE_PREPS.contains(&first);
    let visit = matches!(first, "visit" | "visiting" | "visited" | "near");
    if !prep {
        return (false, visit);
    }
    // A verb within two words of the preposition, or a far verb anywhere.
    let verb = before.enumerate().any(|(k, w)| {
        k < 2 && PLACE_VERBS.contains(&w.as_str()) || FAR_PLACE_VERBS.contains(&w.as_str())
    });
    (prep, verb || visit)
}

impl Recognizer for LocationRecognizer {
    fn name(&self) -> &'static str {
        "location"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        let toks = tokenize(text);
        let shouting = mostly_upper(text);
        let lower_text = !text.chars().any(char::is_uppercase);
        let mut covered_to = 0usize;
        let mut i = 0;
        while i < toks.len() {
            let t = toks[i];
            i += 1;
            if t.start < covered_to {
                continue;
            }
            let word = &text[t.start..t.end];
            if !word.chars().next().is_some_and(char::is_alphabetic) {
                continue;
            }
            // The context words are read back from the text: costly, and
            // only needed for place names and capitalized words.
            let context = OnceCell::new();
            let context = || *context.get_or_init(|| place_context(text, t.start));
            if let Some(pm) = gazetteer::longest_place_at(text, t.start) {
                let end = pm.end;
                if !is_bounded(text, t.start, end) && !text[end..].starts_with('.') {
                    continue;
                }
                let (prep, strong) = context();
                if let Some(score) =
                    score_place(text, t.start, end, pm.kind, pm.hit, prep, strong, shouting)
                {
                    // "New South Wales", "Greater Manchester"
                    let mut start = t.start;
                    let mut k = i - 1;
                    while k > 0 {
                        let p = toks[k - 1];
                        let pw = &text[p.start..p.end];
                        if &text[p.end..start] != " "
                            || !is_cap(pw)
                            || !PLACE_PREFIXES.contains(&pw.to_lowercase().as_str())
                        {
                            break;
                        }
                        start = p.start;
                        k -= 1;
                    }
                    out.push(Detection::new(
                        start,
                        end,
                        EntityType::Location,
                        score,
                        "location",
                    ));
                    covered_to = end;
                    continue;
                }
            }
            // Unknown capitalized name after a strong place context.
            if (is_cap(word) || is_all_caps(word)) && context().1 {
                let lw = word.to_lowercase();
                if NOT_PLACE.contains(&lw.as_str())
                    || gazetteer::first_name_frequency(word).is_some_and(|f| f >= 5.0)
                    || gazetteer::lookup(List::Nationalities, word).is_some()
                    || gazetteer::is_org_suffix(word)
                {
                    continue;
                }
                // up to three capitalized words on the same line
                let mut end = t.end;
                let mut j = i;
                while j < toks.len() && j < i + 4 {
                    let n = toks[j];
                    let gap = &text[end..n.start];
                    let nw = &text[n.start..n.end];
                    if gap != " " || lower_text {
                        break;
                    }
                    if PLACE_LINKS.contains(&nw) {
                        // "Castelló de Rugat": a link needs a name after it
                        let Some(n2) = toks.get(j + 1) else { break };
                        let w2 = &text[n2.start..n2.end];
                        if &text[n.end..n2.start] != " "
                            || !is_cap(w2)
                            || NOT_PLACE.contains(&w2.to_lowercase().as_str())
                        {
                            break;
                        }
                        end = n2.end;
                        j += 2;
                        continue;
                    }
                    if !(is_cap(nw) || is_all_caps(nw))
                        || NOT_PLACE.contains(&nw.to_lowercase().as_str())
                    {
                        break;
                    }
                    end = n.end;
                    j += 1;
                }
                let score = if shouting || lower_text { 0.45 } else { 0.6 };
                out.push(Detection::new(
                    t.start,
                    end,
                    EntityType::Location,
                    score,
                    "location",
                ));
                covered_to = end;
                continue;
            }
            // "Velehrad, Czech Republic", "OULAINEN\nFinland": a name right
            // before a country or state.
            if is_cap(word) || is_all_caps(word) {
                if NOT_PLACE.contains(&word.to_lowercase().as_str()) {
                    continue;
                }
                let mut end = t.end;
                let mut j = i;
                while j < toks.len() && j < i + 3 {
                    let n = toks[j];
                    let nw = &text[n.start..n.end];
                    if &text[end..n.start] != " " || !(is_cap(nw) || is_all_caps(nw)) {
                        break;
                    }
                    end = n.end;
                    j += 1;
                }
                let sep_len = text[end..]
                    .find(|c: char| !matches!(c, ',' | ' ' | '\n'))
                    .unwrap_or(0);
                let sep = &text[end..end + sep_len];
                if (sep == ", " || sep == "\n") && (sentence_initial(text, t.start) || context().0)
                {
                    if let Some(pm) = gazetteer::longest_place_at(text, end + sep_len) {
                        if matches!(pm.kind, PlaceKind::Country | PlaceKind::UsState)
                            && pm.hit.casing.is_proper()
                        {
                            out.push(Detection::new(
                                t.start,
                                end,
                                EntityType::Location,
                                0.6,
                                "location",
                            ));
                            covered_to = end;
                        }
                    }
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn score_place(
    text: &str,
    start: usize,
    end: usize,
    kind: PlaceKind,
    hit: gazetteer::Hit,
    prep: bool,
    strong: bool,
    shouting: bool,
) -> Option<f32> {
    let span = &text[start..end];
    let lw = span.to_lowercase();
    let multi = span.contains([' ', '-']);
    let initial = sentence_initial(text, start);
    if hit.casing == Casing::Lower && kind == PlaceKind::City && !prep {
        return None;
    }
    let casing = if shouting && hit.casing == Casing::Upper
        || hit.casing == Casing::Lower && !text.chars().any(char::is_uppercase)
    {
        Casing::Capitalized
    } else {
        hit.casing
    };
    let next = text[end..]
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or("");
    let next_gap_ok = text[end..].starts_with(' ');
    let next_lower_noun = next_gap_ok
        && next.chars().next().is_some_and(char::is_lowercase)
        && !FUNCTION_WORDS.contains(&next.to_lowercase().as_str());
    let common = COMMON_WORD_PLACES.contains(&lw.as_str());
    let mut score: f32 = match kind {
        PlaceKind::Country | PlaceKind::UsState | PlaceKind::Continent => {
            if span.len() <= 3 && !is_all_caps(span) {
                // "us", "Uk"
                return None;
            }
            if span.len() <= 3 && span == "US" && !prep {
                0.6
            } else {
                0.85
            }
        }
        PlaceKind::City => {
            let pop = hit.value;
            if multi {
                if pop >= 100_000.0 {
                    0.75
                } else {
                    0.6
                }
            } else if pop >= 1_000_000.0 {
                0.7
            } else if pop >= 100_000.0 {
                0.55
            } else {
                0.45
            }
        }
    };
    let name_like = kind == PlaceKind::City
        && !multi
        && (gazetteer::first_name_frequency(span).is_some_and(|f| f >= 0.5)
            || gazetteer::last_name_frequency(span).is_some_and(|f| f >= 2.0));
    match casing {
        Casing::Exact | Casing::Capitalized => {}
        Casing::Upper => {
            if !prep && kind == PlaceKind::City {
                score -= 0.15;
            }
        }
        Casing::Lower => {
            // lower case: only with context, and never a common word city
            if !prep || (kind == PlaceKind::City && (common || hit.value < 100_000.0)) {
                return None;
            }
            return Some(if strong { 0.6 } else { 0.45 });
        }
        _ => return None,
    }
    if strong {
        score += 0.25;
    } else if prep {
        score += 0.15;
    }
    if name_like && !strong {
        score -= 0.2;
    }
    // a union of states, not a place
    if lw == "european union" {
        return None;
    }
    if !prep {
        if common
            || (kind == PlaceKind::Country
                && NOUN_COUNTRIES.contains(&lw.as_str())
                && next_lower_noun)
        {
            return None;
        }

        if kind == PlaceKind::City && initial && !multi {
            score -= 0.1;
        }
        if kind == PlaceKind::City && next_lower_noun && !multi {
            score -= 0.05;
        }
    } else if common && !strong && kind == PlaceKind::City && hit.value < 50_000.0 {
        return None;
    }
    Some(score.min(0.9))
}

// ---------------------------------------------------------------------------
// Street addresses

const STREET_TYPES: &str = r"Street|St|Str|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|Terr|Close|Cl|Crescent|Cres|Cr|Square|Sq|Highway|Hwy|Parkway|Pkwy|Route|Rte|Circle|Cir|Trail|Trl|Alley|Aly|Row|Walk|Mews|Gardens|Gdns|Grove|Gr|Hill|Hills|Park|Green|Rise|View|Loop|Pike|Plaza|Quay|Wharf|Path|Point|Pt|Ridge|Crossing|Xing|Expressway|Expy|Freeway|Fwy|Turnpike|Tpke|Estate|Estates|Heights|Hts|Manor|Meadow|Meadows|Fields|Gate|Vale|Centre|Center|Ctr|Junction|Bypass|Causeway|Esplanade|Promenade|Embankment|Parade|Broadway|Creek|Glen|Harbor|Harbour|Hollow|Landing|Ln|Oval|Pass|Plains|Ramp|Spur|Station|Summit|Trace|Track|Tunnel|Valley|Village|Villas|Vista|Wynd|Brae|Chase|Croft|Dene|Drove|Garth|Gate|Hey|Nook|Yard|Wood|Woods|Cove|Creek|Bend|Run|Knoll|Court|Courts|Annex|Arcade|Bayou|Beach|Bluff|Bluffs|Bottom|Branch|Bridge|Brook|Brooks|Burg|Burgs|Canyon|Cape|Centers|Circles|Cliff|Cliffs|Common|Commons|Corner|Corners|Course|Coves|Crest|Crossroad|Crossroads|Curve|Dale|Dam|Divide|Drives|Extension|Extensions|Falls|Ferry|Flat|Flats|Ford|Fords|Forest|Forge|Forges|Fork|Forks|Fort|Freeway|Gateway|Glens|Greens|Groves|Harbors|Haven|Inlet|Island|Islands|Isle|Junctions|Knolls|Lake|Lakes|Light|Lights|Lock|Locks|Lodge|Manors|Mill|Mills|Mission|Motorway|Mount|Mountain|Mountains|Neck|Orchard|Overpass|Parks|Parkways|Passage|Pine|Pines|Plain|Points|Port|Ports|Prairie|Radial|Ranch|Rapid|Rapids|Ridges|River|Roads|Shoal|Shoals|Shore|Shores|Skyway|Spring|Springs|Spurs|Squares|Stravenue|Stream|Streets|Throughway|Trafficway|Underpass|Viaduct|Views|Ville|Walks|Ways|Well|Wells";

const EURO_SUFFIXES: &str = r"straße|strasse|str\.|gasse|weg|allee|platz|damm|ufer|steig|pfad|vej|gade|gatan|gata|vägen|väg|veien|vegen|gate|katu|tie|kuja|polku|kaari|rinne|laan|straat|steenweg|dreef|plein|gracht|kade|singel|utca|útja|út|ulica|cesta|ulice|třída|nábřeží|náměstí|sokak|caddesi|bulvarı|tér|köz|sor";

const EURO_PREFIXES: &str = r"Trg|trg|Λ\.|Οδός|Rue|rue|Avenue|avenue|Av\.|Avda\.?|Avenida|Rua|Calle|C/|Via|Viale|Vicolo|Piazza|Piazzale|Corso|Largo|Chemin|chemin|Quai|quai|Boulevard|boulevard|Bd|Allée|allée|Impasse|impasse|Place|place|Plaza|Paseo|Carrer|Travessa|Praça|Rambla|Ronda|Camino|Carretera|ul\.|Ul\.|Al\.|Aleja|aleja|Strada|Str\.|Piața|Calea|Odos|Leoforos|Cruce|Pasaje|Trav\.|Vía|Estrada|Alameda|Largo|Contrada|Borgo";

/// Street addresses.
#[derive(Debug)]
pub struct StreetAddressRecognizer {
    core: GatedRegex,
    euro_suffix: GatedRegex,
    euro_prefix: GatedRegex,
    euro_numfirst: GatedRegex,
    military: GatedRegex,
    po_box: GatedRegex,
    /// [`last_line_regex`].
    last_line: &'static Regex,
    generic: GatedRegex,
    generic_lower: GatedRegex,
    unit_before: Regex,
    unit: Regex,
    /// A whole word that may open an intersection ("Laura and Grote Baan
    /// 477"), see [`and_before`].
    cross_name: Regex,
    /// "2389 81 Chalkokondili": a numbered name, kept with a tail that holds
    /// a unit or a postal code.
    numbered_name: GatedRegex,
    /// "629 4308 morris street": the core in lower-case text.
    core_lower: GatedRegex,
    /// "Trg revolucije 59", "al. marszałka józefa piłsudskiego 41": a
    /// street prefix no English word is, then any words and a number.
    strong_prefix: GatedRegex,
    postal: Regex,
    /// Prefilters: a literal every match of `euro_suffix` (resp.
    /// `euro_prefix` and `euro_numfirst`) contains. Without `\b` they stay
    /// on the fast lazy DFA, where the full patterns (Unicode `\b`) fall
    /// back to slow engines on non-ASCII text.
    any_euro_suffix: Regex,
    any_euro_prefix: Regex,
}

impl Default for StreetAddressRecognizer {
    fn default() -> Self {
        Self::new()
    }
}

const NAME_WORD: &str = r"(?:\p{Lu}[\p{L}'’.\-]*|\d{1,3}(?:st|nd|rd|th)|[A-Z]\.)";
/// Lower-case street words inside a street name ("Pernilles vei 115").
const LOWER_STREET: &str = r"(?:vei|veg|vej|veien|tee|põik|allé|alle|fasor|utca|út|útja|u\.|tér|körút|sor|gata|gatan|gade|katu|tie|kuja|rue|strada|ulica|ul\.|caddesi|sokak|sokağı|via|rúa|calle|avenida|rua|straat|weg|gasse|laan|plads|torg|tori|gl\.|vägen|väg|stræde|plass|stig|cesta|ulice|náměstí|tánc|trg|ulitsa|prospekt|kapu|köz|sétány|rakpart|aleja|gränd|raitti|tänav|iela|gatvė)";

/// Links of French, Spanish, Portuguese and Italian street names, before a
/// lower-case name ("Rue de bayrout").
const ROMANCE_LINKS: &str = r"(?:de|du|des|la|le|les|del|da|do|dos|das|di|della)";

const LINKS: &str = r"(?:de|la|le|du|des|del|della|di|da|van|von|der|den|of|the|and|&|y|e)";

/// The street patterns, each with its one big bounded repetition of
/// words as [`Rep`] says: `{0,n}` as written, `*` lifted (see
/// [`GatedRegex::lifted`]); `n` is in [`StreetAddressRecognizer::new`].
fn core_pattern(rep: &Rep) -> String {
    let Rep { open, reps, close } = rep;
    format!(
        r"\b\d{{1,6}}[A-Za-z]?(?:[ \t]+\d{{1,6}}[A-Za-z]?)?(?:[ \t]*,)?[ \t]+(?:(?:[NSEW]|N[EW]|S[EW]|North|South|East|West)\.?[ \t]+)?{NAME_WORD}{open}(?:[ \t]+(?:{NAME_WORD}|{LINKS})){reps}?{close}[ \t]+(?i:{STREET_TYPES})\b\.?(?:[ \t]+(?:[NSEW]|N[EW]|S[EW]|North|South|East|West)\b\.?)?"
    )
}

fn euro_suffix_pattern(rep: &Rep) -> String {
    let Rep { open, reps, close } = rep;
    format!(
        r"(?:\b\d{{1,6}}[ \t]+)?\b(?:{NAME_WORD}[ \t]+{open}(?:(?:{NAME_WORD}|{LINKS})[ \t]+){reps}{close})?(?:\p{{L}}{{3,}}(?i:{EURO_SUFFIXES})|(?i:{EURO_SUFFIXES}))[ \t]+\d{{1,5}}[A-Za-z]?\b(?:[/-]\d{{1,4}}\b)?"
    )
}

fn euro_prefix_pattern(rep: &Rep) -> String {
    let Rep { open, reps, close } = rep;
    format!(
        r"(?:\b\d{{1,6}}[ \t]+)?(?:\b\d{{1,5}}[A-Za-z]?,?[ \t]+)?(?:\b|^|[ \t])(?:{EURO_PREFIXES})[ \t]*(?:{NAME_WORD}|{LINKS}|\d{{1,4}}){open}(?:[ \t]+(?:{NAME_WORD}|{LINKS}|\d{{1,2}}(?:st|nd|rd|th)?)){reps}?{close}(?:,?[ \t]+\d{{1,5}}[A-Za-z]?\b(?:[ \t]+{NAME_WORD}(?:[ \t]+{NAME_WORD})?[ \t]+(?i:{STREET_TYPES})\b\.?)?|[ \t]*\n)"
    )
}

fn generic_pattern(rep: &Rep) -> String {
    let Rep { open, reps, close } = rep;
    format!(
        r"(?:\b\d{{1,6}}[A-Za-z]?[ \t]+)?(?:\b\d{{1,6}}[ \t]+)?\b{NAME_WORD}{open}(?:[ \t]+(?:{NAME_WORD}|{LINKS}|(?:\p{{Ll}}[\p{{L}}'’\-]*[ \t]+)?{LOWER_STREET})){reps}{close}\.?[ \t]+\d{{1,5}}[A-Za-z]?\b\.?(?:[ \t]+{NAME_WORD}(?:[ \t]+{NAME_WORD})?[ \t]+(?i:{STREET_TYPES})\b\.?)?"
    )
}

fn euro_numfirst_pattern(rep: &Rep) -> String {
    let Rep { open, reps, close } = rep;
    format!(
        r"\b(?:\d{{1,6}}[ \t]+)?\d{{1,5}}[A-Za-z]?,?[ \t]+(?:{EURO_PREFIXES})[ \t]+(?:(?:{LINKS}[ \t]+){{0,3}}{NAME_WORD}|(?:{ROMANCE_LINKS}[ \t]+){{1,3}}\p{{Ll}}[\p{{L}}'’\-]+){open}(?:[ \t]+(?:{NAME_WORD}|{LINKS})){reps}?{close}(?:[ \t]+{NAME_WORD}|\b)(?:,?[ \t]+\d{{1,5}}[A-Za-z]?\b)?"
    )
}

fn generic_lower_pattern(rep: &Rep) -> String {
    let Rep { open, reps, close } = rep;
    format!(
        r"\b\d{{1,6}}[ \t]+(?:\d{{1,6}}[ \t]+)?\p{{Ll}}[\p{{L}}'’.\-]*{open}(?:[ \t]+\p{{Ll}}[\p{{L}}'’.\-]*){reps}{close}[ \t]+\d{{1,5}}[a-z]?\b"
    )
}

fn core_lower_pattern(rep: &Rep) -> String {
    let Rep { open, reps, close } = rep;
    format!(
        r"\b\d{{1,6}}(?:[ \t]+\d{{1,6}})?[ \t]+\p{{Ll}}[\p{{L}}'’\-]*{open}(?:[ \t]+\p{{Ll}}[\p{{L}}'’\-]*){reps}?{close}[ \t]+(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|place|terrace|crescent|square|highway|hwy|parkway|pkwy|circle|trail|alley)\b\.?"
    )
}

fn strong_prefix_pattern(rep: &Rep) -> String {
    let Rep { open, reps, close } = rep;
    format!(
        r"(?:\b\d{{1,6}}[ \t]+)?(?:\b\d{{1,5}}[A-Za-z]?,?[ \t]+)?(?:\b|^|[ \t])(?:Trg|trg|Ulica|ulica|ul\.|Ul\.|al\.|Al\.|Aleja|aleja|Calle|calle|Rua|rua|Rue|rue|Avenida|avenida|Viale|viale|Strada|strada|Λ\.|Οδός)[ \t]+(?:{NAME_WORD}|\p{{Ll}}[\p{{L}}'’\-]*){open}(?:[ \t]+(?:{NAME_WORD}|\p{{Ll}}[\p{{L}}'’\-]*)){reps}?{close},?[ \t]+\d{{1,5}}[A-Za-z]?\b"
    )
}

fn numbered_name_pattern(rep: &Rep) -> String {
    let Rep { open, reps, close } = rep;
    format!(
        r"\b\d{{1,6}}(?:[ \t]+\d{{1,6}})?[ \t]+(?:(?:{EURO_PREFIXES})[ \t]+)?{NAME_WORD}{open}(?:[ \t]+(?:{NAME_WORD}|{LINKS}|\d{{1,5}}\b)){reps}{close}"
    )
}

/// [`numbered_name_pattern`] before its repetition, anchored, without the
/// leading `\b`.
fn numbered_name_head() -> String {
    format!(r"^\d{{1,6}}(?:[ \t]+\d{{1,6}})?[ \t]+(?:(?:{EURO_PREFIXES})[ \t]+)?{NAME_WORD}")
}

/// The big repetition of a street pattern.
struct Rep {
    /// Around the repeated group: empty as written; lifted, a capture
    /// group (number 1), the span [`GatedRegex::lifted`] counts
    /// iterations in.
    open: &'static str,
    close: &'static str,
    reps: String,
}

impl Rep {
    fn exact(max: usize) -> Self {
        Self {
            open: "",
            close: "",
            reps: format!("{{0,{max}}}"),
        }
    }

    fn lifted() -> Self {
        Self {
            open: "(",
            close: ")",
            reps: "*".to_owned(),
        }
    }
}

/// One of the `*_pattern` functions.
type StreetPattern = fn(&Rep) -> String;

/// A street pattern as written, with its repetition `{0,max}`, and lifted.
fn both(pattern: StreetPattern, max: usize) -> (String, String) {
    (pattern(&Rep::exact(max)), pattern(&Rep::lifted()))
}

impl StreetAddressRecognizer {
    pub fn new() -> Self {
        // `outside`: the runs of spaces or tabs every match has besides
        // those of the repetition (one per `[ \t]+` the pattern cannot
        // skip, each next to a word of its own).
        let lifted = |pattern: StreetPattern, outside: usize, max: usize| {
            let (exact, lifted) = both(pattern, max);
            GatedRegex::lifted(&exact, &lifted, outside, max)
        };
        Self {
            euro_numfirst: lifted(euro_numfirst_pattern, 2, 4).expect("euro number-first regex"),
            po_box: GatedRegex::new(r"(?:\b\d{1,6}[ \t]+)?\b(?i:P\.?[ \t]?O\.?[ \t]*Box|Post[ \t]+Office[ \t]+Box|Postbox|Box)[ \t]+\d{1,6}\b")
                .expect("po box regex"),
            last_line: last_line_regex(),
            generic: GatedRegex::new(&generic_pattern(&Rep::exact(3))).expect("generic address regex"),
            generic_lower: GatedRegex::new(&generic_lower_pattern(&Rep::exact(3)))
                .expect("lower-case address regex"),
            core_lower: lifted(core_lower_pattern, 2, 3).expect("lower-case core regex"),
            strong_prefix: lifted(strong_prefix_pattern, 2, 4).expect("strong prefix regex"),
            cross_name: Regex::new(r"^\p{Lu}[\p{L}'’\-]+$").expect("cross name regex"),
            numbered_name: GatedRegex::cut(&numbered_name_pattern(&Rep::lifted()), &numbered_name_head(), 4)
                .expect("numbered name regex"),
            unit_before: Regex::new(
                r"(?i:\b(?:apt\.?|apartment|suite|ste\.?|unit|flat)[ \t]*#?(?:\d{1,5}[A-Za-z]?[ \t,]+)?)$",
            )
            .expect("unit before regex"),
            core: lifted(core_pattern, 2, 4).expect("address core regex"),
            euro_suffix: lifted(euro_suffix_pattern, 2, 3).expect("euro suffix regex"),
            euro_prefix: lifted(euro_prefix_pattern, 0, 5).expect("euro prefix regex"),
            military: GatedRegex::new(
                r"\b(?:(?:Unit|PSC)[ \t]+\d{3,5},?[ \t]+Box[ \t]+\d{3,5}|(?:USNS|USNV|USS|USCGC|USCG)[ \t]+\p{Lu}[\p{L}'-]*)[ \t]*,?[ \t]*\n?[ \t]*(?:FPO|APO|DPO)[ \t]+A[AEP][ \t]+\d{5}\b",
            )
            .expect("military regex"),
            unit: Regex::new(
                r"^(?i:apt\.?|apartment|suite|ste\.?|unit|flat|room|rm\.?|floor|fl\.?|bldg\.?|building|#|no\.|p\.?o\.? box)[ \t]*#?[A-Za-z]?\d{1,5}[A-Za-z]?\b|^(?i:apt\.?|suite|unit|flat)[ \t]+[A-Z]\b",
            )
            .expect("unit regex"),
            postal: Regex::new(POSTAL).expect("postal regex"),
            any_euro_suffix: Regex::new(&format!("(?i:{EURO_SUFFIXES})"))
                .expect("euro suffix prefilter"),
            any_euro_prefix: Regex::new(&format!("(?:{EURO_PREFIXES})"))
                .expect("euro prefix prefilter"),
        }
    }
}

/// Postal codes, anchored: UK, Canada, Netherlands, Sweden/Czechia,
/// Poland, US ZIP(+4) and 3–6 digit codes.
const POSTAL: &str = r"^(?:(?:GIR 0AA|[A-PR-UWYZ](?:[0-9][0-9A-HJKPSTUW]?|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?)[ \t]?[0-9][ABD-HJLNP-UW-Z]{2})|[A-Z]\d[A-Z][ \t]?\d[A-Z]\d|\d{4}[ \t]?[A-Z]{2}|\d{3}[ \t]\d{2}|\d{2}-\d{3}|\d{5}-\d{3,4}|\d{3,6})\b";

/// A US-style last address line: "City[,] ST 12345" alone on its line.
/// Groups: 1 the city, 2 the region code, 3 the postal code.
const LAST_LINE: &str = r"^[ \t]*(\p{Lu}[\p{L}'’.\-]*(?:[ \t]+\p{Lu}[\p{L}'’.\-]*){0,3})(?:[ \t]+\d{1,3})?[ \t]+([A-Z]{1,3})[ \t]+((?:[A-Z]\d[A-Z][ \t]?\d[A-Z]\d|\d{4}[ \t]?[A-Z]{2}|\d{3}[ \t]\d{2}|\d{2}-\d{3}|\d{5}-\d{3,4}|\d{3,6}))[ \t]*(?:$|\n)";

/// [`LAST_LINE`] on every line (`(?m)`), one for the street address and
/// ZIP code recognizers: its automaton is over a megabyte.
fn last_line_regex() -> &'static Regex {
    static LAST_LINE_REGEX: OnceLock<Regex> = OnceLock::new();
    LAST_LINE_REGEX
        .get_or_init(|| Regex::new(&format!("(?m){LAST_LINE}")).expect("last line regex"))
}

/// Whether `text` starts with a [`LAST_LINE`] (the pattern without `(?m)`
/// matches it). No match of the pattern from the start goes past the
/// first line break, which only its `\n` at the end consumes, so the first
/// line (with its break) decides; there `(?m)` changes nothing but where
/// the pattern's `$` holds, and before a break the pattern's `\n` holds
/// too.
fn starts_last_line(last_line: &Regex, text: &str) -> bool {
    let line = text.find('\n').map_or(text, |i| &text[..=i]);
    last_line.find(line).is_some_and(|m| m.start() == 0)
}

fn is_military(line: &str) -> bool {
    let l = line.trim_start();
    l.starts_with("APO") || l.starts_with("FPO") || l.starts_with("DPO")
}

/// UK postcode, unanchored, for running text.
const UK_POSTCODE: &str = r"\b(?:GIR 0AA|[A-PR-UWYZ](?:[0-9][0-9A-HJKPSTUW]?|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?)[ \t]?[0-9][ABD-HJLNP-UW-Z]{2})\b";

/// What a piece of an address tail is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Piece {
    Unit,
    Postal,
    Region,
    Word,
}

impl StreetAddressRecognizer {
    /// Extends an address core ending at `end` over units and a
    /// "City, ST 12345" / country tail. Returns the new end.
    fn extend(&self, text: &str, end: usize) -> (usize, bool) {
        let (end, terminal, _) = self.extend_tail(text, end);
        (end, terminal)
    }

    /// [`Self::extend`], also telling whether the tail holds a unit or a
    /// postal code (strong evidence of an address).
    fn extend_tail(&self, text: &str, mut end: usize) -> (usize, bool, bool) {
        let lower_text = !text.chars().any(char::is_uppercase);
        let mut terminal = false;
        let mut strong = false;
        let mut after_unit = false;
        let mut last = None;
        let mut pos = end;
        let mut words = 0;
        let mut newlines = 0;
        let mut pieces = 0;
        loop {
            if pieces >= 10 {
                break;
            }
            // separators: spaces, commas, one newline (plus "> " quoting)
            let rest = &text[pos..];
            let mut skip = 0;
            let mut nl = 0;
            for c in rest.chars() {
                match c {
                    ' ' | '\t' | ',' | '\r' => skip += c.len_utf8(),
                    '\n' => {
                        nl += 1;
                        skip += 1;
                    }
                    '>' if nl > 0 => skip += 1,
                    _ => break,
                }
            }
            if nl > 1 || newlines + nl > 4 {
                break;
            }
            // "Springfield, IL 62704" on a line of its own: the city and the
            // ZIP code stand on their own (see ZipCodeRecognizer).
            if nl == 1
                && starts_last_line(self.last_line, &text[pos + skip..])
                && !is_military(&text[pos + skip..])
            {
                // an address label's last line: evidence, left to the
                // ZIP code recognizer
                strong = true;
                break;
            }
            let at = pos + skip;
            let rest = &text[at..];
            if rest.is_empty() {
                break;
            }
            let paren = (matches!(last, Some(Piece::Region | Piece::Word))
                && nl == 0
                && rest.starts_with('('))
            .then(|| rest.find(')'))
            .flatten()
            .filter(|&k| k < 24 && rest[1..k].chars().all(|c| c.is_alphabetic() || c == ' '));
            let (piece, pend) = if let Some(k) = paren {
                // "Cyprus (Greek)"
                (Piece::Region, at + k + 1)
            } else if let Some(m) = self.unit.find(rest) {
                (Piece::Unit, at + m.end())
            } else if let Some(m) = self.postal.find(rest) {
                // a code on a new line stands alone on it ("\n 20952"), a
                // line of digits is a phone number
                if nl > 0
                    && rest[m.end()..]
                        .trim_start_matches([' ', '\t'])
                        .starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '(' | '+'))
                {
                    break;
                }
                (Piece::Postal, at + m.end())
            } else if rest.len() >= 2
                && rest.as_bytes()[0].is_ascii_uppercase()
                && rest.as_bytes()[1].is_ascii_uppercase()
                && rest
                    .as_bytes()
                    .get(2)
                    .is_none_or(|b| !b.is_ascii_alphanumeric())
            {
                (Piece::Region, at + 2)
            } else if let Some(pm) = gazetteer::longest_place_at(text, at).filter(|pm| {
                matches!(pm.kind, PlaceKind::Country | PlaceKind::UsState)
                    && (pm.hit.casing != Casing::Lower || !is_cap(&text[..at]))
            }) {
                (Piece::Region, pm.end)
            } else {
                // a city word
                let w: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '\'' | '.'))
                    .collect();
                let w = w.trim_end_matches('.');
                // "Montealegre del Castillo", "Šentilj v Slovenskih": a link
                // inside a city name
                if words > 0 && nl == 0 && CITY_LINKS.contains(&w) {
                    pos = at + w.len();
                    pieces += 1;
                    continue;
                }
                if w.is_empty()
                    || !(is_cap(w) || is_all_caps(w) || lower_text && !NOT_TAIL.contains(&w))
                    || words >= 5
                    || matches!(
                        w,
                        "Contact" | "The" | "Tel" | "Phone" | "Email" | "Fax" | "Mobile" | "Office"
                    )
                {
                    break;
                }
                words += 1;
                (Piece::Word, at + w.len())
            };
            newlines += nl;
            pieces += 1;
            pos = pend;
            last = Some(piece);
            if piece != Piece::Word {
                end = pend;
                terminal = true;
                strong |= matches!(piece, Piece::Unit | Piece::Postal);
                after_unit = piece == Piece::Unit;
            } else if after_unit && words <= 3 {
                // "Apt. 091 Fácánkert Tolna": the town after a unit
                end = pend;
            }
        }
        (end, terminal, strong)
    }

    /// Pushes an address from `start` to `end` (extended); `score` is for
    /// a bare core, a tail adds evidence. Returns whether a tail was found.
    fn push(
        &self,
        text: &str,
        mut start: usize,
        end: usize,
        score: f32,
        out: &mut Vec<Detection>,
    ) -> bool {
        let (end, terminal) = self.extend(text, end);
        let end = start
            + text[start..end]
                .trim_end_matches([' ', ',', '\n', '\t'])
                .len();
        let mut end = end;
        let mut corner = false;
        if let Some(m) = self.unit_before.find(&text[..start]) {
            start = m.start();
        }
        // "the corner of 99 Derry Street and Inarkaevich Mill"
        let before = &text[..start];
        let mut from = before.len().saturating_sub(14);
        while !before.is_char_boundary(from) {
            from += 1;
        }
        let lower_before = before[from..].to_ascii_lowercase();
        if let Some(n) = ["the corner of ", "corner of "]
            .iter()
            .find(|p| lower_before.ends_with(*p))
            .map(|p| p.len())
        {
            start -= n;
            end = self.and_street(text, end);
            corner = true;
        } else if !text[start..].starts_with(|c: char| c.is_ascii_digit()) {
            // "Laura and Grote Baan 477": an intersection
            if let Some((at, w)) = and_before(&self.cross_name, before) {
                if !STOP_CROSS.contains(&w) {
                    start = at;
                }
            }
        }
        let score = if corner {
            // "the corner of": explicit; wins over a name in the second street
            0.97
        } else if terminal {
            (score + 0.1).clamp(0.93, 0.96)
        } else {
            score
        };
        out.push(Detection::new(
            start,
            end,
            EntityType::StreetAddress,
            score,
            "street_address",
        ));
        terminal
    }
}

impl Recognizer for StreetAddressRecognizer {
    fn name(&self) -> &'static str {
        "street_address"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        // The patterns are big Unicode regexes, costly on every text; skip
        // those that cannot match. All but `euro_prefix` need a digit
        // (`\d` is \p{Nd}, within `char::is_numeric`); `euro_prefix` needs
        // a digit or a line break. Skipping a pattern that finds nothing
        // changes neither the detections nor their order.
        let digit = text.chars().any(char::is_numeric);
        let euro_prefix = (digit || text.contains('\n')) && self.any_euro_prefix.is_match(text);
        if digit {
            for m in self.military.find_iter(text) {
                out.push(Detection::new(
                    m.start(),
                    m.end(),
                    EntityType::StreetAddress,
                    0.97,
                    "street_address",
                ));
            }
            for m in self.core.find_iter(text) {
                self.push(text, m.start(), m.end(), 0.9, out);
            }
            for m in self.po_box.find_iter(text) {
                self.push(text, m.start(), m.end(), 0.85, out);
            }
            self.find_generic(&self.generic, text, out);
            for m in self.numbered_name.find_iter(text) {
                // a unit or postal code needs a digit soon after
                let soon = text[m.end()..].bytes().take(64);
                if !soon.clone().any(|b| b.is_ascii_digit()) && !soon.clone().any(|b| b == b'\n') {
                    continue;
                }
                let (_, _, strong) = self.extend_tail(text, m.end());
                if strong {
                    self.push(text, m.start(), m.end(), 0.8, out);
                }
            }
            if !text.chars().any(char::is_uppercase) {
                self.find_generic(&self.generic_lower, text, out);
                for m in self.core_lower.find_iter(text) {
                    let words = m.as_str().split([' ', '\t']);
                    if words.clone().any(|w| NOT_STREET.contains(&w)) {
                        continue;
                    }
                    self.push(text, m.start(), m.end(), 0.75, out);
                }
            }
            if self.any_euro_suffix.is_match(text) {
                for m in self.euro_suffix.find_iter(text) {
                    let s = m.as_str();
                    let start = m.start() + (s.len() - s.trim_start().len());
                    self.push(text, start, m.end(), 0.75, out);
                }
            }
            if euro_prefix {
                for m in self.euro_numfirst.find_iter(text) {
                    self.push(text, m.start(), m.end(), 0.75, out);
                }
            }
        }
        if euro_prefix && digit {
            for m in self.strong_prefix.find_iter(text) {
                let s = m.as_str();
                let start = m.start() + (s.len() - s.trim_start().len());
                self.push(text, start, m.end(), 0.7, out);
            }
        }
        if euro_prefix {
            for m in self.euro_prefix.find_iter(text) {
                let s = m.as_str();
                let start = m.start() + (s.len() - s.trim_start().len());
                let end = start + text[start..m.end()].trim_end().len();
                // "ul. Okólna 133 Nishioka Spur": as good as the core it holds
                let typed = text[..end].ends_with(|c: char| c.is_alphabetic() || c == '.')
                    && text[start..end].contains(|c: char| c.is_ascii_digit());
                self.push(text, start, end, if typed { 0.9 } else { 0.7 }, out);
            }
        }
    }
}

impl StreetAddressRecognizer {
    /// "Name 12" streets (and "12 Name 34"), kept with evidence: a house
    /// number, an address context, or an address tail.
    fn find_generic(&self, re: &GatedRegex, text: &str, out: &mut Vec<Detection>) {
        for m in re.find_iter(text) {
            let s = m.as_str();
            let after = &text[m.end()..];
            if after.starts_with([',', '.', ':'])
                && after[1..].starts_with(|c: char| c.is_ascii_digit())
                || s.ends_with('.') && after.starts_with(|c: char| c.is_ascii_digit())
            {
                continue;
            }
            // a word that is no street name: the street starts after it
            // ("order 5521", "to Main 5"); "Laura and Grote Baan 477" is an
            // intersection
            let mut from = 0;
            let mut off = 0;
            let mut prev_cap = false;
            for w in s.split([' ', '\t']) {
                let lw = w.trim_end_matches('.').to_lowercase();
                let cross = lw == "and" && prev_cap && off > 0;
                if NOT_STREET.contains(&lw.as_str()) && !cross {
                    from = off + w.len();
                }
                prev_cap = is_cap(w) && !STOP_CROSS.contains(&w);
                off += w.len() + 1;
            }
            let mstart = m.start() + from;
            let s = text[mstart..m.end()].trim_start_matches([' ', '\t']);
            let mstart = m.end() - s.len();
            if from > 0
                && !(s.starts_with(|c: char| c.is_uppercase()) && s.split([' ', '\t']).count() >= 2)
            {
                continue;
            }
            let numbered = s.starts_with(|c: char| c.is_ascii_digit());
            let ctx = words_before(text, mstart, 8)
                .iter()
                .any(|w| ADDRESS_CONTEXT.contains(&w.as_str()))
                || words_after(text, m.end(), 1)
                    .first()
                    .is_some_and(|w| matches!(w.as_str(), "street" | "road" | "avenue"));
            let (_, terminal) = self.extend(text, m.end());
            let score = match (numbered, ctx, terminal) {
                // "Keskiortentie 95 Satu Plains": as good as the core it holds
                (_, _, true) if s.ends_with(|c: char| c.is_alphabetic() || c == '.') => 0.9,
                (_, _, true) => 0.8,
                (true, true, _) => 0.75,
                (false, true, _) => 0.6,
                (true, false, false) => 0.45,
                _ => continue,
            };
            // "Grote Baan 477." ends a sentence; "Baross tér 36." is Hungarian
            let mut mend = m.end();
            if s.ends_with('.')
                && after.chars().next().is_none_or(char::is_whitespace)
                && !s.split(' ').any(|w| HU_STREET.contains(&w))
            {
                mend -= 1;
            }
            self.push(text, mstart, mend, score, out);
        }
    }
}

/// "Name and " (or "Name & ") ending `before`: the name's start and text.
/// What `(?:^|[ \t\n])(\p{Lu}[\p{L}'’\-]+)[ \t]+(?:and|&)[ \t]+$` finds,
/// without its automaton (most of a megabyte): the pattern is anchored at
/// the end and no part of it but the link holds a space, tab or line
/// break, so the name can only be the whole last word before the link,
/// which `cross_name` (`^\p{Lu}[\p{L}'’\-]+$`) checks.
fn and_before<'t>(cross_name: &Regex, before: &'t str) -> Option<(usize, &'t str)> {
    const BLANK: [char; 2] = [' ', '\t'];
    let linked = before.trim_end_matches(BLANK);
    if linked.len() == before.len() {
        return None;
    }
    let spaced = linked
        .strip_suffix("and")
        .or_else(|| linked.strip_suffix('&'))?;
    let named = spaced.trim_end_matches(BLANK);
    if named.len() == spaced.len() {
        return None;
    }
    let at = named.rfind([' ', '\t', '\n']).map_or(0, |i| i + 1);
    let name = &named[at..];
    cross_name.is_match(name).then_some((at, name))
}

/// Hungarian street words, whose house numbers end in a full stop.
const HU_STREET: &[&str] = &[
    "u.", "utca", "út", "útja", "tér", "körút", "fasor", "kapu", "köz", "sor", "sétány", "rakpart",
];

/// Capitalized words that are no street before "and <street>".
const STOP_CROSS: &[&str] = &[
    "The", "A", "An", "I", "We", "You", "He", "She", "They", "It", "This", "That", "And", "Or",
    "Both", "Between", "Please", "Yes", "No", "Mr", "Mrs", "Ms", "Dr",
];

impl StreetAddressRecognizer {
    /// The end of " and Y Passage" after an address ending at `end`, the
    /// second street of "the corner of X and Y".
    fn and_street(&self, text: &str, end: usize) -> usize {
        let rest = &text[end..];
        let Some(after) = rest
            .strip_prefix(" and ")
            .or_else(|| rest.strip_prefix(" & "))
        else {
            return end;
        };
        let mut pos = end + (rest.len() - after.len());
        let mut got = end;
        let mut n = 0;
        while n < 5 {
            let w: &str = text[pos..]
                .split([' ', '\t', '\n', ',', '?', '!', ';', ':'])
                .next()
                .unwrap_or("");
            let w = w.trim_end_matches('.');
            if w.is_empty() {
                break;
            }
            let ok = is_cap(w)
                || w.chars().all(|c| c.is_ascii_digit())
                || matches!(w, "de" | "la" | "du" | "des" | "del" | "di" | "van" | "von")
                || is_lower_word(w)
                    && !NOT_TAIL.contains(&w)
                    && !text.chars().any(char::is_uppercase);
            if !ok {
                break;
            }
            pos += w.len();
            if is_cap(w) || w.chars().all(|c| c.is_alphanumeric()) {
                got = pos;
            }
            n += 1;
            if !text[pos..].starts_with(' ') {
                break;
            }
            pos += 1;
        }
        got
    }
}

fn is_lower_word(w: &str) -> bool {
    !w.is_empty() && w.chars().all(char::is_lowercase)
}

/// Words never part of a "Name 12" street ("March 2020", "Article 50").
const NOT_STREET: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "article",
    "chapter",
    "section",
    "page",
    "pages",
    "version",
    "vol",
    "volume",
    "windows",
    "iphone",
    "galaxy",
    "season",
    "episode",
    "part",
    "level",
    "grade",
    "class",
    "room",
    "gate",
    "terminal",
    "platform",
    "flight",
    "bus",
    "line",
    "table",
    "figure",
    "fig",
    "no",
    "number",
    "order",
    "invoice",
    "ticket",
    "item",
    "step",
    "phase",
    "round",
    "top",
    "covid",
    "covid-19",
    "python",
    "java",
    "ios",
    "android",
    "mac",
    "macos",
    "office",
    "ps",
    "xbox",
    "year",
    "years",
    "day",
    "days",
    "week",
    "weeks",
    "age",
    "aged",
    "apt",
    "suite",
    "unit",
    "box",
    "po",
    "i",
    "am",
    "pm",
    "the",
    "a",
    "an",
    "and",
    "or",
    "contact",
    "tel",
    "phone",
    "fax",
    "mobile",
    "card",
    "account",
    "id",
    "ssn",
    "zip",
    "code",
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "prof",
    "sir",
    "during",
    "since",
    "in",
    "from",
    "wire",
    "pay",
    "paid",
    "send",
    "transfer",
    "about",
    "over",
    "under",
    "around",
    "for",
    "until",
    "till",
    "by",
    "before",
    "after",
    "between",
    "of",
    "to",
    "at",
    "on",
    "is",
    "was",
    "are",
    "top",
    "best",
    "only",
    "total",
    "score",
    "scored",
    "rank",
    "ranked",
    "model",
    "type",
    "size",
    "usd",
    "eur",
    "gbp",
];

/// Lower-case links inside a city name of an address tail.
const CITY_LINKS: &[&str] = &[
    "de", "del", "la", "le", "les", "du", "des", "di", "da", "do", "dos", "das", "v", "am", "der",
    "den", "sur", "upon", "y",
];

/// Lower-case words that end an address tail in lower-case text.
const NOT_TAIL: &[&str] = &[
    "for", "before", "after", "the", "and", "please", "is", "was", "to", "at", "in", "on", "by",
    "with", "from", "contact", "tel", "phone", "email", "fax", "mobile", "office", "thanks",
    "when", "if", "it", "i", "we", "you", "call", "send",
];

/// Words before a "Name 12" street that make it an address.
const ADDRESS_CONTEXT: &[&str] = &[
    "address",
    "addresses",
    "live",
    "lives",
    "living",
    "lived",
    "located",
    "ship",
    "shipping",
    "deliver",
    "delivery",
    "send",
    "sent",
    "mail",
    "mailing",
    "taxi",
    "meet",
    "moved",
    "street",
    "residence",
    "reside",
    "resides",
    "resident",
    "visit",
    "billing",
    "postal",
    "restaurant",
    "office",
    "home",
    "house",
    "flat",
    "apartment",
    "headquarters",
    "hq",
    "corner",
    "at",
    "on",
];

// ---------------------------------------------------------------------------
// ZIP codes

/// US ZIP codes and other postal codes, with evidence.
#[derive(Debug)]
pub struct ZipCodeRecognizer {
    /// [`last_line_regex`].
    last_line: &'static Regex,
    labelled: BoundaryRegex,
    after_region: Regex,
    uk: BoundaryRegex,
}

impl Default for ZipCodeRecognizer {
    fn default() -> Self {
        Self::new()
    }
}

impl ZipCodeRecognizer {
    pub fn new() -> Self {
        let code = r"(?:[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}|[A-Z]\d[A-Z][ \t]?\d[A-Z]\d|\d{4}[ \t]?[A-Z]{2}\b|\d{3}[ \t]\d{2}\b|\d{2}-\d{3}|\d{5}-\d{3,4}|\d{3,6})";
        // Before `[ \t]*$` the code's `\b`s always hold (a letter or digit,
        // then a space, a line end or the text's end): dropped, they stop
        // keeping the regex off its fast engine on non-ASCII text.
        let code_at_line_end = code.replace(r"\b", "");
        Self {
            last_line: last_line_regex(),
            labelled: BoundaryRegex::new(&format!(
                r"(?i:\b(?:zip|postal|post|postcode|zipcode)(?:[ \t]*code)?(?:[ \t]+(?:is|number|no\.?))?[ \t]*[:#]?[ \t]*)({code})\b"
            ))
            .expect("zip label regex"),
            after_region: Regex::new(&format!(
                r"(?m)(?:^|[ \t,])([A-Z]{{2}}|\p{{Lu}}\p{{Ll}}+(?:[ \t]\p{{Lu}}\p{{Ll}}+)?),?[ \t]+({code_at_line_end})[ \t]*$"
            ))
            .expect("zip region regex"),
            uk: BoundaryRegex::new(UK_POSTCODE).expect("uk postcode regex"),
        }
    }
}

impl Recognizer for ZipCodeRecognizer {
    fn name(&self) -> &'static str {
        "zip_code"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        // Every pattern ends in a code with a digit (`\d`).
        if !may_have_digit(text) {
            return;
        }
        for c in self.labelled.captures_iter(text) {
            let m = c.get(1).expect("group");
            if is_bounded(text, m.start(), m.end()) {
                out.push(Detection::new(
                    m.start(),
                    m.end(),
                    EntityType::ZipCode,
                    0.9,
                    "zip_code",
                ));
            }
        }
        for c in captures_in_spans(&self.after_region, text) {
            let region_match = c.get(1).expect("group");
            let region = region_match.as_str();
            let m = c.get(2).expect("group");
            let us = gazetteer::is_us_state_code(region) || gazetteer::is_us_state(region);
            if us {
                out.push(Detection::new(
                    region_match.start(),
                    region_match.end(),
                    EntityType::Location,
                    0.6,
                    "zip_code",
                ));
            }
            let score = if us && m.as_str().len() >= 5 {
                // an address line "Springfield, IL 62704": higher than the
                // address tail so the code stands on its own
                0.85
            } else if region.len() == 2 {
                0.55
            } else {
                continue;
            };
            out.push(Detection::new(
                m.start(),
                m.end(),
                EntityType::ZipCode,
                score,
                "zip_code",
            ));
        }
        // "Springfield, IL 62704" on a line after a street line. Only a
        // match at a line start after a newline counts: without a newline,
        // the one match there can be (at 0) would be dropped.
        let multi_line = text.contains('\n');
        for c in multi_line
            .then(|| captures_in_spans(self.last_line, text))
            .into_iter()
            .flatten()
        {
            let whole = c.get(0).expect("match");
            if whole.start() == 0 || text.as_bytes()[whole.start() - 1] != b'\n' {
                continue;
            }
            let prev_line = text[..whole.start() - 1].rsplit('\n').next().unwrap_or("");
            if !prev_line.chars().any(|ch| ch.is_ascii_digit()) {
                continue;
            }
            let city = c.get(1).expect("city");
            if is_military(city.as_str()) {
                continue;
            }
            let code = c.get(3).expect("code");
            // The region code between them ("OH", "ON", "CE") places the
            // person as much as the city does.
            let region = c.get(2).expect("region");
            for place in [city, region] {
                out.push(Detection::new(
                    place.start(),
                    place.end(),
                    EntityType::Location,
                    0.6,
                    "zip_code",
                ));
            }
            out.push(Detection::new(
                code.start(),
                code.end(),
                EntityType::ZipCode,
                0.8,
                "zip_code",
            ));
        }
        for m in self.uk.find_iter(text) {
            let s = m.as_str();
            if !s.contains(' ') || !is_bounded(text, m.start(), m.end()) {
                continue;
            }
            out.push(Detection::new(
                m.start(),
                m.end(),
                EntityType::ZipCode,
                0.65,
                "zip_code",
            ));
        }
    }
}

/// `re.captures_iter(text)` for the line-final patterns of
/// [`ZipCodeRecognizer`]: a fast search finds each match, then the capture
/// search runs on the text up to the match's end only. On short texts the
/// regex crate resolves captures with a backtracker over the whole rest of
/// the text, many times the cost. The answers are the same because each
/// pattern ends in a multi-line `$` (or consumes the newline): nothing
/// after a match's end decides it, and a `$` or `\b` at the end, true in
/// the text, stays true in the cut text. Patterns never match empty.
fn captures_in_spans<'r, 't>(
    re: &'r Regex,
    text: &'t str,
) -> impl Iterator<Item = regex::Captures<'t>> + 'r
where
    't: 'r,
{
    let mut pos = 0;
    std::iter::from_fn(move || {
        let m = re.find_at(text, pos)?;
        pos = m.end();
        re.captures_at(&text[..m.end()], m.start())
    })
}

// ---------------------------------------------------------------------------
// NRP

/// Words of the lists that are also everyday words: they need context.
const AMBIGUOUS_NRP: &[&str] = &[
    "white",
    "black",
    "green",
    "greens",
    "liberal",
    "liberals",
    "conservative",
    "conservatives",
    "independent",
    "independents",
    "progressive",
    "progressives",
    "democratic",
    "labor",
    "orthodox",
    "evangelical",
    "brown",
    "red",
    "native",
    "pagan",
    "humanist",
    "populist",
    "nationalist",
    "unionist",
    "loyalist",
    "separatist",
    "federalist",
    "reform",
    "whig",
    "whigs",
    "tory",
    "centrist",
    "christian",
    "indian",
    "american",
    "english",
    "french",
    "german",
    "dutch",
    "swiss",
    "danish",
    "polish",
    "turkish",
    "roman",
    "latin",
    "greek",
    "scotch",
    "welsh",
    "irish",
    "spanish",
    "italian",
    "chinese",
    "japanese",
    "thai",
];

/// Context words making a lower-case or ambiguous group word an NRP.
const NRP_CONTEXT: &[&str] = &[
    "am",
    "i'm",
    "is",
    "are",
    "was",
    "were",
    "be",
    "being",
    "as",
    "a",
    "an",
    "born",
    "raised",
    "devout",
    "practicing",
    "practising",
    "identify",
    "identifies",
    "self",
    "proud",
    "fellow",
    "voted",
    "vote",
    "voter",
    "voters",
    "party",
    "religion",
    "nationality",
    "ethnicity",
    "citizen",
    "descent",
    "heritage",
    "faith",
    "not",
    "of",
];

/// Nationalities, religions and political groups.
#[derive(Debug, Default)]
pub struct NrpRecognizer;

impl NrpRecognizer {
    pub fn new() -> Self {
        Self
    }
}

impl Recognizer for NrpRecognizer {
    fn name(&self) -> &'static str {
        "nrp"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        let toks = tokenize(text);
        let mut covered_to = 0;
        for t in &toks {
            if t.start < covered_to {
                continue;
            }
            let mut best: Option<(usize, gazetteer::Hit, List)> = None;
            let lists = [List::Nationalities, List::Religions, List::PoliticalGroups];
            let matches = gazetteer::longest_matches_at(lists, text, t.start);
            for (list, m) in lists.into_iter().zip(matches) {
                if let Some(m) = m {
                    if best.is_none_or(|(e, _, _)| m.end > e) {
                        best = Some((m.end, m.hit, list));
                    }
                }
            }
            let Some((end, hit, list)) = best else {
                continue;
            };
            if !is_bounded(text, t.start, end) && !text[end..].starts_with('.') {
                continue;
            }
            // "Czech Republic", "South Africa": a longer place wins.
            if gazetteer::longest_place_at(text, t.start).is_some_and(|p| p.end > end) {
                continue;
            }
            let span = &text[t.start..end];
            let lw = span.to_lowercase();
            let ambiguous = AMBIGUOUS_NRP.contains(&lw.as_str());
            // "Cyprus (Greek)": a qualifier of the place before.
            if text[..t.start].ends_with('(') {
                continue;
            }
            // "Translate to French", "in English": a language.
            if words_before(text, t.start, 1).first().is_some_and(|w| {
                matches!(
                    w.as_str(),
                    "to" | "into"
                        | "in"
                        | "speak"
                        | "speaks"
                        | "spoke"
                        | "learn"
                        | "learning"
                        | "translate"
                        | "fluent"
                        | "from"
                )
            }) && list == List::Nationalities
            {
                continue;
            }
            let before = words_before(text, t.start, 2);
            let ctx = before.iter().any(|w| NRP_CONTEXT.contains(&w.as_str()));
            let next = words_after_word(text, end);
            // "I am austrian but", "Czech food", "the Norwegian government"
            let ctx_after = matches!(
                next.as_str(),
                "food"
                    | "cuisine"
                    | "government"
                    | "people"
                    | "citizen"
                    | "citizens"
                    | "national"
                    | "nationals"
                    | "descent"
                    | "origin"
                    | "heritage"
                    | "community"
                    | "church"
                    | "party"
                    | "voters"
                    | "candidate"
                    | "restaurant"
                    | "place"
                    | "culture"
                    | "family"
                    | "man"
                    | "woman"
                    | "men"
                    | "women"
                    | "but"
                    | "and"
                    | "living"
                    | "immigrant"
                    | "immigrants"
                    | "friend"
                    | "friends"
                    | "background"
                    | "faith"
                    | "community's"
                    | "army"
                    | "embassy"
                    | "passport"
                    | "parents"
            );
            let score = match hit.casing {
                Casing::Exact | Casing::Capitalized => {
                    if ambiguous && list != List::Nationalities && !(ctx || ctx_after) {
                        continue;
                    }
                    if matches!(lw.as_str(), "white" | "black" | "green" | "brown" | "red")
                        && !(ctx && ctx_after)
                        && !before.first().is_some_and(|w| {
                            matches!(w.as_str(), "am" | "is" | "are" | "was" | "were")
                        })
                    {
                        continue;
                    }
                    if ctx || ctx_after {
                        0.8
                    } else if ambiguous {
                        0.5
                    } else {
                        0.7
                    }
                }
                Casing::Upper => {
                    if ctx || ctx_after {
                        0.7
                    } else {
                        0.45
                    }
                }
                Casing::Lower => {
                    let strong = before.first().is_some_and(|w| {
                        matches!(
                            w.as_str(),
                            "am" | "i'm" | "im" | "are" | "is" | "was" | "were" | "a" | "an" | "as"
                        )
                    });
                    if (strong || ctx_after)
                        && !matches!(
                            lw.as_str(),
                            "white"
                                | "black"
                                | "green"
                                | "brown"
                                | "red"
                                | "independent"
                                | "conservative"
                                | "liberal"
                                | "progressive"
                                | "orthodox"
                        )
                        && list != List::PoliticalGroups
                    {
                        0.65
                    } else {
                        continue;
                    }
                }
                _ => continue,
            };
            out.push(Detection::new(t.start, end, EntityType::Nrp, score, "nrp"));
            covered_to = end;
        }
        // A capitalized demonym-shaped word the list lacks, before a noun
        // that takes a nationality: "the Chechen government".
        for t in &toks {
            let w = &text[t.start..t.end];
            if !is_cap(w) || is_all_caps(w) || w.len() < 5 || gazetteer::is_nationality(w) {
                continue;
            }
            let demonym = ["an", "ese", "ish", "er", "ic", "i", "en"]
                .iter()
                .any(|s| w.ends_with(s));
            let next = words_after_word(text, t.end);
            if demonym
                && text[t.end..].starts_with(' ')
                && matches!(
                    next.as_str(),
                    "government" | "food" | "cuisine" | "people" | "citizens" | "embassy"
                )
                && gazetteer::longest_place_at(text, t.start).is_none()
            {
                out.push(Detection::new(t.start, t.end, EntityType::Nrp, 0.5, "nrp"));
            }
        }
    }
}

fn words_after_word(text: &str, end: usize) -> String {
    text[end..]
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .find(|w| !w.is_empty())
        .unwrap_or("")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(r: &dyn Recognizer, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        r.find(text, &mut out);
        out.retain(|d| d.score >= 0.4);
        out.iter()
            .map(|d| text[d.start..d.end].to_string())
            .collect()
    }

    #[test]
    fn tokenize_keeps_inner_hyphens() {
        let t = "in Chavannes-près-Renens, ok";
        let toks: Vec<&str> = tokenize(t).iter().map(|k| &t[k.start..k.end]).collect();
        assert_eq!(toks, ["in", "Chavannes-près-Renens", "ok"]);
    }

    #[test]
    fn locations() {
        let r = LocationRecognizer::new();
        assert_eq!(
            find(&r, "I'm originally from United States"),
            ["United States"]
        );
        assert_eq!(find(&r, "She lives in São Paulo."), ["São Paulo"]);
        assert!(find(&r, "Reading is fun").is_empty());
        assert!(find(&r, "I had a Turkey sandwich").is_empty());
        assert_eq!(find(&r, "we returned to Melo by boat"), ["Melo"]);
    }

    #[test]
    fn addresses() {
        let r = StreetAddressRecognizer::new();
        assert_eq!(
            find(&r, "Ship it to 221B Baker Street, London NW1 6XE please"),
            ["221B Baker Street, London NW1 6XE"]
        );
        assert!(find(&r, "I watched 12 Monkeys yesterday").is_empty());
    }

    /// Texts around the street patterns' edges: non-ASCII letters and
    /// digits, tabs, numbers at word boundaries, repetitions of the
    /// patterns' limits and one more, lazy and greedy ends.
    const STREET_EDGES: &[&str] = &[
        "12 Main St, 12 Main A B Street, 12 Main A B C Street, 12 Main A B C D Street",
        "12 Main A B C D E Street and 12 Main A B C D E F Road NW.",
        "12\tMain\tA\tB\tC\tD\tStreet\t12 ,  34 N. Élan Östra de la Väg Road North",
        "x12 Main St, 12x Main St, ٣ Main St, 4٣ Zoë Road, 5 Zoë-Ann O’Neil Court",
        "12 Main Street Court Road Way; 12th Main 3rd Avenue; 7 A. B. C. D. E. Lane",
        "Karl Heinz Otto Berg Hauptstraße 5, A B C D E Hauptstraße 12, Hauptstraße 7/3",
        "Unter den Linden der Weg 7, 9 Ölbergstraße 12a, Å Bå Cå Då Egatan 4",
        "Rue de la Paix Grande Haute 12, Rue A B C D E F G 12, Via\tRoma 5",
        "Rue de la Paix\n and 12 Rue Ab 3 Cd Ef 5 Oak Hill Road, Rue A B C D E 6",
        "12 Rue de la Paix A B C D 5, 12 Rue de la Paix A B C D E 5, 7, Calle de los Reyes 7",
        "12 Calle del sol A B C D, 12 Calle de la mar, 3 Rue du A B C D E",
        "629 4308 morris street, 12 a b c street, 12 a b c d street, 12 ä ö ü street",
        "12 a b c d e street, 1 2 a b c d e f g h street.",
        "ul. marszałka józefa piłsudskiego 41, Trg revolucije 59, ul. a b c d e 41",
        "ul. a b c d e f 41, Calle Á B C D E 7, Οδός Α Β Γ 4, 12 Strada x y z w 5",
        "2389 81 Chalkokondili, 12 Main A B C D E F, 12 Rue Main 34 de 5 Ab 6 Cd",
        "12\tÉva\tde\t7 X Y Z, 12 34 Main 567890 A, 1 Abc 123456 Def, 12 Dr. A. B.",
        "Mrs. Patricia van Bokhorst Suite 414, 3736 and she was born in 2023",
        "Laura and Grote Baan 477, the A B C D 12 Oak Hill Road, 5 van der A B 6",
        "12 Rue A. B. C. D. E. F. G. 5, 12 Rue Ab- Cd- Ef- Gh- Ij- Kl- 7, 3 Rue A- B- C-",
    ];

    #[test]
    fn lifted_street_patterns_find_what_the_written_ones_find() {
        let lifted: [(StreetPattern, usize, usize); 6] = [
            (core_pattern, 2, 4),
            (euro_suffix_pattern, 2, 3),
            (euro_prefix_pattern, 0, 5),
            (euro_numfirst_pattern, 2, 4),
            (core_lower_pattern, 2, 3),
            (strong_prefix_pattern, 2, 4),
        ];
        let mut cases: Vec<(String, GatedRegex)> = lifted
            .iter()
            .map(|&(pattern, outside, max)| {
                let (exact, lifted) = both(pattern, max);
                let gated = GatedRegex::lifted(&exact, &lifted, outside, max).unwrap();
                (exact, gated)
            })
            .collect();
        cases.push((
            numbered_name_pattern(&Rep::exact(4)),
            GatedRegex::cut(
                &numbered_name_pattern(&Rep::lifted()),
                &numbered_name_head(),
                4,
            )
            .unwrap(),
        ));
        for (exact, gated) in &cases {
            let plain = Regex::new(exact).unwrap();
            for text in STREET_EDGES {
                let want: Vec<_> = plain.find_iter(text).map(|m| m.range()).collect();
                let got: Vec<_> = gated.find_iter(text).map(|m| m.start()..m.end()).collect();
                assert_eq!(got, want, "{text}\n{exact}");
            }
        }
    }

    #[test]
    fn and_before_is_its_regex() {
        let re = Regex::new(r"(?:^|[ \t\n])(\p{Lu}[\p{L}'’\-]+)[ \t]+(?:and|&)[ \t]+$").unwrap();
        let cross_name = Regex::new(r"^\p{Lu}[\p{L}'’\-]+$").unwrap();
        for before in [
            "Laura and ",
            "at Laura  &\t",
            "Éva-Zoë and ",
            "x\nO'Brien and  ",
            "laura and ",
            "L and ",
            "Laura band ",
            "Laura and",
            "Laura3 and ",
            "Laura\tand\t",
            "Laura\nand ",
            "a,Laura and ",
            "and ",
            " and ",
            "",
            "Ⅷx and ",
        ] {
            let want = re.captures(before).map(|c| {
                let m = c.get(0).unwrap();
                (
                    m.start() + (m.len() - m.as_str().trim_start().len()),
                    c.get(1).unwrap().as_str(),
                )
            });
            assert_eq!(and_before(&cross_name, before), want, "{before:?}");
        }
    }

    #[test]
    fn starts_last_line_is_the_anchored_pattern() {
        let re = Regex::new(LAST_LINE).unwrap();
        for text in [
            "Springfield IL 62704",
            "Springfield IL 62704\nand more IL 62704",
            "  New York NY 10001  \nx",
            "New York City Of Joy NY 10001",
            "Springfield IL 62704 x",
            "Springfield IL 62704\r\n",
            "x\nSpringfield IL 62704",
            "Zürich Öst 12 ZH 8000",
            "Toronto ON M5V 3L9\n",
            "Springfield IL\n62704",
            "",
        ] {
            assert_eq!(
                starts_last_line(last_line_regex(), text),
                re.is_match(text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn zips_and_nrp() {
        let z = ZipCodeRecognizer::new();
        assert_eq!(find(&z, "My zip code is 90210"), ["90210"]);
        assert!(find(&z, "Order 55213 shipped").is_empty());
        let n = NrpRecognizer::new();
        assert_eq!(find(&n, "I am austrian but I live in Italy."), ["austrian"]);
        assert!(find(&n, "Green tea is nice").is_empty());
    }
}
