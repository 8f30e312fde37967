//! Amanah's detector of personal data and secrets. Pure: text in, spans
//! out; no IO, no model download.
//!
//! - [`EntityType`]: what a span is (labels as in `../shared/bench/`).
//! - [`Detection`]: a span of the input (byte offsets, end exclusive), its
//!   type, a score in `0.0..=1.0` and the recognizer that found it.
//! - [`Recognizer`]: one detector. Each recognizer finds candidates, checks
//!   them with validators (checksums, ranges) and context words, and scores
//!   them.
//! - [`Analyzer`]: runs every recognizer over a text and resolves overlaps
//!   by score, then specificity, then length.

#![forbid(unsafe_code)]

mod analyzer;
mod entity;
pub mod gazetteer;
pub mod operators;
pub mod pseudonym;
pub mod recognizers;
pub mod restore;
pub mod validate;

pub use analyzer::{Analyzer, AnalyzerBuilder, DEFAULT_MIN_SCORE};
pub use entity::{Detection, EntityType};

/// One detector of one or more entity types.
pub trait Recognizer: Send + Sync + std::fmt::Debug {
    /// A stable name, for explanations and tests.
    fn name(&self) -> &'static str;
    /// Appends what it finds in `text` to `out`. Offsets are byte offsets
    /// on character boundaries.
    fn find(&self, text: &str, out: &mut Vec<Detection>);
}
