//! Recognizers: person names (PERSON) and titles (TITLE).
//!
//! The text is tokenised once into words (letters, with inner hyphens and
//! apostrophes). Runs of name-shaped words (capitalized, initials, inner
//! particles such as "van" or "de") are scored from evidence:
//!
//! - the census name lists: a known first name followed by a known last
//!   name is strong; one known part next to an unknown capitalized word is
//!   medium; frequencies down-weight rare names that are common words;
//! - a preceding honorific ("Mr.", "Dr") or context phrase ("my name is",
//!   "Dear", "Patient", "Name:") or a following one ("said", "'s");
//! - against: sentence-initial position, stop words (pronouns, months,
//!   days, function words), place names and organisation suffixes.
//!
//! Lower-case and ALL-CAPS names need more evidence: a title or context
//! phrase plus name-list hits. TITLE spans are honorifics before a name and
//! job titles in "works as a ...", "Name, the ..., said" and "Name (...)".

use std::cell::RefCell;
use std::sync::OnceLock;

use crate::gazetteer::{self, Casing, List};
use crate::recognizers::WordMap;
use crate::{AnalyzerBuilder, Detection, EntityType, Recognizer};

/// Adds this module's recognizers to `builder`.
pub fn register(builder: AnalyzerBuilder) -> AnalyzerBuilder {
    builder.recognizer(PersonRecognizer::new())
}

const NAME: &str = "person";

/// PERSON and TITLE spans from name lists, casing and context.
#[derive(Debug, Default)]
pub struct PersonRecognizer;

impl PersonRecognizer {
    pub fn new() -> Self {
        Self
    }
}

impl Recognizer for PersonRecognizer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        let toks = tokenize(text);
        find_names(text, &toks, out);
        find_job_titles(text, &toks, out);
    }
}

/// One word of the text.
#[derive(Debug, Clone, Copy)]
struct Tok {
    start: usize,
    /// End of the word proper (without a possessive "'s" or a full stop).
    end: usize,
    /// Whether a full stop directly follows the word.
    dot: bool,
    /// Whether the word carries a possessive "'s".
    possessive: bool,
    /// Whether only spaces or tabs separate it from the next token.
    joined: bool,
    /// Whether it starts a sentence (start of text or line, after . ! ?).
    sentence_start: bool,
    shape: Shape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// "Smith", "O'Brien", "McDonald", "al-Rashid".
    Capitalized,
    /// "SMITH".
    Upper,
    /// "smith".
    Lower,
    /// "A" or "A." (one capital letter).
    Initial,
    /// Anything else ("iPhone", "eBay").
    Other,
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’')
}

fn tokenize(text: &str) -> Vec<Tok> {
    // Sized up front: growing these showed in profiles.
    let mut toks: Vec<Tok> = Vec::with_capacity(text.len() / 4 + 1);
    let mut chars: Vec<(usize, char)> = Vec::with_capacity(text.len());
    chars.extend(text.char_indices());
    let n = chars.len();
    let mut i = 0;
    // Whether the next token starts a sentence.
    let mut sentence = true;
    while i < n {
        let (_, c) = chars[i];
        if !c.is_alphabetic() {
            if matches!(
                c,
                '.' | '!' | '?' | '\n' | '>' | '"' | '“' | ':' | ';' | '•' | '*'
            ) || c.is_ascii_digit()
            {
                sentence = true;
            }
            i += 1;
            continue;
        }
        // Digits glued to letters make a code, not a word.
        let glued_before = i > 0 && (chars[i - 1].1.is_alphanumeric() || chars[i - 1].1 == '_');
        let s = i;
        while i < n {
            let c = chars[i].1;
            let inner_mark = (c == '-' || is_apostrophe(c))
                && i + 1 < n
                && chars[i + 1].1.is_alphabetic()
                && i > s;
            if c.is_alphabetic() || c.is_ascii_digit() || c == '_' || inner_mark {
                i += 1;
            } else {
                break;
            }
        }
        let start = chars[s].0;
        let mut end = if i < n { chars[i].0 } else { text.len() };
        let word = &text[start..end];
        if glued_before || word.chars().any(|c| c.is_ascii_digit() || c == '_') {
            sentence = false;
            continue;
        }
        let mut possessive = false;
        for suffix in ["'s", "’s"] {
            if word.len() > suffix.len() + 1 && word.ends_with(suffix) {
                end -= suffix.len();
                possessive = true;
            }
        }
        let next = if i < n { Some(chars[i].1) } else { None };
        let dot = next == Some('.');
        let shape = shape_of(&text[start..end]);
        // What separates this token from the next one.
        let mut j = i;
        if dot {
            j += 1;
        }
        let mut joined = j < n;
        let mut saw_space = false;
        while j < n && matches!(chars[j].1, ' ' | '\t') {
            saw_space = true;
            j += 1;
        }
        if !(saw_space || (dot && shape == Shape::Initial)) || j >= n || !chars[j].1.is_alphabetic()
        {
            joined = false;
        }
        if dot && shape == Shape::Initial && !saw_space {
            // "J.R." style: the next letter follows the dot directly.
            joined = j < n && chars[j].1.is_alphabetic();
        }
        toks.push(Tok {
            start,
            end,
            dot,
            possessive,
            joined,
            sentence_start: sentence,
            shape,
        });
        sentence = false;
    }
    toks
}

fn shape_of(word: &str) -> Shape {
    let mut letters = word.chars().filter(|c| c.is_alphabetic());
    let Some(first) = letters.next() else {
        return Shape::Other;
    };
    // Capitals and other letters after the first one.
    let (mut upper, mut lower) = (0usize, 0usize);
    for c in letters {
        if c.is_uppercase() {
            upper += 1;
        } else {
            lower += 1;
        }
    }
    if upper + lower == 0 {
        return if first.is_uppercase() {
            Shape::Initial
        } else {
            Shape::Other
        };
    }
    if first.is_uppercase() {
        if lower == 0 {
            Shape::Upper
        } else {
            // "McDonald", "O'Brien", "DeShawn": capitals after the first are fine.
            Shape::Capitalized
        }
    } else if upper == 0 {
        Shape::Lower
    } else {
        // "al-Rashid", "d'Artagnan", "van-Dyke".
        let lw = word.to_lowercase();
        if ["al-", "el-", "d'", "d’", "o'", "o’", "ibn-", "bin-"]
            .iter()
            .any(|p| lw.starts_with(p))
        {
            Shape::Capitalized
        } else {
            Shape::Other
        }
    }
}

