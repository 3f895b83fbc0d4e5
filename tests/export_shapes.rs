//! Shapes real exports come in that are normal in the field, not faults of the files: a county
//! under direct provincial administration written in the city column, a county the seeds do not
//! know; numbers in the styles of lab reports, with their unit inside the cell. (Every run here
//! also checks that each area level of `pass_rates` adds up to the province: `tests/common`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{Sandbox, rows, stderr, stdout};

const SOURCES: &str = r#"
[[sources]]
name = "food-items"
programme = "food"
files = ["../data/*.csv"]
layout = "item_rows"

[sources.columns]
sample_id = "抽样编号"
product_name = "样品名称"
category_1 = "食品大类"
city = "所在市"
county = "所在县"
sampling_date = "抽样日期"
item = "检验项目"
result = "检验结果"
result_unit = "结果单位"
limit_max = "最大允许限"
"#;

/// 兰考县 (410225) reports to the province and lies in 开封市 (410200); 杞县 (410221) is an
/// ordinary county of 开封市. Worked out by hand:
/// - D1 所在市 `兰考县`, county empty; D2 `410225`; D3 `兰考县` with 所在县 `兰考县` again: city
///   410200, county and reporting unit 410225.
/// - D4 所在市 `开封市`, 所在县 `兰考县`: the same place written the usual way.
/// - D5 所在市 `兰考县`, 所在县 `杞县`: two different places, `area_mismatch` on the county.
/// - D6 所在市 `杞县`: an ordinary county in the city column stands for 开封市 and itself, its
///   reporting unit the city.
/// - D7 所在市 `开封市`, 所在县 `某某县` (no such county): kept for 开封市, county empty, flagged
///   `county_unknown`; at the county level it counts in 开封市's "county not given" cell.
const DATA: &str = "\
抽样编号,样品名称,食品大类,所在市,所在县,抽样日期,检验项目,检验结果,结果单位,最大允许限
D1,小麦粉,粮食加工品,兰考县,,2013-07-05,铅,0.1,mg/kg,0.2
D2,小麦粉,粮食加工品,410225,,2013-07-05,铅,0.1,mg/kg,0.2
D3,小麦粉,粮食加工品,兰考县,兰考县,2013-07-05,铅,0.1,mg/kg,0.2
D4,小麦粉,粮食加工品,开封市,兰考县,2013-07-05,铅,0.1,mg/kg,0.2
D5,小麦粉,粮食加工品,兰考县,杞县,2013-07-05,铅,0.1,mg/kg,0.2
D6,小麦粉,粮食加工品,杞县,,2013-07-05,铅,0.1,mg/kg,0.2
D7,小麦粉,粮食加工品,开封市,某某县,2013-07-05,铅,0.1,mg/kg,0.2
";

#[test]
fn a_county_in_the_city_column_stands_for_its_city_and_itself() {
    let sandbox = Sandbox::new();
    let root = sandbox.path();
    sandbox.add_pipeline("shapes", SOURCES, &[("data/export.csv", DATA.as_bytes())]);
    let output = sandbox.zhijian(&["run", "pipelines/shapes.toml", "--no-checks"]);
    assert_eq!(output.status.code(), Some(0), "{}\n{}", stdout(&output), stderr(&output));
    let out = root.join("out/shapes");
    let samples: BTreeMap<String, BTreeMap<String, String>> =
        rows(&out.join("samples")).into_iter().map(|r| (r["source_sample_id"].clone(), r)).collect();
    let place = |id: &str| {
        let s = &samples[id];
        [&s["city_code"], &s["county_code"], &s["reporting_unit_code"], &s["directly_administered"]]
            .map(|v| v.to_string())
    };
    for id in ["D1", "D2", "D3", "D4"] {
        assert_eq!(place(id), ["410200", "410225", "410225", "true"], "{id}");
    }
    assert_eq!(place("D6"), ["410200", "410221", "410200", "false"]);
    assert_eq!(place("D7"), ["410200", "", "410200", "false"]);
    assert_eq!(samples["D7"]["flags"], "county_unknown");
    assert!(!samples.contains_key("D5"));
    let rejects = rows(&out.join("rejects"));
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!((rejects[0]["rule"].as_str(), rejects[0]["field"].as_str()), ("area_mismatch", "county"));
    // Both views of the province add up: inside the city, and as reporting units.
    let cells = rows(&out.join("pass_rates"));
    let tested = |level: &str, code: &str| {
        cells
            .iter()
            .find(|c| {
                c["period"] == "2013" && c["category"] == "all" && c["area_level"] == level && c["area_code"] == code
            })
            .map(|c| c["tested"].clone())
    };
    assert_eq!(tested("city", "410200").as_deref(), Some("6"));
    assert_eq!(tested("reporting_unit", "410225").as_deref(), Some("4"));
    assert_eq!(tested("reporting_unit", "410200").as_deref(), Some("2"));
    assert_eq!(tested("county", "410225").as_deref(), Some("4"));
    assert_eq!(tested("county", "410221").as_deref(), Some("1"));
    let not_given = cells
        .iter()
        .find(|c| {
            c["period"] == "2013" && c["category"] == "all" && c["area_level"] == "county" && c["area_code"] == "410200"
        })
        .unwrap();
    assert_eq!((not_given["tested"].as_str(), not_given["area_name"].as_str()), ("1", "开封市（未注明县区）"));
}

