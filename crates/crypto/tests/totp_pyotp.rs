//! Interoperability: codes computed by an independent implementation (pyotp,
//! the library behind many Python services) must match ours. The fixture
//! carries the script that produced it.

use amanah_crypto::totp::{Totp, TotpSecret};

const FIXTURE: &str = include_str!("fixtures/pyotp_codes.txt");

#[test]
fn codes_match_pyotp() {
    let mut checked = 0;
    for line in FIXTURE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [b32, time, digits, period, code] = fields[..] else {
            panic!("bad fixture line {line:?}");
        };
        let secret = TotpSecret::from_base32(b32).expect("fixture secret decodes");
        assert_eq!(secret.to_base32().expose(), b32, "base32 round trip");
        let totp = Totp::new(digits.parse().unwrap(), period.parse().unwrap()).unwrap();
        let time: i64 = time.parse().unwrap();
        assert_eq!(totp.code_at(&secret, time), code, "{line}");
        assert_eq!(
            totp.verify(&secret, code, time, 0, None),
            Some(totp.step_at(time)),
            "{line}"
        );
        checked += 1;
    }
    assert_eq!(checked, 144, "every fixture line was checked");
}
