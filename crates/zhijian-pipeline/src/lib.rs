//! The pipeline file: what a run reads, with which seeds, into which folder.
//!
//! A pipeline file is TOML. [`Pipeline::load`] parses it, checks every key and value, and
//! returns either the plan or every problem at once, each pointing at `file:line:col` with the
//! offending text. Paths in the file are relative to the file's own folder.
//!
//! ```
//! let text = r#"
//! [pipeline]
//! name = "demo"
//! province = "410000"
//! as_of = 2013-09-30
//! seeds = "../seeds"
//! output = "../out/demo"
//!
//! [[sources]]
//! name = "food"
//! programme = "food"
//! files = ["../sample-data/food/*.csv"]
//!
//! [sources.columns]
//! sample_id = "抽样编号"
//! product_name = "样品名称"
//! city = ["被抽样单位所在市", "所在市"]
//! sampling_date = "抽样日期"
//! item = "检验项目"
//! result = "检验结果"
//! "#;
//! let pipeline = zhijian_pipeline::Pipeline::parse(std::path::Path::new("pipelines/demo.toml"), text).unwrap();
//! assert_eq!(pipeline.sources[0].columns.aliases(zhijian_pipeline::Field::City), ["被抽样单位所在市", "所在市"]);
//!
//! let broken = text.replace("programme = \"food\"", "programme = \"fodo\"").replace("item =", "itme =");
//! let errors = zhijian_pipeline::Pipeline::parse(std::path::Path::new("demo.toml"), &broken).unwrap_err();
//! assert_eq!(errors.0.len(), 3); // the programme, the unknown key, and the missing `item`
//! ```

mod checks;
mod error;
mod field;
mod parse;
mod source;
mod walk;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use zhijian_model::Programme;

pub use error::{ConfigError, ConfigErrors};
pub use field::{ColumnMap, Field};

/// A checked pipeline file.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    /// The file it came from.
    pub path: PathBuf,
    /// Its `name`.
    pub name: String,
    /// GB/T 2260 code of the province the data belongs to.
    pub province: String,
    /// The as-of date: nothing may be dated after it, and targets are pro-rated to it.
    /// `None` means the day of the run.
    pub as_of: Option<NaiveDate>,
    /// The seeds folder, resolved against the pipeline file's folder.
    pub seeds: PathBuf,
    /// The output folder, resolved against the pipeline file's folder.
    pub output: PathBuf,
    /// The sources, in file order.
    pub sources: Vec<Source>,
    /// The checks, from `[[checks]]` and the files `[pipeline] checks` includes, in order.
    pub checks: Vec<zhijian_model::checks::CheckSpec>,
}

/// One agency's export.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Unique name within the pipeline.
    pub name: String,
    /// The programme its rows belong to.
    pub programme: Programme,
    /// Glob patterns, resolved against the pipeline file's folder.
    pub files: Vec<String>,
    /// How the bytes are decoded.
    pub encoding: Encoding,
    /// Largest share of undecodable characters a file may have before it is refused.
    pub max_replacement_ratio: f64,
    /// How the rows are laid out.
    pub layout: Layout,
    /// The file format.
    pub format: Format,
    /// Column headers of each canonical field.
    pub columns: ColumnMap,
    /// Words that stand for values.
    pub vocabulary: Vocabulary,
    /// Unit assumed for a number whose record names none, if the source allows one.
    pub default_unit: Option<String>,
    /// Separators of values packed in one cell.
    pub packed: Packed,
    /// How much of a file zhijian takes before it refuses a record or the file:
    /// `[sources.limits]`.
    pub limits: Limits,
    /// Several results on one row: `[[sources.result_groups]]`, in file order; empty when each
    /// row carries one result in the source's own `item`/`result` columns.
    pub result_groups: Vec<ResultGroup>,
}

impl Source {
    /// The fields every file of the source must have a column for: the layout's, except that
    /// with result groups the results come from the groups' columns.
    pub fn required_fields(&self) -> Vec<Field> {
        let mut fields = self.layout.required_fields();
        if !self.result_groups.is_empty() {
            fields.retain(|f| {
                *f != Field::Result && !(*f == Field::Item && self.columns.aliases(Field::Item).is_empty())
            });
        }
        fields
    }
}

