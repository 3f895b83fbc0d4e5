//! Turning a file's bytes into text: byte-order mark, then strict UTF-8, then GB18030 — for a
//! whole file in memory ([`decode`]), or for a file read a block at a time: a first pass
//! ([`Sniff`]) chooses the encoding as [`decode`] would, and a [`TextStream`] decodes it as it
//! is read, so a large export is never held whole.

use encoding_rs::{Encoding as CharEncoding, GB18030, UTF_8};
use zhijian_pipeline::Encoding;

/// Text decoded from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'b> {
    /// The text, BOM removed: borrowed from the bytes when they are UTF-8 already, so a
    /// large UTF-8 file is not held twice.
    pub text: std::borrow::Cow<'b, str>,
    /// The encoding used: `UTF-8`, `UTF-16LE`, `UTF-16BE` or `gb18030`.
    pub encoding: &'static str,
    /// Characters that could not be decoded and became U+FFFD.
    pub replacements: usize,
}

/// Why a file could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// NUL bytes: a spreadsheet, archive or image rather than text.
    #[error("looks binary, not text (NUL byte at offset {offset}); is it an Excel or zip file named .csv?")]
    Binary {
        /// Offset of the first NUL byte.
        offset: usize,
    },
    /// Too many undecodable characters for the chosen encoding.
    #[error(
        "{replacements} of {chars} characters could not be decoded as {encoding} (more than {max_ratio} allowed); declare the file's encoding in the pipeline"
    )]
    Undecodable {
        /// Encoding tried.
        encoding: &'static str,
        /// Replacement characters produced.
        replacements: usize,
        /// Characters in all.
        chars: usize,
        /// The allowed ratio.
        max_ratio: f64,
    },
}

/// Decodes `bytes`. With [`Encoding::Auto`]: a BOM decides; else valid UTF-8 is UTF-8; else
/// GB18030 (a superset of GBK and GB2312). A file whose share of undecodable characters is
/// above `max_ratio` is refused, as is a file with NUL bytes (unless UTF-16 by its BOM).
pub fn decode(bytes: &[u8], declared: Encoding, max_ratio: f64) -> Result<Decoded<'_>, DecodeError> {
    let bom = CharEncoding::for_bom(bytes);
    let is_utf16 = bom.is_some_and(|(e, _)| e != UTF_8);
    if !is_utf16 && let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(DecodeError::Binary { offset });
    }
    // GB18030's own byte-order mark (U+FEFF encoded), which encoding_rs does not sniff.
    const GB18030_BOM: &[u8] = &[0x84, 0x31, 0x95, 0x33];
    let (encoding, body) = match (declared, bom) {
        (_, Some((encoding, bom_len))) => (encoding, &bytes[bom_len..]),
        (Encoding::Auto | Encoding::Gb18030, None) if bytes.starts_with(GB18030_BOM) => {
            (GB18030, &bytes[GB18030_BOM.len()..])
        }
        (Encoding::Utf8, None) => (UTF_8, bytes),
        (Encoding::Gb18030, None) => (GB18030, bytes),
        (Encoding::Auto, None) => match std::str::from_utf8(bytes) {
            // Valid already: borrowed as it is, without a second pass.
            Ok(text) => return finish(std::borrow::Cow::Borrowed(text), UTF_8, max_ratio),
            Err(_) => (GB18030, bytes),
        },
    };
    let (text, _) = encoding.decode_without_bom_handling(body);
    finish(text, encoding, max_ratio)
}

/// What a first pass over a file's bytes learns, block by block, to choose its encoding as
/// [`decode`] would without holding the file: its first bytes (byte-order marks), its first
/// NUL byte, and whether it is valid UTF-8 throughout.
#[derive(Debug, Clone)]
pub struct Sniff {
    head: Vec<u8>,
    length: usize,
    first_nul: Option<usize>,
    utf8: bool,
    /// The bytes of a character cut by the end of the last block.
    carry: Vec<u8>,
    joined: Vec<u8>,
}

impl Default for Sniff {
    fn default() -> Self {
        Sniff { head: Vec::new(), length: 0, first_nul: None, utf8: true, carry: Vec::new(), joined: Vec::new() }
    }
}

