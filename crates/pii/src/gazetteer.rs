//! Word lists shipped with the crate (`crates/pii/data/`, provenance and
//! licences in its README): names, places, nationalities and the like.
//!
//! The lists are compiled in with `include_str!` and indexed once, on first
//! use, into a sorted table of normalized keys plus a hash table over the
//! keys and their word prefixes ([`OnceLock`]); nothing is
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
    Key::new(text).lookup(list)
}

/// A word or phrase normalized once, to be looked up in several lists
/// (the person recognizer asks up to nine lists about every word; the
/// normalization would otherwise be repeated for each).
pub(crate) struct Key<'t> {
    text: &'t str,
    /// Keys are short: one stack buffer avoids a heap allocation per
    /// lookup; longer texts fall back to a `String`.
    buf: KeyBuf,
    /// `hash_key` of the key, the same for every list.
    hash: usize,
}

enum KeyBuf {
    Inline([u8; INLINE], usize),
    Heap(String),
}

impl<'t> Key<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        let buf = match normalize_inline(text) {
            Some((bytes, len)) => KeyBuf::Inline(bytes, len),
            None => {
                let mut key = String::with_capacity(text.len());
                normalize(text, &mut key);
                KeyBuf::Heap(key)
            }
        };
        let hash = hash_key(Self::bytes_of(&buf));
        Key { text, buf, hash }
    }

    fn bytes_of(buf: &KeyBuf) -> &[u8] {
        match buf {
            KeyBuf::Inline(bytes, len) => &bytes[..*len],
            KeyBuf::Heap(s) => s.as_bytes(),
        }
    }

    /// The key's bytes: what the indexes compare, with no UTF-8 check per
    /// lookup.
    fn bytes(&self) -> &[u8] {
        Self::bytes_of(&self.buf)
    }

    #[cfg(test)]
    fn as_str(&self) -> &str {
        // Only whole normalized chars are written (see `normalize_inline`),
        // so the bytes are valid UTF-8.
        std::str::from_utf8(self.bytes()).unwrap_or_default()
    }

    /// The list's slot for the key, hashed once for all lists.
    fn probe(&self, index: &'static Index) -> Option<&'static Slot> {
        if self.bytes().is_empty() {
            return None;
        }
        index.probe_hashed(self.bytes(), self.hash)
    }

    pub(crate) fn lookup(&self, list: List) -> Option<Hit> {
        let index = list.index();
        self.probe(index)
            .and_then(|slot| index.hit(slot, self.text))
    }

    /// `lookup(list).is_some()`, without building the hit (reading the
    /// entry's text and judging its casing).
    pub(crate) fn is_in(&self, list: List) -> bool {
        self.probe(list.index()).is_some_and(|slot| slot.count > 0)
    }

    /// `lookup(list).map(|h| h.value)`, without judging the casing.
    pub(crate) fn value(&self, list: List) -> Option<f32> {
        let index = list.index();
        let slot = self.probe(index)?;
        let first = slot.first as usize;
        index.entries[first..first + usize::from(slot.count)]
            .iter()
            .map(|e| e.value)
            .reduce(f32::max)
    }
}

const INLINE: usize = 96;

/// `normalize` into a stack buffer, or `None` if the key would not fit.
fn normalize_inline(text: &str) -> Option<([u8; INLINE], usize)> {
    // Normalizing never yields more than 3 bytes per input byte (lowercasing
    // 'İ' gives "i\u{307}", 2 → 3 bytes; folds never grow), so short texts
    // always fit; longer ones take the heap path.
    if text.len() > INLINE / 3 {
        return None;
    }
    let mut bytes = [0u8; INLINE];
    let mut len = 0;
    let mut n = Normalizer::new();
    for c in text.chars() {
        n.push(c, |o| {
            len += o.encode_utf8(&mut bytes[len..]).len();
        });
    }
    if len > 0 && bytes[len - 1] == b' ' {
        len -= 1;
    }
    Some((bytes, len))
}

