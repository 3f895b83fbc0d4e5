//! Unified social credit codes (统一社会信用代码, GB 32100-2015) and the organisation codes
//! inside them (组织机构代码, GB 11714-1997): their check characters, and codes for the
//! invented entities of a drop.
//!
//! A credit code is 18 characters of [`ALPHABET`], a character's value being its index: the
//! registering authority (position 1; `9` for market regulation, 工商), the kind of entity
//! (2), the GB/T 2260 area code (3–8), the organisation code (9–17: 8 body characters and
//! their own check character) and the check character (18).

/// The 31 characters of a credit code, in the order of their values 0–30: the digits and the
/// capital letters without I, O, S, V and Z.
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// The weights of positions 1–17: 3^(i−1) mod 31.
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// The weights of an organisation code's 8 body characters.
const ORGANISATION_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// The check character (position 18) of a credit code's first 17 characters: 31 − (Σ value ×
/// weight mod 31), with 31 written `0`. `None` unless `first17` is 17 characters of
/// [`ALPHABET`].
pub fn credit_code_check(first17: &str) -> Option<char> {
    if first17.chars().count() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, weight) in first17.chars().zip(WEIGHTS) {
        // The alphabet is ASCII: a byte offset is the character's value.
        sum += ALPHABET.find(c)? as u32 * weight;
    }
    ALPHABET.chars().nth(((31 - sum % 31) % 31) as usize)
}

/// Whether `code` is 18 characters of [`ALPHABET`] whose last is the check character of the
/// first 17.
pub fn is_valid_credit_code(code: &str) -> bool {
    let Some((split, last)) = code.char_indices().nth(17) else { return false };
    code.chars().count() == 18 && credit_code_check(&code[..split]) == Some(last)
}

/// The check character of an organisation code's 8 body characters (digits, or capital
/// letters worth 10–35): 11 − (Σ value × weight mod 11), with 10 written `X` and 11 `0`.
/// `None` unless `body` is 8 such characters.
pub fn organisation_code_check(body: &str) -> Option<char> {
    if body.len() != 8 {
        return None;
    }
    let mut sum = 0;
    for (c, weight) in body.chars().zip(ORGANISATION_WEIGHTS) {
        if c.is_ascii_lowercase() {
            return None;
        }
        sum += c.to_digit(36)? * weight;
    }
    match 11 - sum % 11 {
        10 => Some('X'),
        11 => Some('0'),
        digit => char::from_digit(digit, 10),
    }
}

/// The credit code of an invented entity: registered by market regulation (`9`), of `kind`
/// (`1` an enterprise, `2` an individual business, `3` a farmers' cooperative), in the 6-digit
/// GB/T 2260 `area`, its organisation code's body the 8 digits that `serial` maps to. Distinct
/// serials below 10^8 give distinct codes in one area. `None` when `kind` or `area` cannot
/// stand in a credit code.
pub fn invented_credit_code(kind: char, area: &str, serial: u64) -> Option<String> {
    if !matches!(kind, '1'..='3') || area.len() != 6 || !area.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // An odd multiplier that 5 does not divide is invertible modulo 10^8: one serial, one
    // body, and neighbouring serials do not give neighbouring codes.
    let body = format!("{:08}", (serial.wrapping_mul(7_919_333).wrapping_add(31_415_926)) % 100_000_000);
    let first17 = format!("9{kind}{area}{body}{}", organisation_code_check(&body)?);
    let check = credit_code_check(&first17)?;
    Some(format!("{first17}{check}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standards_examples_check() {
        // GB 11714-1997's example D2143569-X: D = 13;
        // 13·3 + 2·7 + 1·9 + 4·10 + 3·5 + 5·8 + 6·4 + 9·2 = 39+14+9+40+15+40+24+18 = 199;
        // 199 mod 11 = 1; 11 − 1 = 10 → X.
        assert_eq!(organisation_code_check("D2143569"), Some('X'));
        // The example printed in explanations of GB 32100, 91350100M000100Y43: values
        // 9 1 3 5 0 1 0 0 M=21 0 0 0 1 0 0 Y=30 4, times the weights:
        // 9+3+27+135+0+26+0+0+420+0+0+0+8+0+0+900+112 = 1640; 1640 mod 31 = 28 (31·52 = 1612);
        // 31 − 28 = 3.
        assert_eq!(credit_code_check("91350100M000100Y4"), Some('3'));
        assert!(is_valid_credit_code("91350100M000100Y43"));
        // Its organisation code M000100Y-4: M = 22, Y = 34 here;
        // 22·3 + 1·5 + 34·2 = 66+5+68 = 139; 139 mod 11 = 7; 11 − 7 = 4.
        assert_eq!(organisation_code_check("M000100Y"), Some('4'));
    }

    #[test]
    fn a_code_built_by_hand_checks() {
        // An invented enterprise in 中原区 (410102), organisation body 12345678:
        // 1·3 + 2·7 + 3·9 + 4·10 + 5·5 + 6·8 + 7·4 + 8·2 = 3+14+27+40+25+48+28+16 = 201;
        // 201 mod 11 = 3; 11 − 3 = 8.
        assert_eq!(organisation_code_check("12345678"), Some('8'));
        // 9 1 4 1 0 1 0 2 1 2 3 4 5 6 7 8 8 times the weights:
        // 9+3+36+27+0+26+0+34+20+58+75+52+40+144+70+240+224 = 1058; 1058 mod 31 = 4
        // (31·34 = 1054); 31 − 4 = 27 → U.
        assert_eq!(credit_code_check("91410102123456788"), Some('U'));
        assert!(is_valid_credit_code("91410102123456788U"));
        assert!(!is_valid_credit_code("91410102123456788T"));
        // The wrap-arounds: a sum of 0 gives 31 → 0, and in GB 11714 11 → 0.
        assert_eq!(credit_code_check("00000000000000000"), Some('0'));
        assert_eq!(organisation_code_check("00000000"), Some('0'));
    }

    #[test]
    fn what_cannot_be_a_code_is_refused() {
        assert_eq!(credit_code_check("9141010212345678"), None);
        assert_eq!(credit_code_check("914101021234567888"), None);
        assert_eq!(credit_code_check("91410102I23456788"), None);
        assert!(!is_valid_credit_code("91410102I23456788U"));
        assert!(!is_valid_credit_code("91410102123456788"));
        assert!(!is_valid_credit_code("91410102123456788U0"));
        assert!(!is_valid_credit_code("9141010212345678８U"));
        assert_eq!(organisation_code_check("d2143569"), None);
        assert_eq!(organisation_code_check("D214356"), None);
        assert_eq!(invented_credit_code('4', "410102", 1), None);
        assert_eq!(invented_credit_code('1', "4101", 1), None);
    }

    #[test]
    fn invented_codes_check_and_differ() {
        let codes: std::collections::BTreeSet<String> =
            (0..2_400).map(|serial| invented_credit_code('1', "410100", serial).unwrap()).collect();
        assert_eq!(codes.len(), 2_400);
        for code in &codes {
            assert!(is_valid_credit_code(code), "{code}");
            assert_eq!(organisation_code_check(&code[8..16]), code[16..17].chars().next(), "{code}");
            assert!(code.starts_with("91410100"), "{code}");
        }
        assert_eq!(invented_credit_code('2', "411082", 7), invented_credit_code('2', "411082", 7));
    }
}
