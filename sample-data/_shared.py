"""Shared by the sample-data generators of the non-food sources: places, and the ground-truth
file each generator writes next to its data.

Every generator decides each sample's fate (verdict, fault, supersession) before it writes a
row, and records it in expected.json; the end-to-end tests compare zhijian's outputs with that
file, never with zhijian's own earlier output.
"""
import json
import pathlib

# city code -> (name, pinyin, weight, [(county code, county name)])
CITIES = {
    "410100": ("郑州市", "Zhengzhou", 9, [("410102", "中原区"), ("410122", "中牟县"), ("410181", "巩义市"), ("410184", "新郑市")]),
    "410200": ("开封市", "Kaifeng", 4, [("410221", "杞县"), ("410225", "兰考县")]),
    "410300": ("洛阳市", "Luoyang", 6, [("410311", "洛龙区"), ("410381", "偃师市")]),
    "410400": ("平顶山市", "Pingdingshan", 4, [("410421", "宝丰县"), ("410482", "汝州市")]),
    "410500": ("安阳市", "Anyang", 4, [("410522", "安阳县"), ("410526", "滑县")]),
    "410600": ("鹤壁市", "Hebi", 2, [("410621", "浚县")]),
    "410700": ("新乡市", "Xinxiang", 5, [("410721", "新乡县"), ("410728", "长垣县")]),
    "410800": ("焦作市", "Jiaozuo", 3, [("410823", "武陟县")]),
    "410900": ("濮阳市", "Puyang", 3, [("410928", "濮阳县")]),
    "411000": ("许昌市", "Xuchang", 4, [("411081", "禹州市")]),
    "411100": ("漯河市", "Luohe", 3, [("411122", "临颍县")]),
    "411200": ("三门峡市", "Sanmenxia", 2, [("411282", "灵宝市")]),
    "411300": ("南阳市", "Nanyang", 7, [("411303", "卧龙区"), ("411381", "邓州市")]),
    "411400": ("商丘市", "Shangqiu", 5, [("411421", "民权县"), ("411481", "永城市")]),
    "411500": ("信阳市", "Xinyang", 5, [("411524", "商城县"), ("411525", "固始县")]),
    "411600": ("周口市", "Zhoukou", 6, [("411626", "淮阳县"), ("411628", "鹿邑县")]),
    "411700": ("驻马店市", "Zhumadian", 5, [("411721", "西平县"), ("411729", "新蔡县")]),
    "419001": ("济源市", "Jiyuan", 1, []),
}


def pick_city(rng):
    codes = list(CITIES)
    return rng.choices(codes, weights=[CITIES[c][2] for c in codes])[0]


def pick_county(rng, city):
    counties = CITIES[city][3]
    return rng.choice(counties) if counties and rng.random() < 0.7 else None


class Truth:
    """The ground truth of one source: rows per file, faults, samples."""

    def __init__(self):
        self.files = {}
        self.faults = []
        self.samples = {}

    def file(self, name):
        return self.files.setdefault(
            name, {"rows_read": 0, "rows_accepted": 0, "rows_rejected": 0, "rows_superseded": 0})

    def row(self, name, line, fate, sample_id=None, rule=None, field=None, fault=None):
        """Records one data row of `name` at `line`: accepted, rejected or superseded."""
        f = self.file(name)
        f["rows_read"] += 1
        if fate == "accepted":
            f["rows_accepted"] += 1
            return
        f["rows_rejected" if fate == "rejected" else "rows_superseded"] += 1
        self.faults.append({"file": name, "line": line, "rule": rule, "field": field,
                            "sample_id": sample_id, "fault": fault})

    def write(self, folder, **extra):
        self.faults.sort(key=lambda f: (f["file"], f["line"]))
        data = {"files": self.files, "faults": self.faults,
                "samples": dict(sorted(self.samples.items())), **extra}
        (pathlib.Path(folder) / "expected.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
