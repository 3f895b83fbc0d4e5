//! What the drop is made of: each programme's columns (the bundled pipeline's headers), its
//! categories with their test items and limits (as in seeds/limits.csv), and the rows of one
//! sample in its layout.

use crate::{Drawn, Encoding, Mess, Rng, SampleRows, YEAR, cumulative, measured, number};

/// A test item's limit.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Limit {
    /// At most.
    Max(f64),
    /// At least.
    Min(f64),
    /// Must not be detected.
    Banned,
    /// A pass/fail check without a number.
    Qualitative,
}

/// A test item.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Item {
    pub(crate) name: &'static str,
    pub(crate) unit: &'static str,
    pub(crate) limit: Limit,
}

pub(super) const fn item(name: &'static str, unit: &'static str, limit: Limit) -> Item {
    Item { name, unit, limit }
}

/// A category of a programme: its names by level, how often it is sampled, how risky it is.
#[derive(Debug, Clone)]
pub(crate) struct Category {
    pub(crate) top: &'static str,
    pub(crate) sub: &'static str,
    pub(crate) products: &'static [&'static str],
    weight: f64,
    pub(crate) risk: f64,
    items: &'static [Item],
}

pub(super) const fn category(
    top: &'static str,
    sub: &'static str,
    products: &'static [&'static str],
    weight: f64,
    risk: f64,
    items: &'static [Item],
) -> Category {
    Category { top, sub, products, weight, risk, items }
}

mod data;

use Limit::{Banned, Max, Min, Qualitative};

use data::{AGRI_INPUTS, AGRI_PRODUCTS, COLUMNS, CONSUMER, FOOD, LIVESTOCK, NET_CONTENT};

fn columns(programme: &str) -> &'static [(&'static str, &'static str)] {
    COLUMNS.iter().find(|(p, _)| *p == programme).map_or(&[], |(_, c)| c)
}

/// The categories of every programme, with their draw weights.
#[derive(Debug)]
pub(crate) struct Catalogue {
    weights: Vec<(&'static str, &'static [Category], Vec<f64>)>,
    net_content: Vec<Category>,
}

impl Catalogue {
    pub(crate) fn new() -> Catalogue {
        let net_content: Vec<Category> = NET_CONTENT
            .iter()
            .map(|(kind, product, ..)| Category {
                top: kind,
                sub: "",
                products: std::slice::from_ref(product),
                weight: 1.0,
                risk: 1.0,
                items: &[],
            })
            .collect();
        let weights = [
            ("food", FOOD),
            ("agri_products", AGRI_PRODUCTS),
            ("livestock", LIVESTOCK),
            ("agri_inputs", AGRI_INPUTS),
            ("consumer_products", CONSUMER),
        ]
        .into_iter()
        .map(|(p, cats)| (p, cats, cumulative(cats.iter().map(|c| c.weight))))
        .collect();
        Catalogue { weights, net_content }
    }

    pub(crate) fn header(&self, programme: &str) -> Vec<&'static str> {
        columns(programme).iter().map(|(_, header)| *header).collect()
    }

    pub(crate) fn pick(&self, programme: &str, rng: &mut Rng) -> &Category {
        if programme == "net_content" {
            return &self.net_content[rng.below(self.net_content.len())];
        }
        let Some((_, categories, weights)) = self.weights.iter().find(|(p, ..)| *p == programme) else {
            return &self.net_content[0];
        };
        &categories[rng.weighted(weights)]
    }

    /// The rows of one sample in its programme's layout.
    pub(crate) fn rows(&self, programme: &str, category: &Category, drawn: &Drawn, rng: &mut Rng) -> SampleRows {
        let product = category.products[rng.below(category.products.len())];
        let mut out = match programme {
            "food" => food(category, product, drawn, rng),
            "livestock" => livestock(category, drawn, rng),
            "agri_inputs" => agri_inputs(category, product, drawn, rng),
            "agri_products" | "consumer_products" => packed(programme, category, product, drawn, rng),
            _ => net_content(category, product, drawn, rng),
        };
        if drawn.mess == Mess::DuplicateRow && programme_has_items(programme) && !out.rows.is_empty() {
            let copy = out.rows[rng.below(out.rows.len())].clone();
            out.rows.push(copy);
        }
        out
    }
}

/// Layouts with one row per test, where a row delivered twice is a duplicate item.
pub(crate) fn programme_has_items(programme: &str) -> bool {
    matches!(programme, "food" | "livestock" | "agri_inputs")
}

