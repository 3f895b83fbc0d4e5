#!/usr/bin/env python3
"""Generates sample-data/consumer-products: risk monitoring of children's products and household
appliances, one row per sample with its verdict and failing items (names only: no numeric
limits), GB18030 CSV as the quality-supervision bureau's system exports it. A second file
corrects two samples of the first.

Deterministic; each sample's fate is decided before any row is written and recorded in
expected.json (see ../_shared.py).

    python3 sample-data/consumer-products/generate.py
"""
import csv
import datetime as dt
import io
import pathlib
import random
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _shared import CITIES, Truth, pick_city  # noqa: E402

rng = random.Random(20130820)
MAIN = "fengxian-jiance-2013Q3.csv"
CORRECTION = "fengxian-jiance-2013Q3-更正.csv"
HEADER = ["序号", "样品编号", "产品类别", "产品小类", "样品名称", "规格型号", "生产企业", "被抽样单位", "所在地市",
          "抽样日期", "检验结论", "不合格项目", "是否复检", "备注"]
PRODUCTS = {
    "儿童用品": {
        "玩具": (["塑胶玩具车", "毛绒玩具熊", "拼装积木"], ["小零件", "可迁移元素", "邻苯二甲酸酯增塑剂", "锐利边缘", "标识和使用说明"]),
        "童装": (["儿童T恤", "婴幼儿连体衣"], ["纤维含量", "甲醛含量", "pH值", "绳带"]),
        "童车": (["儿童自行车", "婴儿推车"], ["锐利边缘", "标识和使用说明"]),
    },
    "家用电器": {
        "电热水壶": (["电热水壶"], ["对触及带电部件的防护", "发热", "泄漏电流和电气强度", "结构"]),
        "电吹风": (["电吹风"], ["对触及带电部件的防护", "发热", "输入功率和电流"]),
        "电磁炉": (["电磁炉"], ["泄漏电流和电气强度", "接地措施", "结构"]),
        "电热毯": (["电热毯"], ["发热", "标识和使用说明"]),
    },
}


def main():
    truth = Truth()
    samples = []
    for number in range(1, 81):
        category = rng.choice(["儿童用品", "儿童用品", "家用电器"])
        sub = rng.choice(list(PRODUCTS[category]))
        names, items = PRODUCTS[category][sub]
        city = pick_city(rng)
        fail = rng.random() < 0.15
        samples.append({
            "id": f"FX13{number:04d}", "category": category, "sub": sub, "name": rng.choice(names),
            "model": f"{rng.choice('ABCDKMX')}-{rng.randint(100, 999)}", "city": city,
            "city_text": rng.choice([CITIES[city][0], CITIES[city][0], CITIES[city][1]]),
            # Makers and shops are invented, and named so.
            "maker": rng.choice(["浙江", "广东", "河南", "江苏"])
            + rng.choice(["示例乐童玩具", "样例安家电器", "示例暖风电器", "样例童行用品", "示例易厨电器"]) + "有限公司",
            "entity": CITIES[city][0][:-1] + rng.choice(["示例百货大楼", "样例购物广场", "示例超市", "样例电器商场", "示例家电卖场"]),
            "date": dt.date(2013, rng.randint(7, 9), rng.randint(1, 25)),
            "reported": "不合格" if fail else "合格",
            "failing": rng.sample(items, rng.choice([1, 1, 2])) if fail else [],
            "retest": "", "fault": None,
        })
    by_number = {int(s["id"][-4:]): s for s in samples}

    def fault(number, kind, **changes):
        by_number[number].update(changes, fault=kind)

    fault(6, "verdict_word_unknown", reported="基本合格", failing=[])
    fault(15, "failing_items_missing", reported="不合格", failing=[])
    fault(24, "outside_province", city_text="110100")
    fault(38, "duplicate_row")
    fault(47, "retest_clears", category="儿童用品", sub="玩具", name="塑胶玩具车", reported="不合格", failing=["小零件"])
    fault(55, "redelivered_changed", reported="合格", failing=[])
    fault(66, "redelivered_unchanged")
    fault(71, "reported_pass_with_items", reported="合格", failing=["标识和使用说明"])

    def record(i, s):
        return [str(i), s["id"], s["category"], s["sub"], s["name"], s["model"], s["maker"], s["entity"],
                s["city_text"], s["date"].strftime("%Y/%m/%d"), s["reported"], "；".join(s["failing"]), s["retest"], ""]

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    line = 1
    rows = []
    for s in samples:
        rows.append((s, False))
        if s["fault"] == "duplicate_row":
            rows.append((s, True))
    retest = dict(by_number[47]); retest.update(reported="合格", failing=[], retest="是", fault="retest_row",
                                               )
    rows.append((retest, False))
    corrected = {55: dict(by_number[55]), 66: dict(by_number[66])}
    corrected[55].update(reported="不合格", failing=["泄漏电流和电气强度"], category="家用电器", sub="电磁炉", name="电磁炉")
    for i, (s, duplicate) in enumerate(rows, start=1):
        line += 1
        writer.writerow(record(i, s))
        f = s["fault"]
        if duplicate:
            truth.row(MAIN, line, "rejected", s["id"], "sample_duplicate", "sample_id", f)
        elif f == "verdict_word_unknown":
            truth.row(MAIN, line, "rejected", s["id"], "verdict_unknown", "sample_verdict", f)
        elif f == "outside_province":
            truth.row(MAIN, line, "rejected", s["id"], "area_outside_province", "city", f)
        elif f in ("redelivered_changed", "redelivered_unchanged"):
            truth.row(MAIN, line, "superseded", s["id"], "sample_redelivered", "sample_id", f)
        else:
            truth.row(MAIN, line, "accepted")
    (HERE / MAIN).write_bytes(out.getvalue().encode("gb18030"))

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for i, s in enumerate(corrected.values(), start=1):
        writer.writerow(record(i, s))
        truth.row(CORRECTION, i + 1, "accepted")
    (HERE / CORRECTION).write_bytes(out.getvalue().encode("gb18030"))

    for s in samples:
        if s["fault"] in ("verdict_word_unknown", "outside_province"):
            continue
        final = corrected.get(int(s["id"][-4:]), s)
        verdict = "fail" if final["reported"] == "不合格" or final["failing"] else "pass"
        entry = {"verdict": verdict, "city": s["city"], "county": None, "category_1": final["category"],
                 "month": s["date"].strftime("%Y-%m"), "fault": s["fault"], "tests": len(final["failing"])}
        if s["fault"] == "retest_clears":
            entry.update(verdict="pass", original_verdict="fail", is_retest=True)
        if int(s["id"][-4:]) in corrected:
            entry["superseded_deliveries"] = [f"../sample-data/consumer-products/{MAIN}"]
        truth.samples[s["id"]] = entry
    truth.write(HERE)


if __name__ == "__main__":
    main()