/// The cells of a row that make one result, when a row carries several: a screening and its
/// confirmation (`初筛结果`, `确证值(μg/kg)`), an initial test and its re-test, or one column
/// per analyte of a wide quick-test sheet (`克伦特罗 | 莱克多巴胺 | 沙丁胺醇`).
///
/// Each group of a row yields its own `results` row, with the row's `source_line` and the
/// group's name in `result_group`; a result-level field the group neither maps nor fixes is
/// read from the source's own columns (an item or a limit shared by the groups). A group whose
/// result cell is empty, or holds an awaiting word (`待确证`), yields nothing and is no error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultGroup {
    /// Unique within the source: `初筛`, `确证`, `复检`, `克伦特罗`.
    pub name: String,
    /// Result-level fields read from the group's columns. A field may list several headers:
    /// its cell is the first non-empty one among those the file has (`确证值(μg/kg)`, else
    /// `确证结果`).
    pub columns: ColumnMap,
    /// Result-level fields with one value for every row: `item = "克伦特罗"` in a wide sheet,
    /// `method = "确证"`, `result_unit = "μg/kg"`, `retest = "是"`. For a field the group also
    /// maps to a column, the value stands in where that cell is empty.
    pub values: Vec<(Field, String)>,
}

impl ResultGroup {
    /// Whether the group maps or fixes `field`: then the source's own column does not count.
    pub fn owns(&self, field: Field) -> bool {
        !self.columns.aliases(field).is_empty() || self.values.iter().any(|(f, _)| *f == field)
    }
}

/// Resource limits of one source's files: `[sources.limits]`. Each has a default that real
/// exports stay far below; a record beyond a CSV limit goes to `rejects` as
/// `record_malformed` and reading resumes, a workbook beyond a workbook limit stops the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Largest CSV field, in bytes as decoded (UTF-8): 131,072 (128 KiB), room for Excel's
    /// 32,767 characters per cell at four bytes each. A field that opens a quote and reaches
    /// this size without closing it is a stray quote.
    pub max_field_bytes: usize,
    /// Largest CSV record, in bytes as decoded: 1,048,576 (1 MiB).
    pub max_record_bytes: usize,
    /// Most non-empty cells read from a worksheet: 10,000,000 (a sheet of 250,000 rows of 40
    /// columns). Memory follows the cells present, not the address of the last one.
    pub max_cells: usize,
    /// Largest total unzipped size of an `.xlsx` file's parts, in bytes: 1,073,741,824 (1 GiB).
    pub max_unzipped_bytes: u64,
    /// Largest ratio of an `.xlsx` file's unzipped size to its size: 100; checked once the
    /// unzipped size passes 1 MiB, so small workbooks of repetitive XML are not refused.
    pub max_compression_ratio: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_field_bytes: 128 * 1024,
            max_record_bytes: 1024 * 1024,
            max_cells: 10_000_000,
            max_unzipped_bytes: 1024 * 1024 * 1024,
            max_compression_ratio: 100.0,
        }
    }
}

/// How the bytes of a file are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// A byte-order mark, else strict UTF-8, else GB18030.
    Auto,
    /// UTF-8 (a BOM is skipped).
    Utf8,
    /// GB18030, which also reads GBK and GB2312.
    Gb18030,
}

/// How a source lays out its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One row per sample × test item, the sample's fields repeated on each row (SAMR export,
    /// livestock monitoring). `item_rows`.
    ItemRows,
    /// One row per sample with its verdict; the failing items, if any, packed in one cell
    /// (农产品例行监测, consumer products). `sample_rows`.
    SampleRows,
    /// One row per pre-packaged sample: labelled quantity, the measured units, the allowed
    /// shortfall; zhijian judges it by the sampling plans of seeds/net_content_plans.csv.
    /// `net_content`.
    NetContent,
}

impl Layout {
    /// Every layout.
    pub const ALL: &'static [Layout] = &[Layout::ItemRows, Layout::SampleRows, Layout::NetContent];

    /// The name used in pipeline files.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::ItemRows => "item_rows",
            Layout::SampleRows => "sample_rows",
            Layout::NetContent => "net_content",
        }
    }

    /// The layout with this name.
    pub fn from_name(name: &str) -> Option<Layout> {
        Layout::ALL.iter().copied().find(|l| l.as_str() == name)
    }

    /// The fields a source of this layout must map.
    pub fn required_fields(self) -> Vec<Field> {
        let mut fields: Vec<Field> = Field::ALL.iter().copied().filter(|f| f.required()).collect();
        fields.extend_from_slice(match self {
            Layout::ItemRows => &[Field::Item, Field::Result],
            Layout::SampleRows => &[Field::SampleVerdict],
            Layout::NetContent => &[Field::LabelledQuantity, Field::MeasuredValues, Field::AllowedShortfall],
        });
        fields
    }
}

