//! The bundled food sample data, run end to end. Expected values come from the generator's
//! own ground truth (sample-data/food/generate.py decides every sample's fate before writing
//! a row), not from zhijian's output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{Sandbox, repo, rows, stderr, stdout};

/// (city code, tested, passed, failed, pending), directly administered counties inside.
const CITY_COUNTS: &[(&str, u64, u64, u64, u64)] = &[
    ("410100", 30, 28, 2, 0),
    ("410200", 15, 14, 1, 0),
    ("410300", 24, 21, 3, 0),
    ("410400", 7, 5, 2, 0),
    ("410500", 21, 21, 0, 0),
    ("410600", 11, 10, 1, 0),
    ("410700", 18, 17, 1, 0),
    ("410800", 15, 14, 1, 0),
    ("410900", 15, 14, 1, 0),
    ("411000", 12, 8, 4, 0),
    ("411100", 11, 11, 0, 0),
    ("411200", 3, 3, 0, 0),
    ("411300", 28, 26, 1, 1),
    ("411400", 23, 21, 2, 0),
    ("411500", 18, 17, 1, 0),
    ("411600", 22, 19, 2, 1),
    ("411700", 17, 16, 1, 0),
    ("419001", 3, 3, 0, 0),
];

/// (top-level category, tested, passed, failed, pending), province-wide.
const CATEGORY_COUNTS: &[(&str, u64, u64, u64, u64)] = &[
    ("乳制品", 16, 15, 1, 0),
    ("粮食加工品", 51, 44, 7, 0),
    ("糕点", 16, 13, 3, 0),
    ("肉制品", 24, 23, 1, 0),
    ("蔬菜制品", 18, 16, 2, 0),
    ("调味品", 30, 25, 4, 1),
    ("豆制品", 14, 14, 0, 0),
    ("酒类", 17, 16, 1, 0),
    ("食用农产品", 59, 57, 2, 0),
    ("食用油、油脂及其制品", 31, 29, 2, 0),
    ("饮料", 17, 16, 0, 1),
];

/// Every deliberate fault: (file, line, rule, field). See sample-data/food/README.md.
const FAULTS: &[(&str, u64, &str, &str)] = &[
    ("samr-export-2013H1.csv", 51, "date_invalid", "sampling_date"),
    ("samr-export-2013H1.csv", 52, "date_invalid", "sampling_date"),
    ("samr-export-2013H1.csv", 53, "date_invalid", "sampling_date"),
    ("samr-export-2013H1.csv", 139, "value_not_numeric", "result"),
    ("samr-export-2013H1.csv", 204, "sample_fields_disagree", "product_name"),
    ("samr-export-2013H1.csv", 205, "sample_fields_disagree", "product_name"),
    ("samr-export-2013H1.csv", 206, "sample_fields_disagree", "product_name"),
    ("samr-export-2013Q3.csv", 25, "area_unknown", "city"),
    ("samr-export-2013Q3.csv", 26, "area_unknown", "city"),
    ("samr-export-2013Q3.csv", 27, "area_unknown", "city"),
    ("samr-export-2013Q3.csv", 28, "area_unknown", "city"),
    ("samr-export-2013Q3.csv", 59, "date_in_future", "sampling_date"),
    ("samr-export-2013Q3.csv", 60, "date_in_future", "sampling_date"),
    ("samr-export-2013Q3.csv", 61, "date_in_future", "sampling_date"),
    ("samr-export-2013Q3.csv", 76, "date_order", "report_date"),
    ("samr-export-2013Q3.csv", 77, "date_order", "report_date"),
    ("samr-export-2013Q3.csv", 78, "date_order", "report_date"),
    ("samr-export-2013Q3.csv", 79, "date_order", "report_date"),
    ("samr-export-2013Q3.csv", 128, "value_not_numeric", "result"),
    ("samr-export-2013Q3.csv", 150, "item_duplicate", "item"),
    ("samr-export-2013Q3.csv", 200, "required_missing", "sample_id"),
    ("samr-export-2013Q3.csv", 201, "required_missing", "sample_id"),
    ("samr-export-2013Q3.csv", 202, "required_missing", "sample_id"),
    ("samr-export-2013Q3.csv", 203, "required_missing", "sample_id"),
    ("samr-export-2013Q3.csv", 251, "unit_unknown", "result_unit"),
    ("samr-export-2013Q3.csv", 275, "area_outside_province", "province"),
    ("samr-export-2013Q3.csv", 276, "area_outside_province", "province"),
    ("samr-export-2013Q3.csv", 277, "area_outside_province", "province"),
    ("samr-export-2013Q3.csv", 278, "area_outside_province", "province"),
];

