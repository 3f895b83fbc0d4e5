//! File layouts offices send that are not faults: data on several worksheets (`sheet = "*"` or a
//! list), a header below titles of varying height (`header_row = "auto"`), columns in another
//! order in each file of a source, and totals or blank rows inside the data, skipped, counted
//! and listed in the manifest. Each runs the `zhijian` binary over whole files written here.
//! The expected figures are worked out by hand from the rows below.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::io::Write as _;

use common::{Sandbox, rows, stderr, stdout};

/// One row per sample × item; the format table is each test's.
fn sources(format: &str, vocabulary: &str) -> String {
    format!(
        r#"
[[sources]]
name = "layouts"
programme = "food"
files = ["../data/*"]
layout = "item_rows"

{format}

[sources.columns]
sample_id = "抽样编号"
product_name = "样品名称"
category_1 = "食品大类"
city = "所在市"
sampling_date = "抽样日期"
item = "检验项目"
result = "检验结果"
result_unit = "结果单位"
limit_max = "最大允许限"
{vocabulary}
"#
    )
}

const HEADER: [&str; 9] =
    ["抽样编号", "样品名称", "食品大类", "所在市", "抽样日期", "检验项目", "检验结果", "结果单位", "最大允许限"];

/// Lead against its maximum of 0.2 mg/kg: L1 0.1 pass, L2 0.3 fail, L3 0.05 pass, L4 0.15 pass.
const L1: [&str; 9] = ["L1", "小麦粉", "粮食加工品", "郑州市", "2013-07-05", "铅", "0.1", "mg/kg", "0.2"];
const L2: [&str; 9] = ["L2", "大米", "粮食加工品", "开封市", "2013-07-06", "铅", "0.3", "mg/kg", "0.2"];
const L3: [&str; 9] = ["L3", "小麦粉", "粮食加工品", "洛阳市", "2013-08-01", "铅", "0.05", "mg/kg", "0.2"];
const L4: [&str; 9] = ["L4", "挂面", "粮食加工品", "郑州市", "2013-08-02", "铅", "0.15", "mg/kg", "0.2"];
/// An impossible date: `date_invalid`.
const L5: [&str; 9] = ["L5", "挂面", "粮食加工品", "郑州市", "2013-13-01", "铅", "0.15", "mg/kg", "0.2"];

/// Each sample's verdict, worked out by hand above.
fn verdicts() -> BTreeMap<String, String> {
    [("L1", "pass"), ("L2", "fail"), ("L3", "pass"), ("L4", "pass")].map(|(s, v)| (s.to_string(), v.to_string())).into()
}

fn csv(rows: &[&[&str]]) -> Vec<u8> {
    rows.iter().map(|r| r.join(",") + "\n").collect::<String>().into_bytes()
}

/// A row with its cells in the order `order` gives (indices into the row).
fn permuted<'a>(row: &[&'a str; 9], order: &[usize; 9]) -> Vec<&'a str> {
    order.iter().map(|&i| row[i]).collect()
}

