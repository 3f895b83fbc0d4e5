#!/usr/bin/env python3
"""Generates sample-data/net-content: net-content checks of pre-packaged goods by the metrology
institute, one row per sample: labelled quantity, every measured unit in one cell, the allowed
shortfall T. A tab-separated UTF-8 text export with two title lines. Measured values and T
without a unit are in grams or millilitres, whatever unit the labelled quantity is written in.

The verdict is worked out here with JJF 1070-2005's rules, written independently of zhijian:
the mean must reach Qn − λ·s; at most c units may fall short by more than T, and none by more
than 2T (n, c, λ per sample size: 10 → 0, 1.028; 13 → 1, 0.848; up to 9 units → 0, 0).
Deterministic; each sample's fate is recorded in expected.json (see ../_shared.py).

    python3 sample-data/net-content/generate.py
"""
import datetime as dt
import pathlib
import random
import statistics
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _shared import CITIES, Truth, pick_city, pick_county  # noqa: E402

rng = random.Random(20130805)
FILE = "jinghanliang-2013.txt"
HEADER = ["样品编号", "商品名称", "商品类别", "生产企业", "被检单位", "所在市", "所在县", "检验日期",
          "标注净含量", "样本量", "实际含量(逐件)", "允许短缺量", "检验结论"]
PLANS = {n: (0, 0.0) for n in range(1, 10)} | {10: (0, 1.028), 13: (1, 0.848)}
# kind -> (names, labelled quantity, unit, T as written, T in the unit)
GOODS = {
    "大米": (["东北大米", "原阳大米"], 5000, "g", "1.5%", 75.0),
    "小麦粉": (["特一粉", "富强粉"], 2500, "g", "1.5%", 37.5),
    "食用植物油": (["花生油", "大豆油"], 1800, "mL", "27mL", 27.0),
    "白酒": (["浓香型白酒", "清香型白酒"], 500, "mL", "15mL", 15.0),
    "饮料": (["橙汁饮料", "矿泉水"], 550, "mL", "15", 15.0),
    "乳制品": (["纯牛奶"], 250, "mL", "9mL", 9.0),
    "调味品": (["酿造酱油", "陈醋"], 500, "mL", "15mL", 15.0),
    "食糖": (["绵白糖"], 400, "g", "3%", 12.0),
    "饼干": (["苏打饼干"], 100, "g", "4.5g", 4.5),
}


def judge(qn, t, values):
    n = len(values)
    c, lam = PLANS[n]
    mean = sum(values) / n
    s = statistics.stdev(values) if n > 1 else 0.0
    short = sum(1 for v in values if qn - v > t)
    short2 = sum(1 for v in values if qn - v > 2 * t)
    return "pass" if mean >= qn - lam * s and short <= c and short2 == 0 else "fail"


def measure(qn, t, n, fate):
    values = [qn + rng.uniform(-0.3, 0.9) * t for _ in range(n)]
    if fate == "short_mean":
        values = [qn - rng.uniform(0.5, 0.95) * t for _ in range(n)]
    elif fate == "short_unit":
        values[rng.randrange(n)] = qn - rng.uniform(2.1, 3.0) * t
    elif fate == "too_many_short":
        for i in rng.sample(range(n), 2):
            values[i] = qn - rng.uniform(1.1, 1.8) * t
    return [round(v, 1) for v in values]


def main():
    truth = Truth()
    lines = ["2013年定量包装商品净含量监督检查结果", "检验机构：河南省计量科学研究院\t\t导出日期：2013-09-28", "\t".join(HEADER)]
    for number in range(1, 46):
        kind = rng.choice(list(GOODS))
        names, qn, unit, t_text, t = GOODS[kind]
        n = rng.choice([10, 10, 10, 13, 5])
        r = rng.random()
        fate = "short_mean" if r < 0.04 else "short_unit" if r < 0.08 else "too_many_short" if r < 0.11 else "ok"
        fault = None
        if number == 8:
            n, fault = 12, "no_plan_for_12_units"
        if number == 16:
            fault = "labelled_without_unit"
        if number == 25:
            fault = "letter_in_value"
        if number == 33:
            n, fate, fault = 10, "short_unit", "reported_pass_but_short"
        values = measure(qn, t, n, fate)
        verdict = judge(qn, t, values) if n in PLANS else None
        city = pick_city(rng)
        county = pick_county(rng, city)
        date = dt.date(2013, rng.randint(4, 9), rng.randint(1, 28))
        reported = "合格" if verdict == "pass" or fault == "reported_pass_but_short" else "不合格"
        value_text = ", ".join(f"{v:g}" for v in values)
        if fault == "letter_in_value":  # a digit typed as the letter O
            pieces = value_text.split(", ")
            pieces[2] = pieces[2][:-1] + "O"
            value_text = ", ".join(pieces)
        labelled = f"{qn}" if fault == "labelled_without_unit" else f"{qn}{unit}" if rng.random() < 0.7 else f"{qn / 1000:g}{'kg' if unit == 'g' else 'L'}"
        sample_id = f"JL2013-{number:03d}"
        # Producers and shops are invented, and named so.
        cells = [sample_id, rng.choice(names), kind,
                 rng.choice(["河南", "郑州", "洛阳"]) + "示例" + rng.choice(["粮油", "酒业", "食品"]) + "有限公司",
                 CITIES[city][0][:-1] + rng.choice(["中原样例超市", "示例百货超市", "样例生活超市"]), CITIES[city][0],
                 county[1] if county else "",
                 date.strftime("%Y%m%d") if rng.random() < 0.5 else f"{date.year}年{date.month}月{date.day}日",
                 labelled, str(n), value_text, t_text, reported]
        lines.append("\t".join(cells))
        line = len(lines)
        rejected = {"no_plan_for_12_units": ("net_content_plan_unknown", "measured_values"),
                    "labelled_without_unit": ("quantity_invalid", "labelled_quantity"),
                    "letter_in_value": ("quantity_invalid", "measured_values")}
        if fault in rejected:
            truth.row(FILE, line, "rejected", sample_id, *rejected[fault], fault)
            continue
        truth.row(FILE, line, "accepted")
        truth.samples[sample_id] = {
            "verdict": verdict, "reported": "pass" if reported == "合格" else "fail", "city": city,
            "county": county[0] if county else None, "category_1": kind, "month": date.strftime("%Y-%m"),
            "fault": fault, "tests": 3, "fate": fate,
        }
    (HERE / FILE).write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    truth.write(HERE)


if __name__ == "__main__":
    main()
