//! Word lists shipped with the crate (`crates/pii/data/`, provenance and
//! licences in its README): names, places, nationalities and the like.
//!
//! The lists are compiled in with `include_str!` and indexed once, on first
//! use, into a sorted table of normalized keys ([`OnceLock`]); nothing is
//! read from disk or the network at run time.
//!
//! Lookups are case-insensitive and ignore diacritics, apostrophes and the
//! difference between a hyphen and a space (`"sao paulo"` finds "São
//! Paulo", `"OBrien"` and `"O'Brien"` find the census form "Obrien"). Every
//! hit reports the [`Casing`] of the text against the list's own form, so a
//! recognizer can insist on capitalization: many names are also ordinary
//! English words ("will", "may", "bill", "long", "green", "young"), and the
//! only thing that tells them apart is case and context.
//!
//! Name hits carry a frequency (bearers per 100,000 US residents, from the
//! US Census): recognizers should down-weight a capitalized word that is a
//! rare name but a common word, and trust "John" more than "Will".
//!
//! - [`lookup`] / [`longest_match_at`]: one list, one word or phrase.
//! - [`longest_place_at`]: countries, US states, continents and cities at
//!   once, longest phrase first.
//! - shortcuts: [`first_name_frequency`], [`is_city`], [`is_title`], ...

use std::sync::OnceLock;

/// One shipped word list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum List {
    /// Given names; value: bearers per 100,000 (US Census 2020, 1990).
    FirstNames,
    /// Surnames; value: bearers per 100,000 (US Census 2010, 2020).
    LastNames,
    /// Country names (GeoNames) and hand-written aliases ("USA", "Burma").
    Countries,
    /// The 50 US states and the District of Columbia, by name.
    UsStates,
    /// The seven continents (GeoNames).
    Continents,
    /// Populated places of 15,000 people or more (GeoNames); value: the
    /// population of the largest place with that name.
    Cities,
    /// Nationalities, demonyms and ethnic group words (hand-written).
    Nationalities,
    /// Religions and denominations (hand-written).
    Religions,
    /// Political parties and affiliations (hand-written).
    PoliticalGroups,
    /// Honorifics, ranks and post-nominals: "Mr", "Dr.", "Capt", "Jr."
    /// (hand-written).
    Titles,
    /// Job-title head words: "Engineer", "Manager", "CEO" (hand-written).
    JobTitles,
    /// Organisation legal forms and head words: "Inc.", "GmbH", "Bank"
    /// (hand-written).
    OrgSuffixes,
}

impl List {
    pub const ALL: [List; 12] = [
        List::FirstNames,
        List::LastNames,
        List::Countries,
        List::UsStates,
        List::Continents,
        List::Cities,
        List::Nationalities,
        List::Religions,
        List::PoliticalGroups,
        List::Titles,
        List::JobTitles,
        List::OrgSuffixes,
    ];

    /// The raw files of this list (some lists join two files).
    fn sources(self) -> &'static [&'static str] {
        match self {
            List::FirstNames => &[include_str!("../data/first_names.tsv")],
            List::LastNames => &[include_str!("../data/last_names.tsv")],
            List::Countries => &[
                include_str!("../data/countries.txt"),
                include_str!("../data/country_aliases.txt"),
            ],
            List::UsStates => &[US_STATES],
            List::Continents => &[include_str!("../data/continents.txt")],
            List::Cities => &[include_str!("../data/cities.tsv")],
            List::Nationalities => &[include_str!("../data/nationalities.txt")],
            List::Religions => &[include_str!("../data/religions.txt")],
            List::PoliticalGroups => &[include_str!("../data/political_groups.txt")],
            List::Titles => &[include_str!("../data/titles.txt")],
            List::JobTitles => &[include_str!("../data/job_titles.txt")],
            List::OrgSuffixes => &[include_str!("../data/org_suffixes.txt")],
        }
    }

    fn index(self) -> &'static Index {
        static CELLS: [OnceLock<Index>; List::ALL.len()] = [const { OnceLock::new() }; 12];
        CELLS[self as usize].get_or_init(|| Index::build(self.sources()))
    }

    /// How many entries the list has (duplicates after normalization
    /// included).
    pub fn len(self) -> usize {
        self.index().entries.len()
    }

    /// Whether the list is empty (never, for the shipped lists).
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The most words any entry of the list has ("Bosnia and Herzegovina"
    /// has three).
    pub fn max_words(self) -> usize {
        self.index().max_words
    }
}

