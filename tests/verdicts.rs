//! Verdicts on literal rows whose right answer is worked out by hand in the comments: results
//! written in another unit than their limit (the export that once judged a quarter of its
//! samples wrong), limit editions by sampling date, detection limits written beside a result,
//! and date styles that once aborted a run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{Sandbox, rows, stderr, stdout};

const SOURCES: &str = r#"
[[sources]]
name = "food-items"
programme = "food"
files = ["../data/food/*.csv"]
layout = "item_rows"

[sources.columns]
sample_id = "抽样编号"
product_name = "样品名称"
category_1 = "食品大类"
category_4 = "食品细类"
city = "所在市"
sampling_date = "抽样日期"
item = "检验项目"
result = "检验结果"
result_unit = "结果单位"
lod = "检出限"
limit_max = "最大允许限"
limit_max_unit = "最大允许限单位"
item_verdict = "结果判定"

[[sources]]
name = "livestock-packed"
programme = "livestock"
files = ["../data/packed/*.csv"]
layout = "sample_rows"
default_unit = "mg/kg"

[sources.columns]
sample_id = "样品编号"
product_name = "样品名称"
category_1 = "监测类别"
city = "所在市"
sampling_date = "采样日期"
sample_verdict = "判定"
failing_items = "不合格项目"
"#;

/// One row per sample × item. The hand-worked verdicts:
/// - V1 亚硝酸盐 `1.033e+04 ug/kg` = 10.33 mg/kg against ≤20 mg/kg: pass, exceedance 0.5165.
/// - V2 黄曲霉毒素B1 `0.0798 mg/kg` = 79.8 μg/kg against 20 μg/kg: fail, exceedance 3.99.
/// - V3 the same as V2 written `79.8 μg/kg` against `0.02 mg/kg`: fail, exceedance 3.99.
/// - V4, V5 铅 0.3 mg/kg in 酱卤肉制品, no limit in the record: GB 2762-2005's 0.2 before
///   2013-06-01 (fail), GB 2762-2012's 0.5 from then on (pass).
/// - V6 铅 `0.12(检出限0.01)` against 0.2: pass, LOD 0.01 mg/kg.
/// - V7 铅 `未检出` with the LOD column `10` ug/kg: pass, LOD 0.01 mg/kg; V8 `未检出` alone: pass,
///   flagged `non_detect_without_limit`; V9 `0`: pass, flagged `value_zero`.
/// - V10, V11 compact timestamps `201307051230`, `20130705 0930`: sampled 2013-07-05.
/// - V12 the timestamp `201307051290` (minute 90) is no date: `date_invalid` naming the value.
/// - U1 毒死蜱 0.15 mg/kg against ≤0.1, the seeds' ±50% for pesticides (U = 0.075): the verdict
///   fails, 0.15 − 0.075 = 0.075 ≤ 0.1 so it is `above_limit`, the sample passes after
///   uncertainty; U2 0.25 (U = 0.125, 0.125 > 0.1): `non_compliant_after_uncertainty`; U3 铅
///   `0.12±0.02` against 0.1, U from the record: 0.10 ≤ 0.1, `above_limit`.
/// - R1 an item no limit judges, with 结果判定 `/` (risk monitoring does not judge): the sample is
///   `not_judged`; R2 the same without the word: `pending`.
const FOOD: &str = "\
抽样编号,样品名称,食品大类,食品细类,所在市,抽样日期,检验项目,检验结果,结果单位,检出限,最大允许限,最大允许限单位,结果判定
V1,酱菜,蔬菜制品,酱腌菜,郑州市,2013-07-05,亚硝酸盐,1.033e+04,ug/kg,,≤20,mg/kg,
V2,花生油,食用油、油脂及其制品,,郑州市,2013-07-05,黄曲霉毒素B1,0.0798,mg/kg,,20,μg/kg,
V3,花生油,食用油、油脂及其制品,,郑州市,2013-07-05,黄曲霉毒素B1,79.8,μg/kg,,0.02,mg/kg,
V4,酱牛肉,肉制品,酱卤肉制品,郑州市,2013-05-20,铅,0.3,mg/kg,,,,
V5,酱牛肉,肉制品,酱卤肉制品,郑州市,2013-06-20,铅,0.3,mg/kg,,,,
V6,小麦粉,粮食加工品,,郑州市,2013-07-05,铅,0.12(检出限0.01),mg/kg,,0.2,mg/kg,
V7,小麦粉,粮食加工品,,郑州市,2013-07-05,铅,未检出,ug/kg,10,0.2,mg/kg,
V8,小麦粉,粮食加工品,,郑州市,2013-07-05,铅,未检出,mg/kg,,0.2,mg/kg,
V9,小麦粉,粮食加工品,,郑州市,2013-07-05,铅,0,mg/kg,,0.2,mg/kg,
V10,小麦粉,粮食加工品,,郑州市,201307051230,铅,0.1,mg/kg,,0.2,mg/kg,
V11,小麦粉,粮食加工品,,郑州市,20130705 0930,铅,0.1,mg/kg,,0.2,mg/kg,
V12,小麦粉,粮食加工品,,郑州市,201307051290,铅,0.1,mg/kg,,0.2,mg/kg,
U1,酱菜,蔬菜制品,酱腌菜,郑州市,2013-07-05,毒死蜱,0.15,mg/kg,,≤0.1,mg/kg,
U2,酱菜,蔬菜制品,酱腌菜,郑州市,2013-07-05,毒死蜱,250,μg/kg,,≤0.1,mg/kg,
U3,小麦粉,粮食加工品,,郑州市,2013-07-05,铅,0.12±0.02,mg/kg,,0.1,mg/kg,
R1,小麦粉,粮食加工品,,郑州市,2013-07-05,某风险物质,0.5,mg/kg,,,,/
R2,小麦粉,粮食加工品,,郑州市,2013-07-05,某风险物质,0.5,mg/kg,,,,
";