/// The file format and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// Delimited text: `[sources.format.csv]`.
    Csv {
        /// Field delimiter, `,` by default.
        delimiter: u8,
        /// The header's (first) line, `header_row`: a line number from 1 (1 by default; lines
        /// above it are titles, skipped), or `"auto"`.
        header_row: HeaderRow,
        /// Lines the header spans, 1 by default; their texts join with `/`.
        header_rows: usize,
    },
    /// An Excel workbook: `[sources.format.xlsx]` or `[sources.format.xls]`. The kind is read
    /// from the file's bytes, so a legacy `.xls` named `.xlsx` still reads.
    Excel {
        /// Which kind the pipeline file declared.
        kind: ExcelKind,
        /// The worksheets read, `sheet`: one by name or position (the first by default), every
        /// one with the mapped header (`"*"`), or a list.
        sheet: SheetSelection,
        /// The header's (first) row, `header_row`: a row number from 1 (1 by default; rows
        /// above it are titles, skipped), or `"auto"`; in each worksheet read.
        header_row: HeaderRow,
        /// Rows the header spans (a merged two-row header: 2); their texts join with `/`.
        header_rows: usize,
    },
}

/// Where a file's header is: `header_row` of `[sources.format.*]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderRow {
    /// `header_row = 3`: the header starts on this line (worksheet row), from 1; the lines
    /// above it are titles, skipped.
    Fixed(usize),
    /// `header_row = "auto"`: the header starts on the first row where it (with the
    /// `header_rows - 1` rows below it, their texts joined) has a column for every field the
    /// source requires; it must start within the first 50 rows (worksheet rows 1–50, the first
    /// 50 non-empty lines of a CSV), else the file stops the run naming the headers sought.
    /// Each file (and each worksheet) is searched on its own, so titles of varying height
    /// above the header are no problem.
    Auto,
}

/// Which worksheets of a workbook are read: `sheet` of `[sources.format.xlsx]`.
///
/// With [`SheetSelection::All`] or [`SheetSelection::List`], each worksheet read is an input of
/// its own in the outputs and the manifest: `source_file` is `FILE#SHEET`
/// (`../drop/2013.xlsx#一季度`), `source_line` the row in that worksheet, so every reject and
/// result names file, sheet and row. With [`SheetSelection::One`], `source_file` is the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SheetSelection {
    /// `sheet = "例行监测"` or `sheet = 2`: that worksheet, which must exist; the first when
    /// `None` (no `sheet` key).
    One(Option<SheetRef>),
    /// `sheet = "*"`: every worksheet whose header has a column for every required field, in
    /// workbook order. The others (a notes sheet, an empty one) are skipped and listed in the
    /// manifest's `skipped`; a workbook where no worksheet has the header stops the run, naming
    /// the file, each sheet and the columns it lacks.
    All,
    /// `sheet = ["一季度", "二季度"]` (names or positions from 1): these worksheets, in this
    /// order; each must exist and have the mapped header.
    List(Vec<SheetRef>),
}

impl SheetSelection {
    /// Whether several worksheets may be read, so `source_file` names the sheet.
    pub fn several(&self) -> bool {
        !matches!(self, SheetSelection::One(_))
    }
}

impl Format {
    /// Where the header starts and how many rows it spans.
    pub fn header(&self) -> (HeaderRow, usize) {
        match self {
            Format::Csv { header_row, header_rows, .. } | Format::Excel { header_row, header_rows, .. } => {
                (*header_row, *header_rows)
            }
        }
    }
}

/// The Excel file kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExcelKind {
    /// Office Open XML, `.xlsx`.
    Xlsx,
    /// Legacy BIFF8, `.xls`.
    Xls,
}

/// A worksheet of a workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SheetRef {
    /// By its tab name.
    Name(String),
    /// By its position, from 1.
    Position(usize),
}

/// How several values share one cell: `[sources.packed]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    /// Between failing items: `；`, `;`, a line break.
    pub items: Vec<String>,
    /// Between an item's parts (item, result, limit): `║`.
    pub parts: Vec<String>,
    /// Between measured values of a net-content sample: `,`, `，`, `；`, `;`, `、`, spaces.
    pub values: Vec<String>,
}

impl Default for Packed {
    fn default() -> Self {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Packed {
            items: words(&["；", ";", "\n"]),
            parts: words(&["║"]),
            values: words(&[",", "，", "；", ";", "、", " ", "\n"]),
        }
    }
}

