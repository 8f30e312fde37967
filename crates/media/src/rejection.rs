//! Why an upload was refused, and the one mapping to an HTTP status.

use crate::Format;

/// Why an upload was refused.
///
/// The messages are fixed text plus numbers the limits or the header
/// produced; none of them quotes bytes of the upload, so they are safe to
/// return to the client and to log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The body grew past [`Limits::max_bytes`](crate::Limits::max_bytes).
    #[error("upload exceeds {max_bytes} bytes")]
    TooLarge {
        /// The limit that was exceeded.
        max_bytes: u64,
    },
    /// The content is no format this crate knows, or one the route does
    /// not allow.
    #[error("unsupported media type")]
    UnsupportedType {
        /// The format recognized, when it was recognized but not allowed.
        format: Option<Format>,
    },
    /// A header that contradicts itself or the rest of the file, or a file
    /// that ends inside its header.
    #[error("malformed upload: {reason}")]
    Malformed {
        /// What is wrong, as fixed text.
        reason: &'static str,
    },
    /// Audio sampled outside
    /// [`min_sample_rate`](crate::Limits::min_sample_rate)..=[`max_sample_rate`](crate::Limits::max_sample_rate).
    #[error("sample rate {hz} Hz is outside the accepted range")]
    SampleRate {
        /// The sample rate the header declares.
        hz: u32,
    },
    /// Audio longer than
    /// [`max_duration_secs`](crate::Limits::max_duration_secs).
    #[error("audio lasts {seconds} s, longer than allowed")]
    TooLong {
        /// The duration, rounded up to whole seconds.
        seconds: u64,
    },
    /// Plain text with more characters than
    /// [`max_text_chars`](crate::Limits::max_text_chars).
    #[error("text has more than {max_chars} characters")]
    TooManyChars {
        /// The limit that was exceeded.
        max_chars: u64,
    },
}

impl Rejection {
    /// The HTTP status to answer with: 413 for what is too big or too long,
    /// 415 for an unknown or refused format, 422 for a recognized format
    /// whose content is unacceptable.
    pub const fn status(&self) -> u16 {
        match self {
            Rejection::TooLarge { .. }
            | Rejection::TooLong { .. }
            | Rejection::TooManyChars { .. } => 413,
            Rejection::UnsupportedType { .. } => 415,
            Rejection::Malformed { .. } | Rejection::SampleRate { .. } => 422,
        }
    }

    pub(crate) const fn malformed(reason: &'static str) -> Rejection {
        Rejection::Malformed { reason }
    }
}
