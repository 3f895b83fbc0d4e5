//! The drop's CSV text in the encoding its pipeline declares.

use std::io::{self, Write};

use encoding_rs::{EncoderResult, GB18030};

/// The encoding of a drop's CSV files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8, no byte-order mark.
    #[default]
    Utf8,
    /// GB18030, no byte-order mark: what the agencies' systems export.
    Gb18030,
}

impl Encoding {
    /// The name a pipeline source's `encoding` key takes.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Gb18030 => "gb18030",
        }
    }
}

/// UTF-8 gathered before it is encoded: large enough that a write to the file is a large one.
const CHUNK: usize = 64 * 1024;

/// A writer that passes the UTF-8 written to it on to `inner` in its [`Encoding`].
///
/// A character may be split across two writes; its bytes wait for the rest. Call
/// [`Encoded::finish`] at the end: it encodes what is left and hands back `inner`.
pub(crate) struct Encoded<W: Write> {
    inner: W,
    /// `None` for UTF-8: the bytes pass through.
    encoder: Option<encoding_rs::Encoder>,
    /// UTF-8 not yet encoded.
    pending: Vec<u8>,
    /// The last chunk encoded, reused.
    encoded: Vec<u8>,
}

impl<W: Write> Encoded<W> {
    pub(crate) fn new(inner: W, encoding: Encoding) -> Encoded<W> {
        let encoder = match encoding {
            Encoding::Utf8 => None,
            Encoding::Gb18030 => Some(GB18030.new_encoder()),
        };
        Encoded { inner, encoder, pending: Vec::new(), encoded: Vec::new() }
    }

    /// Encodes what is pending and returns the inner writer (not flushed).
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.encode(true)?;
        Ok(self.inner)
    }

    /// Encodes and writes the pending text up to its last whole character (all of it if
    /// `last`).
    fn encode(&mut self, last: bool) -> io::Result<()> {
        let Encoded { inner, encoder, pending, encoded } = self;
        let Some(encoder) = encoder else { return Ok(()) };
        let whole = match std::str::from_utf8(pending) {
            Ok(text) => text.len(),
            // An incomplete character at the end: the next write completes it.
            Err(error) if error.error_len().is_none() && !last => error.valid_up_to(),
            Err(error) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("expected UTF-8 text, found an invalid sequence at byte {}", error.valid_up_to()),
                ));
            }
        };
        let mut text =
            std::str::from_utf8(&pending[..whole]).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        encoded.clear();
        loop {
            let room =
                encoder.max_buffer_length_from_utf8_without_replacement(text.len()).unwrap_or(4 * text.len() + 16);
            encoded.reserve(room);
            let (result, read) = encoder.encode_from_utf8_to_vec_without_replacement(text, encoded, last);
            text = &text[read..];
            match result {
                EncoderResult::InputEmpty => break,
                EncoderResult::OutputFull => {}
                EncoderResult::Unmappable(c) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("`{c}` (U+{:04X}) has no form in {}", u32::from(c), encoder.encoding().name()),
                    ));
                }
            }
        }
        inner.write_all(encoded)?;
        pending.drain(..whole);
        Ok(())
    }
}

impl<W: Write> Write for Encoded<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.encoder.is_none() {
            return self.inner.write(bytes);
        }
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= CHUNK {
            self.encode(false)?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.encode(false)?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `text` in pieces of `step` bytes, splitting characters, and finishes.
    fn written(text: &str, encoding: Encoding, step: usize) -> Vec<u8> {
        let mut writer = Encoded::new(Vec::new(), encoding);
        for piece in text.as_bytes().chunks(step) {
            writer.write_all(piece).unwrap();
        }
        writer.finish().unwrap()
    }

    #[test]
    fn gb18030_bytes_are_the_standard_ones_whatever_the_writes() {
        // 郑州 is D6A3 D6DD in GB2312; € is A2E3 in GB18030; U+20000 takes four bytes, 95 32 82 36
        // (as Python's gb18030 codec writes them).
        let text = "郑州,€\u{20000}\r\n";
        let expected = [0xD6, 0xA3, 0xD6, 0xDD, b',', 0xA2, 0xE3, 0x95, 0x32, 0x82, 0x36, b'\r', b'\n'];
        for step in 1..=text.len() {
            assert_eq!(written(text, Encoding::Gb18030, step), expected, "pieces of {step} bytes");
        }
    }

    #[test]
    fn a_long_text_round_trips_through_gb18030() {
        let text = "抽样编号,被抽样单位名称,检验结果\n".repeat(5_000);
        assert!(text.len() > 2 * CHUNK);
        let bytes = written(&text, Encoding::Gb18030, 8_191);
        let (decoded, had_errors) = GB18030.decode_without_bom_handling(&bytes);
        assert!(!had_errors);
        assert_eq!(decoded, text);
    }

    #[test]
    fn utf8_passes_through() {
        let text = "抽样编号,合格\n";
        assert_eq!(written(text, Encoding::Utf8, 5), text.as_bytes());
    }

    #[test]
    fn a_character_cut_off_at_the_end_is_an_error() {
        let mut writer = Encoded::new(Vec::new(), Encoding::Gb18030);
        writer.write_all(&"郑".as_bytes()[..2]).unwrap();
        assert_eq!(writer.finish().unwrap_err().kind(), io::ErrorKind::InvalidData);
    }
}
