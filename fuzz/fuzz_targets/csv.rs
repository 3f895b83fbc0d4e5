//! Decoding and CSV reading: any bytes, as a source's file, through `decode` and the
//! `TableReader`, under the default limits and under tiny ones (so the field and record caps
//! and the stray-quote rule are reached often). The first byte picks the delimiter and the
//! limits; the rest is the file. The streaming path the run uses — `Sniff`, `TextStream`, the
//! reader over text in pieces — must agree with decoding and reading the whole file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zhijian_ingest::decode::{decode, decode_streaming};
use zhijian_ingest::read::{HeaderSearch, InMemory, TableReader};
use zhijian_pipeline::{Encoding, Limits};

fuzz_target!(|data: &[u8]| {
    let Some((&control, bytes)) = data.split_first() else { return };
    let delimiter = [b',', b'\t', b';', b'|'][usize::from(control & 3)];
    let limits = if control & 4 == 0 {
        Limits::default()
    } else {
        Limits { max_field_bytes: 16, max_record_bytes: 64, ..Limits::default() }
    };
    let encoding = [Encoding::Auto, Encoding::Utf8, Encoding::Gb18030, Encoding::Auto][usize::from(control >> 6)];
    // Blocks of 1 to 8 bytes (from the control byte), so marks and characters are cut.
    let block = usize::from((control >> 3) & 7) + 1;
    let streamed = decode_streaming(bytes, encoding, 1.0, block);
    let decoded = decode(bytes, encoding, 1.0);
    assert_eq!(
        streamed.as_ref().map(|(text, encoding, replacements)| (text.as_str(), *encoding, *replacements)),
        decoded.as_ref().map(|d| (d.text.as_ref(), d.encoding, d.replacements)),
    );
    let Ok(decoded) = decoded else { return };
    let header_row = usize::from((control >> 3) & 3) + 1;
    let whole = TableReader::new(&decoded.text, delimiter, header_row, 1, &limits);
    let cut = TableReader::open_source(
        Box::new(InMemory::new(&decoded.text, block)),
        delimiter,
        HeaderSearch::At(header_row),
        1,
        &limits,
    );
    let (Ok(mut reader), Ok(mut pieces)) = (whole, cut) else { return };
    assert_eq!(reader.header(), pieces.header());
    let mut last_line = 0;
    let mut records = 0u64;
    loop {
        let Ok(chunk) = reader.next_chunk(7) else { return };
        assert_eq!(pieces.next_chunk(7).as_ref(), Ok(&chunk), "the text read in pieces of {block}");
        if chunk.is_empty() {
            break;
        }
        for record in &chunk {
            // Records are numbered in order, and start on lines that never go back.
            assert_eq!(record.record, records);
            assert!(record.line >= last_line, "line {} after line {last_line}", record.line);
            last_line = record.line;
            records += 1;
            let joined = record.joined();
            match record.malformed() {
                Some(malformed) => {
                    assert_eq!(malformed.lines.0, record.line);
                    assert!(malformed.lines.1 >= malformed.lines.0);
                    // What is kept of the record is bounded.
                    assert!(joined.len() <= 4096 + '…'.len_utf8());
                    let _ = malformed.to_string();
                }
                None => {
                    // A well-formed record's fields respect the limit.
                    assert!(record.fields().all(|f| f.len() <= limits.max_field_bytes));
                }
            }
        }
    }
});