impl Sniff {
    /// Takes the next block of the file.
    pub fn update(&mut self, block: &[u8]) {
        if self.head.len() < 4 {
            let take = (4 - self.head.len()).min(block.len());
            self.head.extend_from_slice(&block[..take]);
        }
        if self.first_nul.is_none()
            && let Some(i) = memchr::memchr(0, block)
        {
            self.first_nul = Some(self.length + i);
        }
        self.length += block.len();
        if !self.utf8 {
            return;
        }
        let data = if self.carry.is_empty() {
            block
        } else {
            self.joined.clear();
            self.joined.extend_from_slice(&self.carry);
            self.joined.extend_from_slice(block);
            &self.joined
        };
        let (utf8, carry) = match simdutf8::compat::from_utf8(data) {
            Ok(_) => (true, &[][..]),
            // A character the block's end cuts: completed by the next block, or invalid at the end.
            Err(e) if e.error_len().is_none() => (true, &data[e.valid_up_to()..]),
            Err(_) => (false, &[][..]),
        };
        let carry = carry.to_vec();
        self.utf8 = utf8;
        self.carry = carry;
    }

    /// The file's encoding and where its text starts (after a byte-order mark), as [`decode`]
    /// chooses them for the whole file; a file with NUL bytes is refused (unless UTF-16).
    pub fn plan(&self, declared: Encoding) -> Result<TextPlan, DecodeError> {
        let bom = CharEncoding::for_bom(&self.head);
        let is_utf16 = bom.is_some_and(|(e, _)| e != UTF_8);
        if !is_utf16 && let Some(offset) = self.first_nul {
            return Err(DecodeError::Binary { offset });
        }
        const GB18030_BOM: &[u8] = &[0x84, 0x31, 0x95, 0x33];
        let (encoding, skip) = match (declared, bom) {
            (_, Some((encoding, bom_len))) => (encoding, bom_len),
            (Encoding::Auto | Encoding::Gb18030, None) if self.head.starts_with(GB18030_BOM) => {
                (GB18030, GB18030_BOM.len())
            }
            (Encoding::Utf8, None) => (UTF_8, 0),
            (Encoding::Gb18030, None) => (GB18030, 0),
            (Encoding::Auto, None) if self.utf8 && self.carry.is_empty() => (UTF_8, 0),
            (Encoding::Auto, None) => (GB18030, 0),
        };
        Ok(TextPlan { encoding, skip })
    }
}

/// How to decode a file: [`Sniff::plan`].
#[derive(Debug, Clone, Copy)]
pub struct TextPlan {
    encoding: &'static CharEncoding,
    /// Bytes of its byte-order mark.
    skip: usize,
}

/// A file's text, decoded as its bytes are read, a block at a time: memory follows the
/// block, not the file. It gives the same text as [`decode`] of the whole file; the share of
/// undecodable characters is checked at the end ([`StreamCounts::check`] of its [`TextStream::counts`]).
pub struct TextStream<R> {
    input: R,
    decoder: encoding_rs::Decoder,
    name: &'static str,
    /// Bytes still to skip: the byte-order mark.
    skip: usize,
    block: Vec<u8>,
    ended: bool,
    counts: std::sync::Arc<StreamCounts>,
}

/// What a [`TextStream`] has decoded so far, readable while the stream is read elsewhere.
#[derive(Debug, Default)]
pub struct StreamCounts {
    replacements: std::sync::atomic::AtomicUsize,
    chars: std::sync::atomic::AtomicUsize,
}

impl StreamCounts {
    /// The characters replaced so far; an error when they are more than `max_ratio` of the
    /// characters decoded so far, as [`decode`] refuses a whole file.
    pub fn check(&self, encoding: &'static str, max_ratio: f64) -> Result<usize, DecodeError> {
        let replacements = self.replacements.load(std::sync::atomic::Ordering::Relaxed);
        let chars = self.chars.load(std::sync::atomic::Ordering::Relaxed);
        if replacements > 0 && replacements as f64 > max_ratio * chars as f64 {
            return Err(DecodeError::Undecodable { encoding, replacements, chars, max_ratio });
        }
        Ok(replacements)
    }
}

impl<R> std::fmt::Debug for TextStream<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextStream").field("encoding", &self.name).field("counts", &self.counts).finish_non_exhaustive()
    }
}

/// Bytes read at a time by a [`TextStream`].
pub const STREAM_BLOCK: usize = 1 << 20;

