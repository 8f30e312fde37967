//! Recognizers: financial (payment cards, IBANs, US bank account numbers).

use regex::Regex;

use super::contact::{has_context, is_bounded, words_after};
use crate::validate::{iban_mod97, luhn};
use crate::{AnalyzerBuilder, Detection, EntityType, Recognizer};

/// Adds this module's recognizers to `builder`.
pub fn register(builder: AnalyzerBuilder) -> AnalyzerBuilder {
    builder
        .recognizer(CreditCardRecognizer::new())
        .recognizer(IbanRecognizer::new())
        .recognizer(UsBankNumberRecognizer::new())
}

const CARD_CONTEXT: &[&str] = &[
    "card",
    "cards",
    "credit",
    "debit",
    "visa",
    "mastercard",
    "amex",
    "cc",
    "charge",
    "pan",
];

/// The card lengths an issuer prefix allows, or `None` for an unknown
/// prefix. Ranges from the issuers' published IIN tables.
fn brand_lengths(d: &str) -> Option<&'static [usize]> {
    let p = |n: usize| d[..n.min(d.len())].parse::<u32>().unwrap_or(0);
    let (p2, p3, p4, p6) = (p(2), p(3), p(4), p(6));
    if d.starts_with('4') {
        return Some(&[13, 16, 19]); // Visa
    }
    if (51..=55).contains(&p2) || (2221..=2720).contains(&p4) {
        return Some(&[16]); // Mastercard
    }
    if p2 == 34 || p2 == 37 {
        return Some(&[15]); // Amex
    }
    if p4 == 6011 || p2 == 65 || (644..=649).contains(&p3) || (622126..=622925).contains(&p6) {
        return Some(&[16, 17, 18, 19]); // Discover
    }
    if (3528..=3589).contains(&p4) {
        return Some(&[16, 17, 18, 19]); // JCB
    }
    if p4 == 1800 || p4 == 2131 {
        return Some(&[15]); // JCB (legacy)
    }
    if (300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39 || p4 == 3095 {
        return Some(&[14, 15, 16, 17, 18, 19]); // Diners
    }
    if p2 == 62 {
        return Some(&[16, 17, 18, 19]); // UnionPay
    }
    if p2 == 50 || (56..=69).contains(&p2) || p4 == 604 {
        return Some(&[12, 13, 14, 15, 16, 17, 18, 19]); // Maestro
    }
    None
}

/// Payment card numbers: 12–19 digits, optionally in groups separated by
/// single spaces or dashes, Luhn valid. A known issuer prefix with a
/// matching length scores high; an unknown one needs context.
#[derive(Debug)]
pub struct CreditCardRecognizer {
    re: Regex,
}

impl CreditCardRecognizer {
    pub fn new() -> Self {
        Self {
            re: Regex::new(r"[0-9](?:[ \-]?[0-9]){11,22}").expect("card regex"),
        }
    }

    fn score(&self, text: &str, start: usize, end: usize) -> Option<f32> {
        let s = &text[start..end];
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        if !(12..=19).contains(&digits.len()) || !luhn(&digits) {
            return None;
        }
        // Separated: one kind of separator, first group of four, groups of
        // three to six.
        let groups: Vec<&str> = s.split([' ', '-']).collect();
        if groups.len() > 1 {
            if s.contains(' ') && s.contains('-') {
                return None;
            }
            if groups[0].len() != 4 || groups.iter().any(|g| !(3..=6).contains(&g.len())) {
                return None;
            }
        }
        if digits.bytes().all(|b| b == digits.as_bytes()[0]) {
            return None;
        }
        let context = has_context(text, start, 6, CARD_CONTEXT)
            || words_after(text, end, 3)
                .iter()
                .any(|w| CARD_CONTEXT.contains(&w.as_str()));
        let score = match brand_lengths(&digits) {
            Some(lens) if lens.contains(&digits.len()) => {
                if digits.len() == 12 {
                    0.55
                } else {
                    0.9
                }
            }
            _ if digits.len() >= 13 => 0.35,
            _ => return None,
        };
        Some(if context {
            (score + 0.1f32).min(0.95)
        } else {
            score
        })
    }
}