/// Number styles, each judged by hand against 铅's maximum (canonical unit mg/kg):
/// - N1 `1.5×10⁻¹` mg/kg against 0.2: 0.15, pass; N2 `2.5×10^-1`: 0.25, fail.
/// - N3 `1,250` μg/kg (a quoted cell with a thousands separator) = 1.25 mg/kg against 1: fail.
/// - N4 `0.32mg/kg` with the unit column empty against `≤0.5mg/kg` (units inside both cells): pass.
/// - N5 `320μg/kg` against `≤0.3mg/kg`, units inside: 0.32 > 0.3, fail.
/// - N6 `﹤0.01` mg/kg: below the LOQ 0.01, pass; N7 `0.3‰` (0.3 g/kg = 300 mg/kg) against
///   `≤200mg/kg`: fail (read as 0.3 mg/kg it would pass).
/// - N8 `0.32mg/kg` with `μg/kg` in the unit column: the two disagree, `unit_incompatible`.
const NUMBERS: &str = "\
抽样编号,样品名称,食品大类,所在市,所在县,抽样日期,检验项目,检验结果,结果单位,最大允许限
N1,小麦粉,粮食加工品,郑州市,,2013-07-05,铅,1.5×10⁻¹,mg/kg,0.2
N2,小麦粉,粮食加工品,郑州市,,2013-07-05,铅,2.5×10^-1,mg/kg,0.2
N3,小麦粉,粮食加工品,郑州市,,2013-07-05,铅,\"1,250\",μg/kg,1
N4,小麦粉,粮食加工品,郑州市,,2013-07-05,铅,0.32mg/kg,,≤0.5mg/kg
N5,小麦粉,粮食加工品,郑州市,,2013-07-05,铅,320μg/kg,,≤0.3mg/kg
N6,小麦粉,粮食加工品,郑州市,,2013-07-05,铅,﹤0.01,mg/kg,0.2
N7,小麦粉,粮食加工品,郑州市,,2013-07-05,铅,0.3‰,,≤200mg/kg
N8,小麦粉,粮食加工品,郑州市,,2013-07-05,铅,0.32mg/kg,μg/kg,0.5
";