/// Which of `n` items fail: none when the sample passes, else one (sometimes two).
fn failing(n: usize, fail: bool, rng: &mut Rng) -> Vec<bool> {
    let mut flags = vec![false; n];
    if fail && n > 0 {
        flags[rng.below(n)] = true;
        if n > 1 && rng.chance(0.15) {
            flags[rng.below(n)] = true;
        }
    }
    flags
}

fn verdict(pass: bool) -> &'static str {
    if pass { "合格" } else { "不合格" }
}

/// A row with the programme's columns, filled by `value(field)`.
fn row(programme: &str, mut value: impl FnMut(&str) -> String) -> Vec<String> {
    columns(programme).iter().map(|(field, _)| value(field)).collect()
}

fn shared(drawn: &Drawn, field: &str) -> Option<String> {
    Some(match field {
        "sample_id" => drawn.id.clone(),
        "city" => drawn.city_text.clone(),
        "county" => drawn.county.clone(),
        "entity_name" => drawn.entity.clone(),
        "sampling_date" => drawn.date_text.clone(),
        _ => return None,
    })
}

fn food(category: &Category, product: &str, drawn: &Drawn, rng: &mut Rng) -> SampleRows {
    // Not every item is tested on every sample: three or more of the category's list.
    let take = (3 + rng.below(category.items.len().saturating_sub(2))).min(category.items.len());
    let items = &category.items[..take];
    let fails = failing(items.len(), drawn.fail, rng);
    let stage = ["生产", "流通", "流通", "餐饮"][rng.below(4)];
    let site = match stage {
        "生产" => "生产企业",
        "餐饮" => "餐馆",
        _ => ["超市", "农贸市场", "商场"][rng.below(3)],
    };
    let report = drawn.date + chrono::Duration::days(7 + rng.below(21) as i64);
    let lab = ["河南省食品质量监督检验研究院", "国家食品质量监督检验中心（郑州）", "郑州市质量技术监督检验测试中心"]
        [rng.below(3)];
    let producer = format!("{}示例食品有限公司", ["河南", "郑州", "漯河", "新乡"][rng.below(4)]);
    let rows = items
        .iter()
        .zip(&fails)
        .map(|(item, &fails)| {
            let value = measured(item, !fails, rng);
            row("food", |field| {
                shared(drawn, field).unwrap_or_else(|| match field {
                    "sub_programme" => "监督抽检".into(),
                    "product_name" => product.into(),
                    "category_1" => category.top.into(),
                    "category_2" => category.sub.into(),
                    "entity_credit_code" => drawn.entity_credit_code.clone(),
                    "province" => "河南省".into(),
                    "stage" => stage.into(),
                    "site_type" => site.into(),
                    "producer_name" => producer.clone(),
                    "lab_name" => lab.into(),
                    "report_date" => format!("{}", report.format("%Y-%m-%d")),
                    "item" => item.name.into(),
                    "result" => value.map_or_else(|| "未检出".to_string(), number),
                    "result_unit" => item.unit.into(),
                    "item_verdict" => verdict(!fails).into(),
                    "limit_basis" => "GB 2762-2012".into(),
                    "limit_min" => match item.limit {
                        Min(l) => number(l),
                        _ => "/".into(),
                    },
                    "limit_max" => match item.limit {
                        Max(l) => number(l),
                        Banned => "不得检出".into(),
                        _ => String::new(),
                    },
                    "limit_max_unit" => item.unit.into(),
                    "sample_verdict" => verdict(!drawn.fail).into(),
                    _ => String::new(),
                })
            })
        })
        .collect::<Vec<_>>();
    SampleRows { results: rows.len() as u64, rows }
}

fn limit_text(limit: Limit) -> String {
    match limit {
        Max(l) => format!("≤{}", number(l)),
        Min(l) => format!("≥{}", number(l)),
        Banned => "不得检出".into(),
        Qualitative => "/".into(),
    }
}

