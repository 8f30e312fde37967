//! Runs the recognizers and resolves overlapping candidates.

use std::collections::BTreeMap;

use crate::{Detection, EntityType, Recognizer};

/// The default floor: candidates scoring below it are dropped.
pub const DEFAULT_MIN_SCORE: f32 = 0.4;

/// A set of recognizers and the rules to combine what they find.
#[derive(Debug)]
pub struct Analyzer {
    recognizers: Vec<Box<dyn Recognizer>>,
    min_score: f32,
}

/// Builds an [`Analyzer`].
#[derive(Debug, Default)]
pub struct AnalyzerBuilder {
    recognizers: Vec<Box<dyn Recognizer>>,
    min_score: Option<f32>,
}

impl AnalyzerBuilder {
    pub fn recognizer(mut self, r: impl Recognizer + 'static) -> Self {
        self.recognizers.push(Box::new(r));
        self
    }

    pub fn boxed(mut self, r: Box<dyn Recognizer>) -> Self {
        self.recognizers.push(r);
        self
    }

    /// Candidates scoring below `score` are dropped (default
    /// [`DEFAULT_MIN_SCORE`]).
    pub fn min_score(mut self, score: f32) -> Self {
        self.min_score = Some(score);
        self
    }

    pub fn build(self) -> Analyzer {
        Analyzer {
            recognizers: self.recognizers,
            min_score: self.min_score.unwrap_or(DEFAULT_MIN_SCORE),
        }
    }
}

impl Analyzer {
    pub fn builder() -> AnalyzerBuilder {
        AnalyzerBuilder::default()
    }

    /// Every recognizer this crate ships.
    pub fn standard() -> Self {
        crate::recognizers::standard(Self::builder()).build()
    }

    /// The detections in `text`, sorted by start, never overlapping.
    pub fn analyze(&self, text: &str) -> Vec<Detection> {
        let mut candidates = Vec::new();
        for r in &self.recognizers {
            r.find(text, &mut candidates);
        }
        candidates.retain(|d| {
            d.score >= self.min_score
                && !d.is_empty()
                && d.end <= text.len()
                && text.is_char_boundary(d.start)
                && text.is_char_boundary(d.end)
        });
        resolve_overlaps(candidates)
    }

    /// Only the detections of the given types.
    pub fn analyze_only(&self, text: &str, types: &[EntityType]) -> Vec<Detection> {
        let mut out = self.analyze(text);
        out.retain(|d| types.contains(&d.entity));
        out
    }
}

/// Keeps the best of overlapping candidates: higher score, then the more
/// specific type, then the longer span, then the earlier one. Greedy over
/// that order, so a kept span is never displaced by a worse one.
pub fn resolve_overlaps(mut candidates: Vec<Detection>) -> Vec<Detection> {
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.entity.specificity().cmp(&a.entity.specificity()))
            .then(b.len().cmp(&a.len()))
            .then(a.start.cmp(&b.start))
    });
    // start -> detection, for the accepted spans.
    let mut kept: BTreeMap<usize, Detection> = BTreeMap::new();
    for c in candidates {
        let before = kept.range(..c.end).next_back().map(|(_, d)| d);
        let clashes = before.is_some_and(|d| d.overlaps(&c));
        if !clashes {
            kept.insert(c.start, c);
        }
    }
    kept.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(start: usize, end: usize, entity: EntityType, score: f32) -> Detection {
        Detection::new(start, end, entity, score, "test")
    }

    #[test]
    fn higher_score_wins_then_specificity_then_length() {
        let out = resolve_overlaps(vec![
            d(0, 10, EntityType::Person, 0.6),
            d(5, 15, EntityType::EmailAddress, 0.9),
        ]);
        assert_eq!(out, vec![d(5, 15, EntityType::EmailAddress, 0.9)]);
        let out = resolve_overlaps(vec![
            d(0, 16, EntityType::PhoneNumber, 0.8),
            d(0, 16, EntityType::CreditCard, 0.8),
        ]);
        assert_eq!(out[0].entity, EntityType::CreditCard);
        let out = resolve_overlaps(vec![
            d(0, 4, EntityType::Person, 0.8),
            d(0, 9, EntityType::Person, 0.8),
        ]);
        assert_eq!(out, vec![d(0, 9, EntityType::Person, 0.8)]);
    }

    #[test]
    fn disjoint_spans_are_all_kept_in_order() {
        let out = resolve_overlaps(vec![
            d(20, 25, EntityType::Age, 0.5),
            d(0, 5, EntityType::Person, 0.5),
            d(5, 10, EntityType::Location, 0.5),
        ]);
        let starts: Vec<usize> = out.iter().map(|d| d.start).collect();
        assert_eq!(starts, [0, 5, 20]);
    }

    proptest::proptest! {
        #[test]
        fn kept_spans_never_overlap(spans in proptest::collection::vec((0usize..200, 1usize..30, 0u8..100), 0..60)) {
            let candidates: Vec<Detection> = spans
                .iter()
                .map(|&(s, l, score)| d(s, s + l, EntityType::Person, f32::from(score) / 100.0))
                .collect();
            let out = resolve_overlaps(candidates.clone());
            for w in out.windows(2) {
                proptest::prop_assert!(w[0].end <= w[1].start);
            }
            // Every candidate is kept or overlaps a kept one at least as good.
            for c in &candidates {
                proptest::prop_assert!(out.iter().any(|k| k.overlaps(c) && k.score >= c.score));
            }
        }

        /// A caller may resolve every candidate and apply its own floor
        /// afterwards (the gateway's `privacy.min_score`): that keeps
        /// exactly what applying the floor first keeps.
        #[test]
        fn a_floor_after_resolution_equals_a_floor_before(
            spans in proptest::collection::vec((0usize..120, 1usize..20, 0u8..10, 0usize..3), 0..50),
            floor in 0u8..10,
        ) {
            let entities = [EntityType::Person, EntityType::Location, EntityType::EmailAddress];
            let candidates: Vec<Detection> = spans
                .iter()
                .map(|&(s, l, score, e)| d(s, s + l, entities[e], f32::from(score) / 10.0))
                .collect();
            let floor = f32::from(floor) / 10.0;
            let mut after = resolve_overlaps(candidates.clone());
            after.retain(|c| c.score >= floor);
            let before = resolve_overlaps(candidates.into_iter().filter(|c| c.score >= floor).collect());
            proptest::prop_assert_eq!(after, before);
        }
    }
}
