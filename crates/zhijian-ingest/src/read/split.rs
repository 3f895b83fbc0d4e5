//! Splitting delimited text into records, as spreadsheets write it (see [`super::TableReader`]
//! for the dialect), from a window of text a [`TextSource`] refills.

use zhijian_pipeline::Limits;

use super::{RawRecord, ReadError};

/// Why a CSV record could not be split into fields. The record goes to `rejects` as
/// `record_malformed`; its text is the lines from its start to the line where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// What went wrong.
    pub kind: MalformedKind,
    /// Field (from 0) where it went wrong.
    pub field: usize,
    /// The first and last line of the record as rejected, from 1; reading resumed on the line
    /// after the last.
    pub lines: (u64, u64),
}

/// What went wrong in a [`Malformed`] record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MalformedKind {
    /// A quote opened a field on `line` and is not closed before the end of the text.
    UnclosedQuote {
        /// Line of the opening quote, from 1.
        line: u64,
    },
    /// A quote opened a field on `line` and closed on `closed_on`, followed by text rather than
    /// a delimiter or the end of the line: usually a stray quote closed by another field's.
    TextAfterQuote {
        /// Line of the opening quote, from 1.
        line: u64,
        /// Line of the closing quote, from 1.
        closed_on: u64,
    },
    /// A field longer than `max_field_bytes`; when `quoted`, a quote opened on `line` and is
    /// not closed within the limit.
    FieldTooLong {
        /// Line of the field's start (its opening quote), from 1.
        line: u64,
        /// Whether the field is quoted.
        quoted: bool,
        /// The limit, in bytes.
        limit: usize,
    },
    /// A record longer than `max_record_bytes`.
    RecordTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let field = self.field + 1;
        match &self.kind {
            MalformedKind::UnclosedQuote { line } => {
                write!(f, "the quote that opens field {field} on line {line} is never closed")?
            }
            MalformedKind::TextAfterQuote { line, closed_on } => write!(
                f,
                "the quote that opens field {field} on line {line} closes on line {closed_on} and is followed by text, not by a delimiter or the end of the line"
            )?,
            MalformedKind::FieldTooLong { line, quoted: true, limit } => write!(
                f,
                "the quote that opens field {field} on line {line} is not closed within {limit} bytes (`max_field_bytes`)"
            )?,
            MalformedKind::FieldTooLong { line, quoted: false, limit } => {
                write!(f, "field {field} on line {line} is longer than {limit} bytes (`max_field_bytes`)")?
            }
            MalformedKind::RecordTooLong { limit } => {
                write!(f, "the record is longer than {limit} bytes (`max_record_bytes`)")?
            }
        }
        let (first, last) = self.lines;
        if first == last {
            write!(f, "; line {first} rejected, reading resumes on line {}", last + 1)
        } else {
            write!(f, "; lines {first}–{last} rejected, reading resumes on line {}", last + 1)
        }
    }
}

/// The most of a malformed record's text kept in `rejects.raw_record`, in bytes.
const MALFORMED_TEXT_KEPT: usize = 4096;

/// Text that arrives in pieces: a file decoded as it is read ([`crate::decode::TextStream`]),
/// or text in memory ([`InMemory`]).
pub trait TextSource {
    /// Appends the next piece of text to `out`; `Ok(0)` once the text has ended.
    fn read_text(&mut self, out: &mut String) -> std::io::Result<usize>;
}

impl<R: std::io::Read> TextSource for crate::decode::TextStream<R> {
    fn read_text(&mut self, out: &mut String) -> std::io::Result<usize> {
        crate::decode::TextStream::read_text(self, out)
    }
}

/// Text in memory, handed out `block` bytes at a time (cut at character boundaries), so tests
/// can cut it anywhere a file's blocks would.
#[derive(Debug)]
pub struct InMemory<'t> {
    text: &'t str,
    block: usize,
}

impl<'t> InMemory<'t> {
    /// `text` in pieces of about `block` bytes.
    pub fn new(text: &'t str, block: usize) -> Self {
        InMemory { text, block: block.max(1) }
    }
}

