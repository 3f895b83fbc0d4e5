//! Helpers of zhijian's criterion benchmarks (`cargo bench -p zhijian-bench`): a generated drop
//! and a finished run to measure against. The side-by-side comparison with DuckDB and polars
//! is `benches/compare.py`; its figures are in `benches/RESULTS.md`.

use std::path::{Path, PathBuf};

/// A generated drop of `samples` samples in `dir`, with its pipeline file.
pub fn drop(dir: &Path, samples: u64) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let options = zhijian_generate::Options {
        samples,
        seed: 1,
        out: dir.to_path_buf(),
        seeds: repo.join("seeds"),
        rows_per_file: 50_000,
        mess_rate: 0.002,
        encoding: zhijian_generate::Encoding::Utf8,
    };
    if let Err(err) = zhijian_generate::generate(&options) {
        eprintln!("cannot generate a drop: {err}");
        std::process::exit(2);
    }
    dir.join("pipeline.toml")
}