const US_STATES: &str = include_str!("../data/us_states.tsv");

/// How the text was written, compared with the list's form of the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Casing {
    /// Byte for byte as in the list ("Smith", "São Paulo", "GmbH").
    Exact,
    /// Not exact, but starts with a capital and is not all capitals
    /// ("Mcdonald" for the list's "McDonald", "Sao Paulo").
    Capitalized,
    /// All letters capitals, at least two of them ("SMITH").
    Upper,
    /// No capitals at all ("smith", "will").
    Lower,
    /// Anything else ("sMITH").
    Mixed,
}

impl Casing {
    /// Exact or capitalized: what a proper noun looks like in running text.
    pub fn is_proper(self) -> bool {
        matches!(self, Casing::Exact | Casing::Capitalized)
    }

    fn of(text: &str, entry: &str) -> Self {
        if text == entry {
            return Casing::Exact;
        }
        let (mut upper, mut lower) = (0usize, 0usize);
        for c in text.chars() {
            if c.is_uppercase() {
                upper += 1;
            } else if c.is_lowercase() {
                lower += 1;
            }
        }
        let first_upper = text
            .chars()
            .find(|c| c.is_alphabetic())
            .is_some_and(char::is_uppercase);
        if lower == 0 && upper >= 2 {
            Casing::Upper
        } else if upper == 0 {
            Casing::Lower
        } else if first_upper {
            Casing::Capitalized
        } else {
            Casing::Mixed
        }
    }
}

/// A list entry found for a piece of text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// The entry as the list writes it (the best-cased one when several
    /// entries normalize alike).
    pub entry: &'static str,
    /// How the text's case compares with `entry`.
    pub casing: Casing,
    /// The list's number for the entry: bearers per 100,000 for names,
    /// population for cities, `0.0` for lists without numbers. When
    /// entries normalize alike, the largest.
    pub value: f32,
}

/// A phrase found at a position of a text by [`longest_match_at`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// Byte offset just past the phrase (exclusive).
    pub end: usize,
    pub hit: Hit,
}

/// Which kind of place [`longest_place_at`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PlaceKind {
    Country,
    UsState,
    Continent,
    City,
}

impl PlaceKind {
    fn list(self) -> List {
        match self {
            PlaceKind::Country => List::Countries,
            PlaceKind::UsState => List::UsStates,
            PlaceKind::Continent => List::Continents,
            PlaceKind::City => List::Cities,
        }
    }
}

/// A place found by [`longest_place_at`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaceMatch {
    pub end: usize,
    pub kind: PlaceKind,
    pub hit: Hit,
}

/// Looks up a word or phrase (words separated by single spaces or
/// hyphens) in one list.
pub fn lookup(list: List, text: &str) -> Option<Hit> {
    let mut key = String::with_capacity(text.len());
    normalize(text, &mut key);
    list.index().get(&key, text)
}

/// The longest phrase of `list` that starts at byte `start` of `text` and
/// ends at a word end: tokens of letters, digits and `' ’ . - &`, separated
/// by spaces or tabs. A trailing full stop is tried both with and without
/// ("Paris." at the end of a sentence). `None` if `start` is not a char
/// boundary.
pub fn longest_match_at(list: List, text: &str, start: usize) -> Option<Match> {
    let ends = candidate_ends(text, start, list.max_words())?;
    let mut key = String::new();
    for &end in ends.iter().rev() {
        key.clear();
        normalize(&text[start..end], &mut key);
        if let Some(hit) = list.index().get(&key, &text[start..end]) {
            return Some(Match { end, hit });
        }
    }
    None
}

