//! Throughput of the hot paths on a generated drop: parse + normalise (records per second,
//! every file parsed again) and the pass-rate aggregation (samples per second).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

// The allocator of the `zhijian` binary, so the hot paths are timed as they run there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Samples in the benchmark drop: about 64,000 records.
const SAMPLES: u64 = 20_000;

fn hot_paths(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let pipeline_path = zhijian_bench::drop(&dir.path().join("drop"), SAMPLES);
    let validated = zhijian_run::validate(&pipeline_path).unwrap();
    let (pipeline, seeds) = (&validated.pipeline, &validated.seeds);
    let as_of = pipeline.as_of.unwrap();

    let cache = zhijian_ingest::FileCache { dir: dir.path().join("cache"), read: false, fingerprint: String::new() };
    let records: u64 =
        zhijian_ingest::read_inputs(pipeline, seeds, as_of, &cache, None).unwrap().files().map(|f| f.rows_read).sum();
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.throughput(Throughput::Elements(records));
    group.bench_function("parse_normalise", |b| {
        b.iter(|| zhijian_ingest::read_inputs(pipeline, seeds, as_of, &cache, None).unwrap())
    });
    group.finish();

    let output = dir.path().join("out");
    let options = zhijian_run::RunOptions {
        output: Some(output.clone()),
        today: None,
        sql: None,
        skip_checks: true,
        full_refresh: true,
        progress: None,
        batch_rows: 0,
    };
    let outcome = zhijian_run::run(&pipeline_path, &options).unwrap();
    let samples_dir = outcome.output.join("samples");
    let province = seeds.areas.province().unwrap();
    let cube =
        zhijian_aggregate::CubeOptions { province_code: province.code.clone(), province_name: province.name.clone() };
    let read = zhijian_aggregate::aggregate(&samples_dir, &cube).unwrap().samples_read;
    let mut group = c.benchmark_group("aggregate");
    group.throughput(Throughput::Elements(read));
    group.bench_function("pass_rates", |b| b.iter(|| zhijian_aggregate::aggregate(&samples_dir, &cube).unwrap()));
    group.finish();
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