/// The words a source uses for values. Matching folds width, case and spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocabulary {
    /// Verdict words meaning pass (合格).
    pub pass: Vec<String>,
    /// Verdict words meaning fail (不合格).
    pub fail: Vec<String>,
    /// Verdict words meaning the source does not judge (risk monitoring: `/`, `——`, 不作判定).
    pub not_judged: Vec<String>,
    /// Result words meaning not detected (未检出, ND).
    pub not_detected: Vec<String>,
    /// Result words meaning negative (阴性).
    pub negative: Vec<String>,
    /// Result words meaning positive (阳性).
    pub positive: Vec<String>,
    /// Limit words meaning there is no limit (`/`).
    pub no_limit: Vec<String>,
    /// Limit words meaning must not be detected (不得检出).
    pub banned: Vec<String>,
    /// Result words meaning the test is still to be done (`待确证`): a result group that says
    /// so yields no result.
    pub awaiting: Vec<String>,
    /// Words meaning yes in flag columns such as `retest` (是).
    pub yes: Vec<String>,
    /// Words of a totals or subtotal row (合计, 本页小计): a row whose sample id is empty and
    /// one of whose cells holds one of them (alone, or followed by anything but a letter) is
    /// skipped and listed in the manifest, not rejected. `[]` turns this off.
    pub totals: Vec<String>,
    /// Stage words: production, distribution, catering, online.
    pub stages: Vec<(zhijian_model::Stage, Vec<String>)>,
}

impl Default for Vocabulary {
    fn default() -> Self {
        use zhijian_model::Stage;
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Vocabulary {
            pass: words(&["合格", "符合", "通过", "pass"]),
            fail: words(&["不合格", "不符合", "未通过", "fail"]),
            not_judged: words(&["/", "／", "—", "——", "不作判定", "不判定", "未判定", "不予判定", "not judged"]),
            not_detected: words(&["未检出", "ND", "N.D.", "未检测出", "not detected"]),
            negative: words(&["阴性", "-", "negative"]),
            positive: words(&["阳性", "+", "positive"]),
            no_limit: words(&["/", "—", "-", "－", "无", ""]),
            banned: words(&["不得检出", "不得使用", "不得添加"]),
            awaiting: words(&["待确证", "待复检", "待检", "待检测"]),
            yes: words(&["是", "Y", "yes", "true", "1"]),
            totals: words(&["合计", "总计", "小计", "共计", "累计", "本页小计", "本页合计", "total", "subtotal"]),
            stages: vec![
                (Stage::Production, words(&["生产", "生产环节"])),
                (Stage::Distribution, words(&["流通", "流通环节", "销售"])),
                (Stage::Catering, words(&["餐饮", "餐饮环节", "餐饮服务"])),
                (Stage::Online, words(&["网购", "网络", "网络销售"])),
            ],
        }
    }
}

impl Pipeline {
    /// Reads and checks the pipeline file at `path`.
    pub fn load(path: &Path) -> Result<Pipeline, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            ConfigErrors(vec![ConfigError::whole_file(path, format!("cannot read the pipeline file: {err}"))])
        })?;
        Pipeline::parse(path, &text)
    }

    /// Checks the pipeline `text` as if read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Pipeline, ConfigErrors> {
        parse::parse(path, text)
    }

    /// The pipeline file's folder, against which its paths are resolved.
    pub fn base_dir(&self) -> &Path {
        match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        }
    }

    /// `path` relative to the pipeline file's folder, with `/` separators, whatever folder the
    /// run started in; used for `source_file` in the outputs so that the same inputs give the
    /// same tables. The folders are resolved, the last name is not (a link is named as itself,
    /// not as the file it leads to); names that are not UTF-8 are kept by [`lossless_name`].
    pub fn relative_name(&self, path: &Path) -> String {
        let absolute = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let base = absolute(self.base_dir());
        let target = match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) => {
                absolute(if parent.as_os_str().is_empty() { Path::new(".") } else { parent }).join(name)
            }
            _ => absolute(path),
        };
        let base: Vec<_> = base.components().collect();
        let target: Vec<_> = target.components().collect();
        let common = base.iter().zip(&target).take_while(|(a, b)| a == b).count();
        let mut parts: Vec<String> = std::iter::repeat_n("..".to_string(), base.len() - common).collect();
        parts.extend(target[common..].iter().map(|c| lossless_name(c.as_os_str())));
        parts.join("/")
    }
}

/// A file or folder name as text, keeping every byte: UTF-8 as it is, each byte that is not
/// part of valid UTF-8 as `\xNN` (uppercase hex). An agency's GBK name unpacked on a UTF-8
/// system (`更正` as the bytes `B8 FC D5 FD`) becomes `\xB8\xFC\xD5\xFD`, where a lossy
/// conversion would make every such name `�` and two files one.
pub fn lossless_name(name: &std::ffi::OsStr) -> String {
    #[cfg(unix)]
    {
        use std::fmt::Write as _;
        use std::os::unix::ffi::OsStrExt as _;
        let mut out = String::new();
        for chunk in name.as_bytes().utf8_chunks() {
            out.push_str(chunk.valid());
            for byte in chunk.invalid() {
                let _ = write!(out, "\\x{byte:02X}");
            }
        }
        out
    }
    #[cfg(not(unix))]
    {
        name.to_string_lossy().into_owned()
    }
}