impl TextSource for InMemory<'_> {
    fn read_text(&mut self, out: &mut String) -> std::io::Result<usize> {
        let mut cut = self.block.min(self.text.len());
        while !self.text.is_char_boundary(cut) {
            cut += 1;
        }
        let (piece, rest) = self.text.split_at(cut);
        out.push_str(piece);
        self.text = rest;
        Ok(piece.len())
    }
}

/// Splits delimited text into records (see [`TableReader`] for the dialect): the state of one
/// pass over the text, with its line count.
pub(super) struct Splitter<'t> {
    /// The text read and not yet consumed, from `pos` on; refilled from `source` so that it
    /// always holds [`Self::lookahead`] bytes past `pos` until the text has ended.
    text: String,
    source: Box<dyn TextSource + Send + 't>,
    /// The source has nothing more.
    ended: bool,
    /// Why the source stopped early.
    error: Option<String>,
    /// The start of the text has been looked at for a byte-order mark.
    started: bool,
    /// What a record can need beyond its start: see [`Self::new`].
    lookahead: usize,
    delimiter: u8,
    limits: Limits,
    /// Where the next record may start.
    pos: usize,
    /// The line of `pos`, from 1.
    line: u64,
    /// Empty lines skipped by the last call of [`Self::next_record`] (before its record, or
    /// at the end of the text).
    pub(super) empty_lines: u64,
    /// The last record's line break is still to be read (it ends that line, not an empty one).
    pending_break: bool,
}

/// How splitting a record stopped early: where it went wrong, and the line it is rejected to.
struct Failure {
    kind: MalformedKind,
    field: usize,
    /// A position on the last line to reject: the opening quote of a quoted field, else where
    /// the scan stopped.
    at: usize,
    /// The line of `at`.
    at_line: u64,
}

impl std::fmt::Debug for Splitter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Splitter").field("line", &self.line).field("ended", &self.ended).finish_non_exhaustive()
    }
}

impl<'t> Splitter<'t> {
    /// Splits the text `source` gives. The text is held a window at a time: the most a record
    /// can look at past its start is a record's limit and two fields' (a quoted field may
    /// start at the record's limit and be followed by spaces), and the window keeps that much
    /// ahead, so every decision is taken on the same bytes as over the whole text.
    pub(super) fn new(source: Box<dyn TextSource + Send + 't>, delimiter: u8, limits: &Limits) -> Self {
        let lookahead =
            limits.max_record_bytes.saturating_add(limits.max_field_bytes.saturating_mul(2)).saturating_add(16);
        Splitter {
            text: String::new(),
            source,
            ended: false,
            error: None,
            started: false,
            lookahead,
            delimiter,
            limits: *limits,
            pos: 0,
            line: 1,
            empty_lines: 0,
            pending_break: false,
        }
    }

    /// The error that ended the text early, once.
    pub(super) fn failed(&mut self) -> Result<(), ReadError> {
        match self.error.take() {
            Some(message) => Err(ReadError::Io { message }),
            None => Ok(()),
        }
    }

    /// Reads until `want` bytes are held past `pos` or the text has ended, dropping what is
    /// consumed first.
    fn fill(&mut self, want: usize) {
        while !self.ended && self.text.len() - self.pos < want {
            if self.pos > 0 {
                self.text.drain(..self.pos);
                self.pos = 0;
            }
            match self.source.read_text(&mut self.text) {
                Ok(0) => self.ended = true,
                Ok(_) => {}
                Err(e) => {
                    self.error = Some(e.to_string());
                    self.ended = true;
                }
            }
        }
    }

