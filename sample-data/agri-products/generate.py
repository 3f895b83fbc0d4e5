#!/usr/bin/env python3
"""Generates sample-data/agri-products: the agriculture department's routine-monitoring
workbook (农产品例行监测), one row per sample, as offices make them in Excel.

Deterministic; needs XlsxWriter (`pip install xlsxwriter`). Each sample's fate is decided here
before any cell is written and recorded in expected.json (see ../_shared.py).

    python3 sample-data/agri-products/generate.py
"""
import datetime as dt
import pathlib
import random
import sys

import xlsxwriter

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _shared import CITIES, Truth, pick_city, pick_county  # noqa: E402

rng = random.Random(20130916)
MAIN = "routine-monitoring-2013.xlsx"
CORRECTION = "routine-monitoring-2013-更正.xlsx"
EPOCH = dt.date(1899, 12, 30)

# category -> (products, [(item, unit, limit, basis value generator)])
CATEGORIES = {
    "蔬菜": (["大白菜", "菠菜", "芹菜", "韭菜", "黄瓜", "番茄", "豇豆"],
             [("毒死蜱", "mg/kg", 0.1), ("氧乐果", "mg/kg", 0.02), ("克百威", "mg/kg", 0.02),
              ("甲胺磷", "mg/kg", 0.05), ("腐霉利", "mg/kg", 2.0)]),
    "水果": (["苹果", "梨", "葡萄"], [("多菌灵", "mg/kg", 3.0), ("毒死蜱", "mg/kg", 1.0)]),
    "茶叶": (["绿茶"], [("铅", "mg/kg", 5.0)]),
    "水产品": (["草鱼", "鲤鱼"], [("孔雀石绿", "μg/kg", None), ("氯霉素", "μg/kg", None)]),
    "畜禽产品": (["猪肉", "鸡蛋"], [("恩诺沙星", "μg/kg", 100.0)]),
}
WEIGHTS = {"蔬菜": 6, "水果": 3, "茶叶": 1, "水产品": 2, "畜禽产品": 2}
STAGES = ["生产基地", "批发市场", "农贸市场", "超市"]
LABS = ["农业部农产品质量监督检验测试中心（郑州）", "河南省农产品质量安全检测中心", "洛阳市农产品质量安全检测中心"]
# Invented, and named so.
ENTITIES = ["示例蔬菜种植专业合作社", "样例果品批发市场", "示例农贸市场", "样例超市", "示例水产养殖场", "样例生猪养殖场",
            "示例茶叶合作社"]
HEADER_GROUPS = [("序号", 0, 0), ("样品编号", 1, 1), ("样品信息", 2, 4), ("抽样地点", 5, 7), ("抽样日期", 8, 8),
                 ("检测结果", 9, 11), ("检测机构", 12, 12), ("是否复检", 13, 13)]
HEADER_LEAVES = {2: "样品名称", 3: "产品类别", 4: "抽样环节", 5: "市", 6: "县（区）", 7: "受检单位",
                 9: "检测项目数", 10: "判定结论", 11: "不合格项目║检验结果║标准值"}


def fmt(x):
    return f"{x:.3g}"


def failing_item(category):
    item, unit, limit = rng.choice(CATEGORIES[category][1])
    if limit is None:
        return f"{item}║{fmt(rng.uniform(0.6, 8.0))}{unit}║不得检出", item
    return f"{item}║{fmt(limit * rng.uniform(1.4, 5.0))}{unit}║≤{fmt(limit)}{unit}", item


def new_sample(number, month_range=(3, 9)):
    category = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    city = pick_city(rng)
    county = pick_county(rng, city)
    month = rng.randint(*month_range)
    day = rng.randint(1, 28)
    return {
        "id": f"NY2013-{city[:4]}-{number:04d}",
        "product": rng.choice(CATEGORIES[category][0]),
        "category": category,
        "stage": rng.choice(STAGES),
        "city": city,
        "county": county,
        "entity": CITIES[city][0][:-1] + rng.choice(ENTITIES),
        "date": dt.date(2013, month, day),
        "items": rng.randint(12, 40),
        "lab": rng.choice(LABS),
        "failing": [],
        "reported": "合格",
        "retest": "",
        "date_style": rng.choices(["date", "text_cn", "text_dot", "serial", "formula"], [60, 15, 10, 10, 5])[0],
        "fault": None,
    }


