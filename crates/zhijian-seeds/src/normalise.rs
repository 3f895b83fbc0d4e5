//! Text normalisation shared by every lookup.

/// Normalises free text from a source file: full-width ASCII forms become ASCII (`（` → `(`,
/// `１` → `1`), the ideographic space becomes a space, and the ends are trimmed. Inner text
/// is otherwise kept as written.
pub fn normalise_text(text: &str) -> String {
    // Only full-width forms (U+FF01–U+FF5E, led by byte 0xEF) and the ideographic space
    // (U+3000, led by 0xE3) fold; text without those lead bytes, as most cells are, is only
    // trimmed.
    if !text.bytes().any(|b| b == 0xEF || b == 0xE3) {
        return text.trim().to_string();
    }
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        out.push(fold_char(ch));
    }
    match out.trim() {
        trimmed if trimmed.len() == out.len() => out,
        trimmed => trimmed.to_string(),
    }
}

/// Normalises a lookup key: like [`normalise_text`], then drops every whitespace character,
/// lowercases ASCII letters, folds the micro sign `µ` into Greek `μ`, subscript digits into
/// digits and `，` `、` into `,`.
pub fn normalise_key(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        let ch = fold_char(ch);
        if ch.is_whitespace() {
            continue;
        }
        let ch = match ch {
            'µ' => 'μ',
            '₀'..='₉' => char::from_u32(ch as u32 - '₀' as u32 + '0' as u32).unwrap_or(ch),
            '、' => ',',
            _ => ch.to_ascii_lowercase(),
        };
        out.push(ch);
    }
    out
}

fn fold_char(ch: char) -> char {
    match ch {
        // Full-width forms of ASCII (！ .. ～) sit at a fixed offset from ASCII.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(ch as u32 - 0xFF01 + 0x21).unwrap_or(ch),
        '\u{3000}' => ' ',
        _ => ch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_and_spaces() {
        assert_eq!(normalise_text("　铅（以Pb计） "), "铅(以Pb计)");
        assert_eq!(normalise_key(" 黄曲霉毒素 B₁ "), "黄曲霉毒素b1");
        assert_eq!(normalise_key("µg/KG"), "μg/kg");
        assert_eq!(normalise_key("１２.５"), "12.5");
    }

    proptest::proptest! {
        /// The fast path for text without full-width forms agrees with folding every character.
        #[test]
        fn text_is_folded_as_char_by_char(text in "[ a（）１Ａ\u{3000}\u{3001}\u{FF5E}\u{FF5F}\u{FFFD}铅\t。]{0,12}") {
            let folded: String = text.chars().map(fold_char).collect();
            proptest::prop_assert_eq!(normalise_text(&text), folded.trim());
        }
    }
}
