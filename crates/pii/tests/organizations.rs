//! ORGANIZATION: positives and near misses.

use amanah_pii::recognizers::organizations;
use amanah_pii::{Analyzer, EntityType};

fn org(text: &str) -> Vec<String> {
    let analyzer = organizations::register(Analyzer::builder()).build();
    analyzer
        .analyze_only(text, &[EntityType::Organization])
        .iter()
        .map(|d| text[d.start..d.end].to_string())
        .collect()
}

#[test]
fn legal_suffixes() {
    assert_eq!(
        org("She works for Acme Widgets Inc. in Ohio"),
        ["Acme Widgets Inc."]
    );
    assert_eq!(
        org("During 1994, Hind Syntex Ltd invested heavily"),
        ["Hind Syntex Ltd"]
    );
    assert_eq!(
        org("SANIX INCORPORATED filed a report"),
        ["SANIX INCORPORATED"]
    );
    assert_eq!(org("Shares of Siemens AG rose"), ["Siemens AG"]);
    assert_eq!(
        org("Contact Tata Steel Co.Ltd. today"),
        ["Tata Steel Co.Ltd."]
    );
    assert_eq!(
        org("Polyplex Corporation Limited"),
        ["Polyplex Corporation Limited"]
    );
}

#[test]
fn possessive_and_glued_forms() {
    assert_eq!(
        org("including Heartland Express Inc.'s Christie Tury"),
        ["Heartland Express Inc."]
    );
    assert_eq!(org("Abner is from RoadwayCorp"), ["RoadwayCorp"]);
}

#[test]
fn head_words() {
    assert_eq!(
        org("He studied at Stanford University."),
        ["Stanford University"]
    );
    assert_eq!(org("A loan from the Bank of Ireland"), ["Bank of Ireland"]);
}

#[test]
fn employment_context() {
    assert_eq!(org("She works at Initech as a tester"), ["Initech"]);
}

#[test]
fn near_misses() {
    assert!(org("I baked an Apple pie").is_empty());
    assert!(org("WHAT ??? I DON'T KNOW WHAT TO PRESS NEXT").is_empty());
    assert!(org("Umbrete SE 41806").is_empty());
    assert!(org("the company grew fast").is_empty());
    assert!(org("Inc. was the first word").is_empty());
}
