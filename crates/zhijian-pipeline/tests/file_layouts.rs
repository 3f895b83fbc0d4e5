//! The keys of a file's layout: `sheet` (one, `"*"`, a list), `header_row` (a row or
//! `"auto"`), and the vocabulary's `totals` words.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use zhijian_pipeline::{Format, HeaderRow, Pipeline, SheetRef, SheetSelection, Vocabulary};

fn pipeline(format: &str, vocabulary: &str) -> String {
    format!(
        r#"[pipeline]
name = "t"
province = "410000"
seeds = "s"
output = "o"

[[sources]]
name = "s"
programme = "food"
files = "*.xlsx"

{format}

[sources.columns]
sample_id = "抽样编号"
product_name = "样品名称"
city = "所在市"
sampling_date = "抽样日期"
item = "检验项目"
result = "检验结果"
{vocabulary}
"#
    )
}

fn format_of(format: &str) -> Format {
    Pipeline::parse(Path::new("t.toml"), &pipeline(format, "")).unwrap().sources.remove(0).format
}

fn errors_of(format: &str) -> Vec<String> {
    Pipeline::parse(Path::new("t.toml"), &pipeline(format, "")).unwrap_err().0.iter().map(|e| e.to_string()).collect()
}

fn excel(sheet: SheetSelection, header_row: HeaderRow) -> Format {
    Format::Excel { kind: zhijian_pipeline::ExcelKind::Xlsx, sheet, header_row, header_rows: 1 }
}

#[test]
fn sheet_names_one_every_one_or_a_list() {
    assert_eq!(format_of("[sources.format.xlsx]"), excel(SheetSelection::One(None), HeaderRow::Fixed(1)));
    assert_eq!(
        format_of("[sources.format.xlsx]\nsheet = \"例行监测\""),
        excel(SheetSelection::One(Some(SheetRef::Name("例行监测".into()))), HeaderRow::Fixed(1))
    );
    assert_eq!(format_of("[sources.format.xlsx]\nsheet = \"*\""), excel(SheetSelection::All, HeaderRow::Fixed(1)));
    let list = format_of("[sources.format.xlsx]\nsheet = [\"一季度\", \"二季度\", 4]\nheader_row = \"auto\"");
    assert_eq!(
        list,
        excel(
            SheetSelection::List(vec![
                SheetRef::Name("一季度".into()),
                SheetRef::Name("二季度".into()),
                SheetRef::Position(4)
            ]),
            HeaderRow::Auto
        )
    );
    assert!(SheetSelection::All.several() && !SheetSelection::One(None).several());
}

#[test]
fn a_bad_sheet_or_header_row_is_located() {
    let errors = errors_of("[sources.format.xlsx]\nsheet = [\"一季度\", \"*\"]");
    assert_eq!(
        errors,
        [
            "t.toml:13:17: expected `sheet` to be a worksheet name, its position from 1, \"*\" for every worksheet with the mapped header, or a list of names and positions (a list may not hold `*`) (at `\"*\"`)"
        ]
    );
    assert_eq!(errors_of("[sources.format.xlsx]\nsheet = []"), ["t.toml:13:9: `sheet` lists no worksheet (at `[]`)"]);
    assert_eq!(
        errors_of("[sources.format.xlsx]\nsheet = [\"一季度\", \"一季度\"]"),
        ["t.toml:13:17: `sheet` names this worksheet twice (at `\"一季度\"`)"]
    );
    assert_eq!(
        errors_of("[sources.format.xlsx]\nsheet = 0"),
        [
            "t.toml:13:9: expected `sheet` to be a worksheet name, its position from 1, \"*\" for every worksheet with the mapped header, or a list of names and positions (at `0`)"
        ]
    );
    assert_eq!(
        errors_of("[sources.format.csv]\nheader_row = \"first\""),
        ["t.toml:13:14: expected `header_row` to be a line number from 1 or \"auto\" (at `\"first\"`)"]
    );
    assert_eq!(
        errors_of("[sources.format.xlsx]\nheader_row = 0"),
        ["t.toml:13:14: expected `header_row` to be a row number from 1 or \"auto\" (at `0`)"]
    );
    assert_eq!(
        format_of("[sources.format.csv]\nheader_row = \"auto\"\nheader_rows = 2"),
        Format::Csv { delimiter: b',', header_row: HeaderRow::Auto, header_rows: 2 }
    );
}

#[test]
fn totals_words_have_defaults_and_may_be_replaced_or_turned_off() {
    let parse = |vocabulary: &str| {
        Pipeline::parse(Path::new("t.toml"), &pipeline("", vocabulary)).unwrap().sources.remove(0).vocabulary.totals
    };
    assert_eq!(parse(""), Vocabulary::default().totals);
    assert!(Vocabulary::default().totals.iter().any(|w| w == "合计"));
    assert_eq!(parse("[sources.vocabulary]\ntotals = [\"本月汇总\"]"), ["本月汇总"]);
    assert!(parse("[sources.vocabulary]\ntotals = []").is_empty());
}