/// The longest country, US state, continent or city name at byte `start`
/// of `text`. Of names that are several kinds at once ("Georgia",
/// "Singapore") the kind listed first in [`PlaceKind`] wins.
pub fn longest_place_at(text: &str, start: usize) -> Option<PlaceMatch> {
    const KINDS: [PlaceKind; 4] = [
        PlaceKind::Country,
        PlaceKind::UsState,
        PlaceKind::Continent,
        PlaceKind::City,
    ];
    let max = KINDS.iter().map(|k| k.list().max_words()).max()?;
    let ends = candidate_ends(text, start, max)?;
    let mut key = String::new();
    for &end in ends.iter().rev() {
        key.clear();
        normalize(&text[start..end], &mut key);
        for kind in KINDS {
            if let Some(hit) = kind.list().index().get(&key, &text[start..end]) {
                return Some(PlaceMatch { end, kind, hit });
            }
        }
    }
    None
}

/// Bearers of the given name per 100,000 US residents, if it is one.
pub fn first_name_frequency(word: &str) -> Option<f32> {
    lookup(List::FirstNames, word).map(|h| h.value)
}

/// Bearers of the surname per 100,000 US residents, if it is one.
pub fn last_name_frequency(word: &str) -> Option<f32> {
    lookup(List::LastNames, word).map(|h| h.value)
}

pub fn is_country(text: &str) -> bool {
    lookup(List::Countries, text).is_some()
}

pub fn is_us_state(text: &str) -> bool {
    lookup(List::UsStates, text).is_some()
}

pub fn is_city(text: &str) -> bool {
    lookup(List::Cities, text).is_some()
}

pub fn is_nationality(text: &str) -> bool {
    lookup(List::Nationalities, text).is_some()
}

pub fn is_religion(text: &str) -> bool {
    lookup(List::Religions, text).is_some()
}

pub fn is_political_group(text: &str) -> bool {
    lookup(List::PoliticalGroups, text).is_some()
}

pub fn is_title(text: &str) -> bool {
    lookup(List::Titles, text).is_some()
}

pub fn is_job_title(text: &str) -> bool {
    lookup(List::JobTitles, text).is_some()
}

pub fn is_org_suffix(text: &str) -> bool {
    lookup(List::OrgSuffixes, text).is_some()
}

/// The USPS code of a US state named `name` ("california" → "CA").
pub fn us_state_code(name: &str) -> Option<&'static str> {
    let entry = lookup(List::UsStates, name)?.entry;
    us_state_rows().find(|(n, _)| *n == entry).map(|(_, c)| c)
}

/// Whether `code` is a USPS state code, written in capitals ("CA", not "ca").
pub fn is_us_state_code(code: &str) -> bool {
    us_state_rows().any(|(_, c)| c == code)
}

fn us_state_rows() -> impl Iterator<Item = (&'static str, &'static str)> {
    data_lines(US_STATES).filter_map(|line| line.split_once('\t'))
}

