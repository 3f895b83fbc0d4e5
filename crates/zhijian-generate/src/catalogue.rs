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

const fn item(name: &'static str, unit: &'static str, limit: Limit) -> Item {
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

const fn category(
    top: &'static str,
    sub: &'static str,
    products: &'static [&'static str],
    weight: f64,
    risk: f64,
    items: &'static [Item],
) -> Category {
    Category { top, sub, products, weight, risk, items }
}

use Limit::{Banned, Max, Min, Qualitative};

const FOOD: &[Category] = &[
    category(
        "粮食加工品",
        "",
        &["小麦粉", "挂面", "大米"],
        16.0,
        0.6,
        &[
            item("铅(以Pb计)", "mg/kg", Max(0.2)),
            item("黄曲霉毒素B1", "μg/kg", Max(5.0)),
            item("脱氧雪腐镰刀菌烯醇", "μg/kg", Max(1000.0)),
            item("过氧化苯甲酰", "g/kg", Banned),
            item("苯并[a]芘", "μg/kg", Max(5.0)),
        ],
    ),
    category(
        "食用油、油脂及其制品",
        "食用植物油",
        &["花生油", "大豆油", "菜籽油", "芝麻油"],
        10.0,
        1.2,
        &[
            item("酸价(以KOH计)", "mg/g", Max(3.0)),
            item("过氧化值", "g/100g", Max(0.25)),
            item("苯并[a]芘", "μg/kg", Max(10.0)),
            item("黄曲霉毒素B1", "μg/kg", Max(10.0)),
            item("铅(以Pb计)", "mg/kg", Max(0.1)),
        ],
    ),
    category(
        "调味品",
        "酱油",
        &["酿造酱油", "生抽", "老抽"],
        9.0,
        1.0,
        &[
            item("氨基酸态氮", "g/100mL", Min(0.4)),
            item("苯甲酸及其钠盐(以苯甲酸计)", "g/kg", Max(1.0)),
            item("山梨酸及其钾盐(以山梨酸计)", "g/kg", Max(1.0)),
            item("铅(以Pb计)", "mg/kg", Max(1.0)),
        ],
    ),
    category(
        "肉制品",
        "",
        &["火腿肠", "酱卤肉", "腊肉"],
        12.0,
        1.3,
        &[
            item("亚硝酸盐(以NaNO2计)", "mg/kg", Max(30.0)),
            item("铅(以Pb计)", "mg/kg", Max(0.5)),
            item("苯甲酸及其钠盐(以苯甲酸计)", "g/kg", Banned),
            item("山梨酸及其钾盐(以山梨酸计)", "g/kg", Max(0.075)),
            item("克伦特罗", "μg/kg", Banned),
            item("莱克多巴胺", "μg/kg", Banned),
        ],
    ),
    category(
        "乳制品",
        "液体乳",
        &["纯牛奶", "灭菌乳", "酸牛奶"],
        8.0,
        0.5,
        &[
            item("三聚氰胺", "mg/kg", Max(2.5)),
            item("黄曲霉毒素M1", "μg/kg", Max(0.5)),
            item("铅(以Pb计)", "mg/kg", Max(0.05)),
            item("蛋白质", "g/100g", Min(2.9)),
            item("脂肪", "g/100g", Min(3.1)),
        ],
    ),
    category(
        "饮料",
        "",
        &["果汁饮料", "茶饮料", "碳酸饮料"],
        9.0,
        0.9,
        &[
            item("苯甲酸及其钠盐(以苯甲酸计)", "g/kg", Max(1.0)),
            item("山梨酸及其钾盐(以山梨酸计)", "g/kg", Max(0.5)),
            item("糖精钠(以糖精计)", "g/kg", Max(0.15)),
            item("铅(以Pb计)", "mg/kg", Max(0.3)),
        ],
    ),
    category(
        "酒类",
        "",
        &["白酒", "浓香型白酒"],
        8.0,
        1.1,
        &[
            item("甲醇", "g/L", Max(0.6)),
            item("氰化物(以HCN计)", "mg/L", Max(8.0)),
            item("邻苯二甲酸二丁酯", "mg/kg", Max(0.3)),
            item("铅(以Pb计)", "mg/kg", Max(0.5)),
            item("糖精钠(以糖精计)", "g/kg", Banned),
        ],
    ),
    category(
        "糕点",
        "",
        &["面包", "月饼", "蛋糕", "桃酥"],
        12.0,
        1.6,
        &[
            item("酸价(以KOH计)", "mg/g", Max(5.0)),
            item("过氧化值", "g/100g", Max(0.25)),
            item("铝的残留量(干样品，以Al计)", "mg/kg", Max(100.0)),
            item("苯甲酸及其钠盐(以苯甲酸计)", "g/kg", Banned),
            item("山梨酸及其钾盐(以山梨酸计)", "g/kg", Max(1.0)),
            item("糖精钠(以糖精计)", "g/kg", Banned),
            item("铅(以Pb计)", "mg/kg", Max(0.5)),
        ],
    ),
    category(
        "豆制品",
        "",
        &["豆腐", "腐竹", "豆干"],
        8.0,
        1.4,
        &[
            item("苯甲酸及其钠盐(以苯甲酸计)", "g/kg", Banned),
            item("山梨酸及其钾盐(以山梨酸计)", "g/kg", Banned),
            item("铅(以Pb计)", "mg/kg", Max(0.5)),
            item("糖精钠(以糖精计)", "g/kg", Banned),
        ],
    ),
    category(
        "蔬菜制品",
        "",
        &["酱腌菜", "榨菜"],
        8.0,
        1.5,
        &[
            item("亚硝酸盐(以NaNO2计)", "mg/kg", Max(20.0)),
            item("苯甲酸及其钠盐(以苯甲酸计)", "g/kg", Max(1.0)),
            item("糖精钠(以糖精计)", "g/kg", Max(0.15)),
            item("铅(以Pb计)", "mg/kg", Max(1.0)),
        ],
    ),
];

