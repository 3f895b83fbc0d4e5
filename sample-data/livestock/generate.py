#!/usr/bin/env python3
"""Generates sample-data/livestock: the animal-husbandry bureau's monitoring export, one row per
test (sample × item × method), UTF-8 with a byte-order mark.

Four kinds of monitoring: lean-meat agents (瘦肉精) in urine and pork, screened by test strip
and confirmed by LC-MS/MS when positive; raw milk at milk stations; feed; veterinary drug
residues. Deterministic; each sample's fate is decided before any row is written and recorded
in expected.json (see ../_shared.py).

    python3 sample-data/livestock/generate.py
"""
import csv
import datetime as dt
import io
import pathlib
import random
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _shared import CITIES, Truth, pick_city, pick_county  # noqa: E402
import grouped  # noqa: E402

rng = random.Random(20130601)
FILE = "xumu-jiance-2013.csv"
HEADER = ["样品编号", "监测类别", "样品类型", "动物种类", "所在市", "所在县", "场所类型", "被检单位", "采样日期",
          "检测项目", "检测方法", "检测结果", "结果单位", "判定标准", "判定", "是否复检"]
AGENTS = ["克伦特罗", "莱克多巴胺", "沙丁胺醇"]
STRIP = "胶体金试纸条"
ELISA = "ELISA"
LCMS = "LC-MS/MS（GB/T 22286）"


def kind_plan(kind):
    """(monitoring type, sample type, animal, site) for a new sample."""
    if kind == "瘦肉精":
        sample_type = rng.choice(["尿液", "尿液", "猪肉"])
        site = rng.choice(["养殖场", "屠宰场"]) if sample_type == "尿液" else rng.choice(["农贸市场", "超市"])
        return sample_type, rng.choice(["生猪", "生猪", "肉牛", "肉羊"]) if sample_type == "尿液" else "生猪", site
    if kind == "生鲜乳":
        return "生鲜牛乳", "奶牛", "奶站"
    if kind == "饲料":
        return rng.choice(["配合饲料", "浓缩饲料", "添加剂预混合饲料"]), "", rng.choice(["饲料生产企业", "饲料经营门店"])
    return rng.choice(["猪肉", "鸡肉", "鸡蛋"]), "", rng.choice(["屠宰场", "超市", "农贸市场"])


def tests_for(kind, fate):
    """The test rows of a sample: (item, method, result, unit, limit, item verdict).

    fate: pass, fail, pending (screening positive, no confirmation), cleared (positive screen,
    negative confirmation).
    """
    rows = []
    if kind == "瘦肉精":
        positive = rng.choice(AGENTS) if fate in ("fail", "pending", "cleared") else None
        for agent in AGENTS:
            if agent == positive:
                rows.append((agent, STRIP, "阳性", "", "不得检出", ""))
                if fate == "fail":
                    rows.append((agent, LCMS, f"{rng.uniform(0.8, 25):.2f}", "μg/kg", "不得检出", "不合格"))
                elif fate == "cleared":
                    rows.append((agent, LCMS, "未检出", "μg/kg", "不得检出", "合格"))
            else:
                rows.append((agent, STRIP, "阴性", "", "不得检出", "合格"))
        return rows
    if kind == "生鲜乳":
        bad = rng.choice(["三聚氰胺", "蛋白质"]) if fate == "fail" else None
        rows.append(("三聚氰胺", "高效液相色谱法", f"{rng.uniform(3, 9):.2f}" if bad == "三聚氰胺" else rng.choice(["未检出", "<0.05"]),
                     "mg/kg", "≤2.5", "不合格" if bad == "三聚氰胺" else "合格"))
        rows.append(("黄曲霉毒素M1", "酶联免疫法", f"{rng.uniform(0.05, 0.3):.2f}", "μg/kg", "≤0.5", "合格"))
        rows.append(("蛋白质", "凯氏定氮法", f"{rng.uniform(2.3, 2.7):.2f}" if bad == "蛋白质" else f"{rng.uniform(2.9, 3.4):.2f}",
                     "g/100g", "≥2.8", "不合格" if bad == "蛋白质" else "合格"))
        rows.append(("脂肪", "盖勃法", f"{rng.uniform(3.2, 4.1):.2f}", "g/100g", "≥3.1", "合格"))
        return rows
    if kind == "饲料":
        if fate == "fail":
            rows.append(("克伦特罗", ELISA, "阳性", "", "不得检出", ""))
            rows.append(("克伦特罗", LCMS, f"{rng.uniform(50, 400):.1f}", "μg/kg", "不得检出", "不合格"))
        else:
            rows.append(("克伦特罗", ELISA, "阴性", "", "不得检出", "合格"))
        rows.append(("黄曲霉毒素B1", "酶联免疫法", f"{rng.uniform(2, 15):.1f}", "μg/kg", "≤20", "合格"))
        return rows
    # 兽药残留
    bad = fate == "fail"
    rows.append(("恩诺沙星", "液相色谱法", f"{rng.uniform(140, 400):.0f}" if bad else rng.choice(["未检出", f"{rng.uniform(5, 60):.1f}"]),
                 "μg/kg", "≤100", "不合格" if bad else "合格"))
    rows.append(("磺胺类(总量)", "液相色谱法", rng.choice(["未检出", f"{rng.uniform(5, 40):.1f}"]), "μg/kg", "≤100", "合格"))
    rows.append(("氯霉素", LCMS, "未检出", "μg/kg", "不得检出", "合格"))
    return rows


