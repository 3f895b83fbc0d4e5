//! `zhijian-aggregate-bench SAMPLES_DIR OUT_DIR`: computes the pass-rate cube from a `samples`
//! table and writes it as `OUT_DIR/pass_rates`, as `zhijian run` does, so benches/compare.py can
//! time the aggregation alone beside DuckDB and polars. Prints the cells and samples read.

use std::path::PathBuf;
use std::process::ExitCode;

// The allocator of the `zhijian` binary, so the aggregation is timed as it runs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [samples, out] = args.as_slice() else {
        eprintln!("usage: zhijian-aggregate-bench SAMPLES_DIR OUT_DIR");
        return ExitCode::from(2);
    };
    let options = zhijian_aggregate::CubeOptions { province_code: "410000".into(), province_name: "河南省".into() };
    let result = zhijian_aggregate::aggregate(&PathBuf::from(samples), &options).map_err(|e| e.to_string()).and_then(
        |aggregates| {
            zhijian_aggregate::write_pass_rates(&PathBuf::from(out).join("pass_rates"), &aggregates.pass_rates, &[])
                .map_err(|e| e.to_string())
                .map(|_| aggregates)
        },
    );
    match result {
        Ok(aggregates) => {
            println!("{} cells from {} samples", aggregates.pass_rates.len(), aggregates.samples_read);
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}