/// The longest phrase of `list` that starts at byte `start` of `text` and
/// ends at a word end: tokens of letters, digits and `' ’ . - &`, separated
/// by spaces or tabs. A trailing full stop is tried both with and without
/// ("Paris." at the end of a sentence). `None` if `start` is not a char
/// boundary.
pub fn longest_match_at(list: List, text: &str, start: usize) -> Option<Match> {
    let index = list.index();
    let mut best = None;
    scan_phrases(text, start, list.max_words(), |end, key, whole, _| {
        // One probe answers both the lookup and whether to go on.
        let slot = if key.is_empty() {
            None
        } else {
            index.probe(key)
        };
        if let Some(hit) = slot.and_then(|slot| index.hit(slot, &text[start..end])) {
            best = Some(Match { end, hit });
        }
        // No entry continues these words: no longer phrase can match.
        !(whole && !key.is_empty() && slot.is_none())
    })?;
    best
}

/// [`longest_match_at`] of each of `lists` (the answers are the same), in
/// one pass over the text: the phrases are read and normalized once for
/// all the lists.
pub(crate) fn longest_matches_at<const N: usize>(
    lists: [List; N],
    text: &str,
    start: usize,
) -> [Option<Match>; N] {
    let indexes = lists.map(List::index);
    let max_words = lists.map(List::max_words);
    let mut best = [None; N];
    // Whether `longest_match_at` of the list would still be scanning.
    let mut alive = [true; N];
    let most = max_words.iter().copied().max().unwrap_or(0);
    scan_phrases(text, start, most, |end, key, whole, words| {
        // One hash of the key for all the lists.
        let hash = hash_key(key);
        for k in 0..N {
            if !alive[k] {
                continue;
            }
            if words > max_words[k] {
                alive[k] = false;
                continue;
            }
            // One probe answers both the lookup and whether to go on.
            let index = indexes[k];
            let slot = if key.is_empty() {
                None
            } else {
                index.probe_hashed(key, hash)
            };
            if let Some(hit) = slot.and_then(|slot| index.hit(slot, &text[start..end])) {
                best[k] = Some(Match { end, hit });
            }
            if whole && !key.is_empty() && slot.is_none() {
                alive[k] = false;
            }
        }
        alive.iter().any(|&a| a)
    });
    best
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
    let mut best = None;
    scan_phrases(text, start, max, |end, key, whole, _| {
        let mut more = false;
        let mut found = false;
        // One hash of the key for the four lists.
        let hash = hash_key(key);
        for kind in KINDS {
            let index = kind.list().index();
            let Some(slot) = index.probe_hashed(key, hash) else {
                continue;
            };
            more = true;
            if !found && slot.count > 0 {
                if let Some(hit) = index.hit(slot, &text[start..end]) {
                    best = Some(PlaceMatch { end, kind, hit });
                    found = true;
                }
            }
        }
        // No place name continues these words: no longer phrase can match.
        more || !whole || key.is_empty()
    })?;
    best
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

/// Visits the candidate phrases at byte `start` of `text`, shortest
/// first: the first 1..=`max_words` tokens (see [`longest_match_at`]), a
/// token ending in full stops also without them. `visit(end, key, whole)`
/// gets the phrase's end, its normalized key and whether the phrase ends
/// with a whole token (not one with its full stops trimmed), and returns
/// whether to go on. The keys are built in one streaming pass (each is a
/// prefix of the next), with no allocation per phrase. `None` if `start`
/// is not a char boundary.
fn scan_phrases(
    text: &str,
    start: usize,
    max_words: usize,
    mut visit: impl FnMut(usize, &[u8], bool, usize) -> bool,
) -> Option<()> {
    if !text.is_char_boundary(start) {
        return None;
    }
    let is_token = |c: char| c.is_alphanumeric() || matches!(c, '\'' | '’' | '.' | '-' | '&');
    let mut norm = Normalizer::new();
    let mut key = KeyBuilder::new();
    // Text up to `fed` has gone through `norm` into `key`.
    let mut fed = start;
    let mut feed_to = |end: usize, key: &mut KeyBuilder| -> usize {
        for c in text[fed..end].chars() {
            norm.push(c, |o| key.push(o));
        }
        fed = end;
        // What `normalize` does last: drop the trailing space.
        let bytes = key.as_bytes();
        bytes.len() - usize::from(bytes.ends_with(b" "))
    };
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
            let end = tok_start + trimmed.len();
            let len = feed_to(end, &mut key);
            if !visit(end, &key.as_bytes()[..len], false, words) {
                return Some(());
            }
        }
        let len = feed_to(pos, &mut key);
        if !visit(pos, &key.as_bytes()[..len], true, words) {
            return Some(());
        }
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
    Some(())
}