#[test]
fn numbers_in_the_styles_of_lab_reports_are_judged_as_written() {
    let sandbox = Sandbox::new();
    sandbox.add_pipeline("shapes", SOURCES, &[("data/export.csv", NUMBERS.as_bytes())]);
    let output = sandbox.zhijian(&["run", "pipelines/shapes.toml", "--no-checks"]);
    assert_eq!(output.status.code(), Some(0), "{}\n{}", stdout(&output), stderr(&output));
    let out = sandbox.path().join("out/shapes");
    let results: BTreeMap<String, BTreeMap<String, String>> =
        rows(&out.join("results")).into_iter().map(|r| (r["sample_key"].clone(), r)).collect();
    let judged = |id: &str| {
        let r = &results[&format!("food:{id}")];
        (r["value"].clone(), r["loq"].clone(), r["verdict"].clone())
    };
    let expect = |value: &str, loq: &str, verdict: &str| (value.to_string(), loq.to_string(), verdict.to_string());
    assert_eq!(judged("N1"), expect("0.15", "", "pass"));
    assert_eq!(judged("N2"), expect("0.25", "", "fail"));
    assert_eq!(judged("N3"), expect("1.25", "", "fail"));
    assert_eq!(judged("N4"), expect("0.32", "", "pass"));
    assert_eq!(results["food:N4"]["raw_unit"], "mg/kg");
    assert_eq!(judged("N5"), expect("0.32", "", "fail"));
    assert_eq!(results["food:N5"]["limit_max"], "0.3");
    assert_eq!(judged("N6"), expect("", "0.01", "pass"));
    assert_eq!(judged("N7"), expect("300", "", "fail"));
    assert_eq!(results["food:N7"]["limit_max"], "200");
    let rejects = rows(&out.join("rejects"));
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(
        (rejects[0]["sample_id"].as_str(), rejects[0]["rule"].as_str(), rejects[0]["field"].as_str()),
        ("N8", "unit_incompatible", "result_unit")
    );
}

const GROUPED: &str = r#"
[[sources]]
name = "livestock-confirmations"
programme = "livestock"
files = ["../data/confirm*.csv"]
layout = "item_rows"

[sources.columns]
sample_id = "样品编号"
product_name = "样品类型"
category_1 = "监测类别"
city = "所在市"
sampling_date = "采样日期"
item = "检测指标"
limit_max = "判定标准"

[[sources.result_groups]]
name = "初筛"
columns = { method = "初筛方法", result = "初筛结果" }
values = { method = "快检" }

[[sources.result_groups]]
name = "确证"
columns = { method = "确证方法", result = ["确证值(μg/kg)", "确证结果"] }
values = { method = "确证", result_unit = "μg/kg" }

[[sources]]
name = "quick-test-sheet"
programme = "livestock"
files = ["../data/wide*.csv"]
layout = "item_rows"

[sources.columns]
sample_id = "样品编号"
product_name = "样品类型"
category_1 = "监测类别"
city = "所在市"
sampling_date = "采样日期"
limit_max = "判定标准"

[[sources.result_groups]]
name = "克伦特罗"
columns = { result = "克伦特罗" }
values = { item = "克伦特罗", method = "胶体金" }

[[sources.result_groups]]
name = "莱克多巴胺"
columns = { result = "莱克多巴胺" }
values = { item = "莱克多巴胺", method = "胶体金" }

[[sources.result_groups]]
name = "沙丁胺醇"
columns = { result = "沙丁胺醇" }
values = { item = "沙丁胺醇", method = "胶体金" }
"#;

/// Screening and confirmation on one row, worked out by hand (克伦特罗 is banned: 不得检出):
/// - G1 screening 阴性, no confirmation: one result, passes.
/// - G2 screening 阳性, confirmed at 2.3 μg/kg: the confirmation fails the sample and
///   supersedes the screening.
/// - G3 screening 阳性, confirmation 阴性 (no value, so the 确证结果 cell counts): passes.
/// - G4 screening 阳性, confirmation `待确证`: the confirmation yields nothing; the sample is
///   pending, flagged `confirmation_missing`.
/// - G5 neither: `required_missing` on `result`, the row kept in rejects.
/// - G6 screening 阳性, confirmation 未检出 with the method column empty: the group's fixed
///   method (确证) stands in; passes.
const CONFIRM: &str = "\
样品编号,样品类型,监测类别,所在市,采样日期,检测指标,判定标准,初筛方法,初筛结果,确证方法,确证结果,确证值(μg/kg)
G1,尿液,瘦肉精,郑州市,2013-07-05,克伦特罗,不得检出,胶体金试纸条,阴性,,,
G2,尿液,瘦肉精,郑州市,2013-07-05,克伦特罗,不得检出,胶体金试纸条,阳性,LC-MS/MS,阳性,2.3
G3,尿液,瘦肉精,兰考县,2013-07-05,克伦特罗,不得检出,胶体金试纸条,阳性,LC-MS/MS,阴性,
G4,尿液,瘦肉精,郑州市,2013-07-05,克伦特罗,不得检出,胶体金试纸条,阳性,,待确证,
G5,尿液,瘦肉精,郑州市,2013-07-05,克伦特罗,不得检出,,,,,
G6,尿液,瘦肉精,郑州市,2013-07-05,克伦特罗,不得检出,胶体金试纸条,阳性,,未检出,
";