fn run() -> Sandbox {
    let sandbox = Sandbox::new();
    let output = sandbox.zhijian(&["run", "pipelines/henan-2013.toml"]);
    assert_eq!(output.status.code(), Some(0), "stdout:\n{}\nstderr:\n{}", stdout(&output), stderr(&output));
    sandbox
}

/// The rows of a table that come from the food source: the bundled pipeline reads every
/// programme, and the other sources are checked against their own ground truth in
/// `every_programme.rs`.
fn food(table: Vec<BTreeMap<String, String>>) -> Vec<BTreeMap<String, String>> {
    table.into_iter().filter(|r| r["source_file"].starts_with("../sample-data/food/")).collect()
}

fn sample(samples: &[BTreeMap<String, String>], id: &str) -> BTreeMap<String, String> {
    samples.iter().find(|s| s["source_sample_id"] == id).cloned().unwrap_or_else(|| panic!("no sample {id}"))
}

#[test]
fn every_row_is_accounted_for_per_file() {
    let sandbox = run();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sandbox.output().join("_manifest.json")).unwrap()).unwrap();
    let inputs = manifest["inputs"].as_array().unwrap();
    let counts: Vec<(String, u64, u64, u64)> = inputs
        .iter()
        .filter(|f| f["path"].as_str().unwrap().starts_with("../sample-data/food/"))
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["rows_read"].as_u64().unwrap(),
                f["rows_accepted"].as_u64().unwrap(),
                f["rows_rejected"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("../sample-data/food/samr-export-2013H1.csv".to_string(), 518, 511, 7),
            ("../sample-data/food/samr-export-2013Q3.csv".to_string(), 435, 413, 22),
        ]
    );
    for (_, read, accepted, rejected) in &counts {
        assert_eq!(*read, accepted + rejected);
    }
    // The tables hold exactly those rows.
    let results = food(rows(&sandbox.output().join("results")));
    let rejects = food(rows(&sandbox.output().join("rejects")));
    assert_eq!(results.len(), 511 + 413);
    assert_eq!(rejects.len(), 7 + 22);
    assert!(sandbox.output().join("_SUCCESS").exists());
    // Every input line is either a result or a reject, never both.
    let mut lines: Vec<(String, String)> =
        results.iter().chain(&rejects).map(|r| (r["source_file"].clone(), r["source_line"].clone())).collect();
    let total = lines.len();
    lines.sort();
    lines.dedup();
    assert_eq!(lines.len(), total);
}