fn data_lines(src: &'static str) -> impl Iterator<Item = &'static str> {
    src.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Byte ends of the first 1..=`max_words` tokens from `start`, ascending.
fn candidate_ends(text: &str, start: usize, max_words: usize) -> Option<Vec<usize>> {
    if !text.is_char_boundary(start) {
        return None;
    }
    let is_token = |c: char| c.is_alphanumeric() || matches!(c, '\'' | '’' | '.' | '-' | '&');
    let mut ends = Vec::new();
    let mut words = 0;
    let mut pos = start;
    let rest = &text[start..];
    let mut chars = rest.char_indices().peekable();
    while words < max_words {
        let tok_start = pos;
        while let Some(&(i, c)) = chars.peek() {
            if !is_token(c) {
                break;
            }
            pos = start + i + c.len_utf8();
            chars.next();
        }
        if pos == tok_start {
            break;
        }
        words += 1;
        let token = &text[tok_start..pos];
        let trimmed = token.trim_end_matches('.');
        if !trimmed.is_empty() && trimmed.len() < token.len() {
            ends.push(tok_start + trimmed.len());
        }
        ends.push(pos);
        // One run of spaces or tabs separates words; anything else ends
        // the phrase.
        let mut gap = false;
        while let Some(&(i, c)) = chars.peek() {
            if c != ' ' && c != '\t' {
                break;
            }
            gap = true;
            pos = start + i + 1;
            chars.next();
        }
        if !gap {
            break;
        }
    }
    Some(ends)
}

/// Appends the lookup key of `text` to `out`: lowercase, Latin diacritics
/// folded, apostrophes dropped, hyphens and whitespace runs as one space.
fn normalize(text: &str, out: &mut String) {
    let mut space = true; // drop leading spaces
    for c in text.chars() {
        if matches!(c, '\'' | '’' | 'ʼ' | '‘') {
            continue;
        }
        if c.is_whitespace() || matches!(c, '-' | '‐' | '‑' | '–') {
            if !space {
                out.push(' ');
                space = true;
            }
            continue;
        }
        space = false;
        for l in c.to_lowercase() {
            match fold(l) {
                Fold::One(f) => out.push(f),
                Fold::Two(a, b) => {
                    out.push(a);
                    out.push(b);
                }
            }
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
}

enum Fold {
    One(char),
    Two(char, char),
}

/// Folds a lowercase Latin letter with a diacritic to its base letter.
fn fold(c: char) -> Fold {
    let base = match c {
        'à'..='å' | 'ā' | 'ă' | 'ą' | 'ǎ' => 'a',
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => 'c',
        'ď' | 'đ' | 'ð' => 'd',
        'è'..='ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => 'e',
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => 'g',
        'ĥ' | 'ħ' => 'h',
        'ì'..='ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' | 'ǐ' => 'i',
        'ĵ' => 'j',
        'ķ' => 'k',
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => 'l',
        'ñ' | 'ń' | 'ņ' | 'ň' => 'n',
        'ò'..='ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'ǒ' => 'o',
        'ŕ' | 'ŗ' | 'ř' => 'r',
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => 's',
        'ţ' | 'ť' | 'ŧ' | 'ț' => 't',
        'ù'..='ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' | 'ǔ' => 'u',
        'ŵ' => 'w',
        'ý' | 'ÿ' | 'ŷ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        'ß' => return Fold::Two('s', 's'),
        'æ' => return Fold::Two('a', 'e'),
        'œ' => return Fold::Two('o', 'e'),
        'þ' => return Fold::Two('t', 'h'),
        other => other,
    };
    Fold::One(base)
}

/// A list indexed by normalized key: all keys in one string, entries
/// sorted by key, 16 bytes each (about 4 MB for all lists together).
struct Index {
    sources: &'static [&'static str],
    keys: String,
    entries: Vec<Entry>,
    max_words: usize,
}

struct Entry {
    key_start: u32,
    key_len: u16,
    /// Which source file, and where in it, the entry's own text starts.
    source: u16,
    text_start: u32,
    value: f32,
}

impl Index {
    fn build(sources: &'static [&'static str]) -> Self {
        let mut keys = String::new();
        let mut entries = Vec::new();
        let mut max_words = 1;
        for (source, src) in sources.iter().enumerate() {
            let base = src.as_ptr() as usize;
            for line in data_lines(src) {
                let mut fields = line.split('\t');
                let name = fields.next().unwrap_or_default().trim();
                let value = fields
                    .next()
                    .and_then(|v| v.trim().parse::<f32>().ok())
                    .unwrap_or(0.0);
                let key_start = keys.len();
                normalize(name, &mut keys);
                let key_len = keys.len() - key_start;
                if key_len == 0 {
                    continue;
                }
                max_words = max_words.max(keys[key_start..].split(' ').count());
                entries.push(Entry {
                    key_start: narrow(key_start),
                    key_len: narrow(key_len),
                    source: narrow(source),
                    text_start: narrow(name.as_ptr() as usize - base),
                    value,
                });
            }
        }
        entries.sort_unstable_by(|a, b| key_of(&keys, a).cmp(key_of(&keys, b)));
        keys.shrink_to_fit();
        entries.shrink_to_fit();
        Index {
            sources,
            keys,
            entries,
            max_words,
        }
    }

    /// The entry's text as the list writes it.
    fn text(&self, e: &Entry) -> &'static str {
        let src: &'static str = self.sources[usize::from(e.source)];
        let rest = &src[e.text_start as usize..];
        let end = rest.find(['\t', '\n', '\r']).unwrap_or(rest.len());
        rest[..end].trim_end()
    }

    /// The hit for normalized `key`, with casing judged on `text`.
    fn get(&self, key: &str, text: &str) -> Option<Hit> {
        if key.is_empty() {
            return None;
        }
        let lo = self
            .entries
            .partition_point(|e| key_of(&self.keys, e) < key);
        let same = self.entries[lo..]
            .iter()
            .take_while(|e| key_of(&self.keys, e) == key);
        let mut best: Option<Hit> = None;
        for e in same {
            let entry = self.text(e);
            let casing = Casing::of(text, entry);
            best = Some(match best {
                None => Hit {
                    entry,
                    casing,
                    value: e.value,
                },
                Some(b) => Hit {
                    entry: if casing == Casing::Exact {
                        entry
                    } else {
                        b.entry
                    },
                    casing: if casing == Casing::Exact {
                        casing
                    } else {
                        b.casing
                    },
                    value: b.value.max(e.value),
                },
            });
        }
        best
    }
}

fn key_of<'k>(keys: &'k str, e: &Entry) -> &'k str {
    let start = e.key_start as usize;
    &keys[start..start + usize::from(e.key_len)]
}

