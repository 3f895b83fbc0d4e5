#!/usr/bin/env python3
"""Generates sample-data/agri-inputs: spot checks of agricultural inputs (fertiliser, pesticide,
seed, farm machinery), one row per test item, as a legacy .xls workbook saved with the 1904 date
system (a Mac office).

Fertiliser and pesticide rows carry the declared content (标明值) and its tolerance (允许偏差);
seed rows the standard's requirement; machinery rows pass/fail words. Deterministic; needs xlwt
(`pip install xlwt`). Each sample's fate is decided before any cell is written and recorded in
expected.json (see ../_shared.py).

    python3 sample-data/agri-inputs/generate.py
"""
import datetime as dt
import pathlib
import random
import sys

import xlwt

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _shared import CITIES, Truth, pick_city, pick_county  # noqa: E402

rng = random.Random(20130715)
FILE = "nongzi-choucha-2013.xls"
HEADER = ["抽查编号", "产品类别", "产品名称", "产品小类", "生产企业", "被抽查单位", "所在市", "所在县", "抽样日期",
          "检验项目", "标明值", "允许偏差", "实测值", "单位", "标准要求", "单项判定"]
# Makers and dealers are invented, and named so.
MAKERS = ["豫丰示例化肥有限公司", "中原样例化工有限公司", "郑州示例农化有限公司", "河南样例种业有限公司",
          "洛阳示例农机有限公司", "豫北样例机械制造有限公司"]


def fertiliser(fail):
    n = rng.choice([15, 16, 17])
    p = rng.choice([15, 10, 8])
    k = 45 - n - p if rng.random() < 0.6 else rng.choice([10, 12, 15])
    total = n + p + k
    short = rng.choice(["n", "total"]) if fail else None
    measured_n = n - rng.uniform(2.0, 4.0) if short == "n" else n + rng.uniform(-1.2, 0.8)
    measured_total = total - rng.uniform(2.0, 5.0) if short == "total" else total + rng.uniform(0.1, 1.5)
    rows = [
        ("总养分(N+P2O5+K2O)", f"{total}", "", f"{measured_total:.1f}", "%", "", "不合格" if short == "total" else "合格"),
        ("总氮(N)", f"{n}", "-1.5", f"{measured_n:.1f}", "%", "", "不合格" if short == "n" else "合格"),
        ("有效磷(P2O5)", f"{p}", "-1.5", f"{p + rng.uniform(-1.2, 0.8):.1f}", "%", "", "合格"),
        ("氧化钾(K2O)", f"{k}", "-1.5", f"{k + rng.uniform(-1.2, 0.8):.1f}", "%", "", "合格"),
        ("水分", "", "", f"{rng.uniform(0.8, 1.9):.1f}", "%", "≤2.0", "合格"),
    ]
    return f"复混肥料 {n}-{p}-{k}", "复混肥料", rows


def pesticide(fail):
    declared = rng.choice([40, 48, 25])
    tolerance = 2.0 if declared >= 40 else 1.5
    content = declared - tolerance - rng.uniform(1, 6) if fail else declared + rng.uniform(-tolerance * 0.8, tolerance * 0.8)
    kind = rng.choice(["杀虫剂", "除草剂", "杀菌剂"])
    name = {"杀虫剂": "毒死蜱乳油", "除草剂": "草甘膦水剂", "杀菌剂": "多菌灵可湿性粉剂"}[kind]
    rows = [
        ("有效成分含量", f"{declared}", f"±{tolerance}", f"{content:.1f}", "%", "", "不合格" if fail else "合格"),
        ("水分", "", "", f"{rng.uniform(0.1, 0.45):.2f}", "%", "≤0.5", "合格"),
    ]
    return f"{declared}%{name}", kind, rows


def seed(fail):
    crop = rng.choice(["玉米种子", "小麦种子"])
    germ = rng.uniform(70, 83) if fail else rng.uniform(86, 97)
    rows = [
        ("发芽率", "", "", f"{germ:.0f}", "%", "≥85", "不合格" if fail else "合格"),
        ("品种纯度", "", "", f"{rng.uniform(96.5, 99.5):.1f}", "%", "≥96.0", "合格"),
        ("净度", "", "", f"{rng.uniform(99.1, 99.9):.1f}", "%", "≥99.0", "合格"),
        ("水分", "", "", f"{rng.uniform(10.5, 12.8):.1f}", "%", "≤13.0", "合格"),
    ]
    return rng.choice(["郑单958", "浚单20", "周麦22", "矮抗58"]), crop, rows


