//! Places: LOCATION, STREET_ADDRESS, ZIP_CODE and NRP, positives and
//! near misses.

use amanah_pii::recognizers::places;
use amanah_pii::{Analyzer, EntityType};

fn found(text: &str, entity: EntityType) -> Vec<String> {
    let analyzer = places::register(Analyzer::builder()).build();
    analyzer
        .analyze_only(text, &[entity])
        .iter()
        .map(|d| text[d.start..d.end].to_string())
        .collect()
}

fn loc(text: &str) -> Vec<String> {
    found(text, EntityType::Location)
}

#[test]
fn countries_states_cities() {
    assert_eq!(loc("I'm originally from United States"), ["United States"]);
    assert_eq!(
        loc("We spent a week in New South Wales."),
        ["New South Wales"]
    );
    assert_eq!(loc("She moved to São Paulo last year"), ["São Paulo"]);
    assert_eq!(loc("Is it cold in Manchester today?"), ["Manchester"]);
    assert_eq!(loc("I am from CANADA"), ["CANADA"]);
    assert_eq!(loc("i live in germany now"), ["germany"]);
}

#[test]
fn unknown_place_after_strong_context() {
    assert_eq!(
        loc("What's the weather like in Cerkno on Friday?"),
        ["Cerkno"]
    );
    assert_eq!(loc("Later we returned to Melo by helicopter."), ["Melo"]);
}

#[test]
fn common_word_places_need_context() {
    assert!(loc("Reading is fun").is_empty());
    assert!(loc("Nice work on the report.").is_empty());
    assert!(loc("I had a Turkey sandwich for lunch").is_empty());
    assert!(loc("Of course it works.").is_empty());
    assert_eq!(loc("He was born in Reading"), ["Reading"]);
}

#[test]
fn place_then_country() {
    assert_eq!(
        loc("I live in Velehrad, Czech Republic."),
        ["Velehrad", "Czech Republic"]
    );
}

#[test]
fn street_addresses() {
    let a = |t: &str| found(t, EntityType::StreetAddress);
    assert_eq!(
        a("Send it to 1600 Pennsylvania Avenue NW, Washington, DC 20500 please"),
        ["1600 Pennsylvania Avenue NW, Washington, DC 20500"]
    );
    assert_eq!(
        a("Flat 3, 12 High Street, Bath BA1 1AA"),
        ["Flat 3, 12 High Street, Bath BA1 1AA"]
    );
    assert_eq!(a("My address is 42 Elm St Apt 4B"), ["42 Elm St Apt 4B"]);
    assert_eq!(
        a("Wir wohnen in der Hauptstraße 12 seit Mai."),
        ["Hauptstraße 12"]
    );
    assert_eq!(
        a("Le bureau est au 12 rue de la Paix, Paris"),
        ["12 rue de la Paix"]
    );
    assert_eq!(
        a("PSC 1234, Box 5678\nAPO AE 09463"),
        ["PSC 1234, Box 5678\nAPO AE 09463"]
    );
}

#[test]
fn address_near_misses() {
    let a = |t: &str| found(t, EntityType::StreetAddress);
    assert!(a("I watched 12 Monkeys yesterday").is_empty());
    assert!(a("Wire 2,500 EUR to the account by Friday").is_empty());
    assert!(a("During 1994, the company grew.").is_empty());
    assert!(a("Upgrade to Windows 10 today").is_empty());
    assert!(a("We met on 12 March 2020").is_empty());
}

#[test]
fn zip_codes() {
    let z = |t: &str| found(t, EntityType::ZipCode);
    assert_eq!(z("My zip code is 90210"), ["90210"]);
    assert_eq!(z("Postcode: SW1A 1AA"), ["SW1A 1AA"]);
    assert_eq!(z("Send it to M1 1AE or B33 8TH."), ["M1 1AE", "B33 8TH"]);
    assert_eq!(z("ZIP: 12345-6789"), ["12345-6789"]);
    assert!(z("Order 55213 shipped on time").is_empty());
    assert!(z("We sold 12345 units").is_empty());
}

#[test]
fn nrp() {
    let n = |t: &str| found(t, EntityType::Nrp);
    assert_eq!(n("I am austrian but I live in Italy."), ["austrian"]);
    assert_eq!(n("It serves great Czech food."), ["Czech"]);
    assert_eq!(n("She is a devout Catholic."), ["Catholic"]);
    assert_eq!(n("the Chechen government"), ["Chechen"]);
    assert!(n("Green tea is nice").is_empty());
    assert!(n("White wine or red?").is_empty());
    assert!(n("Translate to French: hello").is_empty());
    assert!(n("He lives in the Czech Republic").is_empty());
}

