"""Catchments per facility: hand-computed street example and the embedded area."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from coverage import access as A
from coverage import workflow as wf
from coverage.network import from_networkx
from coverage.study_area import load_default

CRS = "EPSG:32648"
X0, Y0 = 400_000.0, 3_390_000.0


def _street():
    """Street of 7 nodes 60 m apart walked at 1 m/s (one minute per block).

    Facility A at node 0, B at node 4; cells (100 m squares) at nodes 0, 1, 3,
    4, 6 with 10, 20, 30, 40, 50 residents, and 1,000 residents 5 km away
    (off every road, so unreachable).
    """
    G = nx.Graph()
    for i in range(7):
        G.add_node(i, x=X0 + 60 * i, y=Y0)
    for i in range(6):
        G.add_edge(i, i + 1, highway="residential")
    tg = A.travel_graph(from_networkx(G, crs=CRS), "walk", A.TravelSettings(walk_kmh=3.6))
    x = X0 + np.array([0, 60, 180, 240, 360, 5000.0])
    y = np.array([Y0] * 5 + [Y0 + 5000.0])
    grid = gpd.GeoDataFrame({"x": x, "y": y, "pop": [10.0, 20, 30, 40, 50, 1000]},
                            geometry=shapely.box(x - 50, y - 50, x + 50, y + 50), crs=CRS,
                            index=["c0", "c1", "c3", "c4", "c6", "far"])
    fac = gpd.GeoDataFrame({"facility_id": ["A", "B"]},
                           geometry=gpd.points_from_xy([X0, X0 + 240], [Y0, Y0]), crs=CRS, index=[5, 9])
    return tg, grid, fac


def test_hand_example_nearest_and_overlapping():
    tg, grid, fac = _street()
    # minutes   c0 c1 c3 c4 c6
    #    A       0  1  3  4  6
    #    B       4  3  1  0  2
    # 3.5 min: nearest A <- c0, c1 (30); B <- c3, c4, c6 (120); far uncovered (1,000)
    #          within  A: c0, c1, c3 (60); B: c1, c3, c4, c6 (140)
    res = A.facility_catchments(tg, grid, fac, 210.0)
    assert res.index.tolist() == [5, 9] and res["facility_id"].tolist() == ["A", "B"]
    np.testing.assert_allclose(res["pop_nearest"], [30, 120])
    np.testing.assert_allclose(res["pop_within"], [60, 140])
    assert res["cells_nearest"].tolist() == [2, 3] and res["cells_within"].tolist() == [3, 4]
    np.testing.assert_allclose(res["area_km2"], [0.02, 0.03])
    np.testing.assert_allclose(res["mean_time_s"], [(20 * 60) / 30, (30 * 60 + 50 * 120) / 120])
    assert res.attrs["uncovered_pop"] == 1000 and res.attrs["total_pop"] == 1150
    assert res["pop_nearest"].sum() + res.attrs["uncovered_pop"] == res.attrs["total_pop"]
    # 1.5 min: c6 (2 min from B) drops out of both views
    res = A.facility_catchments(tg, grid, fac, 90.0)
    np.testing.assert_allclose(res["pop_nearest"], [30, 70])
    np.testing.assert_allclose(res["pop_within"], [30, 70])
    assert res.attrs["uncovered_pop"] == 1050


@pytest.fixture(scope="module")
def area():
    return load_default()


def test_embedded_area_adds_up_and_flags_load_against_the_standard(area):
    cells = area.grid.sort_values("pop", ascending=False)
    pts = cells.geometry.representative_point().iloc[[0, 400, 1500]]
    rooms = gpd.GeoDataFrame({"facility_type": ["city_reading_room"] * 3, "site_id": ["a", "b", "c"]},
                             geometry=pts.to_numpy(), crs=area.crs)
    fac = wf.add_facilities(area.facilities, rooms)
    params = wf.AccessParams(facility_types=("city_reading_room",), mode="walk", threshold_min=15)
    cat = wf.facility_catchments(area, params, facilities=fac, preset="zhengzhou-2022-culture-space")
    assert len(cat) == 3 and set(cat["type"]) == {"city_reading_room"}
    assert cat.crs == area.crs and set(cat.geom_type) == {"Point"}
    total = float(area.grid["pop"].sum())
    assert cat["pop_nearest"].sum() + cat.attrs["uncovered_pop"] == pytest.approx(total)
    assert (cat["pop_within"] >= cat["pop_nearest"] - 1e-6).all()
    # the standard allots 50,000 residents per reading room in a 区
    assert set(cat["load_basis"]) == {"standard"} and (cat["residents_per_facility"] == 50_000).all()
    np.testing.assert_allclose(cat["load"], cat["pop_nearest"] / 50_000)
    expect = np.where(cat["load"] > 1, "overloaded", np.where(cat["load"] < 0.25, "low", "ok"))
    assert cat["load_flag"].tolist() == expect.tolist()
    assert set(cat["district"]) <= set(area.boundaries["name"])


def test_load_flags_fall_back_to_capacity_then_quantiles(area):
    params = wf.AccessParams(facility_types=("library", "museum", "theatre", "science_museum", "art_gallery"),
                             public_only=False)
    cat = wf.facility_catchments(area, params)
    assert set(cat["load_basis"]) == {"quantile"}
    q25, q75 = np.quantile(cat["pop_nearest"], [0.25, 0.75])
    assert (cat.loc[cat["pop_nearest"] > q75, "load_flag"] == "high").all()
    assert (cat.loc[cat["pop_nearest"] < q25, "load_flag"] == "low").all()
    # fewer than four facilities compared: no quartile flags
    two = wf.facility_catchments(area, wf.AccessParams(facility_types=("library",)))
    assert len(two) == 2 and set(two["load_flag"]) == {"ok"}
    fac = area.facilities.copy()
    fac["capacity"] = 1_000.0
    cat = wf.facility_catchments(area, params, facilities=fac)
    assert set(cat["load_basis"]) == {"capacity"}
    np.testing.assert_allclose(cat["load"], cat["pop_nearest"] / 1_000.0)


# ------------------------------------------------------------------ catchment areas on the map
def test_catchment_areas_cover_exactly_the_covered_cells_without_overlap(area):
    params = wf.AccessParams(facility_types=("library", "museum"), mode="walk", threshold_min=15)
    res = wf.access_analysis(area, params)
    cat = wf.facility_catchments(area, params)
    poly = wf.catchment_areas(area, res, cat)
    assert poly.crs == area.grid.crs
    assert poly["pop"].sum() == pytest.approx(res.covered_pop, rel=1e-9)
    served = cat.set_index("facility_id")["pop_nearest"]
    assert set(poly["facility_id"]) == set(served[served > 0].index.astype(str))
    for fid, pop in zip(poly["facility_id"], poly["pop"]):
        assert pop == pytest.approx(served[fid], rel=1e-9)
    t = res.times["time_s"].to_numpy(float)
    covered = area.grid.geometry[np.isfinite(t) & (t <= 15 * 60)]
    assert poly.area.sum() == pytest.approx(covered.area.sum(), rel=1e-6)
    # no two catchments overlap
    assert shapely.union_all(poly.geometry.to_numpy()).area == pytest.approx(poly.area.sum(), rel=1e-6)
    assert {"name", "load_flag", "pop_within"} <= set(poly.columns)


def test_catchment_layer_on_the_map_is_coloured_by_load_and_escapes_names(area):
    from coverage.mapping import CATCHMENT_COLOURS, build_map

    params = wf.AccessParams(facility_types=("library",), mode="walk", threshold_min=15)
    res = wf.access_analysis(area, params)
    poly = wf.catchment_areas(area, res, wf.facility_catchments(area, params))
    poly.loc[poly.index[0], "name"] = "<img src=x onerror=alert(1)>"
    poly.loc[poly.index[0], "load_flag"] = "overloaded"
    html = build_map(boundaries=area.boundaries, catchments=poly, lang="en",
                     basemap_layers={}).get_root().render()
    assert "Catchment" in html and CATCHMENT_COLOURS["overloaded"] in html
    assert "<img src=x" not in html
    assert r"\u0026lt;img src=x onerror=alert(1)\u0026gt;" in html  # escaped, inside the GeoJSON
    from coverage.mapping import _Legend

    zh = build_map(boundaries=area.boundaries, catchments=poly, lang="zh", basemap_layers={})
    names = [getattr(c, "layer_name", "") for c in zh._children.values()]
    legend = next(c for c in zh._children.values() if isinstance(c, _Legend)).body_html
    assert "服务范围" in names and "服务范围：超负荷" in legend


def test_catchment_areas_refuse_an_access_result_of_another_grid(area):
    from coverage.errors import InputError

    res = wf.access_analysis(area, wf.AccessParams(facility_types=("library",)))
    res = type(res)(**{**res.__dict__, "times": res.times.iloc[:10]})
    with pytest.raises(InputError, match="another grid"):
        wf.catchment_areas(area, res)
