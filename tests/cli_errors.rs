//! Inputs that stop a run: exit code 2, a message naming the file (and line and column where
//! there is one), never a panic, and the published outputs untouched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Sandbox, stderr, stdout};

fn assert_exit_2(output: &std::process::Output) -> String {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "stdout:\n{}\nstderr:\n{err}", stdout(output));
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn a_broken_pipeline_file_reports_every_error_with_its_location() {
    let sandbox = Sandbox::new();
    let path = sandbox.path().join("pipelines/henan-2013.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let broken = text
        .replace("programme = \"food\"", "programme = \"foods\"")
        .replace("encoding = \"auto\"", "encoding = \"big5\"")
        .replace("as_of = 2013-09-30", "as_of = \"2013-09-31\"")
        .replace("sample_id = [", "sample_idd = [");
    std::fs::write(&path, broken).unwrap();
    for command in ["validate", "run"] {
        let err = assert_exit_2(&sandbox.zhijian(&[command, "pipelines/henan-2013.toml"]));
        assert!(err.contains("error: 5 problems in the pipeline file"), "{err}");
        assert!(
            err.contains(
                "pipelines/henan-2013.toml:7:9: expected `as_of` to be a date like 2013-09-30 (at `\"2013-09-31\"`)"
            ),
            "{err}"
        );
        assert!(err.contains("pipelines/henan-2013.toml:16:13: unknown programme `foods`"), "{err}");
        assert!(err.contains("pipelines/henan-2013.toml:18:12: unknown encoding `big5`, expected one of: auto, utf-8, gb18030, gbk (at `\"big5\"`)"), "{err}");
        assert!(err.contains("unknown field `sample_idd` in sources[0].columns"), "{err}");
        assert!(err.contains("missing `sample_id` in sources[0].columns"), "{err}");
    }
}

#[test]
fn a_missing_pipeline_file_or_input_folder_is_named() {
    let sandbox = Sandbox::new();
    let err = assert_exit_2(&sandbox.zhijian(&["run", "pipelines/nope.toml"]));
    assert!(err.contains("pipelines/nope.toml: cannot read the pipeline file"), "{err}");
    std::fs::remove_dir_all(sandbox.path().join("sample-data/food")).unwrap();
    let err = assert_exit_2(&sandbox.zhijian(&["run", "pipelines/henan-2013.toml"]));
    assert!(
        err.contains(
            "source `food-samr`: input folder `sample-data/food` does not exist (pattern `sample-data/food/*.csv`)"
        ),
        "{err}"
    );
    assert!(!sandbox.output().exists());
}

#[test]
fn bad_input_files_stop_the_run_and_leave_the_last_outputs_intact() {
    let sandbox = Sandbox::new();
    assert_eq!(sandbox.zhijian(&["run", "pipelines/henan-2013.toml"]).status.code(), Some(0));
    let manifest_before = std::fs::read(sandbox.output().join("_manifest.json")).unwrap();
    let food = sandbox.path().join("sample-data/food");

    // An Excel workbook saved with a .csv name.
    std::fs::write(food.join("workbook.csv"), b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00").unwrap();
    let err = assert_exit_2(&sandbox.zhijian(&["run", "pipelines/henan-2013.toml"]));
    assert!(err.contains("sample-data/food/workbook.csv`: looks binary, not text (NUL byte at offset 5)"), "{err}");
    std::fs::remove_file(food.join("workbook.csv")).unwrap();

    // A file that decodes as neither UTF-8 nor GB18030.
    let mut garbage = "抽样编号,样品名称\n".as_bytes().to_vec();
    garbage.extend(std::iter::repeat_n([0xFFu8, 0xFE, 0x81], 40).flatten());
    std::fs::write(food.join("garbage.csv"), garbage).unwrap();
    let err = assert_exit_2(&sandbox.zhijian(&["run", "pipelines/henan-2013.toml"]));
    assert!(err.contains("sample-data/food/garbage.csv`:") && err.contains("could not be decoded as gb18030"), "{err}");
    std::fs::remove_file(food.join("garbage.csv")).unwrap();

    // A file without the required columns.
    std::fs::write(food.join("other.csv"), "编号,名称\n1,x\n").unwrap();
    let err = assert_exit_2(&sandbox.zhijian(&["run", "pipelines/henan-2013.toml"]));
    assert!(err.contains("sample-data/food/other.csv`: missing required column(s): `sample_id` (expected a column named `抽样编号` or `抽样单编号` or `样品编号`)"), "{err}");
    std::fs::remove_file(food.join("other.csv")).unwrap();

    // None of the failed runs touched the published outputs.
    assert_eq!(std::fs::read(sandbox.output().join("_manifest.json")).unwrap(), manifest_before);
    assert!(sandbox.output().join("_SUCCESS").exists());
    let leftovers: Vec<String> = std::fs::read_dir(sandbox.output())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn broken_seeds_are_named_by_file_and_line() {
    let sandbox = Sandbox::new();
    let units = sandbox.path().join("seeds/units.csv");
    let text = std::fs::read_to_string(&units)
        .unwrap()
        .replace("g/kg,克/千克,mass_fraction,1000", "g/kg,克/千克,mass_fraction,-1");
    std::fs::write(&units, text).unwrap();
    let err = assert_exit_2(&sandbox.zhijian(&["validate", "pipelines/henan-2013.toml"]));
    assert!(err.contains("seeds/units.csv:5: field `factor`, value `-1`: expected a positive number"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let sandbox = Sandbox::new();
    assert_exit_2(&sandbox.zhijian(&["frobnicate"]));
    assert_exit_2(&sandbox.zhijian(&["run"]));
}

#[test]
fn a_workbook_that_cannot_be_read_or_lacks_its_sheet_is_named() {
    let sandbox = Sandbox::new();
    let folder = sandbox.path().join("sample-data/agri-products");
    std::fs::write(folder.join("routine-monitoring-2013-更正.xlsx"), b"PK\x03\x04 not a workbook").unwrap();
    let err = assert_exit_2(&sandbox.zhijian(&["run", "pipelines/henan-2013.toml"]));
    assert!(
        err.contains("sample-data/agri-products/routine-monitoring-2013-更正.xlsx`: cannot read the workbook"),
        "{err}"
    );
    assert!(!sandbox.output().exists());

    let sandbox = Sandbox::new();
    let path = sandbox.path().join("pipelines/henan-2013.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace("sheet = \"例行监测\"", "sheet = \"监测结果\"");
    std::fs::write(&path, text).unwrap();
    let err = assert_exit_2(&sandbox.zhijian(&["run", "pipelines/henan-2013.toml"]));
    assert!(err.contains("no worksheet `监测结果` in the workbook; it has: `填表说明`, `例行监测`"), "{err}");
}