const AGRI_PRODUCTS: &[Category] = &[
    category(
        "蔬菜",
        "",
        &["大白菜", "菠菜", "芹菜", "韭菜", "黄瓜", "番茄", "豇豆"],
        60.0,
        1.3,
        &[
            item("毒死蜱", "mg/kg", Max(0.1)),
            item("氧乐果", "mg/kg", Max(0.02)),
            item("甲胺磷", "mg/kg", Max(0.05)),
            item("克百威", "mg/kg", Max(0.02)),
            item("腐霉利", "mg/kg", Max(2.0)),
        ],
    ),
    category("水果", "", &["苹果", "梨", "葡萄"], 20.0, 0.8, &[item("多菌灵", "mg/kg", Max(3.0))]),
    category("水产品", "", &["草鱼", "鲤鱼"], 10.0, 1.0, &[item("孔雀石绿", "μg/kg", Banned)]),
    category("畜禽产品", "", &["猪肉", "鸡蛋"], 10.0, 0.6, &[item("恩诺沙星", "μg/kg", Max(100.0))]),
];

const LIVESTOCK: &[Category] = &[
    category(
        "瘦肉精",
        "尿液",
        &["尿液"],
        50.0,
        0.5,
        &[item("克伦特罗", "μg/kg", Banned), item("莱克多巴胺", "μg/kg", Banned), item("沙丁胺醇", "μg/kg", Banned)],
    ),
    category(
        "生鲜乳",
        "生鲜牛乳",
        &["生鲜牛乳"],
        25.0,
        1.0,
        &[
            item("三聚氰胺", "mg/kg", Max(2.5)),
            item("黄曲霉毒素M1", "μg/kg", Max(0.5)),
            item("蛋白质", "g/100g", Min(2.8)),
            item("脂肪", "g/100g", Min(3.1)),
        ],
    ),
    category("饲料", "配合饲料", &["配合饲料"], 10.0, 1.5, &[item("黄曲霉毒素B1", "μg/kg", Max(20.0))]),
    category(
        "兽药残留",
        "猪肉",
        &["猪肉"],
        15.0,
        1.5,
        &[
            item("恩诺沙星", "μg/kg", Max(100.0)),
            item("磺胺类(总量)", "μg/kg", Max(100.0)),
            item("氯霉素", "μg/kg", Banned),
        ],
    ),
];

