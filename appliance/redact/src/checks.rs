//! The checksums and assignment rules that tell an identifier from a number that merely has the
//! right length: Luhn and brand ranges for cards, SSA rules for SSNs, the ABA routing checksum
//! and IBAN mod 97.
//!
//! Every function takes ASCII digits (or IBAN characters) already stripped of separators and
//! never panics on any input.

/// Whether `digits` passes the Luhn check.
pub fn luhn(digits: &[u8]) -> bool {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// One brand range: card numbers whose first `width` digits lie in `low..=high`, with one of
/// the lengths from `min_len` to `max_len`.
struct BrandRange {
    width: usize,
    low: u32,
    high: u32,
    min_len: usize,
    max_len: usize,
}

const fn range(width: usize, low: u32, high: u32, min_len: usize, max_len: usize) -> BrandRange {
    BrandRange {
        width,
        low,
        high,
        min_len,
        max_len,
    }
}

// Issuer ranges in use today. Visa's 13-digit cards are still valid, Diners' 14-digit ones too;
// Mastercard's 2-series (2221-2720) sits beside Mir (2200-2204).
const BRANDS: [BrandRange; 16] = [
    range(1, 4, 4, 13, 19),       // Visa
    range(2, 51, 55, 16, 16),     // Mastercard
    range(4, 2221, 2720, 16, 16), // Mastercard 2-series
    range(2, 34, 34, 15, 15),     // American Express
    range(2, 37, 37, 15, 15),     // American Express
    range(3, 300, 305, 14, 19),   // Diners Club International
    range(2, 36, 36, 14, 19),     // Diners Club
    range(2, 38, 39, 14, 19),     // Diners Club
    range(4, 6011, 6011, 16, 19), // Discover
    range(3, 644, 649, 16, 19),   // Discover
    range(2, 65, 65, 16, 19),     // Discover, RuPay
    range(4, 3528, 3589, 16, 19), // JCB
    range(2, 62, 62, 16, 19),     // UnionPay, Discover co-branded
    range(2, 50, 50, 13, 19),     // Maestro, Verve
    range(2, 56, 69, 13, 19),     // Maestro (56-69), RuPay
    range(4, 2200, 2204, 16, 19), // Mir
];

/// Whether `digits` is a plausible payment card number: 13 to 19 digits in a brand range, with
/// a valid Luhn check digit.
pub fn card(digits: &[u8]) -> bool {
    let len = digits.len();
    (13..=19).contains(&len) && BRANDS.iter().any(|b| in_range(b, digits)) && luhn(digits)
}

fn in_range(brand: &BrandRange, digits: &[u8]) -> bool {
    let len_ok = (brand.min_len..=brand.max_len).contains(&digits.len());
    let prefix = digits.get(..brand.width).map(number);
    len_ok && prefix.is_some_and(|p| (brand.low..=brand.high).contains(&p))
}

fn number(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0, |n, d| n * 10 + u32::from(d.wrapping_sub(b'0')))
}

/// Whether nine digits follow the SSA's rules: area not 000, 666 or 900-999, group not 00,
/// serial not 0000, and not one of the numbers published in advertising.
pub fn ssn(digits: &[u8]) -> bool {
    if digits.len() != 9 || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (area, group, serial) = (
        number(digits.get(..3).unwrap_or_default()),
        number(digits.get(3..5).unwrap_or_default()),
        number(digits.get(5..).unwrap_or_default()),
    );
    let published = digits == b"078051120" || digits == b"219099999";
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 && !published
}

/// Whether nine digits are an ABA routing number: the weighted sum (3, 7, 1) is a multiple of
/// ten and the first two digits are an assigned Federal Reserve prefix.
pub fn aba(digits: &[u8]) -> bool {
    if digits.len() != 9 || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    const WEIGHTS: [u32; 3] = [3, 7, 1];
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS.iter().cycle())
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let prefix = number(digits.get(..2).unwrap_or_default());
    let assigned =
        prefix <= 12 || (21..=32).contains(&prefix) || (61..=72).contains(&prefix) || prefix == 80;
    sum.is_multiple_of(10) && assigned
}

/// Whether `chars` (letters and digits, no spaces) is an IBAN: country letters, two check
/// digits, 11 to 30 more characters, and the whole passing mod 97.
pub fn iban(chars: &[u8]) -> bool {
    let len = chars.len();
    let shape = (15..=34).contains(&len)
        && chars.iter().take(2).all(u8::is_ascii_alphabetic)
        && chars.iter().skip(2).take(2).all(u8::is_ascii_digit)
        && chars.iter().all(u8::is_ascii_alphanumeric);
    if !shape {
        return false;
    }
    let rotated = chars.iter().skip(4).chain(chars.iter().take(4));
    let mut rem: u32 = 0;
    for c in rotated {
        let value = match c.to_ascii_uppercase() {
            d @ b'0'..=b'9' => u32::from(d - b'0'),
            l => u32::from(l - b'A') + 10,
        };
        rem = if value >= 10 {
            (rem * 100 + value) % 97
        } else {
            (rem * 10 + value) % 97
        };
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_of_every_brand() {
        for number in [
            "4111111111111111", // Visa
            "4222222222222",    // Visa, 13 digits
            "5555555555554444", // Mastercard
            "2223003122003222", // Mastercard 2-series
            "378282246310005",  // Amex
            "30569309025904",   // Diners, 14 digits
            "6011111111111117", // Discover
            "3530111333300000", // JCB
            "6200000000000005", // UnionPay
            "6759649826438453", // Maestro
            "2200000000000004", // Mir
        ] {
            assert!(card(number.as_bytes()), "{number}");
        }
    }

    #[test]
    fn refuses_bad_check_digit_and_unknown_ranges() {
        assert!(!card(b"4111111111111112"));
        assert!(!card(b"1234567812345670"), "no brand starts with 1");
        assert!(!card(b"5555555555554"), "Mastercard is 16 digits");
        assert!(!card(b"41111111111"));
    }

    #[test]
    fn ssn_rules() {
        assert!(ssn(b"123456789"));
        assert!(ssn(b"536225789"));
        for bad in [
            "000123456",
            "666123456",
            "912345678",
            "123004567",
            "123450000",
            "078051120",
        ] {
            assert!(!ssn(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn aba_checksum() {
        assert!(aba(b"021000021"));
        assert!(aba(b"011401533"));
        assert!(aba(b"121000248"));
        assert!(!aba(b"021000022"));
        assert!(!aba(b"990000009"), "unassigned prefix");
    }

    #[test]
    fn iban_mod_97() {
        assert!(iban(b"GB82WEST12345698765432"));
        assert!(iban(b"DE89370400440532013000"));
        assert!(iban(b"FR1420041010050500013M02606"));
        assert!(!iban(b"GB82WEST12345698765433"));
        assert!(!iban(b"GB82"));
    }
}
