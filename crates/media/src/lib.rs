//! Amanah's upload validation for audio and document AI.
//!
//! Pure: no IO, no async. An upload is checked while its body streams,
//! before it is forwarded, and without buffering it: a [`Sniffer`] keeps at
//! most [`HEADER_BUFFER`] (64 KiB) of header bytes and a byte count, and
//! skips everything it does not need to read (ID3 tags, `mdat`, page
//! bodies, samples) by the sizes the headers give.
//!
//! The format is told from the content, never from a file name or the
//! client's `Content-Type`: WAV, MP3, FLAC, M4A, Ogg Vorbis/Opus, PDF,
//! OOXML, OpenDocument, OLE2, RTF and UTF-8 text (see [`Format`]). For
//! audio the header's sample rate, channel count and duration are read and
//! checked against [`Limits`], and headers that contradict themselves or
//! the body (a `data` chunk longer than the file, a byte rate that does not
//! match the sample rate, a box larger than its parent) are refused.
//!
//! # Seams
//!
//! The gateway builds a [`Limits`] per route from configuration, creates a
//! [`Sniffer`] per request body, calls [`Sniffer::push`] for every chunk
//! before passing it on and [`Sniffer::finish`] at the end. A
//! [`Rejection`] stops the upload; [`Rejection::status`] is the one
//! mapping to an HTTP status, and its message never quotes the upload.
//!
//! # Invariants
//!
//! - Memory per sniffer is bounded by [`HEADER_BUFFER`] whatever the input;
//!   a header that does not fit is a rejection.
//! - No input makes it panic: every read is bounds-checked and every size
//!   computation checked or saturating.
//! - The result does not depend on how the body is cut into chunks (the
//!   fuzz target `media_sniff` and a property test check this).

#![forbid(unsafe_code)]

mod detect;
mod flac;
mod format;
#[doc(hidden)]
pub mod fuzz_checks;
mod limits;
mod mp3;
mod mp4;
mod multipart;
mod ogg;
mod read;
mod rejection;
mod sniffer;
mod text;
mod wav;
mod zip;

pub use format::{Format, FormatSet};
pub use limits::Limits;
pub use multipart::{form_data_boundary, BodySniffer, MultipartSniffer, MAX_PART_HEADERS};
pub use rejection::Rejection;
pub use sniffer::{sniff, Progress, Sniffer, Verdict, HEADER_BUFFER};