impl Default for CreditCardRecognizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Recognizer for CreditCardRecognizer {
    fn name(&self) -> &'static str {
        "credit_card"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for m in self.re.find_iter(text) {
            // Try the whole run, then runs starting and ending at group
            // boundaries ("mc2 4111 1111 1111 1111 12 months").
            let s = m.as_str();
            let cuts: Vec<usize> = s.match_indices([' ', '-']).map(|(i, _)| i).collect();
            let starts = std::iter::once(0).chain(cuts.iter().map(|i| i + 1));
            'starts: for st in starts {
                let start = m.start() + st;
                let ends = std::iter::once(s.len()).chain(cuts.iter().rev().copied());
                for e in ends.filter(|&e| e > st) {
                    let end = m.start() + e;
                    if !is_bounded(text, start, end) {
                        continue;
                    }
                    if let Some(score) = self.score(text, start, end) {
                        if score >= 0.4 {
                            out.push(Detection::new(
                                start,
                                end,
                                EntityType::CreditCard,
                                score,
                                self.name(),
                            ));
                        }
                        break 'starts;
                    }
                }
            }
        }
    }
}

/// IBAN lengths by country (ISO 13616 registry): SEPA and common others.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// IBANs: country code, check digits and BBAN, compact or in groups of
/// four, with the country's length and a valid mod-97 check.
#[derive(Debug)]
pub struct IbanRecognizer {
    re: Regex,
}

impl IbanRecognizer {
    pub fn new() -> Self {
        Self {
            re: Regex::new(r"(?i-u)[a-z]{2}[0-9]{2}(?:[ ]?[a-z0-9]){11,30}").expect("iban regex"),
        }
    }
}

impl Default for IbanRecognizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Recognizer for IbanRecognizer {
    fn name(&self) -> &'static str {
        "iban"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        // Candidates can run on into the next word ("GB07… to GB96…"), so
        // after a failure the search resumes at the next word.
        let mut pos = 0;
        while let Some(m) = self.re.find_at(text, pos) {
            pos = text[m.start() + 1..]
                .find(' ')
                .map_or(text.len(), |i| m.start() + 2 + i);
            let s = m.as_str();
            let country = s[..2].to_ascii_uppercase();
            let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| *c == country) else {
                continue;
            };
            // Walk to the end of `len` alphanumerics.
            let mut count = 0;
            let mut end = None;
            for (i, b) in s.bytes().enumerate() {
                if b != b' ' {
                    count += 1;
                    if count == len {
                        end = Some(i + 1);
                        break;
                    }
                }
            }
            let Some(end) = end else { continue };
            let (start, end) = (m.start(), m.start() + end);
            let cand = &text[start..end];
            // Spaced forms group by four.
            if cand.contains(' ') && cand.split(' ').rev().skip(1).any(|g| g.len() != 4) {
                continue;
            }
            if !is_bounded(text, start, end) || !iban_mod97(cand) {
                continue;
            }
            pos = end;
            out.push(Detection::new(
                start,
                end,
                EntityType::IbanCode,
                0.95,
                self.name(),
            ));
        }
    }
}

const BANK_CONTEXT: &[&str] = &[
    "account", "acct", "bank", "routing", "checking", "savings", "aba", "deposit",
];

/// US bank account numbers: 8–17 digits, only next to banking words.
#[derive(Debug)]
pub struct UsBankNumberRecognizer {
    re: Regex,
}

impl UsBankNumberRecognizer {
    pub fn new() -> Self {
        Self {
            re: Regex::new(r"[0-9]{8,17}").expect("bank regex"),
        }
    }
}