    /// The next record, numbered `record`; `None` at the end of the text. The empty lines
    /// skipped on the way are in `empty_lines`.
    pub(super) fn next_record(&mut self, record: u64) -> Option<RawRecord> {
        self.fill(self.lookahead);
        if !self.started {
            self.started = true;
            // A byte-order mark left in the text (one re-encoded with it, or a second one) is
            // no part of the first header, as the csv crate skipped it too.
            if self.text.starts_with('\u{FEFF}') {
                self.pos = '\u{FEFF}'.len_utf8();
            }
        }
        // Empty lines are no records; they are counted.
        let mut breaks = 0u64;
        loop {
            if self.text.len() - self.pos < 2 {
                self.fill(self.lookahead);
            }
            let bytes = self.text.as_bytes();
            let Some(&b) = bytes.get(self.pos) else { break };
            match b {
                b'\n' => self.line += 1,
                b'\r' if bytes.get(self.pos + 1) != Some(&b'\n') => self.line += 1,
                b'\r' => {
                    self.pos += 1;
                    continue;
                }
                _ => break,
            }
            breaks += 1;
            self.pos += 1;
        }
        self.empty_lines = breaks.saturating_sub(u64::from(self.pending_break));
        self.pending_break = false;
        self.fill(self.lookahead);
        if self.pos >= self.text.len() {
            return None;
        }
        let (start, line) = (self.pos, self.line);
        let mut text = String::new();
        let mut ends = Vec::new();
        let window = std::mem::take(&mut self.text);
        let split = self.split(&window, &mut text, &mut ends);
        self.text = window;
        match split {
            Ok(()) => {
                self.pending_break = true;
                Some(RawRecord { record, line, text, ends, sparse: None, malformed: None })
            }
            Err(failure) => {
                // Reject up to the end of the failure's line; resume on the next one. What is
                // kept of it must be in the window first.
                let past = failure.at.saturating_sub(start);
                self.pos = start;
                self.fill(MALFORMED_TEXT_KEPT + 1);
                let start = self.pos;
                let at = (start + past).min(self.text.len());
                let line_end = |text: &str, from: usize| memchr::memchr2(b'\r', b'\n', &text.as_bytes()[from..]);
                let end = line_end(&self.text, at).map_or(self.text.len(), |i| at + i);
                let raw = self.text.get(start..end).unwrap_or("");
                let mut kept = raw.len().min(MALFORMED_TEXT_KEPT);
                while !raw.is_char_boundary(kept) {
                    kept -= 1;
                }
                let mut cell = raw.get(..kept).unwrap_or("").to_string();
                // A line that goes on past the window is read on until it ends.
                self.pos = end;
                let cut = kept < raw.len();
                while self.pos >= self.text.len() && !self.ended {
                    self.pos = self.text.len();
                    self.fill(1);
                    self.pos = line_end(&self.text, self.pos).map_or(self.text.len(), |i| self.pos + i);
                }
                if cut {
                    cell.push('…');
                }
                self.fill(2);
                let bytes = self.text.as_bytes();
                if bytes.get(self.pos) == Some(&b'\r') && bytes.get(self.pos + 1) == Some(&b'\n') {
                    self.pos += 1;
                }
                if self.pos < bytes.len() {
                    self.pos += 1;
                }
                self.line = failure.at_line + 1;
                let malformed = Malformed { kind: failure.kind, field: failure.field, lines: (line, failure.at_line) };
                let ends = vec![cell.len()];
                Some(RawRecord { record, line, text: cell, ends, sparse: None, malformed: Some(Box::new(malformed)) })
            }
        }
    }