const AGRI_INPUTS: &[Category] = &[
    category(
        "肥料",
        "复混肥料",
        &["复混肥料 15-15-15", "复混肥料 16-10-19"],
        40.0,
        1.2,
        &[
            item("总养分(N+P2O5+K2O)", "%", Min(0.0)),
            item("总氮(N)", "%", Min(0.0)),
            item("有效磷(P2O5)", "%", Min(0.0)),
            item("氧化钾(K2O)", "%", Min(0.0)),
            item("水分", "%", Max(2.0)),
        ],
    ),
    category(
        "农药",
        "杀虫剂",
        &["40%毒死蜱乳油", "48%毒死蜱乳油"],
        25.0,
        1.0,
        &[item("有效成分含量", "%", Min(0.0)), item("水分", "%", Max(0.5))],
    ),
    category(
        "种子",
        "玉米种子",
        &["郑单958", "浚单20"],
        20.0,
        0.8,
        &[
            item("发芽率", "%", Min(85.0)),
            item("品种纯度", "%", Min(96.0)),
            item("净度", "%", Min(99.0)),
            item("水分", "%", Max(13.0)),
        ],
    ),
    category(
        "农业机械",
        "拖拉机",
        &["示例-LX904", "样例-M704"],
        15.0,
        0.8,
        &[
            item("安全防护", "", Qualitative),
            item("安全标志", "", Qualitative),
            item("制动性能", "", Qualitative),
            item("照明及信号装置", "", Qualitative),
        ],
    ),
];

const CONSUMER: &[Category] = &[
    category(
        "儿童用品",
        "玩具",
        &["拼装积木", "毛绒玩具", "塑胶玩具"],
        50.0,
        1.2,
        &[
            item("小零件", "", Qualitative),
            item("可迁移元素", "", Qualitative),
            item("邻苯二甲酸酯增塑剂", "", Qualitative),
        ],
    ),
    category(
        "家用电器",
        "电磁炉",
        &["电磁炉", "电热水壶", "电吹风"],
        50.0,
        0.8,
        &[
            item("泄漏电流和电气强度", "", Qualitative),
            item("对触及带电部件的防护", "", Qualitative),
            item("接地措施", "", Qualitative),
        ],
    ),
];

/// Net-content goods: (kind, product, labelled quantity, unit, allowed shortfall T).
const NET_CONTENT: &[(&str, &str, f64, &str, f64)] = &[
    ("大米", "东北大米", 5000.0, "g", 75.0),
    ("小麦粉", "特一粉", 2500.0, "g", 37.5),
    ("食用植物油", "花生油", 5000.0, "mL", 75.0),
    ("白酒", "浓香型白酒", 500.0, "mL", 15.0),
    ("饮料", "纯净水", 550.0, "mL", 15.0),
    ("乳制品", "纯牛奶", 250.0, "mL", 9.0),
    ("调味品", "酿造酱油", 500.0, "mL", 15.0),
    ("食糖", "白砂糖", 400.0, "g", 12.0),
    ("饼干", "苏打饼干", 200.0, "g", 9.0),
    ("茶叶", "信阳毛尖", 250.0, "g", 9.0),
    ("洗涤用品", "洗衣粉", 1000.0, "g", 15.0),
    ("化妆品", "洗发水", 400.0, "mL", 12.0),
];