/// The key of a phrase being built by [`scan_phrases`]: on the stack while
/// it fits (nearly always), so a scan allocates nothing.
struct KeyBuilder {
    inline: [u8; KEY_INLINE],
    len: usize,
    /// The whole key once it outgrew `inline`.
    heap: Vec<u8>,
}

const KEY_INLINE: usize = 128;

impl KeyBuilder {
    fn new() -> Self {
        KeyBuilder {
            inline: [0; KEY_INLINE],
            len: 0,
            heap: Vec::new(),
        }
    }

    #[inline]
    fn push(&mut self, c: char) {
        if c.is_ascii() && self.len < KEY_INLINE && self.heap.is_empty() {
            self.inline[self.len] = c as u8;
            self.len += 1;
            return;
        }
        self.push_slow(c);
    }

    fn push_slow(&mut self, c: char) {
        let mut utf8 = [0u8; 4];
        let bytes = c.encode_utf8(&mut utf8).as_bytes();
        if self.heap.is_empty() {
            if let Some(room) = self.inline.get_mut(self.len..self.len + bytes.len()) {
                room.copy_from_slice(bytes);
                self.len += bytes.len();
                return;
            }
            self.heap.extend_from_slice(&self.inline[..self.len]);
        }
        self.heap.extend_from_slice(bytes);
    }

    fn as_bytes(&self) -> &[u8] {
        if self.heap.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.heap
        }
    }
}

/// Appends the lookup key of `text` to `out`: lowercase, Latin diacritics
/// folded, apostrophes dropped, hyphens and whitespace runs as one space.
fn normalize(text: &str, out: &mut String) {
    let mut n = Normalizer::new();
    for c in text.chars() {
        n.push(c, |o| out.push(o));
    }
    if out.ends_with(' ') {
        out.pop();
    }
}

/// The character-by-character core of [`normalize`]. Streaming: the key
/// of every prefix of a text is a prefix of the text's key (less a
/// trailing space), which lets [`scan_phrases`] build the keys of all
/// candidate phrases at a position in one pass.
struct Normalizer {
    /// Whether the output ends in a space (or is empty): drops leading
    /// spaces and collapses runs.
    space: bool,
}

impl Normalizer {
    fn new() -> Self {
        Normalizer { space: true }
    }

