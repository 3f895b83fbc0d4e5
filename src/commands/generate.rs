//! `zhijian generate`: writes a synthetic drop of every programme.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::GenerateEncoding;

/// Writes the drop into `out`, tells its size on stderr and prints its pipeline.toml's path.
pub(crate) fn execute(
    samples: u64,
    seed: u64,
    out: PathBuf,
    seeds: PathBuf,
    rows_per_file: u64,
    mess_rate: f64,
    encoding: GenerateEncoding,
) -> anyhow::Result<ExitCode> {
    let encoding = match encoding {
        GenerateEncoding::Utf8 => zhijian_generate::Encoding::Utf8,
        GenerateEncoding::Gb18030 => zhijian_generate::Encoding::Gb18030,
    };
    let options =
        zhijian_generate::Options { samples, seed, out: out.clone(), seeds, rows_per_file, mess_rate, encoding };
    let expected = zhijian_generate::generate(&options)?;
    let accepted: u64 = expected.programmes.values().map(|p| p.samples).sum();
    eprintln!(
        "generated {} rows in {} files ({accepted} samples accepted, {} rows to be rejected)",
        expected.rows,
        expected.files.len(),
        expected.rejected_rows.values().sum::<u64>()
    );
    println!("{}", out.join("pipeline.toml").display());
    Ok(ExitCode::SUCCESS)
}