#[test]
fn each_deliberate_fault_lands_where_the_readme_says() {
    let sandbox = run();
    let rejects = food(rows(&sandbox.output().join("rejects")));
    let mut got: Vec<(String, u64, String, String)> = rejects
        .iter()
        .map(|r| {
            (
                r["source_file"].trim_start_matches("../sample-data/food/").to_string(),
                r["source_line"].parse().unwrap(),
                r["rule"].clone(),
                r["field"].clone(),
            )
        })
        .collect();
    got.sort();
    let expected: Vec<(String, u64, String, String)> =
        FAULTS.iter().map(|(f, l, r, fi)| (f.to_string(), *l, r.to_string(), fi.to_string())).collect();
    assert_eq!(got, expected);
    // Messages name the value and say what was expected.
    let unit = rejects.iter().find(|r| r["rule"] == "unit_unknown").unwrap();
    assert_eq!(unit["value"], "ppm");
    assert_eq!(unit["column"], "结果单位");
    assert_eq!(unit["message"], "unknown unit `ppm`: not in seeds/units.csv");
    let date = rejects.iter().find(|r| r["rule"] == "date_invalid").unwrap();
    assert_eq!(
        date["message"],
        "expected a sampling date such as 2013-07-05, 2013/7/5 or 2013年7月5日, found `2013-02-30`"
    );
    let dup = rejects.iter().find(|r| r["rule"] == "item_duplicate").unwrap();
    assert_eq!(
        dup["message"],
        "item `铅(以Pb计)` of sample `SC134105000106` already appears on line 146; the first row is kept"
    );

    // Kept but flagged: verdicts that contradict the values, in both directions.
    let samples = food(rows(&sandbox.output().join("samples")));
    let contradicted = sample(&samples, "SC134104000151");
    assert_eq!(
        (
            contradicted["verdict"].as_str(),
            contradicted["reported_verdict"].as_str(),
            contradicted["verdict_conflict"].as_str()
        ),
        ("fail", "pass", "true")
    );
    assert!(contradicted["flags"].contains("verdict_conflict"));
    let cleared = sample(&samples, "SC134105000166");
    assert_eq!(
        (cleared["verdict"].as_str(), cleared["reported_verdict"].as_str(), cleared["verdict_conflict"].as_str()),
        ("pass", "fail", "true")
    );
    // A rejected item row leaves its sample pending, unless another item fails.
    let pending = sample(&samples, "SC134116000076");
    assert_eq!(
        (pending["verdict"].as_str(), pending["rejected_rows"].as_str(), pending["flags"].as_str()),
        ("pending", "1", "sample_incomplete")
    );
    assert_eq!(sample(&samples, "SC134113000181")["verdict"], "pending");
    assert_eq!(sample(&samples, "SC134116000091")["verdict"], "fail");
    // An identical duplicate does not make the sample incomplete.
    let duplicated = sample(&samples, "SC134105000106");
    assert_eq!(
        (duplicated["verdict"].as_str(), duplicated["rejected_rows"].as_str(), duplicated["flags"].as_str()),
        ("pass", "1", "")
    );
    // Unknown item and sub-category: kept, flagged.
    assert_eq!(sample(&samples, "SC134109000256")["flags"], "category_unknown");
    let results = food(rows(&sandbox.output().join("results")));
    let sensory = results.iter().find(|r| r["item_raw"] == "感官要求").unwrap();
    assert_eq!(
        (sensory["verdict"].as_str(), sensory["flags"].as_str(), sensory["result_type"].as_str()),
        ("pass", "item_unknown", "qualitative")
    );
    // Rejected samples are not in samples.
    for id in
        ["SC134101000021", "SC134109000031", "SC134110000046", "SC134103000061", "SC134107000121", "SC134105000196"]
    {
        assert!(!samples.iter().any(|s| s["source_sample_id"] == id), "{id}");
    }
}

#[test]
fn values_are_normalised_and_judged() {
    let sandbox = run();
    let results = food(rows(&sandbox.output().join("results")));
    let of = |id: &str, analyte: &str| {
        results
            .iter()
            .find(|r| r["sample_key"] == format!("food:{id}") && r["analyte_code"] == analyte)
            .cloned()
            .unwrap()
    };
    // Sample 6 holds boundary values: lead exactly at 0.2 mg/kg, and aflatoxin B1 written as
    // 0.005 mg/kg against 5.0 μg/kg. Both pass.
    let lead = of("SC134105000006", "lead");
    assert_eq!((lead["value"].as_str(), lead["limit_max"].as_str(), lead["verdict"].as_str()), ("0.2", "0.2", "pass"));
    let afb1 = of("SC134105000006", "afb1");
    assert_eq!(
        (afb1["value"].as_str(), afb1["unit"].as_str(), afb1["raw_unit"].as_str(), afb1["verdict"].as_str()),
        ("5", "μg/kg", "mg/kg", "pass")
    );
    assert_eq!(afb1["exceedance"], "1");
    // Non-detects carry no value.
    for r in results.iter().filter(|r| r["result_type"] == "not_detected") {
        assert_eq!(r["value"], "", "{r:?}");
    }
    // Below-LOQ results carry their LOQ.
    let below = results.iter().find(|r| r["result_type"] == "below_loq").unwrap();
    assert!(below["raw_result"].starts_with('<') && !below["loq"].is_empty() && below["value"].is_empty());
    // Limits written `/` come from seeds, walking up the category tree.
    let from_seeds = results.iter().filter(|r| r["limit_source"] == "seeds").count();
    assert!(from_seeds > 50, "{from_seeds}");
    // Every result has a verdict from the values, and the counts per verdict add up.
    let verdicts: BTreeMap<&str, usize> = results.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r["verdict"].as_str()).or_default() += 1;
        m
    });
    assert_eq!(verdicts.values().sum::<usize>(), results.len());
    assert_eq!(verdicts.get("pending"), None, "{verdicts:?}");
}

