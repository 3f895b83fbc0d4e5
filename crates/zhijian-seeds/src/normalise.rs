//! Text normalisation shared by every lookup.

/// Normalises free text from a source file: full-width ASCII forms become ASCII (`（` → `(`,
/// `１` → `1`), the ideographic space becomes a space, and the ends are trimmed. Inner text
/// is otherwise kept as written.
pub fn normalise_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        out.push(fold_char(ch));
    }
    out.trim().to_string()
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
}
