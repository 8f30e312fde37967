//! Checksums and measures that turn a pattern match into evidence.

/// Luhn (mod 10) over the ASCII digits of `s`; other characters are
/// skipped. False for fewer than two digits.
pub fn luhn(s: &str) -> bool {
    let mut sum = 0u32;
    let mut count = 0usize;
    for (i, b) in s.bytes().rev().filter(u8::is_ascii_digit).enumerate() {
        let mut v = u32::from(b - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
        count += 1;
    }
    count >= 2 && sum.is_multiple_of(10)
}

/// ISO 13616 IBAN check: country code, two check digits, mod 97 == 1 over
/// the rearranged number. Spaces are ignored; letters may be either case.
pub fn iban_mod97(s: &str) -> bool {
    let compact: Vec<u8> = s
        .bytes()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if compact.len() < 15 || compact.len() > 34 || !compact.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    if !compact[..2].iter().all(u8::is_ascii_alphabetic)
        || !compact[2..4].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let mut remainder = 0u32;
    for &b in compact[4..].iter().chain(&compact[..4]) {
        let v = if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            u32::from(b - b'A') + 10
        };
        remainder = if v >= 10 {
            (remainder * 100 + v) % 97
        } else {
            (remainder * 10 + v) % 97
        };
    }
    remainder == 1
}

/// NHS number check digit (mod 11) over ten digits; other characters are
/// skipped.
pub fn nhs_mod11(s: &str) -> bool {
    let digits: Vec<u32> = s
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| u32::from(b - b'0'))
        .collect();
    if digits.len() != 10 {
        return false;
    }
    let sum: u32 = digits[..9]
        .iter()
        .enumerate()
        .map(|(i, d)| d * (10 - i as u32))
        .sum();
    let check = 11 - sum % 11;
    let check = if check == 11 { 0 } else { check };
    check != 10 && check == digits[9]
}

/// Shannon entropy of `s` in bits per character.
pub fn shannon_entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_test_cards_and_refuses_neighbours() {
        assert!(luhn("4111 1111 1111 1111"));
        assert!(luhn("5500-0000-0000-0004"));
        assert!(luhn("378282246310005"));
        assert!(!luhn("4111 1111 1111 1112"));
        assert!(!luhn("7"));
    }

    #[test]
    fn iban_checks() {
        assert!(iban_mod97("GB82 WEST 1234 5698 7654 32"));
        assert!(iban_mod97("DE89370400440532013000"));
        assert!(iban_mod97("fr1420041010050500013m02606"));
        assert!(!iban_mod97("GB82 WEST 1234 5698 7654 33"));
        assert!(!iban_mod97("GB82"));
        assert!(!iban_mod97("1282WEST12345698765432"));
    }

    #[test]
    fn nhs_checks() {
        assert!(nhs_mod11("943 476 5919"));
        assert!(!nhs_mod11("943 476 5918"));
        assert!(!nhs_mod11("943 476 591"));
    }

    #[test]
    fn entropy_orders_random_above_repetitive() {
        assert!(shannon_entropy("aaaaaaaa") < 0.01);
        assert!(shannon_entropy("Xq7#pL2vR9!mK4wZ") > 3.5);
    }
}