fn livestock(category: &Category, drawn: &Drawn, rng: &mut Rng) -> SampleRows {
    const STRIP: &str = "胶体金试纸条";
    const LCMS: &str = "LC-MS/MS（GB/T 22286）";
    let fails = failing(category.items.len(), drawn.fail, rng);
    let site = ["养殖场", "屠宰场", "奶站", "饲料厂"][rng.below(4)];
    let mut tests: Vec<(&Item, &str, String, &str, bool)> = Vec::new();
    for (item, &fails) in category.items.iter().zip(&fails) {
        if category.top == "瘦肉精" {
            // Screened by test strip; a positive is confirmed by LC-MS/MS, which decides.
            tests.push((item, STRIP, if fails { "阳性" } else { "阴性" }.into(), "", !fails));
            if fails {
                tests.push((item, LCMS, number(rng.range(0.8, 25.0)), item.unit, false));
            }
        } else {
            let value = measured(item, !fails, rng);
            tests.push((item, "", value.map_or_else(|| "未检出".into(), number), item.unit, !fails));
        }
    }
    let rows: Vec<Vec<String>> = tests
        .into_iter()
        .map(|(item, method, result, unit, pass)| {
            row("livestock", |field| {
                shared(drawn, field).unwrap_or_else(|| match field {
                    "category_1" => category.top.into(),
                    "product_name" => category.sub.into(),
                    "site_type" => site.into(),
                    "item" => item.name.into(),
                    "method" => method.into(),
                    "result" => result.clone(),
                    "result_unit" => unit.into(),
                    "limit_max" => limit_text(item.limit),
                    "item_verdict" => verdict(pass).into(),
                    _ => String::new(),
                })
            })
        })
        .collect();
    SampleRows { results: rows.len() as u64, rows }
}

fn agri_inputs(category: &Category, product: &str, drawn: &Drawn, rng: &mut Rng) -> SampleRows {
    let fails = failing(category.items.len(), drawn.fail, rng);
    let producer = format!("{}样例农资有限公司", ["河南", "山东", "河北", "江苏"][rng.below(4)]);
    let (n, p, k) = (15.0, [15.0, 10.0][rng.below(2)], 15.0);
    let rows: Vec<Vec<String>> = category
        .items
        .iter()
        .zip(&fails)
        .map(|(item, &fails)| {
            // (declared, tolerance, measured, requirement)
            let (declared, tolerance, result, requirement): (String, String, String, String) = match item.name {
                "总养分(N+P2O5+K2O)" | "总氮(N)" | "有效磷(P2O5)" | "氧化钾(K2O)" | "有效成分含量" => {
                    let declared = match item.name {
                        "总养分(N+P2O5+K2O)" => n + p + k,
                        "总氮(N)" => n,
                        "有效磷(P2O5)" => p,
                        "氧化钾(K2O)" => k,
                        _ => [40.0, 48.0][rng.below(2)],
                    };
                    let tolerance = if item.name == "有效成分含量" { 2.0 } else { 1.5 };
                    let value = if fails {
                        declared - tolerance - rng.range(0.5, 4.0)
                    } else {
                        declared + rng.range(-tolerance * 0.8, tolerance * 0.8)
                    };
                    (number(declared), format!("-{tolerance}"), format!("{value:.1}"), String::new())
                }
                _ => match item.limit {
                    Qualitative => (String::new(), String::new(), verdict(!fails).into(), "/".into()),
                    limit => {
                        let value = measured(item, !fails, rng).unwrap_or(0.5);
                        (String::new(), String::new(), format!("{value:.1}"), limit_text(limit))
                    }
                },
            };
            row("agri_inputs", |field| {
                shared(drawn, field).unwrap_or_else(|| match field {
                    "product_name" => product.into(),
                    "category_1" => category.top.into(),
                    "category_2" => category.sub.into(),
                    "producer_name" => producer.clone(),
                    "item" => item.name.into(),
                    "declared_value" => declared.clone(),
                    "tolerance" => tolerance.clone(),
                    "result" => result.clone(),
                    "result_unit" => item.unit.into(),
                    "limit_max" => requirement.clone(),
                    "item_verdict" => verdict(!fails).into(),
                    _ => String::new(),
                })
            })
        })
        .collect();
    SampleRows { results: rows.len() as u64, rows }
}