    #[inline]
    fn push(&mut self, c: char, mut emit: impl FnMut(char)) {
        // ASCII fast path: same result as the general path below (ASCII
        // lowercases to one ASCII char, which `fold` leaves alone; the
        // ASCII whitespace of `char::is_whitespace` is '\t'..='\r' and ' ').
        if c.is_ascii() {
            match c {
                '\'' => {}
                '\t'..='\r' | ' ' | '-' => {
                    if !self.space {
                        emit(' ');
                        self.space = true;
                    }
                }
                _ => {
                    self.space = false;
                    emit(c.to_ascii_lowercase());
                }
            }
            return;
        }
        if matches!(c, '’' | 'ʼ' | '‘') {
            return;
        }
        if c.is_whitespace() || matches!(c, '‐' | '‑' | '–') {
            if !self.space {
                emit(' ');
                self.space = true;
            }
            return;
        }
        self.space = false;
        for l in c.to_lowercase() {
            match fold(l) {
                Fold::One(f) => emit(f),
                Fold::Two(a, b) => {
                    emit(a);
                    emit(b);
                }
            }
        }
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
/// sorted by key, 8 bytes each, and a hash table over the keys and their
/// word prefixes, 12 bytes a slot: under 9 MB for all lists together,
/// besides the list texts themselves. No allocation per entry or key.
struct Index {
    sources: &'static [&'static str],
    keys: String,
    entries: Vec<Entry>,
    max_words: usize,
    /// Open addressing, linear probing, two thirds full (a power-of-two
    /// size would leave the large lists' tables less than half full:
    /// megabytes). One slot per distinct key and per distinct word prefix
    /// of a key ("new", "new york" for "new york city"): a hash probe
    /// replaces the binary search of string compares, and phrase scans
    /// stop as soon as no entry continues the words read so far.
    slots: Vec<Slot>,
}

/// A key or word prefix of a key. `key_len == 0`: empty slot.
#[derive(Clone, Copy, Default)]
struct Slot {
    /// Where the text of the key (or prefix) starts in `Index::keys`.
    key_start: u32,
    /// The first entry with exactly this key in `Index::entries`...
    first: u32,
    /// ...and how many there are (0: only a prefix).
    count: u16,
    key_len: u8,
    /// Bits of the key's hash above those the table position takes: most
    /// mismatches are rejected without reading the key text (another
    /// cache miss in a large list).
    tag: u8,
}

/// The slot tag of a `hash_key` hash: its low bits, which [`home`] does
/// not use for the position of tables under 2^24 slots.
#[inline]
fn tag_of(hash: usize) -> u8 {
    hash as u8
}

/// The first slot to probe for `hash` in a table of `len` slots: the low
/// 32 bits of the hash scaled to `len` (a multiply instead of a division).
#[inline]
fn home(hash: usize, len: usize) -> usize {
    ((u64::from(hash as u32) * len as u64) >> 32) as usize
}

struct Entry {
    /// Which source file (the top [`SOURCE_BITS`]), and where in it
    /// (the rest), the entry's own text starts.
    text: u32,
    value: f32,
}

const SOURCE_BITS: u32 = 4;
const OFFSET_BITS: u32 = u32::BITS - SOURCE_BITS;

/// An entry while the index is built, with its key. Entries with equal
/// keys keep the order an unstable sort gives them (the first one's text
/// and casing answer when none is cased exactly): this is the layout the
/// entries were sorted in when they were kept whole, so the sort, which
/// picks its method by the element's size, orders them as it always has.
struct Keyed {
    key_start: u32,
    key_len: u16,
    source: u16,
    text_start: u32,
    value: f32,
}

impl Index {
    fn build(sources: &'static [&'static str]) -> Self {
        let mut keys = String::new();
        let mut keyed = Vec::new();
        let mut max_words = 1;
        assert!(sources.len() <= 1 << SOURCE_BITS, "too many list files");
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
                let text_start: u32 = narrow(name.as_ptr() as usize - base);
                assert!(text_start >> OFFSET_BITS == 0, "list file too large");
                keyed.push(Keyed {
                    key_start: narrow(key_start),
                    key_len: narrow(key_len),
                    source: narrow(source),
                    text_start,
                    value,
                });
            }
        }
        keyed.sort_unstable_by(|a, b| key_of(&keys, a).cmp(key_of(&keys, b)));
        keys.shrink_to_fit();
        let mut index = Index {
            sources,
            keys,
            entries: Vec::new(),
            max_words,
            slots: Vec::new(),
        };
        index.build_slots(&keyed);
        index.entries = keyed
            .into_iter()
            .map(|k| Entry {
                text: (u32::from(k.source) << OFFSET_BITS) | k.text_start,
                value: k.value,
            })
            .collect();
        index
    }

    fn build_slots(&mut self, keyed: &[Keyed]) {
        let prefixes: usize = keyed
            .iter()
            .map(|e| key_of(&self.keys, e).matches(' ').count() + 1)
            .sum();
        // Load factor 2/3: short probe runs in little memory.
        let size = (prefixes * 3 / 2).max(16);
        assert!(size <= 1 << 24, "list too large for the slot tags");
        self.slots = vec![Slot::default(); size];
        let mut spaces = Vec::new();
        let mut i = 0;
        while i < keyed.len() {
            let e = &keyed[i];
            let (start, len) = (e.key_start, narrow(usize::from(e.key_len)));
            let key = key_of(&self.keys, e);
            let count = keyed[i..]
                .iter()
                .take_while(|e| key_of(&self.keys, e) == key)
                .count();
            spaces.clear();
            spaces.extend(key.match_indices(' ').map(|(p, _)| p));
            // Word prefixes first (only inserted if new), then the key.
            for &p in &spaces {
                self.insert(start, narrow(p), 0, 0);
            }
            self.insert(start, len, narrow(count), narrow(i));
            i += count;
        }
    }

    /// Adds a slot for `keys[start..start + len]`; an existing slot for the
    /// same text keeps its place and takes the entry run if `count > 0`.
    fn insert(&mut self, start: u32, len: u8, count: u16, first: u32) {
        let s = start as usize;
        let text = &self.keys[s..s + usize::from(len)];
        let hash = hash_key(text.as_bytes());
        let mut at = home(hash, self.slots.len());
        loop {
            let slot = &mut self.slots[at];
            if slot.key_len == 0 {
                *slot = Slot {
                    key_start: start,
                    first,
                    count,
                    key_len: len,
                    tag: tag_of(hash),
                };
                return;
            }
            let k = slot.key_start as usize;
            if &self.keys[k..k + usize::from(slot.key_len)] == text {
                if count > 0 {
                    slot.count = count;
                    slot.first = first;
                }
                return;
            }
            at = self.next(at);
        }
    }

    /// The slot of normalized `key` (a full key or a word prefix of one).
    #[inline]
    fn probe(&self, key: &[u8]) -> Option<&Slot> {
        self.probe_hashed(key, hash_key(key))
    }

    /// `probe` of a key whose `hash_key` is `hash`.
    #[inline]
    fn probe_hashed(&self, key: &[u8], hash: usize) -> Option<&Slot> {
        let mut at = home(hash, self.slots.len());
        loop {
            let slot = &self.slots[at];
            if slot.key_len == 0 {
                return None;
            }
            if slot.tag == tag_of(hash) && usize::from(slot.key_len) == key.len() {
                let k = slot.key_start as usize;
                if self.keys.as_bytes()[k..k + key.len()] == *key {
                    return Some(slot);
                }
            }
            at = self.next(at);
        }
    }

    /// The slot after `at`, wrapping around.
    #[inline]
    fn next(&self, at: usize) -> usize {
        if at + 1 == self.slots.len() {
            0
        } else {
            at + 1
        }
    }

    /// The entry's text as the list writes it.
    fn text(&self, e: &Entry) -> &'static str {
        let src: &'static str = self.sources[(e.text >> OFFSET_BITS) as usize];
        let rest = &src[(e.text & ((1 << OFFSET_BITS) - 1)) as usize..];
        let end = rest.find(['\t', '\n', '\r']).unwrap_or(rest.len());
        rest[..end].trim_end()
    }

    #[cfg(test)]
    /// The hit for normalized `key`, with casing judged on `text`.
    fn get(&self, key: &[u8], text: &str) -> Option<Hit> {
        if key.is_empty() {
            return None;
        }
        self.probe(key).and_then(|slot| self.hit(slot, text))
    }

    /// The hit for the entries of `slot` (none for a prefix-only slot),
    /// with casing judged on `text`.
    fn hit(&self, slot: &Slot, text: &str) -> Option<Hit> {
        let first = slot.first as usize;
        let same = &self.entries[first..first + usize::from(slot.count)];
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

/// FxHash-style multiplicative hash over 8-byte words (keys are short;
/// SipHash's DoS resistance buys nothing for a fixed word list), reduced
/// to the high bits, which the multiplications mix best.
#[inline]
fn hash_key(bytes: &[u8]) -> usize {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    // Fold the well-mixed high half down; callers use the low 32 bits.
    (h ^ (h >> 32)) as usize
}

fn key_of<'k>(keys: &'k str, e: &Keyed) -> &'k str {
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
            let key = |e: &Entry| {
                let mut key = String::new();
                normalize(index.text(e), &mut key);
                key
            };
            assert!(index.entries.windows(2).all(|w| key(&w[0]) <= key(&w[1])));
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
            bytes += index.keys.capacity()
                + index.entries.capacity() * std::mem::size_of::<Entry>()
                + index.slots.capacity() * std::mem::size_of::<Slot>();
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

    /// The phrase scans stop early and build keys incrementally; they must
    /// find exactly what trying every candidate end with a fresh
    /// `normalize` finds (the original algorithm).
    #[test]
    fn phrase_scans_match_brute_force() {
        fn brute(list: List, text: &str, start: usize, max: usize) -> Option<(usize, Hit)> {
            let mut ends = Vec::new();
            scan_phrases(text, start, max, |end, _, _, _| {
                ends.push(end);
                true
            })?;
            ends.iter().rev().find_map(|&end| {
                let mut key = String::new();
                normalize(&text[start..end], &mut key);
                list.index()
                    .get(key.as_bytes(), &text[start..end])
                    .map(|h| (end, h))
            })
        }
        let texts = [
            "I'm originally from United States of America, near New York City.",
            "Bosnia and Herzegovina. Guinea-Bissau, St. Louis and São Paulo!",
            "Democratic Republic of the Congo  or the Congo\tRepublic - 'x",
            "a Roman Catholic priest voted Liberal Democrat in Rio de Janeiro.",
            "Acme Co., Ltd. and Foo S.p.A. or Bar GmbH & Co. KG in New South Wales.",
            "the NEW YORK office; new-york; Ærø-Köbing; - Paris . - ' London",
        ];
        for text in texts {
            for (start, _) in text.char_indices() {
                for list in List::ALL {
                    let got = longest_match_at(list, text, start).map(|m| (m.end, m.hit));
                    assert_eq!(
                        got,
                        brute(list, text, start, list.max_words()),
                        "{text:?} at {start}"
                    );
                }
                let got = longest_place_at(text, start).map(|m| (m.end, m.hit));
                let want = [
                    List::Countries,
                    List::UsStates,
                    List::Continents,
                    List::Cities,
                ]
                .iter()
                .map(|&l| {
                    brute(
                        l,
                        text,
                        start,
                        List::Countries
                            .max_words()
                            .max(List::Cities.max_words())
                            .max(List::UsStates.max_words())
                            .max(List::Continents.max_words()),
                    )
                })
                .fold(None, |best: Option<(usize, Hit)>, m| match (best, m) {
                    (Some(b), Some(m)) if m.0 > b.0 => Some(m),
                    (None, m) => m,
                    (b, _) => b,
                });
                assert_eq!(got, want, "{text:?} at {start}");
            }
        }
    }

    #[test]
    fn inline_keys_equal_normalize() {
        for text in [
            "İstanbul",
            "Ⱥⱥ-ȺȺ",
            "Straße",
            "  O’Neil ",
            "K\u{212A}elvin",
            "ǅemal",
            "",
        ] {
            let mut key = String::new();
            normalize(text, &mut key);
            assert_eq!(Key::new(text).as_str(), key, "{text:?}");
        }
        let long = "ȺİȺİȺİȺİȺİȺİȺİȺ";
        let mut key = String::new();
        normalize(long, &mut key);
        assert_eq!(Key::new(long).as_str(), key);
    }

    #[test]
    fn normalize_folds() {
        let mut s = String::new();
        normalize("  Ærø-Köbing  O’Neil ", &mut s);
        assert_eq!(s, "aero kobing oneil");
    }
}