impl<R: std::io::Read> TextStream<R> {
    /// Decodes `input` as `plan` says, reading `block` bytes at a time.
    pub fn new(input: R, plan: TextPlan, block: usize) -> Self {
        let name = if plan.encoding == GB18030 { "gb18030" } else { plan.encoding.name() };
        TextStream {
            input,
            decoder: plan.encoding.new_decoder_without_bom_handling(),
            name,
            skip: plan.skip,
            block: vec![0; block.max(1)],
            ended: false,
            counts: std::sync::Arc::default(),
        }
    }

    /// The encoding's name, as [`Decoded::encoding`].
    pub fn encoding(&self) -> &'static str {
        self.name
    }

    /// What it has decoded so far, to check once it is read (or when the text it gave turned
    /// out not to be a table: too many replacements then explain why).
    pub fn counts(&self) -> std::sync::Arc<StreamCounts> {
        self.counts.clone()
    }

    /// Appends the text of the next block to `out`; `Ok(0)` once the text has ended.
    pub fn read_text(&mut self, out: &mut String) -> std::io::Result<usize> {
        let before = out.len();
        while out.len() == before && !self.ended {
            let read = loop {
                match self.input.read(&mut self.block) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            let last = read == 0;
            let skipped = self.skip.min(read);
            self.skip -= skipped;
            let mut src = &self.block[skipped..read];
            loop {
                let room = self.decoder.max_utf8_buffer_length(src.len()).unwrap_or(src.len() * 3 + 16);
                out.reserve(room);
                let (result, consumed, _) = self.decoder.decode_to_string(src, out, last);
                src = &src[consumed..];
                if result == encoding_rs::CoderResult::InputEmpty {
                    break;
                }
            }
            self.ended = last;
        }
        let text = &out.as_bytes()[before..];
        let replaced = memchr::memmem::find_iter(text, "\u{FFFD}".as_bytes()).count();
        let chars = text.iter().filter(|&&b| (b & 0xC0) != 0x80).count();
        self.counts.replacements.fetch_add(replaced, std::sync::atomic::Ordering::Relaxed);
        self.counts.chars.fetch_add(chars, std::sync::atomic::Ordering::Relaxed);
        Ok(out.len() - before)
    }
}

/// [`decode`] by the streaming path — a [`Sniff`] pass, then a [`TextStream`] — reading
/// `block` bytes at a time: for tests and fuzzing, which check that the two agree.
pub fn decode_streaming(
    bytes: &[u8],
    declared: Encoding,
    max_ratio: f64,
    block: usize,
) -> Result<(String, &'static str, usize), DecodeError> {
    let mut sniff = Sniff::default();
    for piece in bytes.chunks(block.max(1)) {
        sniff.update(piece);
    }
    let mut stream = TextStream::new(bytes, sniff.plan(declared)?, block);
    let mut text = String::new();
    // Reading from memory does not fail.
    while stream.read_text(&mut text).unwrap_or(0) > 0 {}
    let replacements = stream.counts().check(stream.encoding(), max_ratio)?;
    Ok((text, stream.encoding(), replacements))
}

