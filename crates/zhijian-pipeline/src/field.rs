//! The canonical fields a source's columns map to.

macro_rules! fields {
    ($($(#[$meta:meta])* $variant:ident => $key:literal, $required:literal;)+) => {
        /// A canonical field of an input record.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field { $($(#[$meta])* $variant),+ }

        impl Field {
            /// Every field, in documentation order.
            pub const ALL: &'static [Field] = &[$(Field::$variant),+];

            /// The key used in `[sources.columns]` and in `rejects.field`.
            pub fn as_str(self) -> &'static str {
                match self { $(Field::$variant => $key),+ }
            }

            /// Whether every source must map this field, whatever its layout (see
            /// [`crate::Layout::required_fields`] for the rest).
            pub fn required(self) -> bool {
                match self { $(Field::$variant => $required),+ }
            }

            /// The field with this key.
            pub fn from_key(key: &str) -> Option<Field> {
                match key { $($key => Some(Field::$variant),)+ _ => None }
            }
        }

        impl serde::Serialize for Field {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for Field {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let key = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                Field::from_key(&key).ok_or_else(|| serde::de::Error::custom(format!("unknown field `{key}`")))
            }
        }
    };
}

fields! {
    /// 抽样编号.
    SampleId => "sample_id", true;
    /// 任务类别 (监督抽检, 风险监测).
    SubProgramme => "sub_programme", false;
    /// 样品名称.
    ProductName => "product_name", true;
    /// 食品大类.
    Category1 => "category_1", false;
    /// 食品亚类.
    Category2 => "category_2", false;
    /// 食品次亚类.
    Category3 => "category_3", false;
    /// 食品细类.
    Category4 => "category_4", false;
    /// 被抽样单位所在省份.
    Province => "province", false;
    /// 被抽样单位所在市.
    City => "city", true;
    /// 被抽样单位所在县.
    County => "county", false;
    /// 被抽样单位名称.
    EntityName => "entity_name", false;
    /// 统一社会信用代码.
    EntityCreditCode => "entity_credit_code", false;
    /// 抽样环节.
    Stage => "stage", false;
    /// 抽样场所.
    SiteType => "site_type", false;
    /// 标称生产企业名称.
    ProducerName => "producer_name", false;
    /// 抽样日期.
    SamplingDate => "sampling_date", true;
    /// 检验机构名称.
    LabName => "lab_name", false;
    /// 报告日期.
    ReportDate => "report_date", false;
    /// 检验项目.
    Item => "item", false;
    /// 检验结果.
    Result => "result", false;
    /// 结果单位.
    ResultUnit => "result_unit", false;
    /// 检出限 (LOD).
    Lod => "lod", false;
    /// 定量限 (LOQ).
    Loq => "loq", false;
    /// 测量不确定度: the expanded uncertainty U, in the result's unit (`0.02`) or relative (`15%`).
    Uncertainty => "uncertainty", false;
    /// 结果判定 (the item's verdict).
    ItemVerdict => "item_verdict", false;
    /// 判定依据.
    LimitBasis => "limit_basis", false;
    /// 最小允许限.
    LimitMin => "limit_min", false;
    /// 最小允许限单位.
    LimitMinUnit => "limit_min_unit", false;
    /// 最大允许限.
    LimitMax => "limit_max", false;
    /// 最大允许限单位.
    LimitMaxUnit => "limit_max_unit", false;
    /// 检验方法 (screening or confirmation).
    Method => "method", false;
    /// 检验结论 (the sample's verdict).
    SampleVerdict => "sample_verdict", false;
    /// 是否复检.
    Retest => "retest", false;
    /// 原抽样编号: the sample a re-test row belongs to, when it has its own id.
    OriginalSampleId => "original_sample_id", false;
    /// 不合格项目║检验结果║标准值, several items in one cell (one-row-per-sample layouts).
    FailingItems => "failing_items", false;
    /// 标明值: the declared content a tolerance applies to (fertiliser, pesticide).
    DeclaredValue => "declared_value", false;
    /// 允许偏差: `±t`, `-t` or `+t` around the declared value.
    Tolerance => "tolerance", false;
    /// 标注净含量: labelled quantity with its unit (500g, 1.8L).
    LabelledQuantity => "labelled_quantity", false;
    /// 实际含量: the measured quantity of each unit, several in one cell.
    MeasuredValues => "measured_values", false;
    /// 允许短缺量 T: in the labelled unit (15g) or as a percentage of it (3%).
    AllowedShortfall => "allowed_shortfall", false;
}

impl Field {
    /// Whether the field belongs to one result rather than to the sample: the fields a
    /// result group (`[[sources.result_groups]]`) may map or fix.
    pub fn result_level(self) -> bool {
        matches!(
            self,
            Field::Item
                | Field::Result
                | Field::ResultUnit
                | Field::Lod
                | Field::Loq
                | Field::Uncertainty
                | Field::ItemVerdict
                | Field::LimitBasis
                | Field::LimitMin
                | Field::LimitMinUnit
                | Field::LimitMax
                | Field::LimitMaxUnit
                | Field::Method
                | Field::Retest
        )
    }
}

/// The column headers that each canonical field may appear under.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnMap {
    entries: Vec<(Field, Vec<String>)>,
}

impl ColumnMap {
    pub(crate) fn insert(&mut self, field: Field, aliases: Vec<String>) {
        self.entries.push((field, aliases));
    }

    /// The headers of `field`, in preference order; empty when the source lacks it.
    pub fn aliases(&self, field: Field) -> &[String] {
        self.entries.iter().find(|(f, _)| *f == field).map_or(&[], |(_, a)| a.as_slice())
    }

    /// Every mapped field with its headers.
    pub fn iter(&self) -> impl Iterator<Item = (Field, &[String])> {
        self.entries.iter().map(|(f, a)| (*f, a.as_slice()))
    }
}
