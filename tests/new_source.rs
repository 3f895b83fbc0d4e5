//! A source zhijian has never seen, configured only through a pipeline file written from the
//! README's recipe: the README's worked example (data and pipeline file) must be the files in
//! the repository, and running it gives the figures worked out by hand in the README.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Sandbox, repo, rows, stderr, stdout};

/// The fenced block after `<!-- recipe:KIND PATH -->`, and PATH.
fn recipe_block(readme: &str, kind: &str) -> (String, String) {
    let marker = format!("<!-- recipe:{kind} ");
    let start = readme.find(&marker).unwrap_or_else(|| panic!("no {marker}"));
    let rest = &readme[start + marker.len()..];
    let path = rest[..rest.find(" -->").unwrap()].to_string();
    let fence = rest.find("```").unwrap();
    let body_start = fence + rest[fence..].find('\n').unwrap() + 1;
    let body_end = body_start + rest[body_start..].find("```").unwrap();
    (path, rest[body_start..body_end].to_string())
}

#[test]
fn the_readme_recipe_is_the_shipped_example() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let (pipeline_path, pipeline) = recipe_block(&readme, "pipeline");
    assert_eq!(std::fs::read_to_string(repo().join(&pipeline_path)).unwrap(), pipeline, "{pipeline_path}");
    let (data_path, data) = recipe_block(&readme, "data");
    let bytes = std::fs::read(repo().join(&data_path)).unwrap();
    // The office's file is GBK with CRLF; the README shows its text.
    assert!(std::str::from_utf8(&bytes).is_err(), "the example must stay GBK");
    let (text, _, errors) = encoding_rs::GB18030.decode(&bytes);
    assert!(!errors);
    assert_eq!(text.replace("\r\n", "\n"), data);
}

#[test]
fn an_unseen_source_reads_correctly_from_its_pipeline_file_alone() {
    let sandbox = Sandbox::new();
    let output = sandbox.zhijian(&["run", "pipelines/examples/zhengzhou-quick-tests.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}\n{}", stdout(&output), stderr(&output));
    assert!(
        stdout(&output).starts_with(
            "zhengzhou-quick-tests: 1 file(s), 6 row(s) read, 5 accepted, 1 rejected → out/zhengzhou-quick-tests\n"
        ),
        "{}",
        stdout(&output)
    );
    let out = sandbox.path().join("out/zhengzhou-quick-tests");
    let mut samples: Vec<(String, String, String, String, String, String)> = rows(&out.join("samples"))
        .into_iter()
        .map(|s| {
            (
                s["source_sample_id"].clone(),
                s["verdict"].clone(),
                s["failing_items"].clone(),
                s["county_code"].clone(),
                s["sampling_date"].clone(),
                s["category_2"].clone(),
            )
        })
        .collect();
    samples.sort();
    let expected = [
        ("KJ-001", "fail", "毒死蜱", "410105", "2013-07-01", "韭菜"),
        ("KJ-002", "pass", "", "410105", "2013-07-01", "大白菜"),
        ("KJ-003", "pass", "", "410122", "2013-07-02", "黄瓜"),
        ("KJ-004", "pass", "", "410311", "2013-07-03", "苹果"),
        ("KJ-005", "fail", "多菌灵,毒死蜱", "410311", "2013-07-03", "葡萄"),
    ]
    .map(|(a, b, c, d, e, f)| (a.into(), b.into(), c.into(), d.into(), e.into(), f.into()));
    assert_eq!(samples, expected);
    // Values and limits come out of the packed cells, converted and judged.
    let results = rows(&out.join("results"));
    let carbendazim = results.iter().find(|r| r["analyte_code"] == "carbendazim").unwrap();
    assert_eq!(
        (carbendazim["value"].as_str(), carbendazim["limit_max"].as_str(), carbendazim["unit"].as_str()),
        ("7.5", "3", "mg/kg")
    );
    let rejects = rows(&out.join("rejects"));
    assert_eq!(rejects.len(), 1);
    assert_eq!(
        (rejects[0]["source_line"].as_str(), rejects[0]["rule"].as_str(), rejects[0]["value"].as_str()),
        ("8", "date_invalid", "2013年7月32日 10:40")
    );
    // 郑州 2 of 3, 洛阳 1 of 2, the province 3 of 5.
    let cube = rows(&out.join("pass_rates"));
    let rate = |level: &str, code: &str| {
        let cell = cube
            .iter()
            .find(|r| {
                r["period"] == "2013" && r["area_level"] == level && r["area_code"] == code && r["category"] == "all"
            })
            .unwrap();
        (cell["tested"].clone(), cell["passed"].clone(), cell["pass_rate"].parse::<f64>().unwrap())
    };
    assert_eq!(rate("city", "410100"), ("3".to_string(), "2".to_string(), 2.0 / 3.0));
    assert_eq!(rate("city", "410300"), ("2".to_string(), "1".to_string(), 0.5));
    assert_eq!(rate("province", "410000"), ("5".to_string(), "3".to_string(), 0.6));
}