impl Default for UsBankNumberRecognizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Recognizer for UsBankNumberRecognizer {
    fn name(&self) -> &'static str {
        "us_bank_number"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for m in self.re.find_iter(text) {
            if !is_bounded(text, m.start(), m.end())
                || !has_context(text, m.start(), 5, BANK_CONTEXT)
            {
                continue;
            }
            out.push(Detection::new(
                m.start(),
                m.end(),
                EntityType::UsBankNumber,
                0.45,
                self.name(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recognizers::test_support::spans;

    #[test]
    fn cards() {
        let r = CreditCardRecognizer::new();
        for (text, want) in [
            ("card 4111 1111 1111 1111 12 months", "4111 1111 1111 1111"),
            ("4111-1111-1111-1111", "4111-1111-1111-1111"),
            ("pay 5500000000000004.", "5500000000000004"),
            ("amex 378282246310005", "378282246310005"),
            ("amex 3782 822463 10005", "3782 822463 10005"),
            ("disc 6011111111111117", "6011111111111117"),
            ("jcb 3530111333300000", "3530111333300000"),
            ("diners 30569309025904", "30569309025904"),
            ("mc2 2221000000000009", "2221000000000009"),
            ("visa13 4222222222222", "4222222222222"),
            ("maestro 6759649826438453", "6759649826438453"),
        ] {
            assert_eq!(spans(&r, text), [want], "{text}");
        }
        for text in [
            "4111 1111 1111 1112",
            "order 1234567812345678",
            "4111111111111111111111",
            "x4111111111111111",
            "4111 1111-1111 1111",
            "0000000000000000",
            "41111 111 1111 1111",
            "ref 9999999999999995",
            "2023-10-12",
            "SKU-4111111111111111",
        ] {
            assert!(spans(&r, text).is_empty(), "{text}: {:?}", spans(&r, text));
        }
    }

    #[test]
    fn ibans() {
        let r = IbanRecognizer::new();
        for (text, want) in [
            (
                "IBAN GB82 WEST 1234 5698 7654 32.",
                "GB82 WEST 1234 5698 7654 32",
            ),
            ("DE89370400440532013000", "DE89370400440532013000"),
            (
                "to fr1420041010050500013m02606,",
                "fr1420041010050500013m02606",
            ),
            ("NL91ABNA0417164300 ok", "NL91ABNA0417164300"),
            ("BE68539007547034", "BE68539007547034"),
            ("CH9300762011623852957", "CH9300762011623852957"),
            ("ES9121000418450200051332", "ES9121000418450200051332"),
            ("IT60X0542811101000000123456", "IT60X0542811101000000123456"),
            ("AT611904300234573201", "AT611904300234573201"),
            ("NO9386011117947", "NO9386011117947"),
        ] {
            assert_eq!(spans(&r, text), [want], "{text}");
        }
        for text in [
            "GB82 WEST 1234 5698 7654 33",
            "DE89370400440532013001",
            "XX89370400440532013000",
            "GB82WEST123456987654",
            "ABGB82WEST12345698765432",
            "GB82 WE ST1234 5698 7654 32",
            "DE8937040044053201300",
            "NL91ABNA0417164301",
            "BE68539007547035",
            "CH9300762011623852958",
        ] {
            assert!(spans(&r, text).is_empty(), "{text}");
        }
        assert_eq!(
            spans(&r, "from DE89370400440532013000 to NL91ABNA0417164300 now"),
            ["DE89370400440532013000", "NL91ABNA0417164300"]
        );
    }

    #[test]
    fn bank_numbers_need_context() {
        let r = UsBankNumberRecognizer::new();
        assert_eq!(spans(&r, "checking account 12345678901"), ["12345678901"]);
        assert_eq!(spans(&r, "acct #: 000123456789"), ["000123456789"]);
        assert!(spans(&r, "order 12345678901").is_empty());
        assert!(spans(&r, "account 1234567").is_empty());
    }
}