    /// Splits the record at `self.pos` of `source` (the window) into `text` and `ends`,
    /// leaving `self.pos` at its line break (or the end of the text) and `self.line` on its
    /// last line.
    fn split(&mut self, source: &str, text: &mut String, ends: &mut Vec<usize>) -> Result<(), Failure> {
        let bytes = source.as_bytes();
        let record_start = self.pos;
        let max_field = self.limits.max_field_bytes;
        loop {
            let field = ends.len();
            let field_start = self.pos;
            let cell_start = text.len();
            if bytes.get(self.pos) == Some(&b'"') {
                let (open_line, open) = (self.line, self.pos);
                let mut i = self.pos + 1;
                loop {
                    let window_end = bytes.len().min(open.saturating_add(max_field).saturating_add(2));
                    let window = bytes.get(i..window_end).unwrap_or(&[]);
                    let Some(offset) = memchr::memchr(b'"', window) else {
                        let kind = if window_end >= bytes.len() {
                            MalformedKind::UnclosedQuote { line: open_line }
                        } else {
                            MalformedKind::FieldTooLong { line: open_line, quoted: true, limit: max_field }
                        };
                        return Err(Failure { kind, field, at: open, at_line: open_line });
                    };
                    let quote = i + offset;
                    self.line += line_breaks(&bytes[i..quote]);
                    text.push_str(source.get(i..quote).unwrap_or(""));
                    if quote - open > max_field.saturating_add(1) {
                        let kind = MalformedKind::FieldTooLong { line: open_line, quoted: true, limit: max_field };
                        return Err(Failure { kind, field, at: open, at_line: open_line });
                    }
                    match bytes.get(quote + 1) {
                        Some(b'"') => {
                            text.push('"');
                            i = quote + 2;
                        }
                        _ => {
                            // Spaces after the closing quote are kept, as the csv crate does;
                            // anything else but a delimiter or a line end is a stray quote.
                            let mut after = quote + 1;
                            while matches!(bytes.get(after), Some(b' ' | b'\t')) {
                                after += 1;
                            }
                            match bytes.get(after) {
                                None | Some(b'\r' | b'\n') => {}
                                Some(&b) if b == self.delimiter => {}
                                Some(_) => {
                                    let kind = MalformedKind::TextAfterQuote { line: open_line, closed_on: self.line };
                                    return Err(Failure { kind, field, at: open, at_line: open_line });
                                }
                            }
                            text.push_str(source.get(quote + 1..after).unwrap_or(""));
                            // The spaces count toward the field's length too (found by fuzzing).
                            if text.len() - cell_start > max_field {
                                let kind =
                                    MalformedKind::FieldTooLong { line: open_line, quoted: false, limit: max_field };
                                return Err(Failure { kind, field, at: open, at_line: open_line });
                            }
                            self.pos = after;
                            break;
                        }
                    }
                }
            } else {
                let window_end = bytes.len().min(self.pos.saturating_add(max_field).saturating_add(1));
                let window = bytes.get(self.pos..window_end).unwrap_or(&[]);
                let end = match memchr::memchr3(self.delimiter, b'\r', b'\n', window) {
                    Some(offset) => self.pos + offset,
                    None if window_end >= bytes.len() => bytes.len(),
                    None => {
                        let kind = MalformedKind::FieldTooLong { line: self.line, quoted: false, limit: max_field };
                        return Err(Failure { kind, field, at: window_end, at_line: self.line });
                    }
                };
                if end - field_start > max_field {
                    let kind = MalformedKind::FieldTooLong { line: self.line, quoted: false, limit: max_field };
                    return Err(Failure { kind, field, at: end, at_line: self.line });
                }
                text.push_str(source.get(self.pos..end).unwrap_or(""));
                self.pos = end;
            }
            ends.push(text.len());
            if self.pos - record_start > self.limits.max_record_bytes {
                let kind = MalformedKind::RecordTooLong { limit: self.limits.max_record_bytes };
                return Err(Failure { kind, field, at: self.pos, at_line: self.line });
            }
            match bytes.get(self.pos) {
                Some(&b) if b == self.delimiter && b != b'\r' && b != b'\n' => self.pos += 1,
                _ => return Ok(()),
            }
        }
    }
}