def build():
    samples = []
    for number in range(1, 121):
        s = new_sample(number)
        if rng.random() < 0.06:
            for _ in range(rng.choice([1, 1, 2])):
                text, _ = failing_item(s["category"])
                s["failing"].append(text)
            s["reported"] = "不合格"
        samples.append(s)
    # Deliberate faults, on samples picked by number so the README can name them.
    by_number = {int(s["id"][-4:]): s for s in samples}

    def fault(number, name, **changes):
        s = by_number[number]
        s.update(changes)
        s["fault"] = name
        return s

    fault(7, "invalid_date", date_style="bad_text")
    fault(19, "unit_missing", category="蔬菜", product="韭菜", reported="不合格", failing=["毒死蜱║0.32║0.1"])
    fault(28, "packed_four_parts", category="蔬菜", product="韭菜", reported="不合格",
          failing=["腐霉利║2.8mg/kg║≤2mg/kg║超标"])
    fault(33, "unknown_city", city_text="郑洲市", city="410100", county=None)
    fault(41, "failing_items_missing", reported="不合格", failing=[])
    fault(52, "reported_pass_but_fails", category="水果", product="苹果", reported="合格",
          failing=["多菌灵║7.2mg/kg║≤3mg/kg"])
    fault(64, "reported_fail_but_within_limit", category="水果", product="葡萄", reported="不合格",
          failing=["多菌灵║0.5mg/kg║≤3mg/kg"])
    fault(77, "verdict_missing", reported="")
    # Re-tests after an objection: appended at the end of the sheet.
    fault(85, "retest_clears", category="蔬菜", product="芹菜", reported="不合格", failing=["毒死蜱║0.15mg/kg║≤0.1mg/kg"])
    fault(96, "retest_confirms", category="蔬菜", product="豇豆", reported="不合格", failing=["氧乐果║0.09mg/kg║≤0.02mg/kg"])
    # Delivered again in the correction workbook.
    fault(12, "redelivered_changed", reported="合格", failing=[])
    fault(58, "redelivered_unchanged")
    for s in samples:
        s.setdefault("city_text", None)
    retests = []
    for number, reported, failing in [(85, "合格", []), (96, "不合格", ["氧乐果║0.07mg/kg║≤0.02mg/kg"])]:
        r = dict(by_number[number])
        r.update(reported=reported, failing=failing, retest="是", fault=None, date_style="date")
        retests.append(r)
    corrections = []
    c33 = dict(by_number[33]); c33.update(city_text=None, fault=None, date_style="date")
    c12 = dict(by_number[12]); c12.update(reported="不合格", failing=["毒死蜱║0.42mg/kg║≤0.1mg/kg"], fault=None,
                                       category="蔬菜", product="韭菜", date_style="date")
    c58 = dict(by_number[58]); c58.update(fault=None)
    corrections = [c12, c33, c58]
    return samples, retests, corrections


def sheet(workbook, samples, retests, title_note, footer):
    notes = workbook.add_worksheet("填表说明")
    notes.write(0, 0, "填表说明：日期按“年-月-日”填写；不合格项目按“项目║检验结果║标准值”填写，多项以“；”分隔。")
    ws = workbook.add_worksheet("例行监测")
    title = workbook.add_format({"bold": True, "align": "center", "font_size": 14})
    head = workbook.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 1, "text_wrap": True})
    datef = workbook.add_format({"num_format": "yyyy-mm-dd", "border": 1})
    cellf = workbook.add_format({"border": 1})
    ws.merge_range(0, 0, 0, 13, "2013年河南省农产品质量安全例行监测结果汇总表", title)
    ws.merge_range(1, 0, 1, 13, title_note, cellf)
    for text, first, last in HEADER_GROUPS:
        if first == last and first not in HEADER_LEAVES:
            ws.merge_range(2, first, 3, first, text, head)
        else:
            ws.merge_range(2, first, 2, last, text, head) if first != last else ws.write(2, first, text, head)
    for col, text in HEADER_LEAVES.items():
        ws.write(3, col, text, head)
    rows = samples + retests
    # Runs of the same city (no faults in them) are merged down, as offices do.
    r = 4
    i = 0
    while i < len(rows):
        j = i
        while (j + 1 < len(rows) and rows[j + 1]["city"] == rows[i]["city"] and not rows[i]["city_text"]
               and not rows[j + 1]["city_text"]):
            j += 1
        city = rows[i]["city_text"] or CITIES[rows[i]["city"]][0]
        if j > i:
            ws.merge_range(r + i, 5, r + j, 5, city, cellf)
        else:
            ws.write(r + i, 5, city, cellf)
        i = j + 1
    for i, s in enumerate(rows):
        row = r + i
        ws.write_formula(row, 0, "=ROW()-4", cellf, i + 1)
        ws.write(row, 1, s["id"], cellf)
        ws.write(row, 2, s["product"], cellf)
        ws.write(row, 3, s["category"], cellf)
        ws.write(row, 4, s["stage"], cellf)
        ws.write(row, 6, s["county"][1] if s["county"] else "", cellf)
        ws.write(row, 7, s["entity"], cellf)
        d = s["date"]
        serial = (d - EPOCH).days
        style = s["date_style"]
        if style == "date":
            ws.write_datetime(row, 8, dt.datetime(d.year, d.month, d.day), datef)
        elif style == "text_cn":
            ws.write_string(row, 8, f"{d.year}年{d.month}月{d.day}日", cellf)
        elif style == "text_dot":
            ws.write_string(row, 8, d.strftime("%Y.%m.%d"), cellf)
        elif style == "serial":
            ws.write_number(row, 8, serial, cellf)
        elif style == "formula":
            ws.write_formula(row, 8, f"=DATE({d.year},{d.month},{d.day})", datef, serial)
        else:
            ws.write_string(row, 8, "2013-13-05", cellf)
        ws.write_number(row, 9, s["items"], cellf)
        ws.write(row, 10, s["reported"], cellf)
        ws.write(row, 11, "；".join(s["failing"]), cellf)
        ws.write(row, 12, s["lab"], cellf)
        ws.write(row, 13, s["retest"], cellf)
        ws.write_blank(row, 15, None, cellf)  # a stray bordered cell far right: an empty column
    end = r + len(rows)
    if footer:
        failed = sum(1 for s in samples if s["reported"] == "不合格")
        ws.write(end, 0, "合计", cellf)
        ws.write(end, 2, f"共抽检{len(samples)}批次，不合格{failed}批次", cellf)
        end += 1
    for blank in range(end, end + 3):  # formatted empty rows below the data
        for col in range(14):
            ws.write_blank(blank, col, None, cellf)
    return rows, footer


