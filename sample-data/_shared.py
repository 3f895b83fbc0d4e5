"""Shared by the sample-data generators: places, the ground-truth file each generator writes
next to its data, and unified social credit codes for the invented entities.

Every generator decides each sample's fate (verdict, fault, supersession) before it writes a
row, and records it in expected.json; the end-to-end tests compare zhijian's outputs with that
file, never with zhijian's own earlier output.

Every company, shop and market in the sample data is invented, and its name says so (示例 or
样例); places are real. Where a source has a credit-code column, each entity has one code that
passes the GB 32100-2015 check, the same on all its samples. `python3 sample-data/_shared.py`
checks the check-digit functions on worked examples and every code in the bundled data.
"""
import csv
import hashlib
import io
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
        self.skipped = []

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

    def skip(self, name, line, kind):
        """Records a row of `name` at `line` that is no record (kind `totals`, or `blank` for a
        run of blank rows among the data): skipped, counted apart from the rows read."""
        f = self.file(name)
        key = "rows_totals" if kind == "totals" else "rows_blank"
        f[key] = f.get(key, 0) + 1
        self.skipped.append({"file": name, "first_line": line, "last_line": line, "kind": kind})

    def write(self, folder, **extra):
        self.faults.sort(key=lambda f: (f["file"], f["line"]))
        if self.skipped:
            extra["skipped_rows"] = sorted(self.skipped, key=lambda s: (s["file"], s["first_line"]))
        data = {"files": self.files, "faults": self.faults,
                "samples": dict(sorted(self.samples.items())), **extra}
        (pathlib.Path(folder) / "expected.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


# GB 32100-2015: 18 characters from this alphabet (value = index: no I, O, S, V, Z). Position 1
# is the registering authority (9: market regulation, 工商), 2 the kind of entity, 3-8 the
# GB/T 2260 area code, 9-17 the GB 11714 organisation code, 18 the check character.
CREDIT_CODE_CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# 3^(i-1) mod 31 for positions i = 1..17.
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714-1997: 8 body characters (0-9 = 0-9, A-Z = 10-35) and a check character.
ORGANISATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def credit_code_check(first17):
    """The check character (position 18) of a credit code's first 17 characters."""
    if len(first17) != 17 or any(c not in CREDIT_CODE_CHARACTERS for c in first17):
        raise ValueError(f"expected 17 characters of {CREDIT_CODE_CHARACTERS}, found {first17!r}")
    total = sum(CREDIT_CODE_CHARACTERS.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS))
    return CREDIT_CODE_CHARACTERS[(31 - total % 31) % 31]


def credit_code_is_valid(code):
    """Whether `code` is 18 characters whose last is the GB 32100 check of the first 17."""
    return (len(code) == 18 and all(c in CREDIT_CODE_CHARACTERS for c in code)
            and credit_code_check(code[:17]) == code[17])


def organisation_code_check(body):
    """The check character (the 9th) of a GB 11714 organisation code's 8-character body."""
    if len(body) != 8 or not all(c.isdigit() or "A" <= c <= "Z" for c in body):
        raise ValueError(f"expected 8 characters 0-9 or A-Z, found {body!r}")
    c9 = 11 - sum(int(c, 36) * w for c, w in zip(body, ORGANISATION_CODE_WEIGHTS)) % 11
    return {10: "X", 11: "0"}.get(c9, str(c9))


def entity_kind(name):
    """Position 2 of a credit code: 2 for an individual business (个体工商户), 3 for a farmers'
    cooperative, 1 for an enterprise."""
    if name.endswith(("商行", "便利店", "经营部", "门市部")):
        return "2"
    return "3" if name.endswith("合作社") else "1"


class CreditCodes:
    """One credit code per entity name, the same each time the name is asked for.

    The organisation code's body is 8 digits from a SHA-256 of the generator's seed and the
    name, so a code does not depend on the order entities are met in; two names never share
    a code (a collision raises, and the generator would need another seed)."""

    def __init__(self, seed):
        self.seed = seed
        self.codes = {}

    def of(self, name, area):
        """The code of `name`, registered in the GB/T 2260 area `area` (6 digits)."""
        if name not in self.codes:
            digest = hashlib.sha256(f"{self.seed}/{name}".encode("utf-8")).digest()
            body = f"{int.from_bytes(digest[:8], 'big') % 10**8:08d}"
            first17 = "9" + entity_kind(name) + area + body + organisation_code_check(body)
            code = first17 + credit_code_check(first17)
            if code in self.codes.values():
                raise ValueError(f"`{name}` and another entity drew the code `{code}`")
            self.codes[name] = code
        return self.codes[name]


