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