/// One row per sample, the failing items packed into one cell.
fn packed(programme: &str, category: &Category, product: &str, drawn: &Drawn, rng: &mut Rng) -> SampleRows {
    let fails = failing(category.items.len(), drawn.fail, rng);
    let failing_items: Vec<String> = category
        .items
        .iter()
        .zip(&fails)
        .filter(|(_, f)| **f)
        .map(|(item, _)| {
            if programme == "consumer_products" {
                item.name.to_string()
            } else {
                let value = measured(item, false, rng).unwrap_or(1.0);
                let unit = if matches!(item.limit, Max(_) | Min(_)) { item.unit } else { "" };
                format!("{}║{}{}║{}{unit}", item.name, number(value), item.unit, limit_text(item.limit))
            }
        })
        .collect();
    let stage = ["生产基地", "批发市场", "农贸市场", "超市"][rng.below(4)];
    let producer = format!("{}示例用品有限公司", ["广东", "浙江", "河南", "江苏"][rng.below(4)]);
    let one = row(programme, |field| {
        shared(drawn, field).unwrap_or_else(|| match field {
            "product_name" => product.into(),
            "category_1" => category.top.into(),
            "category_2" => category.sub.into(),
            "stage" => stage.into(),
            "producer_name" => producer.clone(),
            "lab_name" => "河南省农产品质量安全检测中心".into(),
            "sample_verdict" => verdict(!drawn.fail).into(),
            "failing_items" => failing_items.join("；"),
            _ => String::new(),
        })
    });
    SampleRows { rows: vec![one], results: failing_items.len() as u64 }
}

fn net_content(category: &Category, product: &str, drawn: &Drawn, rng: &mut Rng) -> SampleRows {
    let Some(&(_, _, quantity, unit, shortfall)) = NET_CONTENT.iter().find(|(kind, ..)| *kind == category.top) else {
        return SampleRows { rows: Vec::new(), results: 0 };
    };
    // Five units, checked in full: the mean must reach the label and no unit may be short by
    // more than T. A failing batch is short on average.
    let values: Vec<String> = (0..5)
        .map(|_| {
            let factor = if drawn.fail { rng.range(0.90, 0.985) } else { rng.range(1.002, 1.03) };
            format!("{:.1}", quantity * factor)
        })
        .collect();
    let one = row("net_content", |field| {
        shared(drawn, field).unwrap_or_else(|| match field {
            "product_name" => product.into(),
            "category_1" => category.top.into(),
            "producer_name" => "河南样例食品有限公司".into(),
            "labelled_quantity" => format!("{}{unit}", number(quantity)),
            "measured_values" => values.join(", "),
            "allowed_shortfall" => format!("{}{unit}", number(shortfall)),
            "sample_verdict" => verdict(!drawn.fail).into(),
            _ => String::new(),
        })
    });
    SampleRows { rows: vec![one], results: 3 }
}

/// The pipeline that reads a drop: the same sources as the bundled one, as CSV in `encoding`.
pub(crate) fn pipeline_toml(samples: u64, seed: u64, encoding: Encoding) -> String {
    // The UTF-8 drop's pipeline is as it was before GB18030 drops, byte for byte.
    let (flag, label) = match encoding {
        Encoding::Utf8 => ("", "UTF-8"),
        Encoding::Gb18030 => (" --encoding gb18030", "GB18030"),
    };
    let encoding = encoding.name();
    let mut text = format!(
        "# A synthetic drop from `zhijian generate --samples {samples} --seed {seed}{flag}`.\n\
         # Every programme of the plan, {label} CSV, the bundled pipeline's headers.\n\n\
         [pipeline]\nname = \"generated\"\nprovince = \"410000\"\nas_of = {YEAR}-12-31\n\
         seeds = \"seeds\"\noutput = \"out/generated\"\n"
    );
    for (programme, fields) in COLUMNS {
        let layout = match *programme {
            "agri_products" | "consumer_products" => "sample_rows",
            "net_content" => "net_content",
            _ => "item_rows",
        };
        let folder = programme.replace('_', "-");
        text.push_str(&format!(
            "\n[[sources]]\nname = \"{folder}\"\nprogramme = \"{programme}\"\nfiles = [\"{folder}/*.csv\"]\n\
             encoding = \"{encoding}\"\nlayout = \"{layout}\"\n\n[sources.columns]\n"
        ));
        for (field, header) in *fields {
            text.push_str(&format!("{field} = \"{header}\"\n"));
        }
        // Second readings of a column: the product is the second category level.
        match *programme {
            "livestock" => text.push_str("category_2 = \"样品类型\"\n"),
            "agri_products" => text.push_str("category_2 = \"样品名称\"\n"),
            _ => {}
        }
        if *programme == "agri_products" {
            text.push_str("\n[sources.vocabulary]\nproduction = [\"生产基地\"]\ndistribution = [\"批发市场\", \"农贸市场\", \"超市\"]\n");
        }
    }
    text
}