/// Line breaks in `bytes`: `\n`, and `\r` not followed by `\n`.
fn line_breaks(bytes: &[u8]) -> u64 {
    let mut count = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod malformed_tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::read::{HeaderSearch, Table, TableReader, read_table};

    fn read(text: &str, limits: &Limits) -> Vec<(u64, String, Option<String>)> {
        let mut reader = TableReader::new(text, b',', 1, 1, limits).unwrap();
        let records = reader.next_chunk(usize::MAX).unwrap();
        records.iter().map(|r| (r.line, r.joined(), r.malformed().map(|m| m.to_string()))).collect()
    }

    #[test]
    fn an_unclosed_quote_costs_its_record_not_the_rest_of_the_file() {
        // Once: one record from line 2 to the end, the quote's field holding every later line.
        let text = "抽样编号,样品名称,检验结果\nA1,\"面粉,0.1\nA2,大米,0.2\r\nA3,玉米,0.3\n";
        assert_eq!(
            read(text, &Limits::default()),
            [
                (
                    2,
                    "A1,\"面粉,0.1".to_string(),
                    Some("the quote that opens field 2 on line 2 is never closed; line 2 rejected, reading resumes on line 3".to_string())
                ),
                (3, "A2|大米|0.2".to_string(), None),
                (4, "A3|玉米|0.3".to_string(), None),
            ]
        );
    }

    #[test]
    fn a_stray_quote_closed_by_a_later_one_costs_its_record() {
        // The quote of line 3 closes at the quote that opens line 5's field, followed by text.
        let text = "h1,h2,h3\nA0,\"多行\n文本\",x\nA1,\"面粉,0.1\nA2,大米,0.2\nA3,\"玉米\",0.3\n";
        assert_eq!(
            read(text, &Limits::default()),
            [
                (2, "A0|多行\n文本|x".to_string(), None),
                (
                    4,
                    "A1,\"面粉,0.1".to_string(),
                    Some("the quote that opens field 2 on line 4 closes on line 6 and is followed by text, not by a delimiter or the end of the line; line 4 rejected, reading resumes on line 5".to_string())
                ),
                (5, "A2|大米|0.2".to_string(), None),
                (6, "A3|玉米|0.3".to_string(), None),
            ]
        );
        // A record that starts with a good multi-line field and then opens a stray quote is
        // rejected from its first line to the quote's.
        let text = "h1,h2,h3\n\"a\nb\",\"c,d\nA2,e,f\n";
        let records = read(text, &Limits::default());
        assert_eq!(records[0].0, 2);
        assert_eq!(records[0].1, "\"a\nb\",\"c,d");
        assert!(
            records[0].2.as_deref().unwrap().ends_with("lines 2–3 rejected, reading resumes on line 4"),
            "{records:?}"
        );
        assert_eq!(records[1], (4, "A2|e|f".to_string(), None));
    }

    #[test]
    fn fields_and_records_beyond_the_limits_are_malformed() {
        let limits = Limits { max_field_bytes: 10, max_record_bytes: 24, ..Limits::default() };
        let text = "h1,h2\nA1,0123456789abc,x\nA2,\"0123456789ab\nc\",x\nA3,0123456789\nA4,1,2,3,4,5,6,7,8,9,10,11,12\nA5,\"01234567\"\"\",x\n";
        let records = read(text, &limits);
        let messages: Vec<(u64, Option<&str>)> = records.iter().map(|r| (r.0, r.2.as_deref())).collect();
        assert_eq!(
            messages,
            [
                (
                    2,
                    Some(
                        "field 2 on line 2 is longer than 10 bytes (`max_field_bytes`); line 2 rejected, reading resumes on line 3"
                    )
                ),
                (
                    3,
                    Some(
                        "the quote that opens field 2 on line 3 is not closed within 10 bytes (`max_field_bytes`); line 3 rejected, reading resumes on line 4"
                    )
                ),
                // Line 4, `c",x`, is a record of its own: a quote inside a field is a character.
                (4, None),
                (5, None),
                (
                    6,
                    Some(
                        "the record is longer than 24 bytes (`max_record_bytes`); line 6 rejected, reading resumes on line 7"
                    )
                ),
                (7, None),
            ]
        );
        assert_eq!(records[1].1, "A2,\"0123456789ab");
        assert_eq!(records[2].1, "c\"|x");
        assert_eq!(records[5].1, "A5|01234567\"|x", "a doubled quote is one quote, and counts once");
        // Spaces after a closing quote are part of the field, and count toward its length.
        let text = "h1,h2\nA1,\"x\"          ,y\nA2,\"x\" ,y\n";
        let records = read(text, &limits);
        assert_eq!(
            records[0].2.as_deref(),
            Some(
                "field 2 on line 2 is longer than 10 bytes (`max_field_bytes`); line 2 rejected, reading resumes on line 3"
            )
        );
        assert_eq!(records[1], (3, "A2|x |y".to_string(), None));
        // What is kept of a giant line in `raw_record` is bounded.
        let giant = format!("h\n{}\nA2\n", "x".repeat(200_000));
        let records = read(&giant, &Limits::default());
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].1.chars().count(), MALFORMED_TEXT_KEPT + 1);
        assert_eq!(records[1], (3, "A2".to_string(), None));
    }

    #[test]
    fn a_malformed_header_is_an_error_and_a_malformed_title_is_skipped() {
        let err = TableReader::new("a,\"b\n", b',', 1, 1, &Limits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1: the header row: the quote that opens field 2 on line 1 is never closed; line 1 rejected, reading resumes on line 2"
        );
        let reader = TableReader::new("\"2013年报告\nh1,h2\na,b\n", b',', 2, 1, &Limits::default()).unwrap();
        assert_eq!(reader.header().header, ["h1", "h2"]);
    }

    #[test]
    fn a_byte_order_mark_left_in_the_text_is_skipped() {
        let table = read_table("\u{FEFF}样品编号,检验结论\nA1,合格\n", b',', 1, 1).unwrap();
        assert_eq!(table.header, ["样品编号", "检验结论"]);
        assert_eq!(table.records[0].line, 2);
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        let table = read_table("h1,h2\ra,b\r\rc,\"d\re\"\rf,g", b',', 1, 1).unwrap();
        let lines: Vec<u64> = table.records.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4, 6]);
    }
}

