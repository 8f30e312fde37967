//! The password policy through the public API: each violation on its own,
//! all violations at once, and the production defaults on typical choices.

use amanah_crypto::password::{
    is_common_password, Params, PasswordHasher, PasswordPolicy, PolicyViolation,
};
use amanah_crypto::SecretString;

fn check(candidate: &str) -> Result<(), Vec<PolicyViolation>> {
    PasswordPolicy::default().check(candidate, &["mariam", "m.haddad@example.org"])
}

#[test]
fn defaults_are_the_documented_ones() {
    let p = PasswordPolicy::default();
    assert_eq!(p.min_chars, 12);
    assert_eq!(p.max_chars, 256);
    assert!(p.require_letter && p.require_digit && p.require_symbol && p.reject_common);
}

#[test]
fn good_passphrases_pass() {
    for good in [
        "correct-Horse-7-battery",
        "tea at 5 in the garden",
        "كلمة-سر-طويلة-7",
        "Zq8!vL2#nW4$",
    ] {
        assert_eq!(check(good), Ok(()), "{good}");
    }
}

#[test]
fn each_violation_alone() {
    use PolicyViolation::*;
    let cases: &[(&str, PolicyViolation)] = &[
        ("short1!a", TooShort { min: 12 }),
        ("1234-5678-9012-!", NoLetter),
        ("no-digits-here-at-all", NoDigit),
        ("nosymbols4anyone", NoSymbol),
        ("Password123!", Common),
        ("!!Dragon2024!!", Common),
        ("mariam-loves-7-cats", ContainsContext),
        ("MARIAM-loves-7-cats", ContainsContext),
        ("x-M.Haddad-9-quiet", ContainsContext),
    ];
    for (candidate, expected) in cases {
        assert_eq!(check(candidate), Err(vec![expected.clone()]), "{candidate}");
    }
    let long = format!("{}-7", "a".repeat(300));
    assert_eq!(check(&long), Err(vec![TooLong { max: 256 }]));
}

#[test]
fn every_violation_reported_together() {
    use PolicyViolation::*;
    assert_eq!(
        check("short1!"),
        Err(vec![TooShort { min: 12 }]),
        "short but otherwise complete"
    );
    assert_eq!(check("abcdefghijkl"), Err(vec![NoDigit, NoSymbol]));
    assert_eq!(
        check("monkey"),
        Err(vec![TooShort { min: 12 }, NoDigit, NoSymbol, Common])
    );
    let r = check("abc").unwrap_err();
    assert!(r.contains(&TooShort { min: 12 }));
    assert!(r.contains(&NoDigit));
    assert!(r.contains(&NoSymbol));
    assert_eq!(
        check(""),
        Err(vec![TooShort { min: 12 }, NoLetter, NoDigit, NoSymbol])
    );
    assert_eq!(
        check("mariam"),
        Err(vec![
            TooShort { min: 12 },
            NoDigit,
            NoSymbol,
            ContainsContext
        ])
    );
}

#[test]
fn characters_are_unicode_scalar_values() {
    // Ten two-byte letters, a digit and a symbol: 12 characters, 22 bytes,
    // exactly the minimum. Six letters are 14 bytes but only 8 characters:
    // counting bytes would let them pass.
    let twelve = "بببببببببب7-";
    assert_eq!(check(twelve), Ok(()));
    let short = "بببببب7-";
    assert_eq!(
        check(short),
        Err(vec![PolicyViolation::TooShort { min: 12 }])
    );
}

#[test]
fn short_context_words_are_ignored() {
    let p = PasswordPolicy::default();
    assert_eq!(
        p.check("correct-Horse-7-battery", &["co", "or@x.y"]),
        Ok(())
    );
    assert_eq!(
        p.check("correct-Horse-7-battery", &["hor"]),
        Err(vec![PolicyViolation::ContainsContext])
    );
}

#[test]
fn relaxed_policy_turns_rules_off() {
    let p = PasswordPolicy {
        require_symbol: false,
        require_digit: false,
        reject_common: false,
        ..PasswordPolicy::default()
    };
    assert_eq!(p.check("abcdefghijkl", &[]), Ok(()));
}

#[test]
fn messages_are_user_facing_and_omit_the_password() {
    let candidate = "Password123!";
    for v in check(candidate).unwrap_err() {
        let text = v.to_string();
        assert!(text.starts_with("Password "), "{text}");
        assert!(!text.contains(candidate));
    }
    assert_eq!(
        PolicyViolation::TooShort { min: 12 }.to_string(),
        "Password must be at least 12 characters long."
    );
}

#[test]
fn common_list_is_case_insensitive() {
    assert!(is_common_password("LetMeIn"));
    assert!(is_common_password("Monkey!!"));
    assert!(!is_common_password("correct-Horse-7-battery"));
}

#[test]
fn hasher_through_the_public_api() {
    let h = PasswordHasher::new(Params::insecure_for_tests());
    let phc = h
        .hash(&SecretString::new("correct-Horse-7-battery".into()))
        .unwrap();
    assert!(h.verify("correct-Horse-7-battery", &phc));
    assert!(!h.verify("correct-Horse-7-Battery", &phc));
    assert!(!h.verify("correct-Horse-7-battery", "$argon2id$v=19$garbage"));
    h.verify_dummy("correct-Horse-7-battery");
    assert!(PasswordHasher::default().needs_rehash(&phc));
}
