//! What the unit tests of several modules build their sources from.

use zhijian_pipeline::Source;

/// An `item_rows` food source read from a pipeline file, as users write them: 抽样编号 (or
/// 样品编号), 样品名称, 所在市, 抽样日期, 检验项目, 检验结果; `extra` goes into its
/// `[[sources]]` table (a format, a vocabulary).
pub(crate) fn source(extra: &str) -> Source {
    let text = format!(
        r#"
[pipeline]
name = "t"
province = "410000"
seeds = "s"
output = "o"
[[sources]]
name = "s"
programme = "food"
files = "*.csv"
{extra}
[sources.columns]
sample_id = ["抽样编号", "样品编号"]
product_name = "样品名称"
city = "所在市"
sampling_date = "抽样日期"
item = "检验项目"
result = "检验结果"
"#
    );
    zhijian_pipeline::Pipeline::parse(std::path::Path::new("p.toml"), &text).unwrap().sources.remove(0)
}
