"""Standards catalogue and evaluation, checked against hand arithmetic and brute force."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

import coverage
from coverage.errors import InputError
from coverage.standards import (
    KINDS,
    Catalogue,
    Rule,
    evaluate,
    list_presets,
    load_catalogue,
    load_costs,
)

ROOT = Path(coverage.__file__).resolve().parent.parent
DATA = ROOT / "data"
TEST_DATA = Path(__file__).resolve().parent / "data" / "standards"
CRS = "EPSG:32648"


def census(city: str) -> pd.DataFrame:
    df = pd.read_csv(DATA / "census" / "census2020_zhengzhou_chengdu_yiyang.csv", dtype={"adcode": str})
    df = df[(df["city"] == city) & (df["unit_type"] != "city_total")]
    return df.rename(columns={"county": "name", "pop_total": "pop", "adcode": "unit_id"}).reset_index(drop=True)


def write_rules(tmp_path: Path, text: str) -> Path:
    head = "sources:\n  d: {title: 测试, issuer: 测试机关, year: 2024}\nrules:\n"
    p = tmp_path / "rules.yaml"
    p.write_text(head + text, encoding="utf-8")
    return p


def rule_yaml(rid: str, kind: str, ftype: str, level: str, extra: str) -> str:
    lines = [f"  - id: {rid}", f"    kind: {kind}", f"    facility_type: {ftype}", f"    unit_level: {level}",
             f"    name_zh: {rid}", f"    name_en: {rid}", "    source: {document: d, section: 一}"]
    lines += ["    " + e for e in extra.strip().splitlines()]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ catalogue
def test_presets_listed_and_loadable():
    ids = [p.id for p in list_presets()]
    for needed in ("zhengzhou-2022-culture-space", "sichuan-14th-fyp", "national-library-2020",
                   "gb50180-life-circle", "yiyang-ziyang", "all"):
        assert needed in ids
    total = len(load_catalogue("all"))
    assert total == 28
    for pid in ids:
        cat = load_catalogue(pid)
        assert isinstance(cat, Catalogue) and len(cat) >= 1
        assert all(isinstance(r, Rule) for r in cat)


def test_zhengzhou_preset_is_the_50k_100k_rule():
    cat = load_catalogue("zhengzhou-2022-culture-space")
    (rule,) = cat.rules
    assert rule.kind == "per_capita_count"
    assert set(rule.facility_types) == {"city_reading_room", "culture_station"}
    assert rule.divisor("区") == 50_000
    assert rule.divisor("县") == 100_000
    assert rule.divisor("县级市") == 100_000
    assert "专项工作3" in rule.source.section
    assert rule.source.year == 2022
    assert "郑州市文化广电和旅游局" in rule.source.issuer
    assert rule.source.title == "关于推动郑州市公共文化服务高质量发展的实施意见"


def test_every_rule_cites_a_document_and_all_kinds_are_used():
    cat = load_catalogue("all")
    titles = set()
    for r in cat:
        assert r.source.title and r.source.issuer and r.source.section and 2000 < r.source.year < 2030
        assert r.name_zh and r.name_en
        titles.add(r.source.title)
    assert len(titles) == 6
    assert {r.kind for r in cat} == set(KINDS)
    assert len(set(cat.ids)) == len(cat)
    # spot checks against the documents
    assert cat["lib-floor-area"].amount == 110 and cat["lib-floor-area"].per_residents == 10_000
    assert cat["sc-library-volumes-per-capita"].amount == 0.65
    assert cat["sc-art-teams-rate"].rate == 3.1 and cat["sc-art-teams-rate"].rate_max == 3.5
    assert cat["cn-art-teams-rate"].rate == 3.3 and cat["cn-art-teams-rate"].rate_max == 3.7
    assert cat["yz-village-service-point"].min_share == 0.3
    assert cat["lib-grade-share"].min_share == 0.8
    assert cat["zz-culture-space-citywide"].min_count == 300
    assert cat["gb-15min-culture-centre"].threshold_min == 15 and cat["gb-15min-culture-centre"].mode == "walk"
    assert cat["sc-township-volunteers"].min_count == 2
    assert cat["yz-township-opera"].min_count == 4


def test_invalid_catalogue_names_every_rule_and_field():
    with pytest.raises(InputError) as err:
        load_catalogue(TEST_DATA / "invalid_rules.yaml")
    problems = err.value.problems
    text = str(err.value)
    expect = [("bad-kind", "kind"), ("no-divisor", "per_residents"), ("negative", "amount"),
              ("bad-level", "unit_level"), ("negative", "id"), ("county-divisor-missing", "per_residents")]
    for rid, fieldname in expect:
        assert any(f"`{rid}`" in p.message and p.column == fieldname for p in problems), (rid, fieldname)
    assert "duplicate id `negative`" in text
    assert "unknown kind `per_capita_counts`" in text
    assert "no value for unit type `县`" in text
    assert len(problems) == 6
    assert all(p.fix for p in problems)


def test_user_catalogue_inline_source_and_preset():
    cat = load_catalogue(TEST_DATA / "user_rules.yaml")
    assert cat.ids == ("my-reading-rooms", "my-museum")
    assert cat["my-reading-rooms"].source.issuer == "某市文化和旅游局"
    # a user rule may cite a document of the built-in catalogue
    assert cat["my-museum"].source.title == "四川省“十四五”公共文化服务体系建设规划"
    only = load_catalogue(TEST_DATA / "user_rules.yaml", preset="rooms-only")
    assert only.ids == ("my-reading-rooms",)
    units = pd.DataFrame({"name": ["甲区", "乙县"], "unit_type": ["区", "县"], "pop": [90_001, 120_000]})
    t = evaluate(units, None, only).table
    assert t["required"].tolist() == [4, 2]  # ceil(90001/30000)=4, ceil(120000/60000)=2


def test_unknown_preset_and_bad_values(tmp_path):
    with pytest.raises(InputError, match="unknown preset `nope`"):
        load_catalogue("nope")
    p = write_rules(tmp_path, rule_yaml("share", "share_of_units", "library", "[村]", "min_share: 30"))
    with pytest.raises(InputError, match="above 1") as err:
        load_catalogue(p)
    assert err.value.problems[0].column == "min_share"
    p = write_rules(tmp_path, rule_yaml("cat", "presence", "cinema", "[区]", "min_count: 1"))
    with pytest.raises(InputError, match="unknown facility type `cinema`"):
        load_catalogue(p)


def test_costs_are_marked_assumptions_and_overridable():
    c = load_costs()
    assert c.assumption and "假设" in c.note("zh") and "assumption" in c.note("en")
    assert c.unit_cost["city_reading_room"] > 0
    c2 = load_costs({"city_reading_room": 2_000_000})
    assert c2.unit_cost["city_reading_room"] == 2_000_000
    assert c2.unit_cost["library"] == c.unit_cost["library"]
    with pytest.raises(InputError, match="cinema"):
        load_costs({"cinema": 1.0})


# ------------------------------------------------------------------ real census, hand arithmetic
# ceil(pop / 50,000) for 区 (and functional zones, counted as 区); ceil(pop / 100,000) for 县 and 县级市.
ZHENGZHOU_REQUIRED = {
    "中原区": 20,                 # 962,642 / 50,000 = 19.25
    "二七区": 22,                 # 1,061,263 / 50,000 = 21.23
    "管城回族区": 20,             # 965,618 / 50,000 = 19.31
    "金水区": 43,                 # 2,145,588 / 50,000 = 42.91
    "上街区": 4,                  # 197,399 / 50,000 = 3.95
    "惠济区": 12,                 # 555,002 / 50,000 = 11.10
    "中牟县": 10,                 # 973,665 / 100,000 = 9.74
    "郑州经济技术开发区": 7,      # 328,812 / 50,000 = 6.58
    "郑州高新技术产业开发区": 11,  # 546,226 / 50,000 = 10.92
    "郑州航空港经济综合实验区": 13,  # 621,382 / 50,000 = 12.43
    "巩义市": 8,                  # 785,242 / 100,000 = 7.85
    "荥阳市": 8,                  # 730,135 / 100,000 = 7.30
    "新密市": 9,                  # 826,031 / 100,000 = 8.26
    "新郑市": 12,                 # 1,172,237 / 100,000 = 11.72
    "登封市": 8,                  # 729,332 / 100,000 = 7.29
}


def test_zhengzhou_required_counts_by_hand():
    units = census("郑州市")
    ev = evaluate(units, None, "zhengzhou-2022-culture-space", data_date="2020-11-01")
    t = ev.table.set_index("unit")
    assert len(t) == 15
    assert t["required"].to_dict() == ZHENGZHOU_REQUIRED
    assert (t["existing"] == 0).all() and (t["deficit"] == t["required"]).all()
    assert t.loc["中牟县", "unit_type"] == "县" and t.loc["巩义市", "unit_type"] == "县级市"
    assert t.loc["郑州高新技术产业开发区", "unit_type"] == "区"
    assert "functional zone" in t.loc["郑州高新技术产业开发区", "note"]
    assert t.loc["金水区", "unit_id"] == "410105"
    tot = ev.totals.iloc[0]
    assert tot["required"] == sum(ZHENGZHOU_REQUIRED.values()) == 207
    assert tot["pop"] == 12_600_574  # the city_total row of the census
    assert tot["status"] == "fail" and tot["units"] == 15


def test_functional_zones_can_be_counted_as_counties():
    ev = evaluate(census("郑州市"), None, "zhengzhou-2022-culture-space", functional_zone_as="县")
    t = ev.table.set_index("unit")["required"]
    assert t["郑州经济技术开发区"] == 4       # 328,812 / 100,000 = 3.29
    assert t["郑州高新技术产业开发区"] == 6   # 546,226 / 100,000 = 5.46
    assert t["郑州航空港经济综合实验区"] == 7  # 621,382 / 100,000 = 6.21
    assert t["金水区"] == 43


def test_existing_facilities_reduce_deficit_and_surplus_is_reported():
    units = census("郑州市")
    fac = pd.DataFrame({"type": ["city_reading_room"] * 45 + ["culture_station"] * 3 + ["library"] * 5,
                        "unit_id": ["410105"] * 45 + ["410122"] * 3 + ["410122"] * 5})
    t = evaluate(units, fac, "zhengzhou-2022-culture-space").table.set_index("unit")
    assert t.loc["金水区", ["existing", "deficit", "surplus"]].tolist() == [45, 0, 2]
    assert bool(t.loc["金水区", "passed"]) is True
    assert t.loc["中牟县", ["existing", "deficit", "surplus"]].tolist() == [3, 7, 0]  # libraries do not count
    assert (t["deficit"] >= 0).all() and (t["surplus"] >= 0).all()


def test_chengdu_and_yiyang_required_counts_by_hand():
    t = evaluate(census("成都市"), None, "zhengzhou-2022-culture-space").table.set_index("unit")["required"]
    assert t["锦江区"] == 19   # 902,933 / 50,000 = 18.06
    assert t["武侯区"] == 38   # 1,855,186 / 50,000 = 37.10
    assert t["简阳市"] == 12   # 1,117,265 / 100,000 = 11.17
    assert t["蒲江县"] == 3    # 255,563 / 100,000 = 2.56
    y = census("益阳市")
    y["unit_id"] = y["unit_id"].fillna(y["name"])  # two functional zones have no adcode
    t = evaluate(y, None, "zhengzhou-2022-culture-space").table.set_index("unit")["required"]
    assert t["资阳区"] == 8     # 356,405 / 50,000 = 7.13
    assert t["安化县"] == 8     # 780,969 / 100,000 = 7.81
    assert t["益阳市大通湖管理区"] == 2  # 83,100 / 50,000 = 1.66


# ------------------------------------------------------------------ unit validation
def test_unit_problems_are_collected():
    units = pd.DataFrame({"name": ["甲", "乙", "丙", "全市"], "unit_type": ["区", "省", "县", "city_total"],
                          "pop": [100, -5, np.nan, 1000]})
    with pytest.raises(InputError) as err:
        evaluate(units, None, "zhengzhou-2022-culture-space")
    probs = err.value.problems
    cols = sorted((p.row, p.column) for p in probs)
    assert cols == [(3, "pop"), (3, "unit_type"), (4, "pop"), (5, "unit_type")]
    with pytest.raises(InputError, match="`pop`"):
        evaluate(pd.DataFrame({"name": ["甲"], "unit_type": ["区"]}), None, "all")
    with pytest.raises(InputError, match="functional_zone_as"):
        evaluate(census("郑州市"), None, "all", functional_zone_as="zone")


# ------------------------------------------------------------------ spatial counting
def squares() -> gpd.GeoDataFrame:
    x0, y0 = 400_000.0, 3_390_000.0
    return gpd.GeoDataFrame(
        {"unit_id": ["A", "B"], "name": ["甲区", "乙县"], "unit_type": ["区", "县"], "pop": [120_000, 150_000]},
        geometry=[box(x0, y0, x0 + 1000, y0 + 1000), box(x0 + 1000, y0, x0 + 2000, y0 + 1000)], crs=CRS)


def random_facilities(n: int, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x = 400_000 + rng.uniform(-300, 2300, n)
    y = 3_390_000 + rng.uniform(-200, 1200, n)
    types = rng.choice(["city_reading_room", "culture_station", "library", "museum"], n)
    return gpd.GeoDataFrame({"type": types, "floor_area_m2": rng.uniform(100, 3000, n).round(0)},
                            geometry=gpd.points_from_xy(x, y), crs=CRS, index=[f"f{i}" for i in range(n)])


def test_spatial_join_matches_brute_force_and_reports_outside():
    units = squares()
    fac = random_facilities(80)
    ev = evaluate(units, fac, "all")
    counting = {"city_reading_room", "culture_station"}
    for uid, poly in zip(units["unit_id"], units.geometry):
        brute = sum(1 for g, t in zip(fac.geometry, fac["type"]) if t in counting and poly.intersects(g))
        row = ev.table[(ev.table["unit_id"] == uid) & (ev.table["rule_id"] == "zz-culture-space-per-capita")]
        assert row["existing"].item() == brute
        area = sum(a for g, t, a in zip(fac.geometry, fac["type"], fac["floor_area_m2"])
                   if t == "library" and poly.intersects(g))
        row = ev.table[(ev.table["unit_id"] == uid) & (ev.table["rule_id"] == "lib-floor-area")]
        pop = units.set_index("unit_id").loc[uid, "pop"]
        assert row["existing"].item() == pytest.approx(area)
        assert row["required"].item() == pytest.approx(pop / 10_000 * 110)
    inside_any = [any(p.intersects(g) for p in units.geometry) for g in fac.geometry]
    assert sorted(ev.outside.index) == sorted(fac.index[~np.array(inside_any)])
    assert len(ev.outside) > 0
    # required counts: 120,000 / 50,000 -> 3 (区); 150,000 / 100,000 -> 2 (县)
    r = ev.table[ev.table["rule_id"] == "zz-culture-space-per-capita"].set_index("unit_id")["required"]
    assert r.to_dict() == {"A": 3, "B": 2}


def test_facilities_in_another_crs_are_reprojected_and_missing_crs_is_an_error():
    units = squares()
    fac = random_facilities(40, seed=7)
    a = evaluate(units, fac, "zhengzhou-2022-culture-space").table
    b = evaluate(units, fac.to_crs("EPSG:4326"), "zhengzhou-2022-culture-space").table
    assert a["existing"].tolist() == b["existing"].tolist()
    with pytest.raises(InputError, match="`facilities` has no CRS"):
        evaluate(units, fac.set_crs(None, allow_override=True), "zhengzhou-2022-culture-space")


def test_inputs_are_not_mutated():
    units = squares()
    fac = random_facilities(30)
    u0, f0 = units.copy(), fac.copy()
    evaluate(units, fac, "all")
    pd.testing.assert_frame_equal(units, u0)
    pd.testing.assert_frame_equal(fac, f0)


def test_facilities_by_unit_name_without_geometry():
    units = pd.DataFrame({"name": ["甲区", "乙区"], "unit_type": ["区", "区"], "pop": [100_000, 49_999]})
    fac = pd.DataFrame({"type": ["city_reading_room", "culture_station", "city_reading_room"],
                        "unit": ["甲区", "甲区", "丙区"]})
    ev = evaluate(units, fac, "zhengzhou-2022-culture-space")
    assert ev.table["existing"].tolist() == [2, 0]
    assert ev.table["required"].tolist() == [2, 1]
    assert ev.outside["unit"].tolist() == ["丙区"]
    with pytest.raises(InputError, match="which unit"):
        evaluate(units, pd.DataFrame({"type": ["library"]}), "zhengzhou-2022-culture-space")


# ------------------------------------------------------------------ other kinds
def test_quantity_with_unknown_values_is_noted(tmp_path):
    units = pd.DataFrame({"unit_id": ["A", "B", "C"], "name": ["甲", "乙", "丙"], "unit_type": ["区"] * 3,
                          "pop": [250_000, 100_000, 50_000]})
    fac = pd.DataFrame({"type": ["library", "library", "library", "library"],
                        "floor_area_m2": [2000.0, np.nan, 1200.0, np.nan], "unit_id": ["A", "A", "B", "C"]})
    t = evaluate(units, fac, load_catalogue("national-library-2020")).table
    t = t[t["rule_id"] == "lib-floor-area"].set_index("unit_id")
    assert t.loc["A", "required"] == pytest.approx(2750.0)   # 25 x 110 m2
    assert t.loc["A", "existing"] == 2000 and t.loc["A", "deficit"] == pytest.approx(750)
    assert "1 of 2" in t.loc["A", "note"]
    assert t.loc["B", "required"] == pytest.approx(1100.0) and t.loc["B", "surplus"] == pytest.approx(100)
    assert t.loc["C", "status"] == "no_data" and pd.isna(t.loc["C", "passed"])


def test_rate_rules_report_no_data_then_evaluate():
    units = pd.DataFrame({"unit_id": ["A", "B"], "name": ["甲", "乙"], "unit_type": ["区", "县"],
                          "pop": [200_000, 100_000]})
    t = evaluate(units, None, "national-14th-fyp").table
    assert t["status"].tolist() == ["no_data", "no_data"]
    assert t["passed"].isna().all()
    units["art_teams"] = [70, 30]
    ev = evaluate(units, None, "national-14th-fyp")
    t = ev.table.set_index("unit_id")
    assert t.loc["A", "required"] == pytest.approx(66.0)  # 20 x 3.3
    assert t.loc["A", "status"] == "pass"
    assert t.loc["B", "required"] == pytest.approx(33.0) and t.loc["B", "deficit"] == pytest.approx(3.0)
    assert ev.totals.iloc[0]["status"] == "fail"


def test_presence_share_of_units_and_share_of_facilities(tmp_path):
    villages = pd.DataFrame({"unit_id": [f"v{i}" for i in range(10)], "name": [f"村{i}" for i in range(10)],
                             "unit_type": ["村"] * 10, "pop": [800] * 10,
                             "culture_teams": [1, 0, 2, 1, 1, 0, 1, 1, 1, 1]})
    libs = pd.DataFrame({"type": ["library"] * 4, "unit_id": ["v0", "v0", "v3", "v7"],
                         "grade": [1, 3, 4, np.nan]})
    ev = evaluate(villages, libs, load_catalogue("yiyang-ziyang"))
    tot = ev.totals.set_index("rule_id")
    # 3 of 10 villages have a service point; 30 % of 10 = 3 -> pass exactly
    assert tot.loc["yz-village-service-point", ["required", "existing", "deficit"]].tolist() == [3, 3, 0]
    assert tot.loc["yz-village-service-point", "status"] == "pass"
    teams = ev.table[ev.table["rule_id"] == "yz-village-culture-team"].set_index("unit_id")
    assert teams["status"].value_counts().to_dict() == {"pass": 8, "fail": 2}
    assert tot.loc["yz-village-culture-team", "deficit"] == 2
    ev2 = evaluate(villages, libs.iloc[[0, 2]], load_catalogue("yiyang-ziyang"))
    tot2 = ev2.totals.set_index("rule_id")
    assert tot2.loc["yz-village-service-point", ["existing", "deficit", "status"]].tolist() == [2, 1, "fail"]
    # 2 of 4 libraries at grade <= 3; 80 % of 4 -> 4 required (ceil 3.2)
    lib = evaluate(villages, libs, "national-library-2020").table
    g = lib[lib["rule_id"] == "lib-grade-share"].iloc[0]
    assert g["unit"] == "全市" and (g["required"], g["existing"], g["deficit"]) == (4, 2, 2)


def test_citywide_count_rule():
    units = census("郑州市")
    fac = pd.DataFrame({"type": ["city_reading_room"] * 250 + ["culture_station"] * 60,
                        "unit_id": ["410105"] * 310})
    ev = evaluate(units, fac, load_catalogue("zhengzhou-2022"))
    row = ev.table[ev.table["rule_id"] == "zz-culture-space-citywide"]
    assert len(row) == 1
    assert row[["unit", "required", "existing", "surplus", "status"]].iloc[0].tolist() == ["全市", 300, 310, 10, "pass"]
    assert row["pop"].item() == 12_600_574
    assert set(ev.skipped["rule_id"]) >= {"zz-library-branch", "zz-township-heritage-hall"}


def test_proximity_from_cell_times_matches_brute_force():
    units = pd.DataFrame({"unit_id": ["A", "B"], "name": ["甲", "乙"], "unit_type": ["区", "区"],
                          "pop": [10_000, 6_000]})
    rng = np.random.default_rng(3)
    n = 200
    cells = pd.DataFrame({"unit_id": rng.choice(["A", "B"], n), "pop": rng.uniform(0, 100, n),
                          "time_s_cultural_centre": rng.uniform(0, 2400, n),
                          "time_s_culture_station": np.where(rng.random(n) < 0.3, np.inf, rng.uniform(0, 2400, n)),
                          "time_s_city_reading_room": rng.uniform(0, 1200, n)})
    ev = evaluate(units, None, "gb50180-life-circle", access={"walk": cells})
    for rid, types, minutes in (("gb-15min-culture-centre", ["cultural_centre", "culture_station"], 15),
                                ("gb-5min-culture-station", ["culture_station"], 5)):
        rows = ev.table[ev.table["rule_id"] == rid].set_index("unit_id")
        for uid, pop in zip(units["unit_id"], units["pop"]):
            cov = tot = 0.0
            for _, c in cells[cells["unit_id"] == uid].iterrows():
                tot += c["pop"]
                if min(c[f"time_s_{t}"] for t in types) <= minutes * 60:
                    cov += c["pop"]
            assert rows.loc[uid, "coverage_share"] == pytest.approx(cov / tot)
            assert rows.loc[uid, "existing"] == pytest.approx(pop * cov / tot)
            assert rows.loc[uid, "deficit"] == pytest.approx(pop * (1 - cov / tot))
            assert rows.loc[uid, "status"] == "fail"

    def access(types, mode, threshold_min):
        assert mode == "walk"
        return pd.DataFrame({"pop": [100.0, 50.0], "covered_pop": [100.0, 25.0]}, index=["A", "B"])

    rows = evaluate(units, None, "gb50180-life-circle", access=access).table
    rows = rows[rows["rule_id"] == "gb-15min-culture-centre"].set_index("unit_id")
    assert rows.loc["A", "status"] == "pass" and rows.loc["B", "existing"] == pytest.approx(3000)
    with pytest.raises(InputError, match="mode `walk`"):
        evaluate(units, None, "gb50180-life-circle", access={"bike": cells})


# ------------------------------------------------------------------ embedded Chengdu area end to end
POI_TYPES = {"library": "library", "museum": "museum", "theatre": "theatre", "arts_centre": "art_gallery"}


def chengdu_inputs() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    d = gpd.read_file(DATA / "chengdu" / "districts_raw.geojson")
    d["unit_id"] = d["adcode"].astype(str)
    pop = census("成都市")[["unit_id", "pop"]]
    units = d.merge(pop, on="unit_id")[["unit_id", "name", "pop", "geometry"]].assign(unit_type="区")
    units = gpd.GeoDataFrame(units, geometry="geometry", crs=d.crs).to_crs(CRS)
    raw = pd.read_csv(DATA / "chengdu" / "culture_poi_osm_raw.csv")

    def ftype(row: pd.Series) -> str:
        name = str(row["name"])
        if "科技馆" in name:
            return "science_museum"
        if "博物馆" in name:
            return "museum"
        if "文化宫" in name:
            return "workers_palace"
        return POI_TYPES.get(row["category"], "other")

    raw["type"] = raw.apply(ftype, axis=1)
    fac = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw["lon"], raw["lat"]), crs="EPSG:4326").to_crs(CRS)
    return units, fac


def test_chengdu_end_to_end_whole_table():
    units, fac = chengdu_inputs()
    rules = [load_catalogue("zhengzhou-2022-culture-space")[0], load_catalogue("sichuan-14th-fyp")["sc-museum-per-county"],
             load_catalogue("national-library-2020")["lib-floor-area"]]
    ev = evaluate(units, fac, rules, data_date="census 2020-11-01; OSM 2018")
    t = ev.table
    assert len(t) == 15
    assert list(t.columns[:5]) == ["unit", "unit_id", "unit_type", "pop", "rule_id"]
    for col in ("required", "existing", "deficit", "surplus", "passed", "rule_name_zh", "rule_name_en",
                "kind", "coverage_share", "source"):
        assert col in t.columns
    spaces = t[t["rule_id"] == "zz-culture-space-per-capita"].set_index("unit")
    # ceil(pop / 50,000): 902,933 -> 19, 955,954 -> 20, 1,265,398 -> 26, 1,855,186 -> 38, 1,381,894 -> 28
    assert spaces["required"].to_dict() == {"锦江区": 19, "青羊区": 20, "金牛区": 26, "武侯区": 38, "成华区": 28}
    assert (spaces["existing"] == 0).all()  # the raw OSM extract has no city reading rooms
    museums = t[t["rule_id"] == "sc-museum-per-county"].set_index("unit_id")
    polys = dict(zip(units["unit_id"], units.geometry))
    for uid, poly in polys.items():
        brute = sum(1 for g, ty in zip(fac.geometry, fac["type"]) if ty == "museum" and poly.intersects(g))
        assert museums.loc[uid, "existing"] == brute
        assert museums.loc[uid, "status"] == ("pass" if brute >= 1 else "fail")
    assert museums["existing"].sum() > 0
    area = t[t["rule_id"] == "lib-floor-area"]
    assert (area["status"] == "no_data").all()  # the raw extract has no floor areas
    outside_brute = [i for i, g in zip(fac.index, fac.geometry) if not any(p.intersects(g) for p in polys.values())]
    assert list(ev.outside.index) == outside_brute
    tot = ev.totals.set_index("rule_id")
    assert tot.loc["zz-culture-space-per-capita", "deficit"] == 19 + 20 + 26 + 38 + 28
    assert tot.loc["sc-museum-per-county", "deficit"] == (museums["existing"] == 0).sum()
    assert ev.params["data_date"].startswith("census")
    assert all("《" in s for s in t["source"])