/// Words joining the parts of a name in lower case.
#[rustfmt::skip]
const PARTICLES: &[&str] = &[
    "de", "da", "di", "do", "dos", "das", "del", "della", "der", "den", "van", "von", "la", "le",
    "du", "des", "bin", "ibn", "bint", "al", "el", "ter", "ten", "zu", "y", "af", "av",
];

/// Whether `word` lowercased is one of [`PARTICLES`].
fn is_particle(word: &str) -> bool {
    with_lower(word, |lower| PARTICLES.contains(&lower))
}

/// Capitalized words that are not names even though the census lists some
/// of them: function words, pronouns, days, months, common sentence starts.
#[rustfmt::skip]
const STOP: &[&str] = &[
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "another", "any",
    "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
    "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "either",
    "even", "every", "few", "for", "from", "further", "get", "go", "going", "good", "got", "great",
    "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself",
    "his", "how", "however", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "let",
    "like", "made", "make", "many", "may", "maybe", "me", "might", "more", "most", "much", "must",
    "my", "myself", "never", "new", "next", "no", "nor", "not", "now", "of", "off", "oh", "ok",
    "okay", "old", "on", "once", "one", "only", "or", "other", "our", "ours", "out", "over", "own",
    "please", "same", "see", "she", "should", "since", "so", "some", "still", "such", "than",
    "thank", "thanks", "that", "the", "their", "theirs", "them", "then", "there", "these", "they",
    "this", "those", "though", "through", "to", "too", "under", "until", "up", "upon", "us",
    "very", "was", "we", "well", "were", "what", "when", "where", "whether", "which", "while",
    "who", "whom", "whose", "why", "will", "with", "would", "yes", "yet", "you", "your", "yours",
    "yourself", "hi", "hello", "hey", "dear", "regards", "best", "sincerely", "cheers", "today",
    "tomorrow", "yesterday", "tonight", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "january", "february", "march", "april", "june", "july", "august",
    "september", "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "wed", "thu", "fri", "sat", "sun",
    "christmas", "easter", "god", "lord", "jesus", "bible", "internet", "english", "street",
    "road", "avenue", "lane", "drive", "court", "suite", "apt", "apartment", "unit", "floor",
    "north", "south", "east", "west", "city", "county", "state", "university", "college", "school",
    "hospital", "church", "bank", "company", "group", "team", "department", "office", "report",
    "annual", "summary", "total", "price", "order", "account", "name", "address", "phone", "email",
    "date", "time", "number", "card", "credit", "debit", "payment", "invoice", "customer",
    "client", "patient", "employee", "user", "admin", "manager", "service", "support", "project",
    "meeting", "agenda", "note", "notes", "subject", "re", "fw", "fwd", "attn", "dob", "age",
    "sex", "male", "female", "gender", "id", "ssn", "visa", "mastercard", "amex", "american",
    "express", "bill", "rights", "act", "law", "day", "week", "month", "year", "morning",
    "evening", "night", "love", "happy", "birthday", "welcome", "congratulations", "sorry", "sure",
    "true", "false", "faithfully", "truly", "warm", "kind", "mr", "mrs", "ms", "dr", "sir",
    "madam", "visitor", "log", "schedule", "call", "contact", "tell", "ask", "send", "use", "need",
    "want", "know", "think", "look", "find", "give", "take", "come", "keep", "show", "try",
    "leave", "put", "turn", "start", "stop", "help", "check", "update", "change", "add", "remove",
    "delete", "create", "read", "write", "open", "close", "buy", "sell", "pay", "save", "move",
    "ship", "list", "table", "section", "chapter", "page", "figure", "step", "part", "item",
    "question", "answer", "example", "data", "file", "error", "warning", "info", "debug", "test",
    "version", "release", "news", "home", "privacy", "policy", "terms", "conditions", "copyright",
    "inc", "ltd", "llc", "plc", "corp", "co", "gmbh", "national", "international", "global",
    "general", "royal", "federal", "central", "united", "first", "second", "third", "last",
    "final", "main", "big", "little", "small", "high", "low", "long", "short", "young", "white",
    "black", "green", "brown", "red", "blue", "gray", "grey", "gold", "silver", "rose", "star",
    "moon", "king", "queen", "prince", "princess", "major", "private", "public", "human", "art",
    "music", "book", "film", "movie", "song", "album", "video", "game", "sport", "health", "care",
    "life", "world", "earth", "water", "fire", "air", "power", "energy", "trust", "capital",
    "financial", "holdings", "partners", "systems", "technologies", "solutions", "services",
    "industries", "fund", "corporation", "limited", "association", "society", "foundation",
    "institute", "council", "committee", "board", "ministry", "agency", "authority", "club",
    "party", "union", "league", "dollars", "euros", "pounds", "per", "via", "vs", "etc", "hmm",
    "wow", "lol", "omg", "btw", "nice", "reading", "mobile", "split", "bath", "ago", "users",
    "baby", "real", "person", "people", "points", "limit", "accounts", "words", "things",
    "someone", "anyone", "everyone", "nobody", "something", "anything", "everything", "nothing",
    "labor", "memorial", "independence", "thanksgiving", "halloween", "valentine", "ramadan",
    "eid",
];

/// Common words that are also frequent surnames or given names: never a
/// name alone, but fine inside one ("Sarah Young", "June Carter").
#[rustfmt::skip]
const SOFT_STOP: &[&str] = &[
    "young", "white", "black", "green", "brown", "gray", "grey", "long", "short", "king", "rose",
    "bill", "will", "may", "june", "april", "august", "grace", "hope", "joy", "faith", "summer",
    "autumn", "dawn", "sky", "chase", "hunter", "price", "rich", "little", "small", "love",
    "major", "page", "mark", "pat", "sunny", "golden", "star", "hall", "wood", "stone", "bush",
    "ford", "banks", "miles", "justice", "royal", "noble", "sharp", "wise", "am",
];