/// One row per sample, failing items packed `item║result║limit` in the source's default unit
/// (mg/kg): P1 磺胺类 0.215 mg/kg = 215 μg/kg against 0.1 mg/kg = 100 μg/kg: fail, exceedance
/// 2.15; P2 磺胺类 0.05 mg/kg against 0.1 mg/kg: pass on its values, against its reported verdict.
/// Verdicts as sentences: P3 `…磺胺类项目不符合…要求，检验结论为不合格` without items: fail, flagged
/// `failing_items_missing`; P4 `经抽样检验，所检项目符合…要求`: pass. P5 `不作判定` without items: the
/// source does not judge and nothing else does: `not_judged`.
const PACKED: &str = "\
样品编号,样品名称,监测类别,所在市,采样日期,判定,不合格项目
P1,猪肉,兽药残留,郑州市,2013-07-05,不合格,磺胺类║0.215║0.1
P2,猪肉,兽药残留,郑州市,2013-07-05,不合格,磺胺类║0.05║0.1
P3,猪肉,兽药残留,郑州市,2013-07-05,经抽样检验，磺胺类项目不符合农业部公告235号要求，检验结论为不合格,
P4,猪肉,兽药残留,郑州市,2013-07-05,经抽样检验，所检项目符合农业部公告235号要求,
P5,猪肉,兽药残留,郑州市,2013-07-05,不作判定,
";

fn by_sample(table: Vec<BTreeMap<String, String>>) -> BTreeMap<String, BTreeMap<String, String>> {
    table.into_iter().map(|r| (r["sample_key"].clone(), r)).collect()
}

