"""The second livestock export: a county station's lean-meat-agent sheet, one row per sample ×
agent with the screening and its confirmation side by side, GB18030 (saved from Excel on a
Chinese Windows), written by generate.py beside the bureau's export.

The shapes it holds, each decided before a row is written and recorded in expected.json:

- result groups: `初筛方法, 初筛结果` and `确证方法, 确证结果, 确证值(μg/kg)` on one row. The
  confirmation is empty unless the screening was positive; `待确证` when it is still to come;
  a confirmation with a value counts by its value, one without by its 确证结果 word.
- directly administered counties (省直管县) written where the city goes (`所在市 = 兰考县`,
  `所在县` empty), by name or code: the sample belongs to the parent city and to the county.
- verdicts as sentences (`经抽样检验，所检项目符合…要求，检验结论为合格`), and `不作判定` for a
  monitoring item measured without a limit: that sample is `not_judged`.
- faults: a row with neither screening nor confirmation (`required_missing`, the sample then
  pending, incomplete); a confirmation that names a unit the sheet's header contradicts is not
  made here (the unit is the header's).
"""
import csv
import datetime as dt
import io

from _shared import CITIES, CreditCodes, pick_city, pick_county

FILE = "xumu-shaixuan-queren-2013.csv"
HEADER = ["样品编号", "监测类别", "样品类型", "所在市", "所在县", "被检单位", "统一社会信用代码", "采样日期",
          "检测指标", "判定标准", "初筛方法", "初筛结果", "确证方法", "确证结果", "确证值(μg/kg)", "检验结论"]
AGENTS = ["克伦特罗", "莱克多巴胺", "沙丁胺醇"]
STRIP = "胶体金试纸条"
LCMS = "液相色谱-串联质谱法"
PASS = "经抽样检验，所检项目符合农业部公告第235号要求，检验结论为合格"
FAIL = "经抽样检验，{agent}项目不符合农业部公告第193号要求，检验结论为不合格"
NOT_JUDGED = "不作判定"
# 省直管县: (code, name, parent city) of those the sheet writes in the city column.
DIRECT = [("410225", "兰考县", "410200"), ("410526", "滑县", "410500"), ("411381", "邓州市", "411300"),
          ("411525", "固始县", "411500")]


def generate(rng, truth, here):
    """Writes FILE into `here` and records its rows and samples in `truth`."""
    codes = CreditCodes("livestock-grouped")
    samples = []
    for number in range(1, 41):
        r = rng.random()
        fate = "fail" if r < 0.1 else "cleared" if r < 0.2 else "pending" if r < 0.25 else "pass"
        if number % 5 == 0:
            code, name, city = DIRECT[(number // 5) % len(DIRECT)]
            county = (code, name)
            city_text = rng.choice([name, name, code])
            county_text = ""
        else:
            city = pick_city(rng)
            county = pick_county(rng, city)
            city_text = rng.choice([CITIES[city][0], CITIES[city][1]])
            county_text = county[1] if county else ""
        site = rng.choice(["养殖场", "屠宰场"])
        entity = CITIES[city][0][:-1] + rng.choice(["示例康牧", "样例丰泽", "示例益农"]) + site
        samples.append({
            "id": f"XQ13{number:04d}", "city": city, "county": county, "city_text": city_text,
            "county_text": county_text, "entity": entity, "code": codes.of(entity, (county or (city,))[0]),
            "type": rng.choice(["尿液", "尿液", "猪肉"]), "date": dt.date(2013, rng.randint(4, 9), rng.randint(1, 28)),
            "fate": fate, "fault": None, "positive": rng.choice(AGENTS),
        })
    samples[6]["fate"], samples[6]["fault"] = "pass", "row_without_result"
    samples[12]["fate"], samples[12]["fault"] = "not_judged", "monitoring_item_without_limit"
    samples[17]["fate"] = "fail"
    samples[23]["fate"] = "cleared"
    samples[29]["fate"] = "pending"

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    line = 1
    for s in samples:
        fate, positive = s["fate"], s["positive"]
        conclusion = {"pass": PASS, "cleared": PASS, "fail": FAIL.format(agent=positive), "pending": "",
                      "not_judged": NOT_JUDGED}[fate]
        rows, results = [], 0
        agents = AGENTS if fate != "not_judged" else ["β-受体激动剂(总量)"]
        for agent in agents:
            limit = "不得检出" if fate != "not_judged" else ""
            screening = [STRIP, "阴性"]
            confirmation = ["", "", ""]
            if fate == "not_judged":
                # Monitored, not judged: a value without a limit, measured directly.
                screening, confirmation = ["", ""], [LCMS, "", f"{rng.uniform(0.1, 0.9):.2f}"]
            elif agent == positive and fate in ("fail", "cleared", "pending"):
                screening = [STRIP, "阳性"]
                if fate == "fail":
                    confirmation = [LCMS, "阳性", f"{rng.uniform(0.8, 25):.2f}"]
                elif fate == "cleared":
                    confirmation = rng.choice([[LCMS, "阴性", ""], ["", "未检出", ""]])
                else:
                    confirmation = ["", "待确证", ""]
            results += (screening[1] != "") + (confirmation[1] != "待确证" and (confirmation[1] + confirmation[2]) != "")
            rows.append([s["id"], "瘦肉精", s["type"], s["city_text"], s["county_text"], s["entity"], s["code"],
                         s["date"].strftime("%Y年%m月%d日"), agent, limit, *screening, *confirmation, conclusion])
        if s["fault"] == "row_without_result":
            rows[1][10:15] = ["", "", "", "", ""]
            results -= 1
        for row in rows:
            line += 1
            writer.writerow(row)
            if row[11] == "" and row[13] == "" and row[14] == "":
                truth.row(FILE, line, "rejected", s["id"], "required_missing", "result", s["fault"])
            else:
                truth.row(FILE, line, "accepted")
        verdict = {"pass": "pass", "cleared": "pass", "fail": "fail", "pending": "pending",
                   "not_judged": "not_judged"}[fate]
        if s["fault"] == "row_without_result":
            verdict = "pending"  # a rejected row leaves the sample incomplete
        truth.samples[s["id"]] = {
            "verdict": verdict, "city": s["city"], "county": s["county"][0] if s["county"] else None,
            "category_1": "瘦肉精", "month": s["date"].strftime("%Y-%m"), "fault": s["fault"], "tests": results,
        }
    (here / FILE).write_bytes(out.getvalue().encode("gb18030"))