/// A wide quick-test sheet, one column per analyte, worked out by hand:
/// - W1 three 阴性: three results, passes.
/// - W2 莱克多巴胺 阳性 by test strip, 沙丁胺醇 empty: two results, pending for want of a
///   confirmation.
/// - W3 nothing tested: `required_missing`.
const WIDE: &str = "\
样品编号,样品类型,监测类别,所在市,采样日期,判定标准,克伦特罗,莱克多巴胺,沙丁胺醇
W1,尿液,瘦肉精,洛阳市,2013-07-05,不得检出,阴性,阴性,阴性
W2,尿液,瘦肉精,洛阳市,2013-07-05,不得检出,阴性,阳性,
W3,尿液,瘦肉精,洛阳市,2013-07-05,不得检出,,,
";

#[test]
fn result_groups_make_one_result_each() {
    let sandbox = Sandbox::new();
    let root = sandbox.path();
    sandbox.add_pipeline(
        "grouped",
        GROUPED,
        &[("data/confirm.csv", CONFIRM.as_bytes()), ("data/wide.csv", WIDE.as_bytes())],
    );
    let output = sandbox.zhijian(&["run", "pipelines/grouped.toml", "--no-checks"]);
    assert_eq!(output.status.code(), Some(0), "{}\n{}", stdout(&output), stderr(&output));
    let out = root.join("out/grouped");
    let samples: BTreeMap<String, BTreeMap<String, String>> =
        rows(&out.join("samples")).into_iter().map(|r| (r["source_sample_id"].clone(), r)).collect();
    let verdict = |id: &str| samples[id]["verdict"].as_str();
    assert_eq!(
        ["G1", "G2", "G3", "G4", "G6", "W1", "W2"].map(verdict),
        ["pass", "fail", "pass", "pending", "pass", "pass", "pending"]
    );
    assert_eq!(samples["G4"]["flags"], "confirmation_missing");
    assert_eq!(samples["W2"]["flags"], "confirmation_missing");
    assert_eq!(samples["G3"]["county_code"], "410225");
    let results = rows(&out.join("results"));
    let of = |id: &str| -> Vec<(String, String, String, String, String)> {
        let key = &samples[id]["sample_key"];
        let mut found: Vec<_> = results
            .iter()
            .filter(|r| &r["sample_key"] == key)
            .map(|r| {
                [&r["result_group"], &r["item"], &r["method"], &r["verdict"], &r["superseded"]].map(|v| v.to_string())
            })
            .map(|[a, b, c, d, e]| (a, b, c, d, e))
            .collect();
        found.sort();
        found
    };
    let r = |g: &str, item: &str, method: &str, verdict: &str, superseded: &str| {
        (g.to_string(), item.to_string(), method.to_string(), verdict.to_string(), superseded.to_string())
    };
    assert_eq!(of("G1"), [r("初筛", "克伦特罗", "screening", "pass", "false")]);
    assert_eq!(
        of("G2"),
        [r("初筛", "克伦特罗", "screening", "pending", "true"), r("确证", "克伦特罗", "confirmation", "fail", "false")]
    );
    assert_eq!(
        of("G3"),
        [r("初筛", "克伦特罗", "screening", "pending", "true"), r("确证", "克伦特罗", "confirmation", "pass", "false")]
    );
    assert_eq!(of("G4"), [r("初筛", "克伦特罗", "screening", "pending", "false")]);
    assert_eq!(of("G6")[1], r("确证", "克伦特罗", "confirmation", "pass", "false"));
    assert_eq!(of("W1").len(), 3);
    assert_eq!(
        of("W2"),
        [
            r("克伦特罗", "克伦特罗", "screening", "pass", "false"),
            r("莱克多巴胺", "莱克多巴胺", "screening", "pending", "false")
        ]
    );
    let value = results.iter().find(|r| r["sample_key"] == samples["G2"]["sample_key"] && r["result_group"] == "确证");
    assert_eq!(value.map(|r| (r["value"].as_str(), r["unit"].as_str())), Some(("2.3", "μg/kg")));
    // Both results of one row keep the row's line.
    let lines: Vec<&str> = results
        .iter()
        .filter(|r| r["sample_key"] == samples["G2"]["sample_key"])
        .map(|r| r["source_line"].as_str())
        .collect();
    assert_eq!(lines, ["3", "3"]);
    let rejects = rows(&out.join("rejects"));
    let mut rejected: Vec<(&str, &str, &str)> =
        rejects.iter().map(|r| (r["sample_id"].as_str(), r["rule"].as_str(), r["field"].as_str())).collect();
    rejected.sort();
    assert_eq!(rejected, [("G5", "required_missing", "result"), ("W3", "required_missing", "result")]);
    assert!(rejects[0]["message"].contains("no result group"), "{}", rejects[0]["message"]);
}

