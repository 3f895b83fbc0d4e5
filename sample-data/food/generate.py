#!/usr/bin/env python3
"""Generates sample-data/food: a SAMR-style export (one row per sample x test item), GB18030.

Deterministic: the same script writes the same bytes. Every sample's fate is decided here,
by construction, before any row is written; expected.json holds that ground truth (rows per
file, the faults, and pass rates per city and category), independent of zhijian's parsing.

    python3 sample-data/food/generate.py
"""
import csv
import datetime as dt
import io
import json
import pathlib
import random
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _shared import CreditCodes  # noqa: E402

rng = random.Random(20130930)
CREDIT_CODES = CreditCodes(20130930)
AS_OF = dt.date(2013, 9, 30)

HEADER = ["序号", "抽样编号", "任务类别", "样品名称", "食品大类", "食品亚类", "食品次亚类", "食品细类",
          "被抽样单位名称", "统一社会信用代码", "被抽样单位所在省份", "被抽样单位所在市", "被抽样单位所在县",
          "抽样环节", "抽样场所", "标称生产企业名称", "抽样日期", "检验机构名称", "报告日期",
          "检验项目", "检验结果", "结果单位", "结果判定", "判定依据",
          "最小允许限", "最小允许限单位", "最大允许限", "最大允许限单位", "检验结论"]

# city code -> (name, pinyin, weight, [(county code, county name, directly administered)])
CITIES = {
    "410100": ("郑州市", "Zhengzhou", 9, [("410102", "中原区", 0), ("410105", "金水区", 0), ("410122", "中牟县", 0), ("410181", "巩义市", 1), ("410184", "新郑市", 0)]),
    "410200": ("开封市", "Kaifeng", 4, [("410202", "龙亭区", 0), ("410221", "杞县", 0), ("410225", "兰考县", 1)]),
    "410300": ("洛阳市", "Luoyang", 6, [("410303", "西工区", 0), ("410311", "洛龙区", 0), ("410381", "偃师市", 0)]),
    "410400": ("平顶山市", "Pingdingshan", 4, [("410402", "新华区", 0), ("410421", "宝丰县", 0), ("410482", "汝州市", 1)]),
    "410500": ("安阳市", "Anyang", 4, [("410502", "文峰区", 0), ("410522", "安阳县", 0), ("410526", "滑县", 1), ("410581", "林州市", 0)]),
    "410600": ("鹤壁市", "Hebi", 2, [("410611", "淇滨区", 0), ("410621", "浚县", 0)]),
    "410700": ("新乡市", "Xinxiang", 5, [("410702", "红旗区", 0), ("410721", "新乡县", 0), ("410728", "长垣县", 1), ("410782", "辉县市", 0)]),
    "410800": ("焦作市", "Jiaozuo", 3, [("410802", "解放区", 0), ("410823", "武陟县", 0), ("410882", "沁阳市", 0)]),
    "410900": ("濮阳市", "Puyang", 3, [("410902", "华龙区", 0), ("410928", "濮阳县", 0)]),
    "411000": ("许昌市", "Xuchang", 4, [("411002", "魏都区", 0), ("411081", "禹州市", 0), ("411082", "长葛市", 0)]),
    "411100": ("漯河市", "Luohe", 3, [("411102", "源汇区", 0), ("411122", "临颍县", 0)]),
    "411200": ("三门峡市", "Sanmenxia", 2, [("411202", "湖滨区", 0), ("411282", "灵宝市", 0)]),
    "411300": ("南阳市", "Nanyang", 7, [("411302", "宛城区", 0), ("411303", "卧龙区", 0), ("411381", "邓州市", 1)]),
    "411400": ("商丘市", "Shangqiu", 5, [("411402", "梁园区", 0), ("411421", "民权县", 0), ("411481", "永城市", 1)]),
    "411500": ("信阳市", "Xinyang", 5, [("411502", "浉河区", 0), ("411524", "商城县", 0), ("411525", "固始县", 1)]),
    "411600": ("周口市", "Zhoukou", 6, [("411602", "川汇区", 0), ("411626", "淮阳县", 0), ("411628", "鹿邑县", 1)]),
    "411700": ("驻马店市", "Zhumadian", 5, [("411702", "驿城区", 0), ("411721", "西平县", 0), ("411729", "新蔡县", 1)]),
    "419001": ("济源市", "Jiyuan", 1, []),
}