def machinery(fail):
    kind = rng.choice(["拖拉机", "联合收割机", "旋耕机"])
    bad = rng.choice(["安全防护", "制动性能"]) if fail else None
    rows = [(item, "", "", "不合格" if item == bad else "合格", "", "/", "不合格" if item == bad else "合格")
            for item in ["安全防护", "安全标志", "制动性能", "照明及信号装置"]]
    return rng.choice(["示例-LX904", "样例-M704", "1GQN-200"]), kind, rows


MAKE = {"肥料": fertiliser, "农药": pesticide, "种子": seed, "农业机械": machinery}


def main():
    truth = Truth()
    book = xlwt.Workbook(encoding="utf-8")
    book.dates_1904 = True
    ws = book.add_sheet("监督抽查")
    datef = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    ws.write_merge(0, 0, 0, len(HEADER) - 1, "2013年河南省农资产品质量监督抽查检验结果")
    for col, text in enumerate(HEADER):
        ws.write(1, col, text)
    row = 2
    categories = ["肥料", "肥料", "农药", "种子", "农业机械"]
    for number in range(1, 61):
        category = rng.choice(categories)
        fail = rng.random() < 0.12
        fault = None
        if number in (5, 17, 23, 31, 44):
            fail = False
        if number == 5:
            category, fault = "肥料", "tolerance_invalid"
        if number == 17:
            category, fault = "种子", "value_not_numeric"
        if number == 23:
            category, fail, fault = "农业机械", False, "machinery_conflict"
        if number == 31:
            fault = "unknown_category"
        if number == 44:
            fault = "serial_date_1904"
        name, sub, rows = MAKE[category](fail)
        if fault == "tolerance_invalid":
            rows[1] = (rows[1][0], rows[1][1], "约1.5", *rows[1][3:])
        if fault == "value_not_numeric":
            rows[0] = (rows[0][0], "", "", "未检测", "%", "≥85", "")
        if fault == "machinery_conflict":
            rows[2] = (rows[2][0], "", "", "合格", "", "/", "不合格")
        city = pick_city(rng)
        county = pick_county(rng, city)
        date = dt.date(2013, rng.randint(4, 9), rng.randint(1, 28))
        sample_id = f"NZ2013{number:03d}"
        shown_category = "兽药" if fault == "unknown_category" else category
        maker = rng.choice(MAKERS)
        entity = CITIES[city][0][:-1] + rng.choice(["示例农资公司", "样例农资门市部", "示例农机销售中心"])
        for i, (item, declared, tolerance, value, unit, requirement, verdict) in enumerate(rows):
            cells = [sample_id, shown_category, name, sub, maker, entity, CITIES[city][0], county[1] if county else ""]
            for col, text in enumerate(cells):
                ws.write(row, col, text)
            if fault == "serial_date_1904":
                # A date typed as a plain number, counted from 1904 like the workbook's dates.
                ws.write(row, 8, (date - dt.date(1904, 1, 1)).days)
            elif i == 0 or rng.random() < 0.7:
                ws.write(row, 8, dt.datetime(date.year, date.month, date.day), datef)
            else:
                ws.write(row, 8, f"{date.year}年{date.month}月{date.day}日")
            for col, text in enumerate([item, declared, tolerance, value, unit, requirement, verdict], start=9):
                try:
                    ws.write(row, col, float(text))  # numbers as numbers, as Excel stores them
                except ValueError:
                    ws.write(row, col, text)
            line = row + 1
            if fault == "tolerance_invalid" and i == 1:
                truth.row(FILE, line, "rejected", sample_id, "tolerance_invalid", "tolerance", fault)
            elif fault == "value_not_numeric" and i == 0:
                truth.row(FILE, line, "rejected", sample_id, "value_not_numeric", "result", fault)
            else:
                truth.row(FILE, line, "accepted")
            row += 1
        incomplete = fault in ("tolerance_invalid", "value_not_numeric")
        verdict = "fail" if fail else ("pending" if incomplete else "pass")
        truth.samples[sample_id] = {
            "verdict": verdict, "city": city, "county": county[0] if county else None,
            "category_1": shown_category, "month": date.strftime("%Y-%m"), "fault": fault,
            "tests": len(rows) - (1 if incomplete else 0),
        }
    book.save(str(HERE / FILE))
    truth.write(HERE)


if __name__ == "__main__":
    main()