#[test]
fn offsets_are_char_boundaries() {
    let analyzer = places::register(Analyzer::builder()).build();
    for text in [
        "Ünïcödé in Köln, Straße 5 — 東京 to São Paulo",
        "ZIP: 🙂 12345",
        "12 Ærøvej 3\n Suite 2\n Ærøskøbing\n Denmark 5970",
    ] {
        for d in analyzer.analyze(text) {
            assert!(text.is_char_boundary(d.start) && text.is_char_boundary(d.end));
        }
    }
}

#[test]
fn address_tails_and_shapes() {
    let a = |t: &str| found(t, EntityType::StreetAddress);
    // a tail over units, a city with a link word, a region and a code
    assert_eq!(
        a("located at 9734 Democracia 4098\nMontealegre del Castillo\n, AB\n Spain 54810"),
        ["9734 Democracia 4098\nMontealegre del Castillo\n, AB\n Spain 54810"]
    );
    // the town after a unit
    assert_eq!(
        a("Our offices are at 60717 Viale Augusto 23 Apt. 489 Sezze Latina"),
        ["60717 Viale Augusto 23 Apt. 489 Sezze Latina"]
    );
    // a numbered name kept by a tail with a postal code
    assert_eq!(
        a("Send it to 2389 81 Chalkokondili\nStockelsdorf\n, SH\n 20952"),
        ["2389 81 Chalkokondili\nStockelsdorf\n, SH\n 20952"]
    );
    // US street suffixes (USPS list)
    assert_eq!(
        a("Ship to 12 Amelie Mountains\n Apt. 856"),
        ["12 Amelie Mountains\n Apt. 856"]
    );
    // a street prefix before lower-case words
    assert_eq!(
        a("I'd like a taxi to Trg revolucije 59."),
        ["Trg revolucije 59"]
    );
    assert_eq!(
        a("The address is 23876 115 Rue de bayrout Suite 249"),
        ["23876 115 Rue de bayrout Suite 249"]
    );
    // lower-case text
    assert_eq!(
        a("the address is 629 4308 morris street suite 151"),
        ["629 4308 morris street suite 151"]
    );
    // a country with its qualifier
    assert_eq!(
        a("Send to 30267 Main Street Suite 523 Nicosia Cyprus (Greek) please"),
        ["30267 Main Street Suite 523 Nicosia Cyprus (Greek)"]
    );
}

#[test]
fn intersections() {
    let a = |t: &str| found(t, EntityType::StreetAddress);
    assert_eq!(
        a("The office is at the corner of 99 Derry Street and Inarkaevich Mill"),
        ["the corner of 99 Derry Street and Inarkaevich Mill"]
    );
    assert_eq!(
        a("Meet me at the corner of Auerstrasse 44 and Ditte Passage."),
        ["the corner of Auerstrasse 44 and Ditte Passage"]
    );
    assert_eq!(
        a("Please send it to Laura and Grote Baan 477."),
        ["Laura and Grote Baan 477"]
    );
}

#[test]
fn address_tail_near_misses() {
    let a = |t: &str| found(t, EntityType::StreetAddress);
    // a phone number on the next line is no postal code
    assert_eq!(
        a("532 Tekniikantie 8\n Apt. 912\n PUNKAHARJU\n Finland 04882\n041 164 9606"),
        ["532 Tekniikantie 8\n Apt. 912\n PUNKAHARJU\n Finland 04882"]
    );
    // a numbered name without a unit or postal code
    assert!(a("We hired 3 New Engineers last week").is_empty());
    // an IP address after a word
    assert!(a("Ping 174.219.65.184 and tell me").is_empty());
    // lower-case near misses: no street word, or a stop word inside
    assert!(a("i need 2 more days to finish").is_empty());
    assert!(a("we saw 3 dogs in the street").is_empty());
    // "place" is an English verb
    assert!(a("please place 5 orders today").is_empty());
    // "and" between a pronoun and a street
    assert!(a("Then I and Main 5 went home").is_empty());
}

#[test]
fn region_codes_in_address_last_lines() {
    assert_eq!(
        loc("Ship to:\n12 Elm Street\nSpringfield IL 62704"),
        ["Springfield", "IL"]
    );
    assert_eq!(
        loc("Bonnie Tougas\n3979 Reserve St\nSeeleys Bay ON K0H 2N0"),
        ["Seeleys Bay", "ON"]
    );
    assert_eq!(loc("Write to Dayton, OH 45402"), ["Dayton", "OH"]);
    // Two capitals before a number are not a region unless a state.
    assert!(loc("Ticket QX 45402").is_empty());
    assert!(loc("Invoice\nTotal due EUR 45402").is_empty());
}