def _self_test():
    # GB 11714-1997's own example, D2143569-X: D = 13;
    # 13*3 + 2*7 + 1*9 + 4*10 + 3*5 + 5*8 + 6*4 + 9*2 = 39+14+9+40+15+40+24+18 = 199;
    # 199 mod 11 = 1; 11 - 1 = 10 -> X.
    assert organisation_code_check("D2143569") == "X"
    # The example credit code printed in explanations of GB 32100, 91350100M000100Y43:
    # values 9 1 3 5 0 1 0 0 M=21 0 0 0 1 0 0 Y=30 4; times the weights:
    # 9 + 3 + 27 + 135 + 0 + 26 + 0 + 0 + 420 + 0 + 0 + 0 + 8 + 0 + 0 + 900 + 112 = 1640;
    # 1640 mod 31 = 28 (31 * 52 = 1612); 31 - 28 = 3 -> '3'.
    assert credit_code_check("91350100M000100Y4") == "3"
    # Its organisation code M000100Y-4: M = 22, Y = 34 (A-Z = 10-35 here);
    # 22*3 + 1*5 + 34*2 = 66 + 5 + 68 = 139; 139 mod 11 = 7; 11 - 7 = 4.
    assert organisation_code_check("M000100Y") == "4"
    # Built by hand for an invented enterprise in 中原区 (410102), organisation body 12345678:
    # 1*3 + 2*7 + 3*9 + 4*10 + 5*5 + 6*8 + 7*4 + 8*2 = 3+14+27+40+25+48+28+16 = 201;
    # 201 mod 11 = 3; 11 - 3 = 8 -> organisation code 12345678-8.
    assert organisation_code_check("12345678") == "8"
    # 9 1 4 1 0 1 0 2 1 2 3 4 5 6 7 8 8 times the weights:
    # 9 + 3 + 36 + 27 + 0 + 26 + 0 + 34 + 20 + 58 + 75 + 52 + 40 + 144 + 70 + 240 + 224 = 1058;
    # 1058 mod 31 = 4 (31 * 34 = 1054); 31 - 4 = 27 -> U.
    assert credit_code_check("91410102123456788") == "U"
    assert credit_code_is_valid("91410102123456788U")
    assert not credit_code_is_valid("91410102123456788T")
    assert not credit_code_is_valid("91410102I23456788U")  # I is not in the alphabet
    # The wrap-arounds: a sum of 0 gives 31 - 0 = 31, written 0; in GB 11714, 11 - 0 = 11 -> 0.
    assert credit_code_check("00000000000000000") == "0"
    assert organisation_code_check("00000000") == "0"
    assert CreditCodes(1).of("郑州市中原区示例超市", "410102") == CreditCodes(1).of("郑州市中原区示例超市", "410102")

    # Every code in the bundled data passes, and each entity has exactly one.
    here = pathlib.Path(__file__).resolve().parent
    checked = 0
    by_entity, by_code = {}, {}
    for path in sorted((here / "food").glob("*.csv")):
        rows = csv.DictReader(io.StringIO(path.read_bytes().decode("gb18030")))
        for row in rows:
            name, code = row["被抽样单位名称"], row["统一社会信用代码"]
            assert credit_code_is_valid(code), f"{path.name}: `{name}` has `{code}`"
            assert organisation_code_check(code[8:16]) == code[16], f"{path.name}: `{code}`"
            assert by_entity.setdefault(name, code) == code, f"{path.name}: `{name}` has two codes"
            assert by_code.setdefault(code, name) == name, f"{path.name}: `{code}` names two entities"
            checked += 1
    assert checked > 0
    print(f"credit codes: the worked examples pass, and the {len(by_code)} entities on {checked} rows of "
          "sample-data/food have one valid code each")


if __name__ == "__main__":
    _self_test()