/// Counts the replacement characters and refuses the text when there are too many.
fn finish<'b>(
    text: std::borrow::Cow<'b, str>,
    encoding: &'static CharEncoding,
    max_ratio: f64,
) -> Result<Decoded<'b>, DecodeError> {
    let replacements = text.matches('\u{FFFD}').count();
    let name = if encoding == GB18030 { "gb18030" } else { encoding.name() };
    if replacements > 0 {
        let chars = text.chars().count();
        if replacements as f64 > max_ratio * chars as f64 {
            return Err(DecodeError::Undecodable { encoding: name, replacements, chars, max_ratio });
        }
    }
    Ok(Decoded { text, encoding: name, replacements })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streaming path gives the text, encoding and replacements of the whole-file one, or
    /// its error, whatever the block size (characters and marks cut by block ends).
    #[test]
    fn streaming_decoding_agrees_with_whole_files() {
        let text = "抽样编号,样品名称\n\u{FEFF}A1,小麦粉 €\n";
        let (gbk, _, _) = GB18030.encode(text);
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(text.as_bytes());
        let mut gb_bom = vec![0x84, 0x31, 0x95, 0x33];
        gb_bom.extend_from_slice(&gbk);
        let mut utf16 = vec![0xFE, 0xFF];
        utf16.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        let mut cut = text.as_bytes().to_vec();
        cut.pop();
        cut.push(0xE4);
        let inputs: [&[u8]; 11] = [
            text.as_bytes(),
            &gbk,
            &with_bom,
            &gb_bom,
            &utf16,
            b"ascii,only\n",
            b"a\x00b",
            b"caf\xe9 \xff\xfe",
            &cut,
            b"",
            b"\xEF\xBB",
        ];
        for bytes in inputs {
            for declared in [Encoding::Auto, Encoding::Utf8, Encoding::Gb18030] {
                for ratio in [0.0, 0.5] {
                    let whole =
                        decode(bytes, declared, ratio).map(|d| (d.text.into_owned(), d.encoding, d.replacements));
                    for block in [1, 2, 3, 5, 4096] {
                        let streamed = decode_streaming(bytes, declared, ratio, block);
                        assert_eq!(streamed, whole, "{bytes:?} declared {declared:?}, blocks of {block}");
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// Any bytes — pieces of UTF-8, GB18030 and UTF-16 text, marks, stray bytes — in any
        /// blocks: the streaming path agrees with the whole-file one.
        #[test]
        fn streaming_decoding_agrees_on_any_bytes(
            pieces in proptest::collection::vec(0usize..8, 0..40),
            stray in proptest::collection::vec(proptest::num::u8::ANY, 0..4),
            block in 1usize..12,
            declared in 0usize..3,
        ) {
            let fragments: [&[u8]; 8] = [
                "样品".as_bytes(), b"\xd1\xf9\xc6\xb7", b"\xEF\xBB\xBF", b"\x84\x31\x95\x33", b"a,b\n", b"\xFF\xFE", b"\xe4\xb8", b"\x81\x30",
            ];
            let mut bytes: Vec<u8> = pieces.iter().flat_map(|&i| fragments[i].iter().copied()).collect();
            bytes.extend(stray);
            let declared = [Encoding::Auto, Encoding::Utf8, Encoding::Gb18030][declared];
            let whole = decode(&bytes, declared, 0.3).map(|d| (d.text.into_owned(), d.encoding, d.replacements));
            proptest::prop_assert_eq!(decode_streaming(&bytes, declared, 0.3, block), whole);
        }
    }

    #[test]
    fn reads_past_a_gb18030_byte_order_mark() {
        let (text, _, _) = GB18030.encode("\u{FEFF}样品编号,检验结果\r\n");
        for declared in [Encoding::Auto, Encoding::Gb18030] {
            let decoded = decode(&text, declared, 0.0).unwrap();
            assert_eq!((decoded.text.as_ref(), decoded.encoding), ("样品编号,检验结果\r\n", "gb18030"));
        }
    }

    #[test]
    fn chooses_bom_then_utf8_then_gb18030() {
        let text = "抽样编号,样品名称\n";
        let (gbk, _, _) = GB18030.encode(text);
        let auto = decode(&gbk, Encoding::Auto, 0.001).unwrap();
        assert_eq!((&*auto.text, auto.encoding), (text, "gb18030"));
        let utf8 = decode(text.as_bytes(), Encoding::Auto, 0.001).unwrap();
        assert_eq!(utf8.encoding, "UTF-8");
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        assert_eq!(decode(&with_bom, Encoding::Auto, 0.001).unwrap().text, text);
        let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let decoded = decode(&utf16, Encoding::Auto, 0.001).unwrap();
        assert_eq!((&*decoded.text, decoded.encoding), (text, "UTF-16LE"));
    }

    #[test]
    fn refuses_binary_and_garbage() {
        assert_eq!(decode(b"PK\x03\x04\x00\x00", Encoding::Auto, 0.001), Err(DecodeError::Binary { offset: 4 }));
        // Valid GB18030 read as UTF-8: every Chinese character is undecodable.
        let (gbk, _, _) = GB18030.encode("抽样编号,样品名称");
        assert!(matches!(decode(&gbk, Encoding::Utf8, 0.001), Err(DecodeError::Undecodable { .. })));
        // One stray byte in a long GB18030 file is tolerated at a 1% threshold.
        let mut long = GB18030.encode(&"合格,".repeat(200)).0.into_owned();
        long.push(0xFF);
        let decoded = decode(&long, Encoding::Auto, 0.01).unwrap();
        assert_eq!(decoded.replacements, 1);
    }
}