#[test]
fn pass_rates_per_city_and_category_match_the_ground_truth() {
    let sandbox = run();
    let cube = rows(&sandbox.output().join("pass_rates"));
    let cell = |level: &str, code: &str, category: &str| {
        cube.iter()
            .find(|r| {
                r["period"] == "2013"
                    && r["area_level"] == level
                    && r["area_code"] == code
                    && r["programme"] == "food"
                    && r["category"] == category
            })
            .map(|r| {
                (
                    r["tested"].parse::<u64>().unwrap(),
                    r["passed"].parse::<u64>().unwrap(),
                    r["failed"].parse::<u64>().unwrap(),
                    r["pending"].parse::<u64>().unwrap(),
                    r["pass_rate"].clone(),
                )
            })
    };
    for (code, tested, passed, failed, pending) in CITY_COUNTS {
        let got = cell("city", code, "all").unwrap_or_else(|| panic!("no cell for {code}"));
        assert_eq!((got.0, got.1, got.2, got.3), (*tested, *passed, *failed, *pending), "{code}");
        let rate: f64 = got.4.parse().unwrap();
        assert!((rate - *passed as f64 / (*passed + *failed) as f64).abs() < 1e-15, "{code}");
    }
    for (category, tested, passed, failed, pending) in CATEGORY_COUNTS {
        let got = cell("province", "410000", category).unwrap_or_else(|| panic!("no cell for {category}"));
        assert_eq!((got.0, got.1, got.2, got.3), (*tested, *passed, *failed, *pending), "{category}");
    }
    let province = cell("province", "410000", "all").unwrap();
    assert_eq!((province.0, province.1, province.2, province.3), (293, 268, 23, 2));
    // Directly administered counties: on their own as reporting units, inside their city in
    // the city view. 平顶山 (7 samples, 5 pass, 2 fail) holds 汝州 (3: 2 pass, 1 fail).
    assert_eq!(cell("reporting_unit", "410482", "all").map(|c| (c.0, c.1, c.2)), Some((3, 2, 1)));
    assert_eq!(cell("reporting_unit", "410400", "all").map(|c| (c.0, c.1, c.2)), Some((4, 3, 1)));
    assert_eq!(cell("county", "410482", "all").map(|c| (c.0, c.1, c.2)), Some((3, 2, 1)));
    // Each level partitions the province.
    for level in ["city", "reporting_unit"] {
        let sum: u64 = cube
            .iter()
            .filter(|r| {
                r["period"] == "2013" && r["area_level"] == level && r["category"] == "all" && r["programme"] == "food"
            })
            .map(|r| r["tested"].parse::<u64>().unwrap())
            .sum();
        assert_eq!(sum, 293, "{level}");
    }
}

