//! The pipeline file: any text through `Pipeline::parse`. Every error it reports is located
//! within the text (a line that exists) and renders.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zhijian_pipeline::Pipeline;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Relative `checks` includes resolve under a folder that does not exist: nothing is read.
    let path = std::path::Path::new("/nonexistent/zhijian-fuzz/pipeline.toml");
    if let Err(errors) = Pipeline::parse(path, text) {
        let lines = text.split('\n').count();
        for error in &errors.0 {
            assert!(error.line <= lines, "line {} of {lines}: {error}", error.line);
            let _ = error.to_string();
        }
    }
});
