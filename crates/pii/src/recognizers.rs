//! The recognizers this crate ships, one module per family.

use crate::AnalyzerBuilder;

pub mod contact;
pub mod financial;
pub mod identifiers;
pub mod network;
pub mod organizations;
pub mod person;
pub mod places;
pub mod secrets;
pub mod temporal;

/// Adds every shipped recognizer to `builder`.
pub fn standard(builder: AnalyzerBuilder) -> AnalyzerBuilder {
    let builder = contact::register(builder);
    let builder = financial::register(builder);
    let builder = identifiers::register(builder);
    let builder = network::register(builder);
    let builder = person::register(builder);
    let builder = places::register(builder);
    let builder = organizations::register(builder);
    let builder = secrets::register(builder);
    temporal::register(builder)
}
