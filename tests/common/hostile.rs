//! A sandbox whose one source delivers names built to break out of wherever they are shown:
//! a category holding a newline and `::stop-commands::` (a GitHub workflow command once it
//! starts a line), a category of HTML and Markdown, a product that is a spreadsheet formula, a
//! product holding the legacy `##[` command form, and an entity with `|`, a newline, a
//! Markdown heading and HTML. Ingest keeps names as delivered, so they reach every table.
//!
//! H1 (铅 0.3 mg/kg against 0.2) fails; H2 (0.1) passes.

use std::path::PathBuf;

use super::{Sandbox, stderr, stdout};

/// A category that, printed raw, puts `::stop-commands::pwned` at the start of a line.
pub(crate) const CATEGORY_STOP: &str = "糕点\n::stop-commands::pwned";
/// A category of HTML and Markdown.
pub(crate) const CATEGORY_HTML: &str = "<script>alert(1)</script>|[x](http://x.invalid)";
/// A product name a spreadsheet would run as a formula.
pub(crate) const PRODUCT_FORMULA: &str = "=HYPERLINK(\"http://x.invalid\")";
/// A product name holding the legacy workflow command form, read anywhere in a line.
pub(crate) const PRODUCT_LEGACY: &str = "##[error]forged";
/// An entity that would split a Markdown cell and row, and bring a heading and HTML.
pub(crate) const ENTITY: &str = "某|公司\n## 标题 <b>粗</b>";

const SOURCES: &str = r#"
[[sources]]
name = "food-items"
programme = "food"
files = ["../data/hostile/*.csv"]
layout = "item_rows"

[sources.columns]
sample_id = "抽样编号"
product_name = "样品名称"
category_1 = "食品大类"
city = "所在市"
entity_name = "被抽样单位名称"
sampling_date = "抽样日期"
item = "检验项目"
result = "检验结果"
result_unit = "结果单位"
limit_max = "最大允许限"
limit_max_unit = "最大允许限单位"
"#;

/// The kinds-of-goods coverage check: its message lists every category of the data.
pub(crate) const KINDS_CHECK: &str =
    "\n[[checks]]\nname = \"kinds\"\nwarn_below = 100\n[checks.coverage]\nprogramme = \"food\"\nof = \"kinds\"\n";

/// The hostile pipeline with `checks` (TOML `[[checks]]` tables) appended, after one
/// `zhijian run --no-checks`.
pub(crate) fn sandbox(checks: &str) -> Sandbox {
    let sandbox = Sandbox::new();
    let mut export = csv::Writer::from_writer(Vec::new());
    let header = [
        "抽样编号",
        "样品名称",
        "食品大类",
        "所在市",
        "被抽样单位名称",
        "抽样日期",
        "检验项目",
        "检验结果",
        "结果单位",
        "最大允许限",
        "最大允许限单位",
    ];
    export.write_record(header).unwrap();
    export
        .write_record([
            "H1",
            PRODUCT_FORMULA,
            CATEGORY_STOP,
            "郑州市",
            ENTITY,
            "2013-07-05",
            "铅",
            "0.3",
            "mg/kg",
            "0.2",
            "mg/kg",
        ])
        .unwrap();
    export
        .write_record([
            "H2",
            PRODUCT_LEGACY,
            CATEGORY_HTML,
            "郑州市",
            "某厂",
            "2013-07-05",
            "铅",
            "0.1",
            "mg/kg",
            "0.2",
            "mg/kg",
        ])
        .unwrap();
    let export = export.into_inner().unwrap();
    sandbox.add_pipeline("hostile", &format!("{SOURCES}{checks}"), &[("data/hostile/export.csv", &export)]);
    let run = sandbox.zhijian(&["run", "pipelines/hostile.toml", "--no-checks"]);
    assert_eq!(run.status.code(), Some(0), "{}\n{}", stdout(&run), stderr(&run));
    sandbox
}

/// The output folder of the hostile pipeline.
pub(crate) fn output(sandbox: &Sandbox) -> PathBuf {
    sandbox.path().join("out/hostile")
}

/// The lines of `output` a GitHub Actions runner would take for workflow commands
/// (actions/runner `ActionCommand.TryParseV2`, then the legacy `TryParse`): those starting with
/// `::` after their leading whitespace, and those holding `##[` anywhere. The runner ends
/// lines at `\n` and at `\r`.
pub(crate) fn workflow_commands(output: &str) -> Vec<&str> {
    output.split(['\n', '\r']).filter(|line| line.trim_start().starts_with("::") || line.contains("##[")).collect()
}
