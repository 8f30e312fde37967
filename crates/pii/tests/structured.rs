//! The structured recognizers through `Analyzer::standard()`: exact spans
//! and labels in realistic sentences.

use amanah_pii::{Analyzer, EntityType};

const STRUCTURED: [EntityType; 10] = [
    EntityType::EmailAddress,
    EntityType::PhoneNumber,
    EntityType::CreditCard,
    EntityType::UsSsn,
    EntityType::UkNino,
    EntityType::UkNhs,
    EntityType::IbanCode,
    EntityType::IpAddress,
    EntityType::Url,
    EntityType::UsDriverLicense,
];

fn found(text: &str) -> Vec<(&str, &'static str)> {
    Analyzer::standard()
        .analyze_only(text, &STRUCTURED)
        .iter()
        .map(|d| (&text[d.start..d.end], d.entity.as_str()))
        .collect()
}

#[test]
fn support_ticket() {
    let text = "Hi, I'm locked out of https://portal.example.com/login. Reach me at \
                jane.doe@example.org or (415) 555-0132; my card 4111 1111 1111 1111 \
                was charged twice from 203.0.113.42.";
    assert_eq!(
        found(text),
        [
            ("https://portal.example.com/login", "URL"),
            ("jane.doe@example.org", "EMAIL_ADDRESS"),
            ("(415) 555-0132", "PHONE_NUMBER"),
            ("4111 1111 1111 1111", "CREDIT_CARD"),
            ("203.0.113.42", "IP_ADDRESS"),
        ]
    );
}

#[test]
fn uk_payroll_record() {
    let text = "Employee NI number AB 12 34 56 C, NHS number 943 476 5919, \
                salary to GB82 WEST 1234 5698 7654 32, mobile 07700 900123.";
    assert_eq!(
        found(text),
        [
            ("AB 12 34 56 C", "UK_NINO"),
            ("943 476 5919", "UK_NHS"),
            ("GB82 WEST 1234 5698 7654 32", "IBAN_CODE"),
            ("07700 900123", "PHONE_NUMBER"),
        ]
    );
}

#[test]
fn us_identity_check() {
    let text = "Ünïcødé applicant, SSN 536-22-5361, driver's license D1234567, \
                released v1.2.3.4.5 on 2023-10-12 (order 1234567812345678).";
    assert_eq!(
        found(text),
        [("536-22-5361", "US_SSN"), ("D1234567", "US_DRIVER_LICENSE"),]
    );
}

#[test]
fn european_contacts_and_network_log() {
    let text = "Bureau Paris: +33 1 23 45 67 89. Berlin Tel. 0049 30 123456. \
                Log: 2001:db8::8a2e:370:7334 fetched www.example.de/preise at 10:20:30.";
    assert_eq!(
        found(text),
        [
            ("+33 1 23 45 67 89", "PHONE_NUMBER"),
            ("0049 30 123456", "PHONE_NUMBER"),
            ("2001:db8::8a2e:370:7334", "IP_ADDRESS"),
            ("www.example.de/preise", "URL"),
        ]
    );
}

proptest::proptest! {
    /// Any text, including look-alike characters (the Kelvin sign and long
    /// s fold to ASCII letters; Arabic-Indic digits are Unicode digits),
    /// gives spans on character boundaries without panicking.
    #[test]
    fn any_text_gives_bounded_spans(text in "[0-9A-Za-z .:@/+()#-ſKé٣١€]{0,80}") {
        for d in Analyzer::standard().analyze(&text) {
            proptest::prop_assert!(text.is_char_boundary(d.start) && text.is_char_boundary(d.end));
            proptest::prop_assert!(d.start < d.end && d.end <= text.len());
        }
    }
}