#[test]
fn results_are_judged_in_the_analytes_unit_whatever_unit_they_are_written_in() {
    let sandbox = Sandbox::new();
    let root = sandbox.path();
    let files: [(&str, &[u8]); 2] =
        [("data/food/export.csv", FOOD.as_bytes()), ("data/packed/export.csv", PACKED.as_bytes())];
    sandbox.add_pipeline("verdicts", SOURCES, &files);
    let output = sandbox.zhijian(&["run", "pipelines/verdicts.toml", "--no-checks"]);
    assert_eq!(output.status.code(), Some(0), "{}\n{}", stdout(&output), stderr(&output));
    let out = root.join("out/verdicts");
    let results = by_sample(rows(&out.join("results")));
    let samples = by_sample(rows(&out.join("samples")));

    let result = |key: &str, column: &str| results[key][column].clone();
    let verdict = |key: &str| (samples[key]["verdict"].clone(), result(key, "verdict"));
    let close = |key: &str, column: &str, expected: f64| {
        let got: f64 = result(key, column).parse().unwrap();
        assert!((got - expected).abs() <= 1e-9 * expected.abs(), "{key} {column}: {got}, expected {expected}");
    };

    assert_eq!(verdict("food:V1"), ("pass".into(), "pass".into()));
    close("food:V1", "value", 10.33);
    close("food:V1", "exceedance", 0.5165);
    assert_eq!((result("food:V1", "unit"), result("food:V1", "raw_result")), ("mg/kg".into(), "1.033e+04".into()));

    for key in ["food:V2", "food:V3"] {
        assert_eq!(verdict(key), ("fail".into(), "fail".into()), "{key}");
        close(key, "value", 79.8);
        close(key, "limit_max", 20.0);
        close(key, "exceedance", 3.99);
        assert_eq!(result(key, "unit"), "μg/kg");
    }

    // Editions by sampling date.
    assert_eq!(verdict("food:V4"), ("fail".into(), "fail".into()));
    assert_eq!(
        (result("food:V4", "limit_max"), result("food:V4", "limit_basis")),
        ("0.2".into(), "GB 2762-2005".into())
    );
    assert_eq!(verdict("food:V5"), ("pass".into(), "pass".into()));
    assert_eq!(
        (result("food:V5", "limit_max"), result("food:V5", "limit_basis")),
        ("0.5".into(), "GB 2762-2012".into())
    );

    // Detection limits and the new warnings.
    assert_eq!((verdict("food:V6"), result("food:V6", "lod")), (("pass".into(), "pass".into()), "0.01".into()));
    assert_eq!((result("food:V7", "result_type"), result("food:V7", "lod")), ("not_detected".into(), "0.01".into()));
    assert_eq!(result("food:V7", "flags"), "");
    assert_eq!(result("food:V8", "flags"), "non_detect_without_limit");
    assert_eq!((verdict("food:V9").1, result("food:V9", "flags")), ("pass".into(), "value_zero".into()));

    // Dates with a time.
    for key in ["food:V10", "food:V11"] {
        assert_eq!(samples[key]["sampling_date"], "2013-07-05", "{key}");
    }
    let rejects = rows(&out.join("rejects"));
    let bad_date = rejects.iter().find(|r| r["sample_id"] == "V12").expect("V12 is rejected");
    assert_eq!(
        (
            bad_date["rule"].as_str(),
            bad_date["field"].as_str(),
            bad_date["value"].as_str(),
            bad_date["source_line"].as_str()
        ),
        ("date_invalid", "sampling_date", "201307051290", "13")
    );

    // Measurement uncertainty: the second evaluation beside the verdict.
    let after = |key: &str| {
        (
            result(key, "verdict"),
            result(key, "evaluation"),
            result(key, "uncertainty_source"),
            samples[key]["verdict_after_uncertainty"].clone(),
        )
    };
    assert_eq!(after("food:U1"), ("fail".into(), "above_limit".into(), "seeds".into(), "pass".into()));
    close("food:U1", "uncertainty", 0.075);
    assert_eq!(
        after("food:U2"),
        ("fail".into(), "non_compliant_after_uncertainty".into(), "seeds".into(), "fail".into())
    );
    close("food:U2", "uncertainty", 0.125);
    assert_eq!(after("food:U3"), ("fail".into(), "above_limit".into(), "record".into(), "pass".into()));
    close("food:U3", "uncertainty", 0.02);
    assert_eq!(
        (result("food:V2", "evaluation"), result("food:V2", "uncertainty")),
        ("non_compliant_after_uncertainty".into(), "".into())
    );
    assert_eq!(result("food:V1", "evaluation"), "compliant");
    let food_all = rows(&out.join("pass_rates"))
        .into_iter()
        .find(|r| {
            r["period"] == "2013" && r["area_level"] == "province" && r["programme"] == "food" && r["category"] == "all"
        })
        .unwrap();
    // 17 food samples less V12 (rejected): V2, V3, V4, U1, U2, U3 fail; after uncertainty U1
    // and U3 pass; R1 is not judged, R2 pending.
    assert_eq!(
        ["tested", "passed", "failed", "pending", "not_judged", "passed_after_uncertainty", "failed_after_uncertainty"]
            .map(|c| food_all[c].clone()),
        ["16", "8", "6", "1", "1", "10", "4"].map(String::from)
    );
    assert_eq!((samples["food:R1"]["verdict"].as_str(), samples["food:R1"]["flags"].as_str()), ("not_judged", ""));
    assert_eq!(samples["food:R2"]["verdict"], "pending");
    assert_eq!(
        (result("food:R1", "verdict"), result("food:R1", "reported_verdict")),
        ("pending".into(), "not_judged".into())
    );

    // Packed items in the source's default unit.
    assert_eq!(verdict("livestock:P1"), ("fail".into(), "fail".into()));
    close("livestock:P1", "value", 215.0);
    close("livestock:P1", "limit_max", 100.0);
    close("livestock:P1", "exceedance", 2.15);
    assert_eq!(verdict("livestock:P2"), ("pass".into(), "pass".into()));
    assert!(samples["livestock:P2"]["flags"].contains("verdict_conflict"));
    let sentence = |key: &str| (samples[key]["verdict"].as_str(), samples[key]["reported_verdict"].as_str());
    assert_eq!(sentence("livestock:P3"), ("fail", "fail"));
    assert!(samples["livestock:P3"]["flags"].contains("failing_items_missing"));
    assert_eq!(sentence("livestock:P4"), ("pass", "pass"));
    assert_eq!(sentence("livestock:P5"), ("not_judged", "not_judged"));
}
