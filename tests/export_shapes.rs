//! Shapes real exports come in that are normal in the field, not faults of the files: a county
//! under direct provincial administration written in the city column.
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
const DATA: &str = "\
抽样编号,样品名称,食品大类,所在市,所在县,抽样日期,检验项目,检验结果,结果单位,最大允许限
D1,小麦粉,粮食加工品,兰考县,,2013-07-05,铅,0.1,mg/kg,0.2
D2,小麦粉,粮食加工品,410225,,2013-07-05,铅,0.1,mg/kg,0.2
D3,小麦粉,粮食加工品,兰考县,兰考县,2013-07-05,铅,0.1,mg/kg,0.2
D4,小麦粉,粮食加工品,开封市,兰考县,2013-07-05,铅,0.1,mg/kg,0.2
D5,小麦粉,粮食加工品,兰考县,杞县,2013-07-05,铅,0.1,mg/kg,0.2
D6,小麦粉,粮食加工品,杞县,,2013-07-05,铅,0.1,mg/kg,0.2
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
    assert_eq!(tested("city", "410200").as_deref(), Some("5"));
    assert_eq!(tested("reporting_unit", "410225").as_deref(), Some("4"));
    assert_eq!(tested("reporting_unit", "410200").as_deref(), Some("1"));
}