/// Words of street names and other named places: a name-shaped run next
/// to one is an address ("Sims Hill", "Ryley Crescent").
#[rustfmt::skip]
const STREET: &[&str] = &[
    "fall", "tunnel", "baan",
    "causeway", "passage", "light", "isle", "knoll", "pike", "spur", "summit", "turnpike", "flat",
    "flats", "mountains",
    "street", "st", "avenue", "ave", "road", "rd", "lane", "ln", "drive", "crescent", "vista",
    "harbor", "harbour", "mill", "mills", "lake", "lakes", "center", "centre", "place", "pl",
    "hill", "hills", "park", "way", "court", "ct", "square", "sq", "boulevard", "blvd", "terrace",
    "close", "grove", "gardens", "garden", "row", "vei", "veg", "gate", "gata", "gatan", "rue",
    "calle", "rua", "via", "strasse", "straße", "plaza", "heights", "view", "ridge", "springs",
    "falls", "bridge", "island", "islands", "valley", "station", "junction", "estates", "estate",
    "parkway", "pkwy", "stream", "mews", "walk", "cite", "box", "port", "point", "meadow",
    "meadows", "creek", "river", "shore", "shores", "bay", "beach", "forest", "fort", "mount",
    "mountain", "canyon", "trail", "path", "pass", "highway", "hwy", "route", "circle", "cir",
    "loop", "alley", "crossing", "village", "villages", "ville", "town", "manor", "field",
    "fields", "ranch", "haven", "glen", "wells", "well", "plain", "plains", "vale", "avenida",
    "piazza", "viale", "allee", "weg", "straat", "laan", "plein", "ulica", "utca", "tie", "katu",
    "vej", "aleja", "camino", "carrera", "paseo", "travessa", "largo",
];

/// Organisation words the suffix list lacks.
#[rustfmt::skip]
const ORG_WORDS: &[&str] = &[
    "associates", "weekly", "daily", "times", "journal", "magazine", "sector", "momentum",
    "watchers", "motors", "airlines", "airways", "pharmaceuticals", "labs", "laboratories",
    "media", "entertainment", "records", "studios", "productions", "brothers", "bros", "sons",
    "etf", "trust", "fund", "bancorp", "realty", "properties", "investments", "ventures",
    "resources", "logistics", "networks", "software", "electric", "energy", "oil", "gas",
];

/// Which of this module's small word lists hold a (lowercase) word, as
/// bits of one byte.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct WordFlags(u8);

impl WordFlags {
    const STOP: u8 = 1;
    const SOFT_STOP: u8 = 1 << 1;
    const ORG_WORD: u8 = 1 << 2;
    const STREET: u8 = 1 << 3;
    const HONORIFIC: u8 = 1 << 4;

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// The lists of [`WordFlags`] of a lowercase word: every token is checked
/// against five lists, and one hash probe answers them all (binary
/// searches per list showed in profiles).
fn word_flags_lower(lower: &str) -> WordFlags {
    static TABLE: OnceLock<WordMap<u8>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = WordMap::default();
        for (list, bit) in [
            (STOP, WordFlags::STOP),
            (SOFT_STOP, WordFlags::SOFT_STOP),
            (ORG_WORDS, WordFlags::ORG_WORD),
            (STREET, WordFlags::STREET),
            (HONORIFICS, WordFlags::HONORIFIC),
        ] {
            for &w in list {
                *table.entry(w).or_insert(0) |= bit;
            }
        }
        table
    });
    WordFlags(table.get(lower).copied().unwrap_or(0))
}

/// The [`WordFlags`] of `word` as written (lowercased first).
fn word_flags(word: &str) -> WordFlags {
    with_lower(word, word_flags_lower)
}

/// `f(&word.to_lowercase())`, without a heap allocation for short ASCII
/// words (nearly every token; ASCII lowercasing is the same there).
fn with_lower<R>(word: &str, f: impl FnOnce(&str) -> R) -> R {
    const MAX: usize = 32;
    if word.len() <= MAX && word.is_ascii() {
        let mut buf = [0u8; MAX];
        let lower = &mut buf[..word.len()];
        lower.copy_from_slice(word.as_bytes());
        lower.make_ascii_lowercase();
        f(std::str::from_utf8(lower).unwrap_or_default())
    } else {
        f(&word.to_lowercase())
    }
}

fn is_stop(word: &str) -> bool {
    with_lower(word, is_stop_lower)
}

fn is_stop_lower(lower: &str) -> bool {
    is_stop_flagged(lower, word_flags_lower(lower))
}

/// `is_stop_lower(lower)` given the word's flags.
fn is_stop_flagged(lower: &str, flags: WordFlags) -> bool {
    if flags.has(WordFlags::STOP) {
        return true;
    }
    // Contractions: "I'm", "Don't", "We'll".
    if let Some(p) = lower.find(['\'', '’']) {
        let tail = &lower[p..];
        let tail = tail.trim_start_matches(['\'', '’']);
        if matches!(tail, "m" | "s" | "t" | "d" | "ll" | "ve" | "re") {
            return true;
        }
    }
    false
}

/// Honorifics that almost always precede a name ("Mr.", "Dr").
#[rustfmt::skip]
const HONORIFICS: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "madam", "mme", "mlle", "herr",
    "frau", "rev", "revd", "fr", "sr", "sra", "srta", "lady", "lord", "capt", "col", "gen", "lt",
    "sgt", "cpl", "maj", "cmdr", "adm", "insp", "det", "hon", "señor", "señora", "monsieur",
    "madame", "professor", "doctor",
];

/// Words before a name that point to one.
const CONTEXT_BEFORE: &[&[&str]] = &[
    &["name", "is"],
    &["name", "s"],
    &["i", "am"],
    &["i", "m"],
    &["call", "me"],
    &["this", "is"],
    &["named"],
    &["named", "him"],
    &["named", "her"],
    &["called"],
    &["was", "called"],
    &["holder"],
    &["tribute", "to"],
    &["signed"],
    &["name"],
    &["patient"],
    &["client"],
    &["customer"],
    &["employee"],
    &["dear"],
    &["hi"],
    &["hello"],
    &["hey"],
    &["thanks"],
    &["regards"],
    &["sincerely"],
    &["contact"],
    &["author"],
    &["songwriter"],
    &["singer"],
    &["attn"],
    &["met"],
    &["married"],
    &["son"],
    &["daughter"],
    &["wife"],
    &["husband"],
    &["friend"],
    &["colleague"],
    &["applicant"],
    &["user"],
    &["visitor", "log"],
    &["though"],
];

/// Words before a name that weakly point to one (prepositions, verbs of
/// saying).
const WEAK_BEFORE: &[&[&str]] = &[
    &["by"],
    &["with"],
    &["from"],
    &["says"],
    &["said"],
    &["told"],
    &["ask"],
    &["asked"],
    &["tell"],
    &["text"],
    &["cc"],
    &["to"],
    &["and"],
    &["called"],
    &["under"],
];