# An item: (name as written, unit as written, limit kind, limit value, basis, pass generator, fail generator)
# limit kind: "max", "min", "banned"
def num(x, digits=3):
    return f"{x:.{digits}g}" if x < 1000 else f"{x:.0f}"

ITEMS = {
    "lead_grain":   ("铅(以Pb计)", "mg/kg", "max", 0.2, "GB 2762-2012"),
    "lead_meat":    ("铅(以Pb计)", "mg/kg", "max", 0.5, "GB 2762-2012"),
    "lead_milk":    ("铅(以Pb计)", "mg/kg", "max", 0.05, "GB 2762-2012"),
    "lead_bean":    ("铅（以Pb计）", "mg/kg", "max", 0.5, "GB 2762-2012"),
    "cadmium":      ("镉(以Cd计)", "mg/kg", "max", 0.2, "GB 2762-2012"),
    "afb1_flour":   ("黄曲霉毒素B1", "μg/kg", "max", 5.0, "GB 2761-2011"),
    "afb1_peanut":  ("黄曲霉毒素B₁", "μg/kg", "max", 20.0, "GB 2761-2011"),
    "afb1_soy":     ("黄曲霉毒素B1", "ug/kg", "max", 10.0, "GB 2761-2011"),
    "don":          ("脱氧雪腐镰刀菌烯醇", "μg/kg", "max", 1000.0, "GB 2761-2011"),
    "bpo":          ("过氧化苯甲酰", "g/kg", "banned", None, "卫生部等7部门公告2011年第4号"),
    "acid_oil":     ("酸价(以KOH计)", "mg/g", "max", 3.0, "GB 2716-2005"),
    "perox_oil":    ("过氧化值", "g/100g", "max", 0.25, "GB 2716-2005"),
    "bap":          ("苯并[a]芘", "μg/kg", "max", 10.0, "GB 2762-2012"),
    "amino_n":      ("氨基酸态氮", "g/100mL", "min", 0.4, "GB 18186-2000"),
    "benzoic":      ("苯甲酸及其钠盐(以苯甲酸计)", "g/kg", "max", 1.0, "GB 2760-2011"),
    "benzoic_ban":  ("苯甲酸及其钠盐(以苯甲酸计)", "g/kg", "banned", None, "GB 2760-2011"),
    "sorbic":       ("山梨酸及其钾盐(以山梨酸计)", "g/kg", "max", 0.5, "GB 2760-2011"),
    "sorbic_ban":   ("山梨酸及其钾盐(以山梨酸计)", "g/kg", "banned", None, "GB 2760-2011"),
    "total_acid":   ("总酸(以乙酸计)", "g/100mL", "min", 3.5, "GB 18187-2000"),
    "nitrite_meat": ("亚硝酸盐(以NaNO2计)", "mg/kg", "max", 30.0, "GB 2760-2011"),
    "nitrite_veg":  ("亚硝酸盐", "mg/kg", "max", 20.0, "GB 2762-2012"),
    "clen":         ("克伦特罗", "μg/kg", "banned", None, "整顿办函〔2010〕50号"),
    "ract":         ("莱克多巴胺", "μg/kg", "banned", None, "整顿办函〔2010〕50号"),
    "salb":         ("沙丁胺醇", "μg/kg", "banned", None, "整顿办函〔2010〕50号"),
    "enro":         ("恩诺沙星", "μg/kg", "max", 100.0, "农业部公告第235号"),
    "protein":      ("蛋白质", "g/100g", "min", 2.9, "GB 25190-2010"),
    "melamine":     ("三聚氰胺", "mg/kg", "max", 2.5, "卫生部等5部门公告2011年第10号"),
    "afm1":         ("黄曲霉毒素M1", "μg/kg", "max", 0.5, "GB 2761-2011"),
    "methanol":     ("甲醇", "g/L", "max", 0.6, "GB 2757-2012"),
    "cyanide":      ("氰化物(以HCN计)", "mg/L", "max", 8.0, "GB 2757-2012"),
    "dbp":          ("邻苯二甲酸二丁酯", "mg/kg", "max", 0.3, "卫办监督函〔2011〕551号"),
    "saccharin":    ("糖精钠(以糖精计)", "g/kg", "max", 0.15, "GB 2760-2011"),
    "acid_cake":    ("酸价(以KOH计)", "mg/g", "max", 5.0, "GB 7099-2003"),
    "perox_cake":   ("过氧化值", "g/100g", "max", 0.25, "GB 7099-2003"),
    "alum":         ("铝的残留量(干样品,以Al计)", "mg/kg", "max", 100.0, "GB 2760-2011"),
    "procym":       ("腐霉利", "mg/kg", "max", 0.2, "GB 2763-2012"),
    "chlorpy":      ("毒死蜱", "mg/kg", "max", 0.1, "GB 2763-2012"),
    "omethoate":    ("氧乐果", "mg/kg", "max", 0.02, "GB 2763-2012"),
    "phorate":      ("甲拌磷", "mg/kg", "max", 0.01, "GB 2763-2012"),
    "mg":           ("孔雀石绿", "μg/kg", "banned", None, "农业部公告第235号"),
    "cap":          ("氯霉素", "μg/kg", "banned", None, "农业部公告第235号"),
    "nf":           ("硝基呋喃类代谢物", "μg/kg", "banned", None, "农业部公告第235号"),
}