#[test]
fn attainment_is_pro_rata_to_the_as_of_date() {
    let sandbox = run();
    let attainment = rows(&sandbox.output().join("attainment"));
    let province = attainment.iter().find(|r| r["programme"] == "food" && r["area_level"] == "province").unwrap();
    // 2013-09-30 is day 273 of 365: 25000 × 273 / 365 = 18698.63…
    assert_eq!(
        (province["target"].as_str(), province["achieved"].as_str(), province["status"].as_str()),
        ("25000", "293", "behind")
    );
    let expected: f64 = province["expected"].parse().unwrap();
    assert!((expected - 25000.0 * 273.0 / 365.0).abs() < 1e-9, "{expected}");
    // 济源: illustrative target 186, 3 samples.
    let jiyuan = attainment.iter().find(|r| r["programme"] == "food" && r["area_code"] == "419001").unwrap();
    assert_eq!(
        (jiyuan["target"].as_str(), jiyuan["achieved"].as_str(), jiyuan["illustrative"].as_str()),
        ("186", "3", "true")
    );
    // Reporting units add up to the province.
    let achieved: i64 = attainment
        .iter()
        .filter(|r| r["programme"] == "food" && r["area_level"] == "reporting_unit")
        .map(|r| r["achieved"].parse::<i64>().unwrap())
        .sum();
    assert_eq!(achieved, 293);
}

#[test]
fn the_run_prints_a_per_city_table() {
    let sandbox = Sandbox::new();
    let output = sandbox.zhijian(&["run", "pipelines/henan-2013.toml"]);
    let text = stdout(&output);
    assert!(
        text.starts_with(
            "henan-2013: 10 file(s), 1897 row(s) read, 1840 accepted, 53 rejected, 4 replaced by later deliveries → out/henan-2013\nas of 2013-09-30\n"
        ),
        "{text}"
    );
    // 平顶山: 7 samples, 5 of 7 pass; target 1065 + 汝州 246 = 1311; 7 achieved.
    assert!(
        text.contains("410400         7     71.4%      35.9–91.8%    1311        7      981    0.01  平顶山市"),
        "{text}"
    );
    assert!(
        text.contains("410000       293     92.1%      88.4–94.7%   25000      293    18699    0.02  河南省"),
        "{text}"
    );
}

#[test]
fn same_inputs_give_byte_identical_tables() {
    let a = run();
    let b = run();
    for table in ["samples", "results", "rejects", "pass_rates", "attainment"] {
        let files_a = zhijian_store::table_files(&a.output().join(table)).unwrap();
        let files_b = zhijian_store::table_files(&b.output().join(table)).unwrap();
        assert_eq!(files_a.len(), files_b.len(), "{table}");
        for (fa, fb) in files_a.iter().zip(&files_b) {
            assert_eq!(std::fs::read(fa).unwrap(), std::fs::read(fb).unwrap(), "{}", fa.display());
        }
    }
}

#[test]
fn every_credit_code_in_the_files_checks_and_stays_with_its_entity() {
    // Every row, rejected ones too, read from the files as delivered: each code passes the
    // GB 32100 check (computed here by the Rust code, the files by the Python generator), and
    // an entity has one code across its samples and files, a code one entity.
    let mut code_of: BTreeMap<String, String> = BTreeMap::new();
    let mut entity_of: BTreeMap<String, String> = BTreeMap::new();
    let mut rows_checked = 0;
    for name in ["samr-export-2013H1.csv", "samr-export-2013Q3.csv"] {
        let bytes = std::fs::read(repo().join("sample-data/food").join(name)).unwrap();
        let (text, _, errors) = encoding_rs::GB18030.decode(&bytes);
        assert!(!errors, "{name}");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().unwrap().clone();
        let column = |title: &str| header.iter().position(|h| h == title).unwrap();
        let (entity, code) = (column("被抽样单位名称"), column("统一社会信用代码"));
        for record in reader.records() {
            let record = record.unwrap();
            let (entity, code) = (record[entity].to_string(), record[code].to_string());
            assert!(zhijian_generate::is_valid_credit_code(&code), "{name}: {entity} has `{code}`");
            assert_eq!(code_of.entry(entity.clone()).or_insert_with(|| code.clone()), &code, "{name}: {entity}");
            assert_eq!(entity_of.entry(code.clone()).or_insert_with(|| entity.clone()), &entity, "{name}: {code}");
            rows_checked += 1;
        }
    }
    assert_eq!(rows_checked, 953);
    // Entities recur (224 of them on 293 samples), so a code per sample would show here.
    assert_eq!(code_of.len(), 224);
}
