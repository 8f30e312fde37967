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

#[cfg(test)]
pub(crate) mod test_support {
    use crate::Recognizer;

    /// The texts a recognizer finds in `text` at the analyzer's default
    /// floor or above.
    pub(crate) fn spans(r: &dyn Recognizer, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        r.find(text, &mut out);
        out.iter()
            .filter(|d| d.score >= crate::analyzer::DEFAULT_MIN_SCORE)
            .map(|d| text[d.start..d.end].to_string())
            .collect()
    }
}