# product templates: (category path, product names, items, weight, stages)
PRODUCTS = [
    (("粮食加工品", "小麦粉", "小麦粉", "通用小麦粉"), ["小麦粉", "特一粉", "富强粉"], ["lead_grain", "afb1_flour", "don", "bpo"], 5),
    (("粮食加工品", "大米", "大米", "大米"), ["大米", "珍珠米", "长粒香米"], ["lead_grain", "cadmium"], 4),
    (("食用油、油脂及其制品", "食用植物油", "食用植物油", "花生油"), ["压榨花生油", "花生油"], ["acid_oil", "perox_oil", "afb1_peanut", "bap"], 3),
    (("食用油、油脂及其制品", "食用植物油", "食用植物油", "大豆油"), ["大豆油", "一级大豆油"], ["acid_oil", "perox_oil", "afb1_soy", "bap"], 3),
    (("调味品", "酱油", "酱油", "酿造酱油"), ["酿造酱油", "生抽", "老抽"], ["amino_n", "benzoic"], 3),
    (("调味品", "食醋", "食醋", "酿造食醋"), ["陈醋", "香醋"], ["total_acid", "benzoic"], 2),
    (("肉制品", "熟肉制品", "酱卤肉制品", "酱卤肉制品"), ["卤牛肉", "酱猪蹄", "五香驴肉"], ["nitrite_meat", "lead_meat", "clen"], 4),
    (("乳制品", "液体乳", "灭菌乳", "灭菌乳"), ["纯牛奶", "全脂灭菌乳"], ["protein", "melamine", "afm1", "lead_milk"], 3),
    (("饮料", "饮料", "果蔬汁类及其饮料", "果蔬汁类及其饮料"), ["橙汁饮料", "苹果汁"], ["benzoic", "sorbic"], 3),
    (("酒类", "蒸馏酒", "白酒", "白酒"), ["浓香型白酒", "清香型白酒"], ["methanol", "cyanide", "dbp"], 3),
    (("蔬菜制品", "酱腌菜", "酱腌菜", "酱腌菜"), ["榨菜", "腌黄瓜", "酱菜"], ["nitrite_veg", "benzoic", "saccharin"], 3),
    (("糕点", "糕点", "糕点", "糕点"), ["月饼", "蛋糕", "面包"], ["acid_cake", "perox_cake", "alum", "benzoic_ban"], 4),
    (("豆制品", "豆制品", "非发酵性豆制品", "豆腐"), ["豆腐", "内酯豆腐"], ["benzoic_ban", "sorbic_ban", "lead_bean"], 3),
    (("食用农产品", "蔬菜", "叶菜类蔬菜", "韭菜"), ["韭菜"], ["procym", "chlorpy", "omethoate", "phorate"], 4),
    (("食用农产品", "水产品", "淡水鱼", "草鱼"), ["草鱼", "鲤鱼"], ["mg", "cap", "nf"], 3),
    (("食用农产品", "畜禽肉及副产品", "畜肉", "猪肉"), ["猪肉", "猪后腿肉"], ["clen", "ract", "salb", "enro"], 4),
]

