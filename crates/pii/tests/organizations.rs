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

#[test]
fn more_head_words_and_shapes() {
    assert_eq!(
        org("home city Lyss: CKD Corporation and John Hancock Investors Trust."),
        ["CKD Corporation", "John Hancock Investors Trust"]
    );
    assert_eq!(
        org("She consults for Charles River Associates now"),
        ["Charles River Associates"]
    );
    assert_eq!(
        org("Where is Fuwei Films (Holdings) Co. Ltd. located?"),
        ["Fuwei Films (Holdings) Co. Ltd."]
    );
    assert_eq!(
        org("The address of CREA HOLDINGSInc. is here"),
        ["CREA HOLDINGSInc."]
    );
    assert_eq!(org("MEDIASEEKinc. is new"), ["MEDIASEEKinc."]);
    assert_eq!(
        org("She joined Legato Merger Corp. II on Monday"),
        ["Legato Merger Corp. II"]
    );
    assert_eq!(
        org("The address of James Halstead PLC Preferred Shares is"),
        ["James Halstead PLC Preferred Shares"]
    );
    assert_eq!(
        org("Sunstone Hotel Investors Inc Preferred Shares Series E, Liberty"),
        ["Sunstone Hotel Investors Inc Preferred Shares Series E"]
    );
}

#[test]
fn headquarters_and_listings() {
    assert_eq!(
        org("Where is Lumen Tridd headquartered? I think near Lyon"),
        ["Lumen Tridd"]
    );
    assert_eq!(org("We toured Munetrix's headquarters today"), ["Munetrix"]);
    assert_eq!(
        org("her ETFS FORE/3X LONG EUR SHORT USD resignation letter"),
        ["ETFS FORE/3X LONG EUR SHORT USD"]
    );
    assert_eq!(
        org("Does the IBAN belong to PIMCO FXD/SHS GBP?"),
        ["PIMCO FXD/SHS GBP"]
    );
    assert_eq!(
        org("I used to work for XTRACKERS NIKKEL 22/JPY as a clerk"),
        ["XTRACKERS NIKKEL 22/JPY"]
    );
}

#[test]
fn headquarters_and_listings_near_misses() {
    // slashes that are no listing
    assert!(org("Configure TCP/IP on the router").is_empty());
    assert!(org("The EUR/USD rate is 1.08 today").is_empty());
    assert!(org("It runs 24/7 and costs N/A").is_empty());
    assert!(org("I LOVE AC/DC AND TCP/IP BOOKS").is_empty());
    // lower-case words before "headquarters"
    assert!(org("the new headquarters opened").is_empty());
    // a zinc shipment is no company
    assert!(org("They mined zinc. The price rose").is_empty());
}