def main():
    truth = Truth()
    samples = []
    kinds = ["瘦肉精"] * 6 + ["生鲜乳"] * 2 + ["饲料"] + ["兽药残留"] * 2
    for number in range(1, 101):
        kind = rng.choice(kinds)
        city = pick_city(rng)
        county = pick_county(rng, city)
        r = rng.random()
        fate = "fail" if r < 0.05 else "pass"
        if kind == "瘦肉精" and 0.05 <= r < 0.12:
            fate = rng.choice(["pending", "cleared"])
        sample_type, animal, site = kind_plan(kind)
        samples.append({
            "id": f"XM13{city[:4]}{number:04d}", "kind": kind, "type": sample_type, "animal": animal,
            "city": city, "county": county, "site": site,
            # Farms, slaughterhouses and shops are invented, and named so.
            "entity": CITIES[city][0][:-1] + rng.choice(["示例东方", "样例丰源", "示例宏达", "样例绿源", "示例牧野"])
            + site.replace("场所", ""),
            "date": dt.date(2013, rng.randint(3, 9), rng.randint(1, 28)), "fate": fate, "fault": None,
            "city_text": rng.choice([CITIES[city][0], CITIES[city][0], CITIES[city][1], city[:4]]),
        })
    by_number = {int(s["id"][-4:]): s for s in samples}

    def force(number, kind, fate, fault):
        s = by_number[number]
        s["kind"], s["fate"], s["fault"] = kind, fate, fault
        s["type"], s["animal"], s["site"] = kind_plan(kind)
        return s

    force(3, "瘦肉精", "pending", "screening_positive_unconfirmed")
    force(9, "瘦肉精", "cleared", "negative_confirmation_clears")
    force(14, "瘦肉精", "fail", "confirmed_positive")
    force(22, "生鲜乳", "pass", "unit_unknown")
    force(27, "瘦肉精", "pass", "duplicate_row")
    force(35, "兽药残留", "pass", "future_date")
    force(44, "生鲜乳", "pass", "county_outside_city")
    force(51, "生鲜乳", "fail", "conflict_protein")
    force(63, "兽药残留", "pass", "negative_value")
    force(72, "兽药残留", "fail", "retest_clears")
    force(88, "饲料", "fail", "feed_confirmed")

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    line = 1
    retest_rows = []
    for s in samples:
        tests = tests_for(s["kind"], s["fate"])
        if s["fault"] == "conflict_protein":
            tests = [t if t[0] != "蛋白质" else ("蛋白质", "凯氏定氮法", "2.61", "g/100g", "≥2.8", "合格") for t in tests]
            tests = [t if t[0] != "三聚氰胺" else ("三聚氰胺", "高效液相色谱法", "未检出", "mg/kg", "≤2.5", "合格") for t in tests]
        if s["fault"] == "retest_clears":
            retest_rows.append((s, [("恩诺沙星", "液相色谱法", "86", "μg/kg", "≤100", "合格")]))
        county = s["county"]
        rows = []
        for t in tests:
            rows.append([s["id"], s["kind"], s["type"], s["animal"], s["city_text"], county[1] if county else "",
                         s["site"], s["entity"], s["date"].isoformat(), *t, ""])
        s["tests"] = len(rows)
        if s["fault"] == "unit_unknown":
            rows[1][12] = "ppb"
        if s["fault"] == "duplicate_row":
            rows.insert(1, list(rows[0]))
        if s["fault"] == "future_date":
            for r in rows:
                r[8] = "2013-10-15"
        if s["fault"] == "county_outside_city":
            s["city_text"] = "郑州市"
            for r in rows:
                r[4], r[5] = "郑州市", "兰考县"
        if s["fault"] == "negative_value":
            rows[1][11] = "-0.2"
        for i, r in enumerate(rows):
            line += 1
            writer.writerow(r)
            fault = s["fault"]
            if fault == "unit_unknown" and i == 1:
                truth.row(FILE, line, "rejected", s["id"], "unit_unknown", "result_unit", fault)
            elif fault == "duplicate_row" and i == 1:
                truth.row(FILE, line, "rejected", s["id"], "item_duplicate", "item", fault)
            elif fault == "future_date":
                truth.row(FILE, line, "rejected", s["id"], "date_in_future", "sampling_date", fault)
            elif fault == "county_outside_city":
                truth.row(FILE, line, "rejected", s["id"], "area_mismatch", "county", fault)
            elif fault == "negative_value" and i == 1:
                truth.row(FILE, line, "rejected", s["id"], "value_negative", "result", fault)
            else:
                truth.row(FILE, line, "accepted")
    for s, tests in retest_rows:
        for t in tests:
            line += 1
            county = s["county"]
            writer.writerow([s["id"], s["kind"], s["type"], s["animal"], s["city_text"], county[1] if county else "",
                             s["site"], s["entity"], s["date"].isoformat(), *t, "是"])
            truth.row(FILE, line, "accepted")
            s["tests"] += 1
    (HERE / FILE).write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))

    for s in samples:
        if s["fault"] in ("future_date", "county_outside_city"):
            continue
        verdict = {"pass": "pass", "fail": "fail", "pending": "pending", "cleared": "pass"}[s["fate"]]
        tests = s["tests"]
        if s["fault"] in ("unit_unknown", "negative_value"):
            verdict, tests = "pending", tests - 1  # a rejected row leaves the sample incomplete
        entry = {"verdict": verdict, "city": s["city"], "county": s["county"][0] if s["county"] else None,
                 "category_1": s["kind"], "month": s["date"].strftime("%Y-%m"), "fault": s["fault"], "tests": tests}
        if s["fault"] == "retest_clears":
            entry.update(verdict="pass", original_verdict="fail", is_retest=True)
        truth.samples[s["id"]] = entry
    grouped.generate(random.Random(20130602), truth, HERE)
    truth.write(HERE)


if __name__ == "__main__":
    main()