/// Words before a place rather than a person.
#[rustfmt::skip]
const PLACE_BEFORE: &[&str] = &[
    "in", "at", "near", "into", "visit", "visiting", "visited", "to", "from", "towards", "across",
];

/// Words after a name that point to one.
const CONTEXT_AFTER: &[&[&str]] = &[
    &["said"],
    &["says"],
    &["wrote"],
    &["writes"],
    &["told"],
    &["asked"],
    &["replied"],
    &["is", "a"],
    &["is", "an"],
    &["was", "a"],
    &["was", "born"],
    &["was", "influenced"],
    &["is", "very"],
    &["so"],
    &["had"],
    &["has"],
    &["lives"],
    &["lived"],
    &["shouted"],
    &["just"],
    &["is", "from"],
    &["was", "from"],
    &["works"],
    &["worked"],
    &["went"],
    &["wants"],
    &["needs"],
    &["loves"],
    &["called"],
    &["will", "be"],
    &["can", "be"],
    &["listed"],
    &["who"],
    &["and", "i"],
    &["has", "been"],
    &["thinks"],
    &["joined"],
];

/// Name-list evidence for one word.
#[derive(Debug, Clone, Copy, Default)]
struct Ev {
    first: f32,
    last: f32,
    place: bool,
    stop: bool,
    soft: bool,
    org: bool,
    job: bool,
    street: bool,
    honorific: bool,
}

/// `evidence(word)`, memoized per thread in a small direct-mapped cache:
/// the evidence is a pure function of the word (as written), and running
/// text repeats its common words ("the", "I", "Mr") all the time, each
/// costing nine list lookups. Small on purpose (32 KB): it keeps the
/// frequent words, not a whole corpus.
fn evidence_cached(word: &str) -> Ev {
    const SLOTS: usize = 1024;
    const MAX: usize = 15;
    type Cache = [(u8, [u8; MAX], Ev); SLOTS];
    thread_local! {
        // Length 0 marks an empty slot (tokens are never empty).
        static CACHE: RefCell<Cache> = const { RefCell::new([(0, [0; MAX], EV_NONE); SLOTS]) };
    }
    let bytes = word.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX {
        return evidence(word);
    }
    // FNV-1a: words are a few bytes long.
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    let at = (h ^ (h >> 16)) as usize % SLOTS;
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let (len, stored, ev) = &mut cache[at];
        if usize::from(*len) == bytes.len() && stored[..bytes.len()] == *bytes {
            return *ev;
        }
        let fresh = evidence(word);
        *len = bytes.len() as u8;
        stored[..bytes.len()].copy_from_slice(bytes);
        *ev = fresh;
        fresh
    })
}

const EV_NONE: Ev = Ev {
    first: 0.0,
    last: 0.0,
    place: false,
    stop: false,
    soft: false,
    org: false,
    job: false,
    street: false,
    honorific: false,
};

fn evidence(word: &str) -> Ev {
    // One normalization of the word for all nine lists.
    let key = gazetteer::Key::new(word);
    let f = key.lookup(List::FirstNames);
    let l = key.lookup(List::LastNames);
    let casing_ok = |c: Casing| c.is_proper() || c == Casing::Upper || c == Casing::Lower;
    // One lowercasing of the word for this module's own lists.
    let (flags, stop) = with_lower(word, |lower| {
        let flags = word_flags_lower(lower);
        (flags, is_stop_flagged(lower, flags))
    });
    Ev {
        first: f.filter(|h| casing_ok(h.casing)).map_or(0.0, |h| h.value),
        last: l.filter(|h| casing_ok(h.casing)).map_or(0.0, |h| h.value),
        place: key.is_in(List::Countries)
            || key.is_in(List::UsStates)
            || key.value(List::Cities).is_some_and(|v| v > 100_000.0)
            || key.is_in(List::Nationalities)
            || key.is_in(List::Continents),
        stop,
        soft: flags.has(WordFlags::SOFT_STOP),
        org: key.is_in(List::OrgSuffixes) || flags.has(WordFlags::ORG_WORD),
        job: key.is_in(List::JobTitles),
        street: flags.has(WordFlags::STREET)
            || word.len() > 3
                && (word.ends_with('s') || word.ends_with('S'))
                && word_flags(&word[..word.len() - 1]).has(WordFlags::STREET),
        honorific: flags.has(WordFlags::HONORIFIC),
    }
}

/// How much a name-list frequency (per 100,000) says, `0.0..=1.0`.
fn freq_weight(freq: f32) -> f32 {
    if freq <= 0.0 {
        0.0
    } else if freq >= 30.0 {
        1.0
    } else if freq >= 3.0 {
        0.8
    } else if freq >= 0.3 {
        0.6
    } else {
        0.4
    }
}