LABS = ["河南省产品质量监督检验院", "河南省食品质量安全检测中心", "郑州市产品质量检验检测中心",
        "洛阳市质量技术监督检验测试中心", "国家食品质量监督检验中心（郑州）"]
# Invented, and named so (示例, 样例): the sampled shops and the labelled producers.
SHOPS = ["中原样例超市", "豫丰示例超市", "嵩岳样例超市", "黄河示例超市", "伏牛样例超市", "示例农贸市场", "样例批发市场",
         "示例便利店", "样例商行"]
MAKERS = ["豫丰示例面业有限公司", "中原样例肉类食品有限公司", "嵩山示例乳业有限公司", "豫东样例酒业有限公司",
          "黄河示例调味品有限公司", "郑州样例速冻食品有限公司", "伏牛示例食品有限公司", "信阳样例茶业有限公司"]
STAGES = [("生产", ["生产企业"]), ("流通", ["超市", "农贸市场", "批发市场", "便利店"]), ("餐饮", ["餐馆", "学校食堂"])]


def fmt_date(d, style):
    return {0: d.strftime("%Y-%m-%d"), 1: f"{d.year}/{d.month}/{d.day}", 2: f"{d.year}年{d.month}月{d.day}日", 3: d.strftime("%Y%m%d")}[style]


def city_spelling(code, style):
    name, pinyin, _, _ = CITIES[code]
    return [name, name[:-1] if len(name) > 2 else name, pinyin, code, code[:4]][style]


def pass_value(item):
    name, unit, kind, limit, _ = ITEMS[item]
    r = rng.random()
    if kind == "banned":
        return ("阴性" if item in ("clen", "ract", "salb") and r < 0.5 else ("未检出" if r < 0.8 else "ND")), unit
    if kind == "min":
        return num(limit * rng.uniform(1.1, 2.2)), unit
    if r < 0.25:
        return rng.choice(["未检出", "ND", "N.D."]), unit
    if r < 0.4:
        return "<" + num(limit / 20, 2), unit
    return num(limit * rng.uniform(0.05, 0.8)), unit


def fail_value(item):
    name, unit, kind, limit, _ = ITEMS[item]
    if kind == "banned":
        if item in ("clen", "ract", "salb") and rng.random() < 0.5:
            return "阳性", unit
        return num(rng.uniform(0.3, 9.0) if unit == "μg/kg" else rng.uniform(0.01, 0.3)), unit
    if kind == "min":
        return num(limit * rng.uniform(0.4, 0.85)), unit
    return num(limit * rng.uniform(1.3, 4.0)), unit


def limit_cells(item, style):
    """(min, min unit, max, max unit) as the record writes the limit; style 3 leaves it to seeds."""
    name, unit, kind, limit, _ = ITEMS[item]
    if style == 3:
        return "/", "", "/", ""
    if kind == "banned":
        return "/", "", "不得检出", unit
    text = num(limit)
    if kind == "min":
        return ("≥" + text if style != 1 else text), unit, "/", ""
    return "/", "", ("≤" + text if style != 1 else text), unit


