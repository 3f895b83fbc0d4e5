//! Helpers shared by the end-to-end tests: a sandbox copy of the repository's pipelines,
//! seeds and sample data, the test build of the binary, and Parquet readers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};

/// The repository root: cargo's run-time `CARGO_MANIFEST_DIR` first, so a test binary built
/// from another checkout of the same sources (a shared target folder) reads this one.
pub fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// A temporary folder holding copies of `pipelines/`, `seeds/`, `sample-data/` and README.md,
/// so tests write their outputs there and never into the repository.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        for folder in ["pipelines", "seeds", "sample-data"] {
            copy_dir(&repo().join(folder), &dir.path().join(folder));
        }
        std::fs::copy(repo().join("README.md"), dir.path().join("README.md")).unwrap();
        Sandbox { dir }
    }

    /// A sandbox whose bundled pipeline keeps only its first source (food sampling) and the
    /// food checks, for tests whose expected figures are the food sample data's.
    pub fn food_only() -> Sandbox {
        let sandbox = Sandbox::new();
        let pipeline = sandbox.path().join("pipelines/henan-2013.toml");
        let text = std::fs::read_to_string(&pipeline).unwrap();
        let second = text.match_indices("\n[[sources]]").nth(1).map_or(text.len(), |(i, _)| i);
        let text = text[..second].replace(", \"checks/henan-2013-programmes.toml\"", "");
        assert!(!text.contains("programmes.toml"), "the food-only pipeline still includes the other checks");
        std::fs::write(&pipeline, text).unwrap();
        sandbox
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs the test build of `zhijian` with `args` in the sandbox.
    pub fn zhijian(&self, args: &[&str]) -> Output {
        zhijian_in(self.path(), args)
    }

    /// The output folder of the bundled pipeline.
    pub fn output(&self) -> PathBuf {
        self.path().join("out/henan-2013")
    }
}

pub fn zhijian_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zhijian")).args(args).current_dir(dir).env_remove("RUST_LOG").output().unwrap()
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every row of a table as a map of column → value rendered as text ("" for null).
pub fn rows(table_dir: &Path) -> Vec<BTreeMap<String, String>> {
    let batches: Vec<RecordBatch> = zhijian_store::read_table(table_dir, None).unwrap();
    let mut out = Vec::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            let mut map = BTreeMap::new();
            for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                map.insert(field.name().clone(), cell(column.as_ref(), row));
            }
            out.push(map);
        }
    }
    out
}

fn cell(column: &dyn Array, row: usize) -> String {
    use arrow_schema::DataType;
    if column.is_null(row) {
        return String::new();
    }
    match column.data_type() {
        DataType::Utf8 => column.as_string::<i32>().value(row).to_string(),
        DataType::Int64 => column.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Int32 => column.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::Float64 => column.as_primitive::<Float64Type>().value(row).to_string(),
        DataType::Boolean => column.as_boolean().value(row).to_string(),
        DataType::Date32 => arrow_array::temporal_conversions::date32_to_datetime(
            column.as_primitive::<arrow_array::types::Date32Type>().value(row),
        )
        .map(|d| d.date().to_string())
        .unwrap_or_default(),
        DataType::List(_) => {
            let list = column.as_list::<i32>().value(row);
            let strings = list.as_string::<i32>();
            (0..strings.len()).map(|i| strings.value(i).to_string()).collect::<Vec<_>>().join(",")
        }
        other => panic!("unexpected type {other}"),
    }
}