#[test]
fn result_groups_are_checked_when_the_pipeline_loads() {
    let sandbox = Sandbox::new();
    let bad = GROUPED
        .replacen("columns = { result = \"克伦特罗\" }\nvalues = { item", "values = { result = \"阴性\", item", 1)
        .replacen("item = \"检测指标\"\nlimit_max", "item = \"检测指标\"\nresult = \"检测结果\"\nlimit_max", 1);
    sandbox.add_pipeline("bad", &bad, &[]);
    let output = sandbox.zhijian(&["validate", "pipelines/bad.toml"]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(err.contains("map `result` inside each group"), "{err}");
    assert!(err.contains("must be read from a column"), "{err}");
}

/// An initial test and its re-test on one row (检测值, 复检值): the re-test group replaces the
/// first test of the item, as a re-test row would. Worked out by hand against 铅 ≤0.2 mg/kg:
/// R1 0.35 then 0.15 passes (the first superseded); R2 0.35 with no re-test fails; R3 0.12
/// passes with one result.
#[test]
fn a_retest_group_replaces_the_first_test() {
    let sandbox = Sandbox::new();
    let root = sandbox.path();
    let sources = SOURCES
        .replace("result = \"检验结果\"\n", "")
        .replace(
            "limit_max = \"最大允许限\"\n",
            "limit_max = \"最大允许限\"\n\n[[sources.result_groups]]\nname = \"初检\"\ncolumns = { result = \"检测值\" }\n\n[[sources.result_groups]]\nname = \"复检\"\ncolumns = { result = \"复检值\" }\nvalues = { retest = \"是\" }\n",
        );
    let data = "\
抽样编号,样品名称,食品大类,所在市,抽样日期,检验项目,检测值,复检值,结果单位,最大允许限
R1,小麦粉,粮食加工品,郑州市,2013-07-05,铅,0.35,0.15,mg/kg,0.2
R2,小麦粉,粮食加工品,郑州市,2013-07-05,铅,0.35,,mg/kg,0.2
R3,小麦粉,粮食加工品,郑州市,2013-07-05,铅,0.12,,mg/kg,0.2
";
    sandbox.add_pipeline("retests", &sources, &[("data/export.csv", data.as_bytes())]);
    let output = sandbox.zhijian(&["run", "pipelines/retests.toml", "--no-checks"]);
    assert_eq!(output.status.code(), Some(0), "{}\n{}", stdout(&output), stderr(&output));
    let out = root.join("out/retests");
    let samples: BTreeMap<String, BTreeMap<String, String>> =
        rows(&out.join("samples")).into_iter().map(|r| (r["source_sample_id"].clone(), r)).collect();
    assert_eq!(["R1", "R2", "R3"].map(|id| samples[id]["verdict"].as_str()), ["pass", "fail", "pass"]);
    let results = rows(&out.join("results"));
    let mut r1: Vec<(&str, &str, &str, &str)> = results
        .iter()
        .filter(|r| r["sample_key"] == samples["R1"]["sample_key"])
        .map(|r| (r["result_group"].as_str(), r["verdict"].as_str(), r["is_retest"].as_str(), r["superseded"].as_str()))
        .collect();
    r1.sort();
    assert_eq!(r1, [("初检", "fail", "false", "true"), ("复检", "pass", "true", "false")]);
}
