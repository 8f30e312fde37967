//! Recognizers: national identifiers (US SSN, UK NINO, UK NHS number, US
//! driver's licence).

use regex::Regex;

use super::contact::{has_context, is_bounded, words_before};
use crate::validate::nhs_mod11;
use crate::{AnalyzerBuilder, Detection, EntityType, Recognizer};

/// Adds this module's recognizers to `builder`.
pub fn register(builder: AnalyzerBuilder) -> AnalyzerBuilder {
    builder
        .recognizer(UsSsnRecognizer::new())
        .recognizer(UkNinoRecognizer::new())
        .recognizer(UkNhsRecognizer::new())
        .recognizer(UsDriverLicenseRecognizer::new())
}

const SSN_CONTEXT: &[&str] = &["ssn", "ssns", "social", "security", "ss", "taxpayer", "tin"];

/// US Social Security numbers: `AAA-GG-SSSS`, spaced, or nine digits next
/// to SSN words. Never-issued areas (000, 666, 900–999), group 00 and
/// serial 0000 are refused; well-known sample numbers score low.
#[derive(Debug)]
pub struct UsSsnRecognizer {
    re: Regex,
}

impl UsSsnRecognizer {
    pub fn new() -> Self {
        Self {
            re: Regex::new(r"[0-9]{3}[- ][0-9]{2}[- ][0-9]{4}|[0-9]{9}").expect("ssn regex"),
        }
    }
}

impl Default for UsSsnRecognizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Recognizer for UsSsnRecognizer {
    fn name(&self) -> &'static str {
        "us_ssn"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for m in self.re.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            let s = m.as_str();
            if !is_bounded(text, start, end) {
                continue;
            }
            let b = s.as_bytes();
            if b.len() == 11 && b[3] != b[6] {
                continue; // mixed separators
            }
            let digits: String = s.chars().filter(char::is_ascii_digit).collect();
            let area: u32 = digits[..3].parse().unwrap_or(0);
            if area == 0
                || area == 666
                || area >= 900
                || &digits[3..5] == "00"
                || &digits[5..] == "0000"
            {
                continue;
            }
            let context = has_context(text, start, 6, SSN_CONTEXT);
            let mut score: f32 = match (b.len(), b.get(3)) {
                (11, Some(b'-')) => 0.6,
                (11, _) => 0.45,
                _ if context => 0.5,
                _ => continue,
            };
            if context {
                score += 0.3;
            }
            if matches!(digits.as_str(), "078051120" | "219099999" | "123456789")
                || digits.bytes().all(|c| c == b[0])
            {
                score = score.min(0.45);
            }
            out.push(Detection::new(
                start,
                end,
                EntityType::UsSsn,
                score.min(0.95),
                self.name(),
            ));
        }
    }
}

/// UK National Insurance numbers: prefix letters (with HMRC's
/// exclusions), six digits, suffix A–D; compact or spaced in pairs.
#[derive(Debug)]
pub struct UkNinoRecognizer {
    re: Regex,
}

impl UkNinoRecognizer {
    pub fn new() -> Self {
        Self {
            re: Regex::new(
                r"(?i-u)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]",
            )
            .expect("nino regex"),
        }
    }
}

impl Default for UkNinoRecognizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Recognizer for UkNinoRecognizer {
    fn name(&self) -> &'static str {
        "uk_nino"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for m in self.re.find_iter(text) {
            let s = m.as_str();
            let prefix = s[..2].to_ascii_uppercase();
            if matches!(
                prefix.as_str(),
                "BG" | "GB" | "KN" | "NK" | "NT" | "TN" | "ZZ"
            ) {
                continue;
            }
            // Either fully spaced or compact.
            let spaces = s.matches(' ').count();
            if spaces != 0 && spaces != 4 {
                continue;
            }
            if !is_bounded(text, m.start(), m.end()) {
                continue;
            }
            let context = has_context(text, m.start(), 6, &["ni", "nino", "insurance", "national"]);
            let upper = s == s.to_ascii_uppercase();
            let score = match (upper, context) {
                (_, true) => 0.9,
                (true, false) => 0.7,
                (false, false) => 0.45,
            };
            out.push(Detection::new(
                m.start(),
                m.end(),
                EntityType::UkNino,
                score,
                self.name(),
            ));
        }
    }
}