def credit_code(entity, area):
    """The entity's one credit code. The three draws are those of the per-sample codes this
    file once wrote, kept so that every later draw, and so every verdict and fault, stays where
    it was."""
    rng.randrange(10**8), rng.choice("ABCDEFGHJK"), rng.randrange(10)
    return CREDIT_CODES.of(entity, area)


def main():
    samples = []
    city_codes = list(CITIES)
    weights = [CITIES[c][2] for c in city_codes]
    start, end = dt.date(2013, 3, 1), dt.date(2013, 9, 10)
    repeat_offender = {}
    for n in range(300):
        city = rng.choices(city_codes, weights)[0]
        counties = CITIES[city][3]
        county = rng.choice(counties) if counties and rng.random() < 0.75 else None
        template = rng.choices(PRODUCTS, [p[3] for p in PRODUCTS])[0]
        stage, sites = rng.choice(STAGES)
        sampling = start + dt.timedelta(days=rng.randrange((end - start).days + 1))
        report = min(sampling + dt.timedelta(days=rng.randrange(8, 25)), AS_OF)
        fails = rng.random() < 0.07
        items = list(template[2])
        failing = {rng.choice(items)} if fails else set()
        entity = f"{CITIES[city][0]}{county[1] if county else ''}{rng.choice(SHOPS)}"
        samples.append(dict(
            n=n, id=f"SC13{city[:4]}{n + 1:06d}", city=city, county=county, template=template,
            product=rng.choice(template[1]), stage=stage, site=rng.choice(sites), sampling=sampling, report=report,
            items=items, failing=failing, entity=entity, credit=credit_code(entity, county[0] if county else city),
            maker=rng.choice(MAKERS), lab=rng.choice(LABS), task=rng.choice(["监督抽检", "监督抽检", "风险监测"]),
            fault=None, conflict=None, rows_rejected={}, city_style=rng.randrange(5), date_style=rng.randrange(4),
            limit_style=rng.randrange(4), unit_swap=rng.random() < 0.15, extra=None,
        ))

    # Repeated failures of one entity within 12 months (the plan's blacklist).
    for a, b in [(11, 211), (40, 240)]:
        for k in (a, b):
            s = samples[k]
            s["failing"] = {s["items"][0]}
        samples[b].update(city=samples[a]["city"], county=samples[a]["county"], entity=samples[a]["entity"], credit=samples[a]["credit"])

    # Boundary values: exactly at the limit passes, also across units.
    samples[5]["template"] = PRODUCTS[0]; samples[5]["items"] = ["lead_grain", "afb1_flour"]; samples[5]["failing"] = set()
    samples[5]["extra"] = {"lead_grain": ("0.2", "mg/kg"), "afb1_flour": ("0.005", "mg/kg")}
    samples[5]["limit_style"] = 0; samples[5]["product"] = "小麦粉"

    # The deliberate faults, each on its own sample.
    def fault(k, kind, **kw):
        samples[k]["fault"] = kind
        samples[k].update(kw)
    fault(20, "unknown_city")
    fault(30, "impossible_date")
    fault(45, "future_date")
    fault(60, "date_order")
    fault(75, "non_numeric", failing=set())
    fault(90, "non_numeric_in_failing")
    samples[90]["failing"] = {samples[90]["items"][0]}
    fault(105, "duplicate_item", failing=set())
    fault(120, "fields_disagree")
    fault(135, "missing_id")
    fault(150, "reported_pass_but_fails")
    samples[150]["failing"] = {samples[150]["items"][-1]}
    fault(165, "reported_fail_but_passes", failing=set())
    fault(180, "unknown_unit", failing=set())
    fault(195, "outside_province")
    fault(225, "unknown_item", failing=set())
    fault(255, "unknown_subcategory", failing=set())
    samples[255]["template"] = PRODUCTS[6]; samples[255]["items"] = list(PRODUCTS[6][2]); samples[255]["product"] = "腊肉"

    for s in samples:
        build_rows(s)
    write_files(samples)


