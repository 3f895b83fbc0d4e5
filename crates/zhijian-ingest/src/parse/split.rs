//! Packed cells: one cell split into its pieces at the source's separators.

/// Splits `text` at each occurrence of any of `separators` (the longest wins where two start
/// together); pieces are trimmed and kept in place, empty ones too.
pub fn split_any<'t>(text: &'t str, separators: &[String]) -> Vec<&'t str> {
    split_keeping(text, separators).0.into_iter().map(str::trim).collect()
}

/// The pieces of `text` between any of `separators` (the longest wins where two start
/// together), untrimmed, and the separators found between them: joining them in turn gives
/// `text` back.
pub fn split_keeping<'t>(text: &'t str, separators: &[String]) -> (Vec<&'t str>, Vec<&'t str>) {
    let (mut pieces, mut found) = (Vec::new(), Vec::new());
    let mut rest = text;
    loop {
        let next = separators
            .iter()
            .filter(|s| !s.is_empty())
            .filter_map(|s| rest.find(s.as_str()).map(|i| (i, s.len())))
            .min_by_key(|(i, len)| (*i, std::cmp::Reverse(*len)));
        match next {
            Some((i, len)) => {
                pieces.push(&rest[..i]);
                found.push(&rest[i..i + len]);
                rest = &rest[i + len..];
            }
            None => {
                pieces.push(rest);
                return (pieces, found);
            }
        }
    }
}
