//! A delimited text file as zhijian reads it — title lines, one header row, data records — and
//! back to bytes in a chosen encoding, with or without a byte-order mark, with CRLF or LF.
//!
//! Records go through the csv crate both ways (the reader zhijian uses), so a quoted cell with
//! a line break in it stays one cell whatever the line ends become; title lines above the
//! header are kept verbatim, so the header stays on the line the pipeline names.

use zhijian_pipeline::Encoding;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// U+FEFF in GB18030.
const GB18030_BOM: &[u8] = b"\x84\x31\x95\x33";

/// How a file's text is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charset {
    Utf8,
    Gb18030,
}

/// The byte-level shape of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bytes {
    pub charset: Charset,
    /// A byte-order mark: `EF BB BF` in UTF-8, `84 31 95 33` in GB18030.
    pub bom: bool,
    pub crlf: bool,
}

impl std::fmt::Display for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let charset = match self.charset {
            Charset::Utf8 => "UTF-8",
            Charset::Gb18030 => "GB18030",
        };
        let bom = if self.bom { " with BOM" } else { "" };
        let ends = if self.crlf { "CRLF" } else { "LF" };
        write!(f, "{charset}{bom}, {ends}")
    }
}

/// One delimited file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sheet {
    /// Lines above the header, verbatim, without their line ends.
    pub titles: Vec<String>,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub delimiter: u8,
    pub bytes: Bytes,
}

impl Sheet {
    /// Reads `data` as a source with this encoding, delimiter and 1-based header line would.
    pub(crate) fn read(data: &[u8], declared: Encoding, delimiter: u8, header_row: usize) -> Sheet {
        let (text, bytes) = if let Some(body) = data.strip_prefix(UTF8_BOM) {
            let text = String::from_utf8(body.to_vec()).expect("UTF-8 after a UTF-8 BOM");
            (text, Bytes { charset: Charset::Utf8, bom: true, crlf: false })
        } else if let Some(body) = data.strip_prefix(GB18030_BOM) {
            let (text, _) = encoding_rs::GB18030.decode_without_bom_handling(body);
            (text.into_owned(), Bytes { charset: Charset::Gb18030, bom: true, crlf: false })
        } else {
            let utf8 = match declared {
                Encoding::Utf8 => true,
                Encoding::Gb18030 => false,
                Encoding::Auto => std::str::from_utf8(data).is_ok(),
            };
            if utf8 {
                let text = String::from_utf8(data.to_vec()).expect("a UTF-8 source holds UTF-8");
                (text, Bytes { charset: Charset::Utf8, bom: false, crlf: false })
            } else {
                let (text, _) = encoding_rs::GB18030.decode_without_bom_handling(data);
                (text.into_owned(), Bytes { charset: Charset::Gb18030, bom: false, crlf: false })
            }
        };
        let bytes = Bytes { crlf: text.contains("\r\n"), ..bytes };
        let mut rest = text.as_str();
        let mut titles = Vec::new();
        for _ in 1..header_row {
            let (line, tail) = rest.split_once('\n').unwrap_or((rest, ""));
            titles.push(line.strip_suffix('\r').unwrap_or(line).to_string());
            rest = tail;
        }
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(rest.as_bytes());
        let mut records = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<String>>())
            .collect::<Vec<_>>();
        assert!(!records.is_empty(), "no header row");
        let header = records.remove(0);
        Sheet { titles, header, rows: records, delimiter, bytes }
    }

    /// The file's bytes in its [`Bytes`] shape.
    pub(crate) fn write(&self) -> Vec<u8> {
        let end = if self.bytes.crlf { "\r\n" } else { "\n" };
        let mut text = String::new();
        for title in &self.titles {
            text.push_str(title);
            text.push_str(end);
        }
        let terminator = if self.bytes.crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') };
        let mut writer = csv::WriterBuilder::new()
            .delimiter(self.delimiter)
            .flexible(true)
            .terminator(terminator)
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(Vec::new());
        writer.write_record(&self.header).unwrap();
        for row in &self.rows {
            writer.write_record(row).unwrap();
        }
        text.push_str(std::str::from_utf8(&writer.into_inner().unwrap()).unwrap());
        let (bom, body) = match self.bytes.charset {
            Charset::Utf8 => (UTF8_BOM, text.into_bytes()),
            Charset::Gb18030 => {
                let (encoded, _, unmappable) = encoding_rs::GB18030.encode(&text);
                assert!(!unmappable, "GB18030 encodes every character");
                (GB18030_BOM, encoded.into_owned())
            }
        };
        if self.bytes.bom { [bom, &body].concat() } else { body }
    }
}

#[test]
fn a_sheet_reads_back_as_written_in_every_shape() {
    let text = "标题\r\n抽样编号,样品名称,备注\r\nA1,\"面粉\nB\",\"x,y\"\r\n,,\r\nA2,大米\r\n";
    let sheet = Sheet::read(text.as_bytes(), Encoding::Auto, b',', 2);
    assert_eq!(sheet.titles, ["标题"]);
    assert_eq!(sheet.header, ["抽样编号", "样品名称", "备注"]);
    assert_eq!(sheet.rows, [vec!["A1", "面粉\nB", "x,y"], vec!["", "", ""], vec!["A2", "大米"]]);
    assert!(sheet.bytes.crlf && sheet.bytes.charset == Charset::Utf8 && !sheet.bytes.bom);
    assert_eq!(sheet.write(), text.as_bytes());
    for charset in [Charset::Utf8, Charset::Gb18030] {
        for bom in [false, true] {
            for crlf in [false, true] {
                let shaped = Sheet { bytes: Bytes { charset, bom, crlf }, ..sheet.clone() };
                let declared = if charset == Charset::Utf8 { Encoding::Utf8 } else { Encoding::Gb18030 };
                let again = Sheet::read(&shaped.write(), declared, b',', 2);
                assert_eq!(again, shaped, "{}", shaped.bytes);
            }
        }
    }
}