def build_rows(s):
    rows = []
    cat = s["template"][0]
    if s["fault"] == "unknown_subcategory":
        cat = ("肉制品", "腌腊肉制品", "腌腊肉制品", "腊肉")
    sample_fail = bool(s["failing"])
    reported = "不合格" if sample_fail else "合格"
    if s["fault"] == "reported_pass_but_fails":
        reported = "合格"
    if s["fault"] == "reported_fail_but_passes":
        reported = "不合格"
    for i, item in enumerate(s["items"]):
        name, unit, kind, limit, basis = ITEMS[item]
        failing = item in s["failing"]
        value, runit = (fail_value(item) if failing else pass_value(item))
        if s["extra"] and item in s["extra"]:
            value, runit = s["extra"][item]
        if s["unit_swap"] and runit == "μg/kg":
            runit = rng.choice(["ug/kg", "µg/kg"])
        lmin, lminu, lmax, lmaxu = limit_cells(item, s["limit_style"])
        item_verdict = "不合格" if failing else "合格"
        if s["fault"] == "reported_pass_but_fails":
            item_verdict = "合格"
        city_style = (s["city_style"] + (i if s["n"] % 3 == 0 else 0)) % 5
        date_style = (s["date_style"] + i) % 4
        row = {
            "抽样编号": s["id"], "任务类别": s["task"], "样品名称": s["product"],
            "食品大类": cat[0], "食品亚类": cat[1], "食品次亚类": cat[2], "食品细类": cat[3],
            "被抽样单位名称": s["entity"], "统一社会信用代码": s["credit"], "被抽样单位所在省份": "河南省",
            "被抽样单位所在市": city_spelling(s["city"], city_style), "被抽样单位所在县": s["county"][1] if s["county"] else "",
            "抽样环节": s["stage"], "抽样场所": s["site"], "标称生产企业名称": s["maker"],
            "抽样日期": fmt_date(s["sampling"], date_style), "检验机构名称": s["lab"], "报告日期": fmt_date(s["report"], date_style),
            "检验项目": name, "检验结果": value, "结果单位": runit, "结果判定": item_verdict, "判定依据": basis,
            "最小允许限": lmin, "最小允许限单位": lminu, "最大允许限": lmax, "最大允许限单位": lmaxu, "检验结论": reported,
        }
        rows.append(row)
    f = s["fault"]
    truth = {}  # row index -> rule of its reject
    if f == "unknown_city":
        for r in rows: r["被抽样单位所在市"] = "郑洲市"; r["被抽样单位所在县"] = ""
        truth = {i: ("area_unknown", "city") for i in range(len(rows))}
    elif f == "impossible_date":
        for r in rows: r["抽样日期"] = "2013-02-30"; r["报告日期"] = "2013-03-15"
        truth = {i: ("date_invalid", "sampling_date") for i in range(len(rows))}
    elif f == "future_date":
        for r in rows: r["抽样日期"] = "2013-10-12"; r["报告日期"] = "2013-10-28"
        truth = {i: ("date_in_future", "sampling_date") for i in range(len(rows))}
    elif f == "date_order":
        for r in rows: r["抽样日期"] = "2013-08-20"; r["报告日期"] = "2013-08-02"
        truth = {i: ("date_order", "report_date") for i in range(len(rows))}
    elif f in ("non_numeric", "non_numeric_in_failing"):
        k = len(rows) - 1
        rows[k]["检验结果"] = "见附页"
        truth = {k: ("value_not_numeric", "result")}
    elif f == "duplicate_item":
        rows.append(dict(rows[0]))
        truth = {len(rows) - 1: ("item_duplicate", "item")}
    elif f == "fields_disagree":
        rows[1]["样品名称"] = rows[1]["样品名称"] + "（散装）"
        truth = {i: ("sample_fields_disagree", "product_name") for i in range(len(rows))}
    elif f == "missing_id":
        for r in rows: r["抽样编号"] = ""
        truth = {i: ("required_missing", "sample_id") for i in range(len(rows))}
    elif f == "unknown_unit":
        k = 0
        rows[k]["检验结果"] = "0.05" if ITEMS[s["items"][0]][2] != "banned" else rows[k]["检验结果"]
        rows[k]["结果单位"] = "ppm"
        if ITEMS[s["items"][0]][2] == "banned":
            rows[k]["检验结果"] = "0.05"
        truth = {k: ("unit_unknown", "result_unit")}
    elif f == "outside_province":
        for r in rows: r["被抽样单位所在省份"] = "湖北省"; r["被抽样单位所在市"] = "武汉市"; r["被抽样单位所在县"] = "江岸区"
        truth = {i: ("area_outside_province", "province") for i in range(len(rows))}
    elif f == "unknown_item":
        extra = dict(rows[0]); extra.update({"检验项目": "感官要求", "检验结果": "符合", "结果单位": "", "最小允许限": "/", "最小允许限单位": "", "最大允许限": "/", "最大允许限单位": "", "判定依据": "GB 2716-2005", "结果判定": "合格"})
        rows.append(extra)
    s["rows"] = rows
    s["truth"] = truth