/// The words (runs of letters and digits) before byte `start` on its
/// line, nearest first, as written; only the 60 bytes before `start` are
/// read (a word cut there counts as cut).
fn words_before(text: &str, start: usize) -> impl Iterator<Item = &str> {
    let mut from = start.saturating_sub(60);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let seg = &text[from..start];
    // Stay on the same line.
    let seg = seg.rsplit('\n').next().unwrap_or(seg);
    seg.rsplit(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// The words after byte `end` on its line, as written.
fn words_after(text: &str, end: usize) -> impl Iterator<Item = &str> {
    let line = text[end..].split('\n').next().unwrap_or("");
    line.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// Whether `word` lowercased is `lower` (a lowercase ASCII word), without
/// allocating for ASCII words.
fn lowercases_to(word: &str, lower: &str) -> bool {
    if word.is_ascii() {
        word.eq_ignore_ascii_case(lower)
    } else {
        word.to_lowercase() == lower
    }
}

/// The longest word of the context phrases: a longer word matches none.
const CONTEXT_WORD_MAX: usize = 16;

/// Up to `N` words, lowercased once to be compared with many context
/// phrases.
struct FewWords<const N: usize> {
    /// Each word's lowercase form; `None` if longer than
    /// [`CONTEXT_WORD_MAX`] bytes (it equals no phrase word).
    words: [Option<([u8; CONTEXT_WORD_MAX], u8)>; N],
    len: usize,
}

impl<const N: usize> FewWords<N> {
    fn new<'t>(words: impl Iterator<Item = &'t str>) -> Self {
        let mut few = FewWords {
            words: [None; N],
            len: 0,
        };
        for w in words.take(N) {
            few.words[few.len] = with_lower(w, |lower| {
                let mut buf = [0u8; CONTEXT_WORD_MAX];
                buf.get_mut(..lower.len())?
                    .copy_from_slice(lower.as_bytes());
                Some((buf, lower.len() as u8))
            });
            few.len += 1;
        }
        few
    }

    /// Whether the words start with `phrase` (lowercase words).
    fn start_with(&self, phrase: impl ExactSizeIterator<Item = &'static str>) -> bool {
        phrase.len() <= self.len
            && phrase.zip(&self.words).all(|(p, w)| {
                w.as_ref()
                    .is_some_and(|(buf, len)| buf[..usize::from(*len)] == *p.as_bytes())
            })
    }
}

/// The last three words before a name at `start`, if only spaces, a colon,
/// a comma or quotes separate them from it (context phrases must touch
/// the name), nearest first.
fn context_words_before(text: &str, start: usize) -> Option<FewWords<3>> {
    let gap = text[..start]
        .trim_end_matches([' ', '\t', ':', ',', '"', '“', '\''])
        .len();
    if start - gap > 12 {
        return None;
    }
    Some(FewWords::new(words_before(text, gap)))
}

/// Whether one of `phrases` ends the words before a name (see
/// [`context_words_before`]).
fn context_before(words: Option<&FewWords<3>>, phrases: &[&[&'static str]]) -> bool {
    words.is_some_and(|words| {
        phrases
            .iter()
            .any(|phrase| words.start_with(phrase.iter().rev().copied()))
    })
}

fn context_after(text: &str, end: usize) -> bool {
    let rest = &text[end..];
    if rest.starts_with("'s ") || rest.starts_with("’s ") {
        return true;
    }
    let after = rest.trim_start_matches([' ', ',']);
    if after.len() + 2 < rest.len() {
        return false;
    }
    let words = FewWords::<2>::new(words_after(text, end));
    CONTEXT_AFTER
        .iter()
        .any(|phrase| words.start_with(phrase.iter().copied()))
}

fn find_names(text: &str, toks: &[Tok], out: &mut Vec<Detection>) {
    let evs: Vec<Ev> = toks
        .iter()
        .map(|t| evidence_cached(&text[t.start..t.end]))
        .collect();
    // (first token, last token, score) of every candidate run.
    let mut cands: Vec<(usize, usize, f32)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i];
        let word = &text[t.start..t.end];
        // A title before a name: "Mr. Hirai", "Dr Smith", "mr. ogura".
        let mut titled = false;
        let mut strong_title = false;
        let mut j = i;
        if t.joined && i + 1 < toks.len() && !t.possessive && !after_digits(text, t.start) {
            let honor = evs[i].honorific;
            let other_title = !honor
                && t.shape == Shape::Capitalized
                && gazetteer::is_title(word)
                && evs[i].first < 5.0
                && !evs[i].stop;
            let next = toks[i + 1];
            let nshape = next.shape;
            let case_ok = match t.shape {
                Shape::Lower => {
                    honor && t.dot && matches!(nshape, Shape::Lower | Shape::Capitalized)
                }
                Shape::Upper => {
                    honor && t.dot && matches!(nshape, Shape::Upper | Shape::Capitalized)
                }
                _ => {
                    matches!(nshape, Shape::Capitalized | Shape::Upper | Shape::Initial)
                        || (nshape == Shape::Lower && is_particle(&text[next.start..next.end]))
                }
            };
            if (honor || other_title) && case_ok && (evs[i + 1].soft || !evs[i + 1].stop) {
                titled = true;
                strong_title = honor;
                j = i + 1;
                let tend = if t.dot { t.end + 1 } else { t.end };
                out.push(Detection::new(
                    t.start,
                    tend,
                    EntityType::Title,
                    if honor { 0.85 } else { 0.6 },
                    NAME,
                ));
            }
        }
        let Some((end_idx, score)) = name_run(text, toks, &evs, j, titled, strong_title) else {
            i += 1;
            continue;
        };
        cands.push((j, end_idx, score));
        i = end_idx + 1;
    }
    // A capitalized word used twice as a name-like run is more likely one.
    let run_text = |c: &(usize, usize, f32)| text[toks[c.0].start..toks[c.1].end].to_lowercase();
    let texts: Vec<String> = cands.iter().map(run_text).collect();
    for m in 0..cands.len() {
        let c = cands[m];
        if c.2 > 0.05 && c.2 < 0.5 && texts.iter().filter(|t| **t == texts[m]).count() >= 2 {
            cands[m].2 += 0.2;
        }
    }
    // A name accepted once makes its other mentions names too.
    let mut known: Vec<String> = Vec::new();
    for &(s, e, score) in &cands {
        if score >= 0.5 {
            for t in &toks[s..=e] {
                if t.shape != Shape::Initial {
                    known.push(text[t.start..t.end].to_lowercase());
                }
            }
        }
    }
    // Lists of names: "Reumer, Davis and Andrews".
    let coordinated = |a: &(usize, usize, f32), b: &(usize, usize, f32)| {
        let gap = text[toks[a.1].end..toks[b.0].start].trim_matches([' ', '\t']);
        let gap = gap.strip_prefix(',').unwrap_or(gap).trim_start();
        matches!(gap, "" | "and" | "or") && b.0 == a.1 + 1 + usize::from(!gap.is_empty())
    };
    let base: Vec<f32> = cands.iter().map(|c| c.2).collect();
    for m in 0..cands.len() {
        let c = cands[m];
        if c.2 <= 0.0 || c.2 >= 0.5 || toks[c.1].possessive {
            continue;
        }
        let left = m > 0 && base[m - 1] >= 0.4 && coordinated(&cands[m - 1], &c);
        let right = m + 1 < cands.len() && base[m + 1] >= 0.4 && coordinated(&c, &cands[m + 1]);
        if left || right {
            cands[m].2 = 0.5;
        }
    }
    for (s, e, mut score) in cands {
        let tok_text = |t: &Tok| text[t.start..t.end].to_lowercase();
        if score > 0.05
            && score < 0.5
            && toks[s..=e]
                .iter()
                .all(|t| t.shape == Shape::Initial || known.contains(&tok_text(t)))
        {
            score = score.max(0.55);
        }
        if score <= 0.0 {
            continue;
        }
        let last = toks[e];
        let mut end = last.end;
        if last.shape == Shape::Initial && last.dot {
            end += 1;
        }
        out.push(Detection::new(
            toks[s].start,
            end,
            EntityType::Person,
            score.min(0.95),
            NAME,
        ));
    }
}

/// Whether an organisation's possessive precedes `start`: "Inc.'s Jane
/// Roe", "Acme Trust's John Doe".
fn org_possessive_before(text: &str, start: usize) -> bool {
    let before = &text[..start];
    let Some(b) = before
        .strip_suffix("'s ")
        .or_else(|| before.strip_suffix("’s "))
    else {
        return false;
    };
    let w = b
        .rsplit(|c: char| c.is_whitespace())
        .next()
        .unwrap_or("")
        .trim_end_matches('.');
    let w = w.rsplit('.').next().unwrap_or(w);
    w.len() >= 2
        && (gazetteer::lookup(List::OrgSuffixes, w).is_some()
            || gazetteer::lookup(List::OrgSuffixes, &format!("{w}.")).is_some()
            || matches!(w, "ETF" | "ETN" | "Enter" | "Trust" | "Fund"))
}

/// Whether the run `start..end` is the first line of a block of lines (a
/// signature or an address label: "Jane Roe\nAcme Inc\n12 Main St").
fn heads_block(text: &str, start: usize, end: usize) -> bool {
    text[..start].trim_start_matches(['>', ' ']).is_empty()
        && text[end..]
            .trim_start_matches([' ', '\t'])
            .starts_with('\n')
        && text[end..].trim().contains('\n')
}

/// Whether a number precedes `start` on its line ("512 Søren Jaabæks vei").
fn after_digits(text: &str, start: usize) -> bool {
    let before = text[..start].trim_end_matches([' ', '\t']);
    before.ends_with(|c: char| c.is_ascii_digit())
}

/// Whether token `tok` may be part of a name in a run of the given case.
fn fits(text: &str, tok: &Tok, ev: &Ev, case: Shape, inner: bool) -> bool {
    if ev.org || ev.street || (ev.job && ev.first == 0.0 && ev.last == 0.0) {
        return false;
    }
    if inner && ev.stop && !ev.soft && tok.shape != Shape::Initial {
        return false;
    }
    match tok.shape {
        Shape::Initial => case != Shape::Lower,
        Shape::Capitalized => case == Shape::Capitalized,
        Shape::Upper => case == Shape::Upper,
        Shape::Lower => {
            if case == Shape::Lower {
                !ev.stop
            } else {
                inner && is_particle(&text[tok.start..tok.end])
            }
        }
        Shape::Other => false,
    }
}

/// The run of name words starting at token `j`: its last token and score.
fn name_run(
    text: &str,
    toks: &[Tok],
    evs: &[Ev],
    j: usize,
    titled: bool,
    strong_title: bool,
) -> Option<(usize, f32)> {
    let first = toks[j];
    let case = match first.shape {
        Shape::Initial | Shape::Capitalized => Shape::Capitalized,
        Shape::Upper => Shape::Upper,
        Shape::Lower => Shape::Lower,
        Shape::Other => return None,
    };
    if !fits(text, &first, &evs[j], case, titled) {
        return None;
    }
    if first.shape == Shape::Lower && PARTICLES.contains(&&text[first.start..first.end]) {
        return None;
    }
    if evs[j].stop && !evs[j].soft && !titled {
        return None;
    }
    // Extend: up to 4 name words (particles do not count).
    let mut k = j;
    let mut words = 1;
    let mut broken_by_org = false;
    while toks[k].joined && k + 1 < toks.len() && !toks[k].possessive {
        // A full stop after a full word ends the sentence.
        if toks[k].dot && toks[k].shape != Shape::Initial {
            break;
        }
        let next = &toks[k + 1];
        if !fits(text, next, &evs[k + 1], case, true) {
            let ne = &evs[k + 1];
            broken_by_org = ne.org || ne.street;
            break;
        }
        let particle = next.shape == Shape::Lower && case != Shape::Lower;
        if !particle {
            if words == 4 {
                break;
            }
            words += 1;
        }
        k += 1;
    }
    // "Apple Inc", "Sims Hill", "Martin Linges veg": not a person.
    if broken_by_org && !titled {
        return Some((k + 1, 0.0));
    }
    // After a street word ("rue du Président Roosevelt").
    if j > 0 && toks[j - 1].joined && evs[j - 1].street && !titled {
        return Some((k, 0.0));
    }
    // A run does not end in a particle or a stop word.
    while k > j && (toks[k].shape == Shape::Lower && case != Shape::Lower || evs[k].stop) {
        if evs[k].soft && evs[k].last >= 30.0 && k > j {
            break;
        }
        k -= 1;
    }
    let names = &toks[j..=k];
    let ev = &evs[j..=k];
    let n_words = names
        .iter()
        .filter(|t| !(t.shape == Shape::Lower && case != Shape::Lower))
        .count();
    let start = toks[j].start;
    let end = toks[k].end;
    let words_before_name = context_words_before(text, start);
    let ctx_before = context_before(words_before_name.as_ref(), CONTEXT_BEFORE)
        || n_words >= 2 && org_possessive_before(text, start);
    let weak_before = !ctx_before && context_before(words_before_name.as_ref(), WEAK_BEFORE);
    let ctx_after = context_after(text, end)
        || toks[k].possessive
        || (2..=3).contains(&n_words) && heads_block(text, start, end);
    let ctx = ctx_before || ctx_after;

    let first_w = freq_weight(ev[0].first);
    let last_w = freq_weight(ev[ev.len() - 1].last);
    let any_known = ev
        .iter()
        .map(|e| freq_weight(e.first.max(e.last * 0.8)))
        .fold(0.0f32, f32::max);
    let all_place = names
        .iter()
        .zip(ev)
        .all(|(t, e)| e.place || e.stop || t.shape == Shape::Initial);
    let initials = names.iter().filter(|t| t.shape == Shape::Initial).count();
    let sentence_start = toks[j].sentence_start;
    // A soft stop word leads a name only before a surname ("Will Smith").
    if ev[0].soft && !titled && !(n_words >= 2 && last_w >= 0.8) {
        return Some((k, 0.0));
    }

    let mut score: f32 = match case {
        Shape::Capitalized => {
            if n_words >= 2 {
                if initials == n_words {
                    0.0
                } else if first_w > 0.0 && last_w > 0.0 {
                    0.6 + 0.15 * first_w + 0.15 * last_w
                } else if first_w > 0.0 || last_w > 0.0 {
                    0.45 + 0.1 * first_w.max(last_w)
                } else if any_known > 0.0 {
                    0.4
                } else if !text[start..end].is_ascii() {
                    // Unlisted words with letters English does not use
                    // ("Hunor Kultsár", "Unnsteinn Þorbjörnsson"): the
                    // census lists miss most names from outside the US,
                    // and English headings are not written so.
                    0.4
                } else {
                    0.3
                }
            } else if initials == 1 {
                0.0
            } else {
                0.15 + 0.35 * any_known * any_known
            }
        }
        Shape::Upper => {
            if n_words >= 2 && first_w > 0.0 && last_w > 0.0 {
                0.4 + 0.2 * (first_w + last_w) / 2.0
            } else if titled {
                0.1
            } else {
                0.0
            }
        }
        Shape::Lower => {
            // In text written all in lower case, casing says nothing and
            // the name lists carry the weight.
            let caseless = !text.chars().any(char::is_uppercase);
            let soft = ev.iter().any(|e| e.soft);
            if n_words >= 2 && first_w >= 0.8 && last_w >= 0.8 {
                if caseless && !soft {
                    0.5
                } else {
                    0.35
                }
            } else if caseless
                && !soft
                && first_w >= 0.8
                && (n_words >= 2 || (first_w >= 1.0 && ctx))
            {
                0.3
            } else if titled || (ctx_before && n_words >= 2) {
                0.1
            } else {
                0.0
            }
        }
        _ => 0.0,
    };
    if score <= 0.0 && !titled {
        return Some((k, 0.0));
    }
    if titled {
        score += if strong_title { 0.45 } else { 0.3 };
    }
    if ctx_before {
        score += if case == Shape::Lower { 0.35 } else { 0.3 };
    } else if ctx_after {
        score += 0.25;
    } else if weak_before {
        score += if case == Shape::Lower { 0.1 } else { 0.15 };
    }
    let place_cue = words_before(text, start)
        .next()
        .is_some_and(|w| PLACE_BEFORE.iter().any(|p| lowercases_to(w, p)));
    let whole_place = gazetteer::longest_place_at(text, start).is_some_and(|m| m.end >= end);
    let place_like = whole_place || all_place;
    let strong_pair = first_w >= 0.8 && last_w >= 0.8 && n_words >= 2;
    if !(titled || ctx_before || strong_pair) {
        if place_like {
            score -= if place_cue {
                0.35
            } else if first_w.max(last_w) >= 0.8 {
                0.05
            } else {
                0.3
            };
        } else if place_cue && case == Shape::Capitalized {
            score -= 0.1;
        }
    }
    // "Bergshaugen 43": a word before a house number is a street.
    if !titled && !ctx_before {
        let after = text[end..].trim_start_matches([' ', '\t']);
        if after.len() < text.len() - end && after.starts_with(|c: char| c.is_ascii_digit()) {
            score -= 0.3;
        }
    }
    if case == Shape::Lower && !(ctx || titled) {
        let boundary = text[..start]
            .trim_end_matches([' ', '\t'])
            .chars()
            .next_back()
            .is_none_or(|c| matches!(c, ',' | ':' | '\n' | '>' | '(' | '"'));
        if !boundary {
            return Some((k, 0.0));
        }
        score += 0.1;
    }
    if sentence_start && !titled && !ctx && n_words == 1 {
        score -= 0.1;
    }
    if after_digits(text, start) && !titled && !ctx_before {
        score -= 0.4;
    }
    // "Fuller Smith & Turner": an ampersand joins firm names.
    if text[end..].trim_start().starts_with('&') {
        score -= 0.4;
    }
    Some((k, score.max(0.0)))
}

/// Job titles in "works as a ...", "Name, the ..., said" and "Name (...)".
fn find_job_titles(text: &str, toks: &[Tok], out: &mut Vec<Detection>) {
    for (i, t) in toks.iter().enumerate() {
        let w = &text[t.start..t.end];
        let is_as = |k: usize| text[toks[k].start..toks[k].end].eq_ignore_ascii_case("as");
        // "works as a nurse", "as an Engineer,", "as Sales manager, but".
        let (from, article) = if (w.eq_ignore_ascii_case("a") || w.eq_ignore_ascii_case("an"))
            && i >= 1
            && is_as(i - 1)
            && toks[i - 1].joined
        {
            (i + 1, true)
        } else if is_as(i) && i + 1 < toks.len() {
            (i + 1, false)
        } else {
            continue;
        };
        if !toks[from - 1].joined || from >= toks.len() {
            continue;
        }
        let Some((s, e, clean)) = phrase_until_punct(text, toks[from].start, 6) else {
            continue;
        };
        let job = ends_in_job_word(&text[s..e]);
        let score = match (job, clean, article) {
            (true, true, _) => 0.7,
            (true, false, true) | (false, true, true) => 0.5,
            (true, false, false) => 0.45,
            _ => 0.3,
        };
        if !(article || job && clean) {
            continue;
        }
        out.push(Detection::new(s, e, EntityType::Title, score, NAME));
    }
    // "Name, the <job>, said" and "Name (<job>)".
    for (open, close) in [(", the ", ','), (" (", ')')] {
        let mut from = 0;
        while let Some(p) = text[from..].find(open) {
            let at = from + p;
            from = at + open.len();
            let before = text[..at].trim_end();
            let Some(last) = before.split([' ', '\n']).next_back() else {
                continue;
            };
            if !matches!(shape_of(last), Shape::Capitalized | Shape::Lower) {
                continue;
            }
            let rest = &text[from..];
            let Some(close_at) = rest.find([close, '\n', '.', ';', '(', ')', ',']) else {
                continue;
            };
            if !rest[close_at..].starts_with(close) {
                continue;
            }
            let phrase = &rest[..close_at];
            let nwords = phrase.split_whitespace().count();
            if nwords == 0
                || nwords > 7
                || !phrase
                    .chars()
                    .all(|c| c.is_alphabetic() || c == ' ' || c == '-')
            {
                continue;
            }
            let job = ends_in_job_word(phrase);
            // "(Airport tower controller)" after a name; "the ..., said".
            let after = rest[close_at + 1..].trim_start();
            let said = close == ',' && {
                let w = after
                    .split(|c: char| !c.is_alphabetic())
                    .next()
                    .unwrap_or("");
                matches!(
                    w,
                    "said" | "says" | "told" | "added" | "explained" | "wrote"
                )
            };
            let named = close == ')'
                && shape_of(last) == Shape::Capitalized
                && gazetteer::lookup(List::LastNames, last).is_some()
                && !phrase.split_whitespace().next().is_some_and(is_stop);
            if job || said || named {
                let s = from;
                let e = from + phrase.trim_end().len();
                if e > s {
                    let score = if said { 0.75 } else { 0.6 };
                    out.push(Detection::new(s, e, EntityType::Title, score, NAME));
                }
            }
        }
    }
}

fn ends_in_job_word(phrase: &str) -> bool {
    phrase.split_whitespace().next_back().is_some_and(|w| {
        let mut c = w.chars();
        let cap: String = c
            .next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default();
        gazetteer::is_job_title(&cap)
            || gazetteer::is_job_title(w)
            || [
                "er", "or", "ist", "ian", "ant", "ent", "aide", "worker", "operator",
            ]
            .iter()
            .any(|s| w.ends_with(s))
    })
}

/// From byte `start`, up to `max` words until punctuation or a line end;
/// also whether it ran up to punctuation (not cut at a clause word).
fn phrase_until_punct(text: &str, start: usize, max: usize) -> Option<(usize, usize, bool)> {
    let rest = &text[start..];
    let stop = rest
        .find(|c: char| !(c.is_alphabetic() || c == ' ' || c == '-' || c == '\t'))
        .unwrap_or(rest.len());
    let phrase = &rest[..stop];
    let mut end = 0;
    let mut clean = stop == rest.len()
        || matches!(
            rest[stop..].chars().next(),
            Some(',' | '.' | ';' | ')' | '\n' | '!' | '?')
        );
    for (n, w) in phrase.split(' ').enumerate() {
        if n >= max
            || matches!(
                w.to_lowercase().as_str(),
                "at" | "for"
                    | "in"
                    | "with"
                    | "and"
                    | "but"
                    | "since"
                    | "from"
                    | "on"
                    | "who"
                    | "to"
                    | "of"
                    | "the"
                    | "a"
                    | "an"
                    | "is"
                    | "was"
            )
        {
            clean = false;
            break;
        }
        let offset = w.as_ptr() as usize - phrase.as_ptr() as usize;
        end = offset + w.len();
    }
    let trimmed = phrase[..end].trim_end();
    if trimmed.is_empty() {
        None
    } else {
        Some((start, start + trimmed.len(), clean))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        PersonRecognizer::new().find(text, &mut out);
        let mut out = crate::analyzer::resolve_overlaps(out);
        out.retain(|d| d.entity == EntityType::Person && d.score >= 0.4);
        out.iter().map(|d| &text[d.start..d.end]).collect()
    }

    fn titles(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        PersonRecognizer::new().find(text, &mut out);
        out.retain(|d| d.entity == EntityType::Title && d.score >= 0.4);
        out.iter().map(|d| &text[d.start..d.end]).collect()
    }

    #[test]
    fn full_names_and_titles() {
        assert_eq!(people("I met John Smith yesterday."), ["John Smith"]);
        assert_eq!(people("Mr. Hirai is late."), ["Hirai"]);
        assert_eq!(titles("Mr. Hirai is late."), ["Mr."]);
        assert_eq!(people("Ask Dr Smith."), ["Smith"]);
    }

    #[test]
    fn tokenizer_handles_possessive_and_initials() {
        let text = "Ava T. Hillary's book";
        assert_eq!(people(text), ["Ava T. Hillary"]);
    }

    #[test]
    fn context_words_fit_the_lowercase_buffer() {
        let phrases = CONTEXT_BEFORE
            .iter()
            .chain(WEAK_BEFORE)
            .chain(CONTEXT_AFTER);
        for word in phrases.flat_map(|p| p.iter()) {
            assert!(word.len() <= CONTEXT_WORD_MAX, "{word}");
            assert_eq!(word.to_lowercase(), *word);
        }
    }

    #[test]
    fn word_flags_match_the_lists() {
        for (list, bit) in [
            (STOP, WordFlags::STOP),
            (SOFT_STOP, WordFlags::SOFT_STOP),
            (ORG_WORDS, WordFlags::ORG_WORD),
            (STREET, WordFlags::STREET),
            (HONORIFICS, WordFlags::HONORIFIC),
        ] {
            for w in list {
                assert!(word_flags(&w.to_uppercase()).has(bit), "{w}");
            }
        }
        assert_eq!(word_flags("Smith"), WordFlags::default());
    }

    #[test]
    fn stop_list_is_lowercase() {
        assert!(STOP.iter().all(|w| w.to_lowercase() == *w));
        assert!(HONORIFICS.iter().all(|w| w.to_lowercase() == *w));
    }

    #[test]
    fn lists_repetition_and_context() {
        assert_eq!(
            people("The founders: Reumer, Davis and Andrews."),
            ["Reumer", "Davis", "Andrews"]
        );
        assert_eq!(people("Vagn had given Vagn his keys."), ["Vagn", "Vagn"]);
        assert_eq!(people("My name is Kuroudo."), ["Kuroudo"]);
        assert_eq!(people("Hello, I'm Emily Clarke"), ["Emily Clarke"]);
    }

    #[test]
    fn streets_and_firms_are_not_people() {
        assert!(people("Meet me at the corner of Sims Hill and Baker Street").is_empty());
        assert!(people("Shares of Apple Inc fell.").is_empty());
        assert!(people("I'm in Jordan now.").is_empty());
        assert!(people("Georgia is lovely.").is_empty());
        assert!(people("CAN I SPEAK TO A REAL PERSON").is_empty());
    }

    #[test]
    fn utf8_and_odd_input() {
        for text in [
            "",
            "Mr.",
            "Dr ",
            "’s",
            "O'",
            "A.",
            "Zoë Ångström’s",
            "東京 Mr. 山田",
        ] {
            let mut out = Vec::new();
            PersonRecognizer::new().find(text, &mut out);
            for d in out {
                assert!(text.is_char_boundary(d.start) && text.is_char_boundary(d.end));
            }
        }
    }

    #[test]
    fn near_misses() {
        assert!(people("Will you come?").is_empty());
        assert!(people("May I help?").is_empty());
        assert!(people("The Bill of Rights").is_empty());
    }
}
