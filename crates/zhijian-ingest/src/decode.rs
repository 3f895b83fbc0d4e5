//! Turning a file's bytes into text: byte-order mark, then strict UTF-8, then GB18030.

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

/// A file's text that owns its memory: [`decode_owned`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedText {
    text: String,
    /// Where the text starts in `text`: after a UTF-8 byte-order mark kept in place.
    start: usize,
    /// As [`Decoded::encoding`].
    pub encoding: &'static str,
    /// As [`Decoded::replacements`].
    pub replacements: usize,
}

impl DecodedText {
    /// The text, byte-order mark removed.
    pub fn text(&self) -> &str {
        &self.text[self.start..]
    }
}

/// [`decode`], taking the bytes, so that a file is never held twice: bytes that are UTF-8
/// already become the text in place (one validation, no copy), and bytes decoded from
/// GB18030 or UTF-16 are freed once the text is made. A GB18030 export of 200 MB then costs
/// its text, not its text and its bytes.
pub fn decode_owned(bytes: Vec<u8>, declared: Encoding, max_ratio: f64) -> Result<DecodedText, DecodeError> {
    let utf16 = CharEncoding::for_bom(&bytes).is_some_and(|(e, _)| e != UTF_8);
    let bytes = if declared != Encoding::Gb18030 && !utf16 && !bytes.starts_with(&[0x84, 0x31, 0x95, 0x33]) {
        if let Some(offset) = bytes.iter().position(|&b| b == 0) {
            return Err(DecodeError::Binary { offset });
        }
        match String::from_utf8(bytes) {
            Ok(text) => {
                let start = if text.starts_with('\u{FEFF}') { '\u{FEFF}'.len_utf8() } else { 0 };
                let checked = finish(std::borrow::Cow::Borrowed(&text[start..]), UTF_8, max_ratio)?;
                let (encoding, replacements) = (checked.encoding, checked.replacements);
                return Ok(DecodedText { text, start, encoding, replacements });
            }
            Err(err) => err.into_bytes(),
        }
    } else {
        bytes
    };
    let decoded = decode(&bytes, declared, max_ratio)?;
    let (encoding, replacements) = (decoded.encoding, decoded.replacements);
    let text = decoded.text.into_owned();
    drop(bytes);
    Ok(DecodedText { text, start: 0, encoding, replacements })
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

    /// Taking the bytes gives what borrowing them gives, for every encoding and declaration.
    #[test]
    fn owned_decoding_agrees_with_borrowed() {
        let text = "抽样编号,样品名称\nA1,小麦粉\n";
        let (gbk, _, _) = GB18030.encode(text);
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(text.as_bytes());
        let mut gb_bom = vec![0x84, 0x31, 0x95, 0x33];
        gb_bom.extend_from_slice(&gbk);
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let inputs: [&[u8]; 8] =
            [text.as_bytes(), &gbk, &with_bom, &gb_bom, &utf16, b"ascii,only\n", b"a\x00b", b"caf\xe9 \xff\xfe"];
        for bytes in inputs {
            for declared in [Encoding::Auto, Encoding::Utf8, Encoding::Gb18030] {
                let borrowed = decode(bytes, declared, 0.5).map(|d| (d.text.into_owned(), d.encoding, d.replacements));
                let owned = decode_owned(bytes.to_vec(), declared, 0.5)
                    .map(|d| (d.text().to_string(), d.encoding, d.replacements));
                assert_eq!(owned, borrowed, "{bytes:?} declared {declared:?}");
            }
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