/// Narrows an offset or length that the shipped lists keep small (the
/// largest file is about 1.3 MB, the longest entry under 100 bytes).
fn narrow<T: TryFrom<usize>>(n: usize) -> T {
    match T::try_from(n) {
        Ok(v) => v,
        Err(_) => panic!("gazetteer data too large to index: {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_loads_and_is_sorted_by_key() {
        for list in List::ALL {
            let index = list.index();
            assert!(!list.is_empty(), "{list:?} is empty");
            assert!(index
                .entries
                .windows(2)
                .all(|w| key_of(&index.keys, &w[0]) <= key_of(&index.keys, &w[1])));
            // Every entry finds itself, exactly cased.
            for e in index.entries.iter().step_by(97) {
                let text = index.text(e);
                let hit = lookup(list, text).unwrap_or_else(|| panic!("{list:?}: {text}"));
                assert_eq!(hit.casing, Casing::Exact, "{list:?}: {text}");
            }
        }
    }

    #[test]
    fn names_have_frequencies() {
        let john = first_name_frequency("John").unwrap();
        let matilde = first_name_frequency("Matilde").unwrap();
        assert!(john > 100.0 && matilde > 0.0 && matilde < john);
        assert!(last_name_frequency("Smith").unwrap() > 500.0);
        for surname in ["Uemura", "Eriksson", "Armendariz", "Arguello", "Nakamura"] {
            assert!(last_name_frequency(surname).is_some(), "{surname}");
        }
        assert_eq!(first_name_frequency("Xqzzy"), None);
        assert_eq!(last_name_frequency(""), None);
    }

    #[test]
    fn common_words_are_names_but_rarer_than_real_names() {
        // "will", "may", "bill", "long", "green" are in the census lists;
        // what a recognizer has to go on is casing and frequency.
        for word in ["will", "may", "bill"] {
            let hit = lookup(List::FirstNames, word).unwrap();
            assert_eq!(hit.casing, Casing::Lower);
            assert!(!hit.casing.is_proper());
            assert!(hit.value < first_name_frequency("John").unwrap() / 10.0);
        }
        for word in ["long", "green", "young"] {
            assert_eq!(lookup(List::LastNames, word).unwrap().casing, Casing::Lower);
        }
        assert_eq!(
            lookup(List::LastNames, "Green").unwrap().casing,
            Casing::Exact
        );
        assert_eq!(
            lookup(List::LastNames, "GREEN").unwrap().casing,
            Casing::Upper
        );
    }

    #[test]
    fn case_diacritics_and_apostrophes() {
        let hit = lookup(List::LastNames, "Mcdonald").unwrap();
        assert_eq!((hit.entry, hit.casing), ("McDonald", Casing::Capitalized));
        assert!(lookup(List::LastNames, "O'Brien").is_some());
        assert!(lookup(List::LastNames, "Armendáriz").is_some());
        let city = lookup(List::Cities, "Sao Paulo").unwrap();
        assert_eq!(city.entry, "São Paulo");
        assert_eq!(city.casing, Casing::Capitalized);
        assert!(city.value > 10_000_000.0);
        assert_eq!(
            lookup(List::Cities, "São Paulo").unwrap().casing,
            Casing::Exact
        );
        assert!(is_country("Guinea Bissau") && is_country("guinea-bissau"));
    }

    #[test]
    fn places() {
        assert!(is_country("United States") && is_country("USA") && is_country("Japan"));
        assert!(is_us_state("California") && is_us_state("new york"));
        assert_eq!(us_state_code("california"), Some("CA"));
        assert!(is_us_state_code("TX") && !is_us_state_code("tx") && !is_us_state_code("ZZ"));
        assert!(is_city("London") && is_city("Chicago") && is_city("Melo"));
        assert!(!is_city("Xqzzyville"));
    }

    #[test]
    fn longest_place_prefers_long_phrases_and_countries() {
        let text = "I'm originally from United States of America, near New York City.";
        let at = text.find("United").unwrap();
        let m = longest_place_at(text, at).unwrap();
        assert_eq!(&text[at..m.end], "United States of America");
        assert_eq!(m.kind, PlaceKind::Country);

        let at = text.find("New York").unwrap();
        let m = longest_place_at(text, at).unwrap();
        assert_eq!(&text[at..m.end], "New York City");
        assert_eq!(m.kind, PlaceKind::City);

        let text = "She moved to Georgia.";
        let at = text.find("Georgia").unwrap();
        let m = longest_place_at(text, at).unwrap();
        assert_eq!((&text[at..m.end], m.kind), ("Georgia", PlaceKind::Country));

        assert_eq!(longest_place_at("zzz qqq", 0), None);
        assert_eq!(
            longest_place_at("São Paulo", 1),
            None,
            "not a char boundary"
        );
    }

    #[test]
    fn phrases_in_other_lists() {
        let text = "a Roman Catholic priest";
        let m = longest_match_at(List::Religions, text, 2).unwrap();
        assert_eq!(&text[2..m.end], "Roman Catholic");
        let text = "voted Liberal Democrat in 2019";
        let m = longest_match_at(List::PoliticalGroups, text, 6).unwrap();
        assert_eq!(&text[6..m.end], "Liberal Democrat");
        assert!(List::Countries.max_words() >= 4);
    }

    #[test]
    fn small_hand_written_lists() {
        assert!(is_title("Dr.") && is_title("Mrs") && is_title("Capt") && is_title("Mx"));
        assert!(is_org_suffix("GmbH") && is_org_suffix("S.p.A.") && is_org_suffix("LLC"));
        assert!(is_nationality("Swedish") && is_nationality("Japanese"));
        assert!(is_religion("Sikh") && is_religion("Bahai"));
        assert!(is_political_group("Tory") && is_political_group("Republican"));
        assert!(is_job_title("Engineer"));
        assert!(!is_title("Table") && !is_org_suffix("Banana"));
    }

    #[test]
    fn load_cost_printout() {
        // Informational (`cargo test -- --nocapture`): time to index every
        // list and the heap it takes. Other tests may have loaded some
        // lists already, so the time is a lower bound.
        let started = std::time::Instant::now();
        let mut bytes = 0;
        for list in List::ALL {
            let index = list.index();
            bytes +=
                index.keys.capacity() + index.entries.capacity() * std::mem::size_of::<Entry>();
        }
        eprintln!(
            "gazetteer: {} lists, {} entries, {:.1} MB heap, indexed in {:?}",
            List::ALL.len(),
            List::ALL.iter().map(|l| l.len()).sum::<usize>(),
            bytes as f64 / 1e6,
            started.elapsed()
        );
        assert!(bytes < 16_000_000);
    }

    #[test]
    fn normalize_folds() {
        let mut s = String::new();
        normalize("  Ærø-Köbing  O’Neil ", &mut s);
        assert_eq!(s, "aero kobing oneil");
    }
}
