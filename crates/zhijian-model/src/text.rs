//! Text from the data, made safe for where it is shown: a terminal or CI log, a Markdown table,
//! a JSON line in a CI log.
//!
//! Names in the tables (categories, products, entities, areas) are input cells kept as
//! delivered, so they may hold newlines, terminal escapes, Markdown or HTML. A GitHub Actions
//! runner reads every line of a step's output for workflow commands: a line that starts with
//! `::` after its leading whitespace (`::error::…`, `::stop-commands::TOKEN`) and, in the legacy
//! form, `##[command]` anywhere in a line. Printed through [`log_line`] or [`log_lines`], a
//! value can neither start a line of its own nor carry either marker.
//!
//! ```
//! use zhijian_model::text::{log_line, markdown_cell};
//!
//! assert_eq!(log_line("糕点\n::stop-commands::x"), r"糕点\n:\:stop-commands:\:x");
//! assert_eq!(markdown_cell("a|b\n<i>"), r"a\|b &lt;i&gt;");
//! ```

use std::borrow::Cow;
use std::fmt::Write as _;

/// Rows of a query result rendered as text: what `zhijian query` prints and what a SQL check
/// reports as its failures.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextRows {
    /// Rows in the result.
    pub count: u64,
    /// Column names.
    pub columns: Vec<String>,
    /// The first rows, each cell rendered as text (empty for null).
    pub rows: Vec<Vec<String>>,
}

/// Characters that move the cursor, end a line or reorder what is shown: C0 and C1 controls,
/// DEL, the Unicode line and paragraph separators and the bidirectional controls.
fn unsafe_for_display(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn needs_log_escape(text: &str, keep_newlines: bool) -> bool {
    text.contains("::")
        || text.contains("##[")
        || text.chars().any(|c| unsafe_for_display(c) && !(keep_newlines && c == '\n'))
}

fn log_escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !needs_log_escape(text, keep_newlines) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_for_display(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            // `::` becomes `:\:`, so no line can start with a workflow command.
            ':' if out.ends_with(':') => out.push_str("\\:"),
            // `##[` becomes `#\#[`: the legacy command form is matched anywhere in a line.
            '[' if out.ends_with("##") => {
                out.pop();
                out.push_str("\\#[");
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A value for one line of a terminal or CI log: control characters (newlines, carriage
/// returns, tabs, escapes) shown as `\n`, `\r`, `\t` and `\u{1b}`, the line and paragraph
/// separators and bidirectional controls as `\u{…}`, every `::` as `:\:` and every `##[` as
/// `#\#[`. Text without any of them is returned as it is.
pub fn log_line(text: &str) -> Cow<'_, str> {
    log_escape(text, false)
}

/// Text of several lines for a terminal or CI log (an error message, a log event): as
/// [`log_line`], but `\n` still ends a line. No line of the result starts with `::` or holds
/// `##[`, whatever the text.
pub fn log_lines(text: &str) -> Cow<'_, str> {
    log_escape(text, true)
}

/// JSON text for a CI log: every `##[` (which JSON can only hold inside a string) written
/// `#\u0023[`, which any JSON reader decodes to the same string. JSON from a serializer escapes
/// control characters and starts its lines with `[` or `{`, so that is all a runner could read.
pub fn json_for_log(json: &str) -> Cow<'_, str> {
    if json.contains("##[") { Cow::Owned(json.replace("##[", "#\\u0023[")) } else { Cow::Borrowed(json) }
}

/// A value for one cell of a Markdown table (GitHub-flavoured), also right for a heading: `&`,
/// `<` and `>` as HTML entities, so no tag or entity reaches the page; the characters Markdown
/// reads as markup (`\ | * _ ~ \` [ ] # $`) escaped with a backslash, so a name can neither
/// split a cell nor become a link, an emphasis or a formula; control characters and line
/// separators as a space, so the row stays one line.
pub fn markdown_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '|' | '*' | '_' | '~' | '`' | '[' | ']' | '#' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c if unsafe_for_display(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a GitHub Actions runner would take for a workflow command in `output`
    /// (actions/runner `ActionCommand.TryParseV2` and the legacy `TryParse`): a line starting
    /// with `::` after leading whitespace, or `##[` anywhere; lines end at `\n` or `\r`.
    fn commands(output: &str) -> Vec<&str> {
        output.split(['\n', '\r']).filter(|line| line.trim_start().starts_with("::") || line.contains("##[")).collect()
    }

    #[test]
    fn log_values_cannot_start_a_line_or_carry_a_command() {
        for hostile in [
            "糕点\n::stop-commands::pwned",
            "\r::error::x",
            "::warning::x",
            "  ::add-mask::x",
            "a ##[set-output name=x;]y",
            "###[error]z",
            ":::x",
            "\u{2028}::x",
        ] {
            let line = log_line(hostile);
            assert!(!line.contains(['\n', '\r', '\u{2028}']), "{line}");
            assert!(commands(&format!("  {line}")).is_empty(), "{hostile:?} → {line}");
            let lines = log_lines(hostile);
            assert!(commands(&lines).is_empty(), "{hostile:?} → {lines}");
        }
        assert_eq!(log_line("a\tb\u{1b}[31mc\u{202e}d"), r"a\tb\u{1b}[31mc\u{202e}d");
        assert_eq!(log_line("###[x"), r"##\#[x");
        assert_eq!(log_lines("one\ntwo::three"), "one\ntwo:\\:three");
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for text in ["410100 郑州市", "pass rate 92.1% in 2013: 268 of 291", "12:30:00", "a#b[c]"] {
            assert!(matches!(log_line(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn json_keeps_its_strings() {
        assert_eq!(json_for_log(r#"[{"a":"x##[error]y"}]"#), r#"[{"a":"x#\u0023[error]y"}]"#);
    }

    #[test]
    fn markdown_cells_hold_no_markup() {
        assert_eq!(markdown_cell("a|b"), r"a\|b");
        assert_eq!(markdown_cell(r"a\|b"), r"a\\\|b");
        assert_eq!(markdown_cell("x\n## y\r\nz"), r"x \#\# y  z");
        assert_eq!(markdown_cell("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(
            markdown_cell("[click](http://e.invalid) *b* &amp;"),
            r"\[click\](http://e.invalid) \*b\* &amp;amp;"
        );
        assert_eq!(markdown_cell("粮食加工品"), "粮食加工品");
    }
}
