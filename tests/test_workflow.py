"""The planner's questions on the embedded Chengdu area, end to end."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import numpy as np
import pytest

from coverage import access as acc
from coverage import workflow as wf
from coverage.errors import InfeasibleError, InputError
from coverage.study_area import load_default


@pytest.fixture(scope="module")
def area():
    return load_default()


def test_access_reconciles_and_counts_only_chosen_public_types(area):
    res = wf.access_analysis(area, wf.AccessParams(facility_types=("library",), threshold_min=15))
    # the two university libraries are not public
    assert set(res.facilities["name"]) == {"成都市图书馆", "四川省图书馆"}
    assert res.covered_pop + float(res.uncovered["pop"].sum()) == pytest.approx(res.total_pop)
    s = res.summary[res.summary.threshold_min == 15.0]
    per_unit = s[s.unit != "all"]
    assert per_unit.pop_covered.sum() == pytest.approx(res.covered_pop, abs=1e-6)
    assert (per_unit.pop_covered + per_unit.pop_uncovered).to_numpy() == pytest.approx(per_unit.pop_total.to_numpy())
    assert set(per_unit.name) == set(area.boundaries.name)
    # coverage grows with the threshold
    shares = res.summary[res.summary.unit == "all"].sort_values("threshold_min").share_covered.to_numpy()
    assert np.all(np.diff(shares) >= 0)


def test_adding_a_facility_raises_coverage_and_lowers_the_deficit(area):
    base = wf.access_analysis(area)
    cell = area.grid.loc[area.grid["pop"].idxmax()]
    new = gpd.GeoDataFrame({"facility_type": ["city_reading_room"], "site_id": ["A"]},
                           geometry=gpd.points_from_xy([cell.x], [cell.y]), crs=area.crs)
    fac = wf.add_facilities(area.facilities, new)
    assert len(fac) == len(area.facilities) + 1 and fac.facility_id.is_unique
    after = wf.access_analysis(area, facilities=fac)
    assert after.covered_pop > base.covered_pop + cell["pop"] - 1e-6
    ev0 = wf.evaluate_standards(area, "zhengzhou-2022-culture-space", with_access=False)
    ev1 = wf.evaluate_standards(area, "zhengzhou-2022-culture-space", facilities=fac, with_access=False)
    t0 = ev0.table.set_index("unit_id")
    t1 = ev1.table.set_index("unit_id")
    uid = cell["unit_id"]
    assert t1.loc[uid, "existing"] == t0.loc[uid, "existing"] + 1
    assert t1.loc[uid, "deficit"] == t0.loc[uid, "deficit"] - 1


def test_standards_on_embedded_area_use_ceiling_division(area):
    ev = wf.evaluate_standards(area, "zhengzhou-2022-culture-space")
    t = ev.table.set_index("unit")
    # 成华区: 458,444 residents in the extract / 50,000 -> 9.17 -> 10 reading spaces; none mapped in 2018
    assert t.loc["成华区", "required"] == 10
    assert t.loc["成华区", "existing"] == 0 and t.loc["成华区", "deficit"] == 10
    assert t.loc["武侯区", "required"] == math.ceil(2325 / 50000) == 1


def test_mclp_front_end_equals_brute_force_on_kmeans_candidates(area):
    params = wf.SitingParams(p=3, candidates="kmeans", n_candidates=12, threshold_min=10)
    prop = wf.propose_sites(area, params)
    # independent check: enumerate every 3 of the 12 candidates on the same reach matrix
    graph = wf.travel_graph_for(area, "walk")
    T = acc.reach_matrix(graph, prop.candidates, area.grid, 600.0).tocsc()
    pop = area.grid["pop"].to_numpy(float)
    ex = wf.select_facilities(area.facilities, wf.READING_SPACE_TYPES)
    t_ex = acc.nearest_facility(graph, area.grid, ex)["time_s"].to_numpy(float)
    base = np.isfinite(t_ex) & (t_ex <= 600.0)
    reach = [set(T[:, j].indices) for j in range(T.shape[1])]
    best = 0.0
    for combo in itertools.combinations(range(T.shape[1]), 3):
        cov = base.copy()
        for j in combo:
            cov[list(reach[j])] = True
        best = max(best, pop[cov].sum())
    assert prop.covered_pop == pytest.approx(best, rel=1e-6)
    assert prop.result.optimal and prop.result.gap == pytest.approx(0.0, abs=1e-6)
    assert prop.sites["newly_covered_pop"].sum() == pytest.approx(best - pop[base].sum(), rel=1e-6)
    assert len(prop.sites) == 3


def test_ten_reading_rooms_with_curve(area):
    prop = wf.propose_sites(area, wf.SitingParams(p=10, curve_k=10))
    assert len(prop.sites) == 10
    assert prop.sites["site_id"].is_unique
    assert set(prop.sites["district"]) <= set(area.boundaries["name"])
    assert prop.result.gap <= 1e-6 or not prop.result.optimal
    curve = prop.curve
    assert list(curve["p"]) == list(range(1, 11))
    assert np.all(np.diff(curve["covered_pop"].to_numpy()) >= -1e-6)
    assert curve["covered_pop"].iloc[-1] == pytest.approx(prop.covered_pop, rel=1e-6)
    # GCJ-02 coordinates lie a few hundred metres from WGS84 ones in Chengdu
    d_lon = (prop.sites.lon_gcj02 - prop.sites.lon) * 111_000 * np.cos(np.radians(30.7))
    assert d_lon.between(150, 350).all()


def test_infeasible_quota_and_bad_parameters_are_explained(area):
    with pytest.raises(InfeasibleError, match="budget"):
        wf.propose_sites(area, wf.SitingParams(p=None, budget=3_000_000,
                                               quota_preset="zhengzhou-2022-culture-space"))
    with pytest.raises(InputError, match="`model` 'xyz'"):
        wf.SitingParams(model="xyz")
    with pytest.raises(InputError, match="`mode` 'boat'"):
        wf.AccessParams(mode="boat")
    with pytest.raises(InputError, match="`threshold_min` must be > 0"):
        wf.AccessParams(threshold_min=0)


def test_public_flag_missing_counts_as_public(area):
    fac = area.facilities.copy()
    fac["public"] = fac["public"].astype(object)
    fac.loc[fac["name"] == "成都市图书馆", "public"] = None      # unknown -> public
    fac.loc[fac["name"] == "四川省图书馆", "public"] = "否"       # explicit no
    chosen = wf.select_facilities(fac, ["library"])
    assert set(chosen["name"]) == {"成都市图书馆"}


def test_quota_comes_only_from_rules_for_the_sited_type(area):
    none = area.facilities.iloc[:0]
    q = wf._quota_from_preset(area, "zhengzhou-2022-culture-space", "city_reading_room", none)
    assert q == {"510104": 2, "510105": 3, "510106": 6, "510107": 1, "510108": 10}
    with pytest.raises(InputError, match="no per-capita count rule for museum"):
        wf._quota_from_preset(area, "zhengzhou-2022-culture-space", "museum", none)