def write(name, samples, retests, note, footer, truth):
    workbook = xlsxwriter.Workbook(str(HERE / name))
    workbook.set_properties({"created": dt.datetime(2013, 10, 8, 9, 0, 0), "author": "河南省农业厅"})
    rows, _ = sheet(workbook, samples, retests, note, footer)
    workbook.close()
    return rows


def main():
    samples, retests, corrections = build()
    truth = Truth()
    write(MAIN, samples, retests, "填报单位：河南省农业厅农产品质量安全监管处    填报日期：2013年10月8日", True, truth)
    write(CORRECTION, corrections, [], "更正：以下样品以本表为准    2013年10月12日", False, truth)

    corrected = {c["id"]: c for c in corrections}
    rejects = {
        "invalid_date": ("date_invalid", "sampling_date"),
        "unit_missing": ("unit_missing", "failing_items"),
        "packed_four_parts": ("packed_item_invalid", "failing_items"),
        "unknown_city": ("area_unknown", "city"),
        "verdict_missing": ("required_missing", "sample_verdict"),
    }
    line = 5
    for s in samples + retests:
        fault = s["fault"]
        if fault in rejects:
            rule, field = rejects[fault]
            truth.row(MAIN, line, "rejected", s["id"], rule, field, fault)
        elif s["id"] in corrected and not s["retest"]:
            truth.row(MAIN, line, "superseded", s["id"], "sample_redelivered", "sample_id", fault)
        else:
            truth.row(MAIN, line, "accepted")
        line += 1
    truth.skip(MAIN, line, "totals")  # 合计 … 共抽检120批次: skipped and listed, not a record
    for i, c in enumerate(corrections):
        truth.row(CORRECTION, 5 + i, "accepted")

    def verdict_of(s):
        if not s["failing"]:
            return "fail" if s["reported"] == "不合格" else "pass"
        if s["fault"] == "reported_fail_but_within_limit":
            return "pass"
        return "fail"

    retest_of = {r["id"]: r for r in retests}
    for s in samples:
        if s["fault"] in rejects and s["id"] not in corrected:
            continue
        final = corrected.get(s["id"], s)
        entry = {
            "verdict": verdict_of(final),
            "reported": {"合格": "pass", "不合格": "fail"}[final["reported"]],
            "city": final["city"],
            "county": final["county"][0] if final["county"] else None,
            "category_1": final["category"],
            "month": final["date"].strftime("%Y-%m"),
            "fault": s["fault"],
            "tests": len(final["failing"]),
        }
        if s["id"] in corrected and s["fault"] not in rejects:
            entry["superseded_deliveries"] = [f"../sample-data/agri-products/{MAIN}"]
        if s["id"] in retest_of:
            r = retest_of[s["id"]]
            entry["original_verdict"] = entry["verdict"]
            entry["verdict"] = verdict_of(r)
            entry["reported"] = {"合格": "pass", "不合格": "fail"}[r["reported"]]
            entry["is_retest"] = True
            entry["tests"] += len(r["failing"])
        truth.samples[s["id"]] = entry
    truth.write(HERE)


if __name__ == "__main__":
    main()