/// Each programme's columns: (canonical field, header). The header is also the alias the
/// generated pipeline maps the field from.
const COLUMNS: &[(&str, &[(&str, &str)])] = &[
    (
        "food",
        &[
            ("sample_id", "抽样编号"),
            ("sub_programme", "任务类别"),
            ("product_name", "样品名称"),
            ("category_1", "食品大类"),
            ("category_2", "食品亚类"),
            ("entity_name", "被抽样单位名称"),
            ("entity_credit_code", "统一社会信用代码"),
            ("province", "被抽样单位所在省份"),
            ("city", "被抽样单位所在市"),
            ("county", "被抽样单位所在县"),
            ("stage", "抽样环节"),
            ("site_type", "抽样场所"),
            ("producer_name", "标称生产企业名称"),
            ("sampling_date", "抽样日期"),
            ("lab_name", "检验机构名称"),
            ("report_date", "报告日期"),
            ("item", "检验项目"),
            ("result", "检验结果"),
            ("result_unit", "结果单位"),
            ("item_verdict", "结果判定"),
            ("limit_basis", "判定依据"),
            ("limit_min", "最小允许限"),
            ("limit_max", "最大允许限"),
            ("limit_max_unit", "最大允许限单位"),
            ("sample_verdict", "检验结论"),
        ],
    ),
    (
        "agri_products",
        &[
            ("sample_id", "样品编号"),
            ("product_name", "样品名称"),
            ("category_1", "产品类别"),
            ("stage", "抽样环节"),
            ("city", "抽样地点/市"),
            ("county", "县（区）"),
            ("entity_name", "受检单位"),
            ("sampling_date", "抽样日期"),
            ("lab_name", "检测机构"),
            ("sample_verdict", "判定结论"),
            ("failing_items", "不合格项目║检验结果║标准值"),
            ("retest", "是否复检"),
        ],
    ),
    (
        "livestock",
        &[
            ("sample_id", "样品编号"),
            ("category_1", "监测类别"),
            ("product_name", "样品类型"),
            ("city", "所在市"),
            ("county", "所在县"),
            ("site_type", "场所类型"),
            ("entity_name", "被检单位"),
            ("sampling_date", "采样日期"),
            ("item", "检测项目"),
            ("method", "检测方法"),
            ("result", "检测结果"),
            ("result_unit", "结果单位"),
            ("limit_max", "判定标准"),
            ("item_verdict", "判定"),
        ],
    ),
    (
        "agri_inputs",
        &[
            ("sample_id", "抽查编号"),
            ("product_name", "产品名称"),
            ("category_1", "产品类别"),
            ("category_2", "产品小类"),
            ("producer_name", "生产企业"),
            ("entity_name", "被抽查单位"),
            ("city", "所在市"),
            ("county", "所在县"),
            ("sampling_date", "抽样日期"),
            ("item", "检验项目"),
            ("declared_value", "标明值"),
            ("tolerance", "允许偏差"),
            ("result", "实测值"),
            ("result_unit", "单位"),
            ("limit_max", "标准要求"),
            ("item_verdict", "单项判定"),
        ],
    ),
    (
        "consumer_products",
        &[
            ("sample_id", "样品编号"),
            ("category_1", "产品类别"),
            ("category_2", "产品小类"),
            ("product_name", "样品名称"),
            ("producer_name", "生产企业"),
            ("entity_name", "被抽样单位"),
            ("city", "所在地市"),
            ("sampling_date", "抽样日期"),
            ("sample_verdict", "检验结论"),
            ("failing_items", "不合格项目"),
        ],
    ),
    (
        "net_content",
        &[
            ("sample_id", "样品编号"),
            ("product_name", "商品名称"),
            ("category_1", "商品类别"),
            ("producer_name", "生产企业"),
            ("entity_name", "被检单位"),
            ("city", "所在市"),
            ("county", "所在县"),
            ("sampling_date", "检验日期"),
            ("labelled_quantity", "标注净含量"),
            ("measured_values", "实际含量(逐件)"),
            ("allowed_shortfall", "允许短缺量"),
            ("sample_verdict", "检验结论"),
        ],
    ),
];

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