/// NHS numbers: ten digits, plain or 3-3-4, with a valid mod-11 check.
#[derive(Debug)]
pub struct UkNhsRecognizer {
    re: Regex,
}

impl UkNhsRecognizer {
    pub fn new() -> Self {
        Self {
            re: Regex::new(r"[0-9]{3}([ -]?)[0-9]{3}([ -]?)[0-9]{4}").expect("nhs regex"),
        }
    }
}

impl Default for UkNhsRecognizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Recognizer for UkNhsRecognizer {
    fn name(&self) -> &'static str {
        "uk_nhs"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for c in self.re.captures_iter(text) {
            let m = c.get(0).expect("whole match");
            if c[1] != c[2] || !is_bounded(text, m.start(), m.end()) || !nhs_mod11(m.as_str()) {
                continue;
            }
            let context = has_context(text, m.start(), 6, &["nhs", "health", "patient"]);
            // One in eleven random numbers passes mod 11, so the shape
            // alone is weak; a US phone layout says phone.
            let score = if context {
                0.9
            } else if c[1].is_empty() {
                0.3
            } else if &c[1] == " " {
                0.45
            } else {
                0.3
            };
            if score >= 0.4 {
                out.push(Detection::new(
                    m.start(),
                    m.end(),
                    EntityType::UkNhs,
                    score,
                    self.name(),
                ));
            }
        }
    }
}

const DL_CONTEXT: &[&str] = &[
    "driver", "drivers", "driving", "license", "licence", "licenses", "dl", "dln", "lic",
];

/// US driver's licence numbers. State formats vary too much to recognise
/// by shape, so a licence-like token is reported only right after licence
/// words.
#[derive(Debug)]
pub struct UsDriverLicenseRecognizer {
    re: Regex,
}

impl UsDriverLicenseRecognizer {
    pub fn new() -> Self {
        Self {
            re: Regex::new(
                r"(?i-u)[a-z0-9]{5,16}|[a-z][0-9]{3}-[0-9]{3}-[0-9]{2,3}-[0-9]{3}|[a-z]{1,2}-?[0-9]{3}-?[0-9]{3}-?[0-9]{3,4}|[0-9]{3}-[0-9]{2}-[0-9]{4}",
            )
            .expect("dl regex"),
        }
    }
}

impl Default for UsDriverLicenseRecognizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Recognizer for UsDriverLicenseRecognizer {
    fn name(&self) -> &'static str {
        "us_driver_license"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for m in self.re.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            let digits = m.as_str().bytes().filter(u8::is_ascii_digit).count();
            if !(5..=16).contains(&digits) || !is_bounded(text, start, end) {
                continue;
            }
            let before = words_before(text, start, 6);
            if !before.iter().any(|w| DL_CONTEXT.contains(&w.as_str())) {
                continue;
            }
            if before.iter().any(|w| {
                matches!(
                    w.as_str(),
                    "plate" | "plates" | "key" | "software" | "phone" | "ssn" | "card"
                )
            }) {
                continue;
            }
            out.push(Detection::new(
                start,
                end,
                EntityType::UsDriverLicense,
                0.65,
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
    fn ssns() {
        let r = UsSsnRecognizer::new();
        for (text, want) in [
            ("SSN 494-57-7932.", "494-57-7932"),
            ("(SSN 427-41-2741)", "427-41-2741"),
            ("is 874-26-2920", "874-26-2920"),
            ("ssn: 123 45 6780", "123 45 6780"),
            ("social security number 536225361", "536225361"),
            ("id 078-05-1120", "078-05-1120"),
            ("id 123-45-6789", "123-45-6789"),
            ("001-01-0001 x", "001-01-0001"),
            ("SSN:665-12-3456", "665-12-3456"),
            ("ünïcødé 772-11-2345 ✓", "772-11-2345"),
        ] {
            assert_eq!(spans(&r, text), [want], "{text}");
        }
        for text in [
            "000-12-3456",
            "666-12-3456",
            "912-12-3456",
            "123-00-4567",
            "123-45-0000",
            "123-45 6789",
            "order 536225361",
            "1123-45-6789",
            "123-45-67890",
            "2023-10-12",
        ] {
            assert!(spans(&r, text).is_empty(), "{text}");
        }
        let mut out = Vec::new();
        r.find("SSN 078-05-1120", &mut out);
        assert!(out[0].score < 0.5);
    }

    #[test]
    fn ninos() {
        let r = UkNinoRecognizer::new();
        for (text, want) in [
            ("NI number AB 12 34 56 C.", "AB 12 34 56 C"),
            ("nino AB123456C", "AB123456C"),
            ("AA123456A", "AA123456A"),
            ("JG103759A here", "JG103759A"),
            ("ZX 99 88 77 D", "ZX 99 88 77 D"),
            ("(CE123456B)", "CE123456B"),
            ("insurance ab123456c", "ab123456c"),
            ("PZ 11 22 33 A", "PZ 11 22 33 A"),
            ("HW654321B,", "HW654321B"),
            ("national insurance: SN 00 00 01 A", "SN 00 00 01 A"),
        ] {
            assert_eq!(spans(&r, text), [want], "{text}");
        }
        for text in [
            "GB123456A",
            "BG123456A",
            "DA123456A",
            "AD123456A",
            "AO123456A",
            "AB123456E",
            "AB12345C",
            "XAB123456C",
            "AB 123456 C",
            "ZZ123456A",
            "QQ123456C",
        ] {
            assert!(spans(&r, text).is_empty(), "{text}");
        }
    }

    #[test]
    fn nhs() {
        let r = UkNhsRecognizer::new();
        assert_eq!(spans(&r, "NHS number 943 476 5919"), ["943 476 5919"]);
        assert_eq!(spans(&r, "patient 9434765919."), ["9434765919"]);
        assert_eq!(spans(&r, "ref 943 476 5919"), ["943 476 5919"]);
        assert_eq!(spans(&r, "nhs: 943-476-5919"), ["943-476-5919"]);
        assert!(spans(&r, "NHS 943 476 5918").is_empty());
        assert!(spans(&r, "NHS 943 4765919").is_empty());
        assert!(spans(&r, "9434765919").is_empty());
        assert!(spans(&r, "NHS 19434765919").is_empty());
        assert!(spans(&r, "NHS 943 476 591").is_empty());
        assert!(spans(&r, "NHS x9434765919").is_empty());
    }

    #[test]
    fn driver_licenses() {
        let r = UsDriverLicenseRecognizer::new();
        for (text, want) in [
            ("My driver's license number is 32345554", "32345554"),
            (
                "The driver, Ana Dias, license 942761595308, was",
                "942761595308",
            ),
            ("DL: D1234567", "D1234567"),
            ("licence A123-456-789-012", "A123-456-789-012"),
            ("driver's license number mP239151", "mP239151"),
            ("DLN 06364908ug.", "06364908ug"),
            ("driving licence no. W301134486304", "W301134486304"),
            ("license #123456789", "123456789"),
            ("driver license: t2356851652910", "t2356851652910"),
            ("my DL is 959673", "959673"),
            ("licence number 81LCZ52335", "81LCZ52335"),
        ] {
            assert_eq!(spans(&r, text), [want], "{text}");
        }
        for text in [
            "my number is 32345554",
            "license plate 7ABC123",
            "D1234567",
            "license key 12345678",
            "licensed in 2019",
            "license 1234",
            "driver's license number is ABCDEFGH",
            "call 415-555-0132",
            "the license was issued on 2019-10-12 to x",
            "MIT license v1.2.3",
        ] {
            assert!(spans(&r, text).is_empty(), "{text}: {:?}", spans(&r, text));
        }
    }
}
