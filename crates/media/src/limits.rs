//! What an upload may be: which formats, how big, how long.

use crate::{Format, FormatSet, Rejection};

/// The limits one [`Sniffer`](crate::Sniffer) enforces.
///
/// Every field is public: a route builds its limits from configuration with
/// `Limits { max_bytes: …, ..Limits::default() }`. The defaults suit a
/// speech-to-text route; document routes usually narrow `allowed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Formats accepted. Anything else is
    /// [`Rejection::UnsupportedType`]. Default: [`FormatSet::ALL`].
    pub allowed: FormatSet,
    /// Largest body in bytes; the byte that exceeds it is
    /// [`Rejection::TooLarge`]. Default: 500 MB (500 000 000).
    pub max_bytes: u64,
    /// Lowest audio sample rate in Hz accepted. Default: 8000.
    pub min_sample_rate: u32,
    /// Highest audio sample rate in Hz accepted. Default: 48000.
    pub max_sample_rate: u32,
    /// Longest audio in seconds. Default: 4 hours (14 400).
    pub max_duration_secs: u64,
    /// Most Unicode scalar values in a plain-text upload.
    /// Default: 10 000 000.
    pub max_text_chars: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            allowed: FormatSet::ALL,
            max_bytes: 500_000_000,
            min_sample_rate: 8000,
            max_sample_rate: 48000,
            max_duration_secs: 4 * 3600,
            max_text_chars: 10_000_000,
        }
    }
}

impl Limits {
    /// The defaults with only audio formats allowed.
    pub fn audio() -> Limits {
        Limits {
            allowed: FormatSet::AUDIO,
            ..Limits::default()
        }
    }

    /// The defaults with documents and plain text allowed.
    pub fn documents() -> Limits {
        Limits {
            allowed: FormatSet::DOCUMENTS | FormatSet::TEXT,
            ..Limits::default()
        }
    }

    pub(crate) fn check_allowed(&self, format: Format) -> Result<Format, Rejection> {
        if self.allowed.contains(format) {
            Ok(format)
        } else {
            Err(Rejection::UnsupportedType {
                format: Some(format),
            })
        }
    }

    pub(crate) fn check_rate(&self, hz: u32) -> Result<u32, Rejection> {
        if (self.min_sample_rate..=self.max_sample_rate).contains(&hz) {
            Ok(hz)
        } else {
            Err(Rejection::SampleRate { hz })
        }
    }

    /// Checks a duration as soon as it is known, so that a long file is
    /// refused before its data arrives whenever its header says how long
    /// it is.
    pub(crate) fn check_duration(&self, secs: f64) -> Result<f64, Rejection> {
        // `as` saturates (NaN becomes 0); durations here are finite and
        // non-negative because every divisor was checked to be non-zero.
        if secs > self.max_duration_secs as f64 {
            Err(Rejection::TooLong {
                seconds: secs.ceil() as u64,
            })
        } else {
            Ok(secs)
        }
    }
}