/// The CSV reader against the csv crate: on any text, a record is either malformed or split as
/// the csv crate splits it.
#[cfg(test)]
mod differential {
    use super::*;
    #[allow(unused_imports)]
    use crate::read::{HeaderSearch, Table, TableReader, read_table};
    use proptest::prelude::*;

    fn ours(text: &str) -> Option<Vec<Vec<String>>> {
        let mut splitter = Splitter::new(Box::new(InMemory::new(text, 3)), b',', &Limits::default());
        let mut out = Vec::new();
        while let Some(record) = splitter.next_record(0) {
            if record.malformed().is_some() {
                return None;
            }
            out.push(record.fields().map(str::to_string).collect());
        }
        Some(out)
    }

    fn theirs(text: &str) -> Vec<Vec<String>> {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
    }

    /// Every record of `text` read through `TableReader` in pieces of `block` bytes, three
    /// records a chunk.
    fn in_blocks(text: &str, block: usize, limits: &Limits) -> Result<Table, ReadError> {
        let source = Box::new(InMemory::new(text, block));
        TableReader::open_source(source, b',', HeaderSearch::At(1), 1, limits)?.into_table(3)
    }

    /// A malformed line longer than what a reject keeps, and longer than the window, is cut
    /// and skipped as over the whole text.
    #[test]
    fn a_long_malformed_line_is_the_same_in_pieces() {
        let limits = Limits { max_field_bytes: 16, max_record_bytes: 64, ..Limits::default() };
        for line in ["x".repeat(10_000), format!("\"{}", "中".repeat(3_000)), format!("a,\"b\"{}", " ".repeat(9_000))]
        {
            let text = format!("h1,h2\n{line}\r\nc,d\n{line}");
            let whole = in_blocks(&text, usize::MAX, &limits).unwrap();
            assert_eq!(whole.records.len(), 3);
            assert!(whole.records[0].malformed().is_some() && whole.records[0].joined().ends_with('…'));
            for block in [1, 7, 4096, 4097] {
                assert_eq!(in_blocks(&text, block, &limits).unwrap(), whole, "blocks of {block}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

        /// A file read a window at a time gives the records, lines, blank rows and malformed
        /// records of the whole text, wherever its blocks cut it (tiny limits, so fields and
        /// records reach them and the window is small).
        #[test]
        fn records_do_not_depend_on_how_the_text_is_cut(
            text in "[a,\" \r\n中]{0,300}",
            block in 1usize..9,
            field in 1usize..12,
            record in 1usize..40,
        ) {
            let limits = Limits { max_field_bytes: field, max_record_bytes: record.max(field), ..Limits::default() };
            let whole = in_blocks(&text, usize::MAX, &limits);
            let cut = in_blocks(&text, block, &limits);
            prop_assert_eq!(cut, whole, "{:?}", text);
        }

        #[test]
        fn any_text_is_malformed_or_split_as_the_csv_crate_does(text in "[a,\" \r\n中]{0,40}") {
            if let Some(records) = ours(&text) {
                prop_assert_eq!(records, theirs(&text), "{:?}", text);
            }
        }

        #[test]
        fn what_the_csv_crate_writes_reads_back(rows in prop::collection::vec(prop::collection::vec("[a,\" \r\n中]{0,6}", 1..5), 0..6)) {
            let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
            for row in &rows {
                writer.write_record(row).unwrap();
            }
            let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
            let records = ours(&text);
            prop_assert_eq!(records.as_ref(), Some(&theirs(&text)), "{:?}", text);
        }
    }
}
