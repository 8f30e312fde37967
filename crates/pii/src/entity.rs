//! Entity types and detections.

use std::fmt;

/// What a detected span is. [`EntityType::as_str`] gives the label used by
/// the benchmark data and in placeholders (`<EMAIL_ADDRESS>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EntityType {
    Person,
    EmailAddress,
    PhoneNumber,
    CreditCard,
    UsSsn,
    UkNino,
    UkNhs,
    IbanCode,
    IpAddress,
    Url,
    DateTime,
    Age,
    StreetAddress,
    ZipCode,
    Location,
    Organization,
    Title,
    Nrp,
    UsDriverLicense,
    UsBankNumber,
    /// A credential: provider API keys, private keys, tokens, passwords.
    Secret,
}

impl EntityType {
    pub const ALL: [EntityType; 21] = [
        EntityType::Person,
        EntityType::EmailAddress,
        EntityType::PhoneNumber,
        EntityType::CreditCard,
        EntityType::UsSsn,
        EntityType::UkNino,
        EntityType::UkNhs,
        EntityType::IbanCode,
        EntityType::IpAddress,
        EntityType::Url,
        EntityType::DateTime,
        EntityType::Age,
        EntityType::StreetAddress,
        EntityType::ZipCode,
        EntityType::Location,
        EntityType::Organization,
        EntityType::Title,
        EntityType::Nrp,
        EntityType::UsDriverLicense,
        EntityType::UsBankNumber,
        EntityType::Secret,
    ];

    /// Identifiers and secrets whose shape is checked (checksums, issuer
    /// ranges, prefixes, formats): safe to look for in text that is not
    /// prose, such as log lines or protocol fields, where names, places
    /// and dates would be mistaken for timestamps, hosts and model names.
    pub const SHAPED: [EntityType; 10] = [
        EntityType::EmailAddress,
        EntityType::PhoneNumber,
        EntityType::CreditCard,
        EntityType::UsSsn,
        EntityType::UkNino,
        EntityType::UkNhs,
        EntityType::IbanCode,
        EntityType::UsBankNumber,
        EntityType::UsDriverLicense,
        EntityType::Secret,
    ];

    /// The type's position in [`EntityType::ALL`], for tables indexed by
    /// type.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Person => "PERSON",
            EntityType::EmailAddress => "EMAIL_ADDRESS",
            EntityType::PhoneNumber => "PHONE_NUMBER",
            EntityType::CreditCard => "CREDIT_CARD",
            EntityType::UsSsn => "US_SSN",
            EntityType::UkNino => "UK_NINO",
            EntityType::UkNhs => "UK_NHS",
            EntityType::IbanCode => "IBAN_CODE",
            EntityType::IpAddress => "IP_ADDRESS",
            EntityType::Url => "URL",
            EntityType::DateTime => "DATE_TIME",
            EntityType::Age => "AGE",
            EntityType::StreetAddress => "STREET_ADDRESS",
            EntityType::ZipCode => "ZIP_CODE",
            EntityType::Location => "LOCATION",
            EntityType::Organization => "ORGANIZATION",
            EntityType::Title => "TITLE",
            EntityType::Nrp => "NRP",
            EntityType::UsDriverLicense => "US_DRIVER_LICENSE",
            EntityType::UsBankNumber => "US_BANK_NUMBER",
            EntityType::Secret => "SECRET",
        }
    }

    /// The type named `label` (as [`EntityType::as_str`] gives it).
    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == label)
    }

    /// The type a person typed: the label in any case, spaces around it
    /// ignored (`email_address`, ` SECRET`).
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim();
        Self::ALL
            .into_iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(name))
    }

    /// Every label, comma-separated: what an error about a wrong one lists.
    pub fn labels() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }

    /// How much a match of this type says by its shape alone: checksummed
    /// and prefixed formats beat free text when spans overlap with equal
    /// scores.
    pub fn specificity(self) -> u8 {
        match self {
            EntityType::Secret => 9,
            EntityType::CreditCard | EntityType::IbanCode | EntityType::UkNhs => 8,
            EntityType::EmailAddress | EntityType::Url | EntityType::IpAddress => 7,
            EntityType::UsSsn | EntityType::UkNino => 6,
            EntityType::PhoneNumber => 5,
            EntityType::UsDriverLicense | EntityType::UsBankNumber => 4,
            EntityType::DateTime | EntityType::StreetAddress => 3,
            EntityType::ZipCode | EntityType::Age => 2,
            EntityType::Person
            | EntityType::Location
            | EntityType::Organization
            | EntityType::Title
            | EntityType::Nrp => 1,
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A span of the analyzed text. `start..end` are byte offsets on character
/// boundaries. `Debug` does not print the matched text (there is none
/// here: a detection never holds the value it found).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub start: usize,
    pub end: usize,
    pub entity: EntityType,
    /// Confidence in `0.0..=1.0`.
    pub score: f32,
    /// The [`Recognizer::name`](crate::Recognizer::name) that found it.
    pub recognizer: &'static str,
}

impl Detection {
    pub fn new(
        start: usize,
        end: usize,
        entity: EntityType,
        score: f32,
        recognizer: &'static str,
    ) -> Self {
        Self {
            start,
            end,
            entity,
            score,
            recognizer,
        }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    pub fn overlaps(&self, other: &Detection) -> bool {
        self.start < other.end && other.start < self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip() {
        for e in EntityType::ALL {
            assert_eq!(EntityType::from_label(e.as_str()), Some(e));
        }
        assert_eq!(EntityType::from_label("NOPE"), None);
        assert_eq!(
            EntityType::parse(" email_Address "),
            Some(EntityType::EmailAddress)
        );
        assert_eq!(EntityType::parse("EMAIL"), None);
        assert!(EntityType::labels().starts_with("PERSON, EMAIL_ADDRESS,"));
        for (i, e) in EntityType::ALL.into_iter().enumerate() {
            assert_eq!(e.index(), i);
        }
    }
}
