//! The workbook readers: any bytes as an `.xlsx` or `.xls` through `read_workbook`, with the
//! first sheet and a header on row 1 or 2, under limits small enough for the fuzzer's memory
//! (100,000 cells, 64 MiB unzipped).
//!
//! calamine and zip may panic on a malformed file; `read_workbook` catches that and reports
//! the workbook as unreadable. libFuzzer's panic hook would abort first, so this target's hook
//! lets a panic raised inside those two crates unwind to that boundary and aborts on any other.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use zhijian_ingest::excel::read_workbook;
use zhijian_pipeline::Limits;

fn hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let fuzzer = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let place = info.location().map(|l| l.file().to_string()).unwrap_or_default();
            if std::env::var_os("ZHIJIAN_FUZZ_ABORT_IN_DEPENDENCIES").is_none()
                && (place.contains("/calamine-") || place.contains("/zip-"))
            {
                return;
            }
            fuzzer(info);
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    hook();
    let limits = Limits { max_cells: 100_000, max_unzipped_bytes: 64 << 20, ..Limits::default() };
    let header_row = 1 + data.len() % 2;
    if let Ok(table) = read_workbook(data, None, header_row, 1, &limits) {
        let mut last = 0;
        for record in &table.records {
            assert!(record.line > last, "rows in order");
            last = record.line;
            let _ = record.joined();
        }
    }
});