def verdict_of(s):
    """The sample's verdict by construction, or None when none of its rows is accepted."""
    rejected = s["truth"]
    if len(rejected) == len(s["rows"]):
        return None
    if s["failing"]:
        return "fail"
    incomplete = any(rule != "item_duplicate" for rule, _ in rejected.values())
    return "pending" if incomplete else "pass"


def write_files(samples):
    files = {"samr-export-2013H1.csv": [], "samr-export-2013Q3.csv": []}
    for s in samples:
        name = "samr-export-2013H1.csv" if s["sampling"] < dt.date(2013, 7, 1) else "samr-export-2013Q3.csv"
        s["file"] = name
        files[name].append(s)
    expected = {"files": {}, "faults": [], "samples": {}}
    for name, group in files.items():
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\r\n")
        w.writerow(HEADER)
        seq = 0
        line = 1
        rejected = 0
        for s in group:
            s["lines"] = []
            for r in s["rows"]:
                seq += 1
                line += 1
                s["lines"].append(line)
                w.writerow([str(seq)] + [r[h] for h in HEADER[1:]])
            rejected += len(s["truth"])
        rows = sum(len(s["rows"]) for s in group)
        out_bytes = out.getvalue().encode("gb18030")
        (HERE / name).write_bytes(out_bytes)
        expected["files"][name] = {"rows_read": rows, "rows_rejected": rejected, "rows_accepted": rows - rejected}
    for s in samples:
        for idx, (rule, field) in sorted(s["truth"].items()):
            expected["faults"].append({"file": s["file"], "line": s["lines"][idx], "sample_id": s["id"] if s["fault"] != "missing_id" else None,
                                       "fault": s["fault"], "rule": rule, "field": field})
        v = verdict_of(s)
        if v is not None:
            expected["samples"][s["id"]] = {
                "city": s["city"], "county": s["county"][0] if s["county"] else None,
                "category_1": ("肉制品" if s["fault"] == "unknown_subcategory" else s["template"][0][0]),
                "verdict": v, "month": s["sampling"].strftime("%Y-%m"),
                "reported": "fail" if (s["failing"] and s["fault"] != "reported_pass_but_fails") or s["fault"] == "reported_fail_but_passes" else "pass",
                "fault": s["fault"],
            }
    # Pass rates per city (direct counties inside their city) and per top-level category.
    by_city = {}
    for sid, s in expected["samples"].items():
        c = by_city.setdefault(s["city"], {"tested": 0, "passed": 0, "failed": 0, "pending": 0})
        c["tested"] += 1
        c[{"pass": "passed", "fail": "failed", "pending": "pending"}[s["verdict"]]] += 1
    expected["by_city"] = dict(sorted(by_city.items()))
    by_cat = {}
    for s in expected["samples"].values():
        c = by_cat.setdefault(s["category_1"], {"tested": 0, "passed": 0, "failed": 0, "pending": 0})
        c["tested"] += 1
        c[{"pass": "passed", "fail": "failed", "pending": "pending"}[s["verdict"]]] += 1
    expected["by_category"] = dict(sorted(by_cat.items()))
    (HERE / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
