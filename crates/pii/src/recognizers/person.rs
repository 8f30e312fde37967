//! Recognizers: person.

use crate::AnalyzerBuilder;

/// Adds this module's recognizers to `builder`.
pub fn register(builder: AnalyzerBuilder) -> AnalyzerBuilder {
    builder
}