/// An `.xlsx` of these sheets, as spreadsheet programs write one: text in the shared strings,
/// numbers as numbers; an empty string is an empty formatted cell, a row of none is absent.
fn xlsx(sheets: &[(&str, Vec<Vec<&str>>)]) -> Vec<u8> {
    let mut strings: Vec<String> = Vec::new();
    let mut sheet_parts = Vec::new();
    for (_, rows) in sheets {
        let mut xml = String::from(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
        );
        for (r, row) in rows.iter().enumerate() {
            if row.is_empty() {
                continue;
            }
            xml.push_str(&format!(r#"<row r="{}">"#, r + 1));
            for (c, cell) in row.iter().enumerate() {
                let reference = format!("{}{}", char::from(b'A' + c as u8), r + 1);
                if cell.is_empty() {
                    xml.push_str(&format!(r#"<c r="{reference}" s="1"/>"#));
                } else if cell.parse::<f64>().is_ok() {
                    xml.push_str(&format!(r#"<c r="{reference}"><v>{cell}</v></c>"#));
                } else {
                    let index = strings.iter().position(|s| s == cell).unwrap_or_else(|| {
                        strings.push(cell.to_string());
                        strings.len() - 1
                    });
                    xml.push_str(&format!(r#"<c r="{reference}" t="s"><v>{index}</v></c>"#));
                }
            }
            xml.push_str("</row>");
        }
        xml.push_str("</sheetData></worksheet>");
        sheet_parts.push(xml);
    }
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut part = |name: &str, body: &str| {
        zip.start_file(name, options).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    };
    let n = sheets.len();
    let overrides: String = (1..=n).map(|i| format!(r#"<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#)).collect();
    part(
        "[Content_Types].xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>{overrides}</Types>"#
        ),
    );
    part(
        "_rels/.rels",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    );
    let entries: String = sheets
        .iter()
        .enumerate()
        .map(|(i, (name, _))| format!(r#"<sheet name="{}" sheetId="{}" r:id="rId{}"/>"#, escape(name), i + 1, i + 1))
        .collect();
    part(
        "xl/workbook.xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{entries}</sheets></workbook>"#
        ),
    );
    let mut links: String = (1..=n).map(|i| format!(r#"<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>"#)).collect();
    links.push_str(&format!(r#"<Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>"#, n + 1, n + 2));
    part(
        "xl/_rels/workbook.xml.rels",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{links}</Relationships>"#
        ),
    );
    part(
        "xl/styles.xml",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font/></fonts><fills count="1"><fill/></fills><borders count="2"><border/><border><left style="thin"/></border></borders><cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="2"><xf/><xf borderId="1"/></cellXfs></styleSheet>"#,
    );
    let items: String = strings.iter().map(|s| format!("<si><t>{}</t></si>", escape(s))).collect();
    part(
        "xl/sharedStrings.xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{0}" uniqueCount="{0}">{items}</sst>"#,
            strings.len()
        ),
    );
    for (i, xml) in sheet_parts.iter().enumerate() {
        part(&format!("xl/worksheets/sheet{}.xml", i + 1), xml);
    }
    zip.finish().unwrap().into_inner()
}

fn manifest(out: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("_manifest.json")).unwrap()).unwrap()
}

/// Runs the pipeline `name` and returns its output folder; it must exit 0.
fn run(sandbox: &Sandbox, name: &str) -> std::path::PathBuf {
    let output = sandbox.zhijian(&["run", &format!("pipelines/{name}.toml"), "--no-checks"]);
    assert_eq!(output.status.code(), Some(0), "{}\n{}", stdout(&output), stderr(&output));
    sandbox.path().join(format!("out/{name}"))
}

/// Runs the pipeline `name`, which must stop with exit 2; returns its stderr.
fn refused(sandbox: &Sandbox, name: &str) -> String {
    let output = sandbox.zhijian(&["run", &format!("pipelines/{name}.toml"), "--no-checks"]);
    assert_eq!(output.status.code(), Some(2), "{}\n{}", stdout(&output), stderr(&output));
    stderr(&output)
}

/// Each sample's verdict.
fn sample_verdicts(out: &std::path::Path) -> BTreeMap<String, String> {
    rows(&out.join("samples")).into_iter().map(|s| (s["source_sample_id"].clone(), s["verdict"].clone())).collect()
}

/// Each result as (sample, source_file, source_line).
fn result_places(out: &std::path::Path) -> Vec<(String, String, String)> {
    let mut places: Vec<_> = rows(&out.join("results"))
        .into_iter()
        .map(|r| (r["sample_key"].clone(), r["source_file"].clone(), r["source_line"].clone()))
        .collect();
    places.sort();
    places
}

/// A table's rows without the columns that say where a row came from (and the run's time).
fn without_places(rows: Vec<BTreeMap<String, String>>) -> Vec<BTreeMap<String, String>> {
    let mut rows: Vec<_> = rows
        .into_iter()
        .map(|mut r| {
            for column in ["source_file", "source_line", "source_record", "superseded_deliveries", "ingested_at"] {
                r.remove(column);
            }
            r
        })
        .collect();
    rows.sort();
    rows
}

/// The quarterly workbook: a notes sheet first, Q1 under a title row, Q2 with its columns in
/// reverse order and an impossible date on row 3, and an empty sheet.
fn quarterly() -> Vec<u8> {
    let reverse = [8, 7, 6, 5, 4, 3, 2, 1, 0];
    xlsx(&[
        ("填表说明", vec![vec!["本表由各市填报"], vec!["抽样编号", "为12位"]]),
        ("一季度", vec![vec!["2013年一季度食品抽检"], HEADER.to_vec(), L1.to_vec(), L2.to_vec()]),
        (
            "二季度",
            vec![
                permuted(&HEADER, &reverse),
                permuted(&L3, &reverse),
                permuted(&L5, &reverse),
                permuted(&L4, &reverse),
            ],
        ),
        ("空表", vec![]),
    ])
}

#[test]
fn every_sheet_with_the_mapped_header_is_read_and_names_its_rows() {
    let sandbox = Sandbox::new();
    let format = "[sources.format.xlsx]\nsheet = \"*\"\nheader_row = \"auto\"";
    sandbox.add_pipeline("sheets", &sources(format, ""), &[("data/2013.xlsx", &quarterly())]);
    let out = run(&sandbox, "sheets");
    assert_eq!(sample_verdicts(&out), verdicts());
    let (q1, q2) = ("../data/2013.xlsx#一季度", "../data/2013.xlsx#二季度");
    let place = |sample: &str, file: &str, line: &str| (format!("food:{sample}"), file.to_string(), line.to_string());
    assert_eq!(
        result_places(&out),
        [place("L1", q1, "3"), place("L2", q1, "4"), place("L3", q2, "2"), place("L4", q2, "4")]
    );
    let rejects = rows(&out.join("rejects"));
    let reject: Vec<(&str, &str, &str, &str)> = rejects
        .iter()
        .map(|r| (r["source_file"].as_str(), r["source_line"].as_str(), r["rule"].as_str(), r["sample_id"].as_str()))
        .collect();
    assert_eq!(reject, [(q2, "3", "date_invalid", "L5")]);

    let manifest = manifest(&out);
    let inputs: Vec<(&str, &str, u64, u64, u64, u64)> = manifest["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let count = |key: &str| i[key].as_u64().unwrap();
            (
                i["path"].as_str().unwrap(),
                i["sheet"].as_str().unwrap(),
                count("header_line"),
                count("rows_read"),
                count("rows_accepted"),
                count("rows_rejected"),
            )
        })
        .collect();
    assert_eq!(inputs, [(q1, "一季度", 2, 2, 2, 0), (q2, "二季度", 1, 3, 2, 1)]);
    assert_eq!(manifest["inputs"][0]["sha256"], manifest["inputs"][1]["sha256"], "one file, two inputs");
    assert_eq!(manifest["totals"]["files"], 1);
    assert_eq!(manifest["totals"]["rows_read"], 5);
    let skipped: Vec<(&str, &str)> = manifest["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["path"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        skipped.iter().map(|s| s.0).collect::<Vec<_>>(),
        ["../data/2013.xlsx#填表说明", "../data/2013.xlsx#空表"]
    );
    assert!(skipped.iter().all(|s| s.1.starts_with("worksheet without the mapped header: ")), "{skipped:?}");
    assert!(skipped[0].1.contains("the closest is line 2"), "{}", skipped[0].1);

    // The same rows in one CSV, in one column order: the same samples and results.
    let plain = csv(&[&HEADER, &L1, &L2, &L3, &L5, &L4]);
    sandbox.add_pipeline("plain", &sources("", "").replace("../data/*", "../plain/*"), &[("plain/2013.csv", &plain)]);
    let plain_out = run(&sandbox, "plain");
    for table in ["samples", "results"] {
        assert_eq!(without_places(rows(&out.join(table))), without_places(rows(&plain_out.join(table))), "{table}");
    }
}

#[test]
fn a_list_of_sheets_reads_those_each_of_which_must_exist() {
    let sandbox = Sandbox::new();
    let files: [(&str, &[u8]); 1] = [("data/2013.xlsx", &quarterly())];
    let list = |sheets: &str| sources(&format!("[sources.format.xlsx]\nsheet = {sheets}\nheader_row = \"auto\""), "");
    sandbox.add_pipeline("listed", &list("[\"二季度\", 2]"), &files);
    let out = run(&sandbox, "listed");
    assert_eq!(sample_verdicts(&out), verdicts());
    let paths: Vec<String> =
        manifest(&out)["inputs"].as_array().unwrap().iter().map(|i| i["path"].as_str().unwrap().to_string()).collect();
    assert_eq!(paths, ["../data/2013.xlsx#二季度", "../data/2013.xlsx#一季度"], "in the list's order");
    assert_eq!(manifest(&out)["skipped"], serde_json::json!([]));

    sandbox.add_pipeline("missing", &list("[\"一季度\", \"三季度\"]"), &files);
    let err = refused(&sandbox, "missing");
    assert!(
        err.contains(
            "data/2013.xlsx`: no worksheet `三季度` in the workbook; it has: `填表说明`, `一季度`, `二季度`, `空表`"
        ),
        "{err}"
    );
    // A listed sheet must have the header: a notes sheet is an error, not skipped.
    sandbox.add_pipeline("notes", &list("[\"填表说明\", \"一季度\"]"), &files);
    let err = refused(&sandbox, "notes");
    assert!(err.contains("data/2013.xlsx`: worksheet `填表说明`: no header row among the first 50 rows"), "{err}");
}

#[test]
fn a_workbook_where_no_sheet_has_the_header_stops_the_run_naming_each() {
    let sandbox = Sandbox::new();
    let notes = xlsx(&[("填表说明", vec![vec!["本表由各市填报"]]), ("汇总", vec![HEADER[..5].to_vec()])]);
    let format = "[sources.format.xlsx]\nsheet = \"*\"";
    sandbox.add_pipeline("none", &sources(format, ""), &[("data/notes.xlsx", &notes)]);
    let err = refused(&sandbox, "none");
    assert!(err.contains("data/notes.xlsx`: no worksheet has the mapped header: `填表说明`: missing required column(s): `sample_id` (expected a column named `抽样编号`)"), "{err}");
    assert!(err.contains("`汇总`: missing required column(s): `item` (expected a column named `检验项目`), `result` (expected a column named `检验结果`)"), "{err}");
}

#[test]
fn the_header_is_found_below_titles_of_any_height() {
    let sandbox = Sandbox::new();
    let mut a = b"2013\xe5\xb9\xb4\n".to_vec(); // 2013年
    a.extend(csv(&[&HEADER, &L1, &L2]));
    let mut b = "郑州市食品抽检汇总\n填报单位：市局,,,填报日期：2013-08-10\n\n".as_bytes().to_vec();
    b.extend(csv(&[&HEADER, &L3, &L4]));
    let format = "[sources.format.csv]\nheader_row = \"auto\"";
    sandbox.add_pipeline("auto", &sources(format, ""), &[("data/a.csv", &a), ("data/b.csv", &b)]);
    let out = run(&sandbox, "auto");
    assert_eq!(sample_verdicts(&out), verdicts());
    let headers: Vec<(String, u64)> = manifest(&out)["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["path"].as_str().unwrap().to_string(), i["header_line"].as_u64().unwrap()))
        .collect();
    assert_eq!(headers, [("../data/a.csv".to_string(), 2), ("../data/b.csv".to_string(), 4)]);
    let lines: Vec<(String, String, String)> = result_places(&out);
    assert_eq!(lines[2], ("food:L3".to_string(), "../data/b.csv".to_string(), "5".to_string()));

    // A file without the header in its first 50 rows stops the run, naming it and the headers.
    let mut headless = b"2013\n".to_vec();
    let no_result = [0, 1, 2, 3, 4, 5, 7, 8];
    let (header, row): (Vec<&str>, Vec<&str>) = no_result.iter().map(|&i| (HEADER[i], L1[i])).unzip();
    headless.extend(csv(&[&header, &row]));
    sandbox.add_pipeline(
        "headless",
        &sources(format, "").replace("../data/*", "../headless/*"),
        &[("headless/c.csv", &headless)],
    );
    let err = refused(&sandbox, "headless");
    assert!(err.contains("headless/c.csv`: no header row among the first 50 rows: expected a row with a column for each of `sample_id` (`抽样编号`)"), "{err}");
    assert!(
        err.contains(
            "the closest is line 2: missing required column(s): `result` (expected a column named `检验结果`)"
        ),
        "{err}"
    );
}

#[test]
fn columns_in_another_order_in_each_file_read_as_in_one_order() {
    let sandbox = Sandbox::new();
    let order = [6, 0, 5, 8, 1, 3, 2, 7, 4];
    let x = csv(&[&HEADER, &L1, &L2]);
    let y: Vec<Vec<&str>> = [HEADER, L3, L4].iter().map(|r| permuted(r, &order)).collect();
    let y = csv(&y.iter().map(Vec::as_slice).collect::<Vec<_>>());
    sandbox.add_pipeline("orders", &sources("", ""), &[("data/x.csv", &x), ("data/y.csv", &y)]);
    let out = run(&sandbox, "orders");
    assert_eq!(sample_verdicts(&out), verdicts());
    let one = csv(&[&HEADER, &L1, &L2, &L3, &L4]);
    sandbox.add_pipeline("one", &sources("", "").replace("../data/*", "../one/*"), &[("one/all.csv", &one)]);
    let one_out = run(&sandbox, "one");
    for table in ["samples", "results", "rejects"] {
        assert_eq!(without_places(rows(&out.join(table))), without_places(rows(&one_out.join(table))), "{table}");
    }
}

/// Data broken by blank rows and totals rows, line by line:
/// 1 header; 2 L1; 3 empty; 4 `,,,`; 5 L2; 6 `本页小计` in the id column; 7 L3; 8 `合计：共3批次`
/// with no id; 9 spaces; 10 a row without its sample id (a reject, `required_missing`); 11 L4;
/// 12 `合计`; 13 and 14 empty (after the last row: counted, not listed).
/// Read 5 (L1–L4 and line 10), accepted 4, rejected 1; 3 totals rows; 5 blank rows, listed as
/// the runs 3–4 and 9.
fn broken_rows() -> Vec<Vec<&'static str>> {
    let no_id = ["", "面粉", "粮食加工品", "郑州市", "2013-07-05", "铅", "0.1", "mg/kg", "0.2"];
    vec![
        HEADER.to_vec(),
        L1.to_vec(),
        vec![],
        vec![""; 9],
        L2.to_vec(),
        wide(&["本页小计", "", "2批"]),
        L3.to_vec(),
        wide(&["", "合计：共3批次"]),
        vec!["  "],
        no_id.to_vec(),
        L4.to_vec(),
        wide(&["合计", "", "4批"]),
        vec![""; 9],
        vec![""; 9],
    ]
}

/// `cells`, then empty cells to the header's width.
fn wide(cells: &[&'static str]) -> Vec<&'static str> {
    let mut row = cells.to_vec();
    row.resize(HEADER.len(), "");
    row
}

/// What [`broken_rows`] gives, `blank` being the blank rows counted.
fn check_broken_rows(out: &std::path::Path, file: &str, blank: u64) {
    assert_eq!(sample_verdicts(out), verdicts());
    let rejects = rows(&out.join("rejects"));
    let reject: Vec<(&str, &str, &str)> =
        rejects.iter().map(|r| (r["source_line"].as_str(), r["rule"].as_str(), r["field"].as_str())).collect();
    assert_eq!(reject, [("10", "required_missing", "sample_id")], "totals rows are no rejects");
    let manifest = manifest(out);
    let input = &manifest["inputs"][0];
    assert_eq!(input["path"], file);
    let count = |key: &str| input[key].as_u64().unwrap();
    assert_eq!(
        [count("rows_read"), count("rows_accepted"), count("rows_rejected"), count("rows_totals"), count("rows_blank")],
        [5, 4, 1, 3, blank]
    );
    let listed: Vec<(u64, u64, &str, &str)> = input["skipped_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["first_line"].as_u64().unwrap(),
                s["last_line"].as_u64().unwrap(),
                s["kind"].as_str().unwrap(),
                s["raw_record"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (3, 4, "blank", ""),
            (6, 6, "totals", "本页小计||2批||||||"),
            (8, 8, "totals", "|合计：共3批次|||||||"),
            (9, 9, "blank", ""),
            (12, 12, "totals", "合计||4批||||||")
        ]
    );
    assert_eq!(
        (manifest["totals"]["rows_totals"].as_u64(), manifest["totals"]["rows_blank"].as_u64()),
        (Some(3), Some(blank))
    );
}

#[test]
fn totals_and_blank_rows_are_skipped_counted_and_listed() {
    let sandbox = Sandbox::new();
    let rows_of = broken_rows();
    let mut text: Vec<u8> = Vec::new();
    for row in &rows_of {
        // A CSV's empty lines; the workbook's empty formatted cells are `,,,` rows here.
        text.extend(row.join(",").as_bytes());
        text.push(b'\n');
    }
    // Lines 13 and 14 are empty lines, as an editor leaves them.
    let text = String::from_utf8(text).unwrap().replace(",,,,,,,,\n,,,,,,,,\n", "\n\n");
    sandbox.add_pipeline("broken", &sources("", ""), &[("data/broken.csv", text.as_bytes())]);
    check_broken_rows(&run(&sandbox, "broken"), "../data/broken.csv", 5);

    let workbook = xlsx(&[("Sheet1", rows_of.clone())]);
    sandbox.add_pipeline(
        "broken-xlsx",
        &sources("[sources.format.xlsx]", "").replace("../data/*", "../book/*"),
        &[("book/broken.xlsx", &workbook)],
    );
    // Formatted empty cells hold nothing: rows 13 and 14 are no rows of the sheet at all.
    check_broken_rows(&run(&sandbox, "broken-xlsx"), "../book/broken.xlsx", 3);

    // The words are the source's: without any, the totals rows are records, and rejected.
    let vocabulary = "[sources.vocabulary]\ntotals = []";
    sandbox.add_pipeline("no-totals", &sources("", vocabulary), &[]);
    let out = run(&sandbox, "no-totals");
    let rejects = rows(&out.join("rejects"));
    let lines: Vec<&str> = rejects.iter().map(|r| r["source_line"].as_str()).collect();
    assert_eq!(lines, ["6", "8", "10", "12"]);
    assert_eq!(manifest(&out)["inputs"][0]["rows_totals"], 0);
    assert_eq!(manifest(&out)["inputs"][0]["rows_read"], 8);
}
