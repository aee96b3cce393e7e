"""The embedded central-Chengdu study area."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely

from coverage.study_area import CHENGDU_EXTENT_LONLAT, DATA_DIR, load_default


@pytest.fixture(scope="module")
def area():
    return load_default()


def test_layers_share_one_metric_crs(area):
    assert area.crs == "EPSG:32648"
    for layer in (area.boundaries, area.grid, area.facilities):
        assert layer.crs == area.crs
        assert layer.crs.is_projected


def test_districts_carry_2020_census(area):
    b = area.boundaries.set_index("name")
    assert list(area.boundaries["unit_type"].unique()) == ["区"]
    assert b.loc["锦江区", "pop_census"] == 902_933
    assert b.loc["成华区", "pop_census"] == 1_381_894
    # the scaled population is the census figure times the share of area inside the extract
    extent = shapely.box(*CHENGDU_EXTENT_LONLAT)
    import geopandas as gpd
    ext_m = gpd.GeoSeries([extent], crs="EPSG:4326").to_crs(area.crs).iloc[0]
    for name, row in b.iterrows():
        share = row.geometry.intersection(ext_m).area / row.geometry.area
        assert row["pop"] == round(row["pop_census"] * share)


def test_grid_reconciles_with_scaled_census_per_district(area):
    sums = area.grid.groupby("unit_id")["pop"].sum()
    for uid, pop in zip(area.boundaries["unit_id"], area.boundaries["pop"]):
        assert math.isclose(sums[uid], pop, abs_tol=1.0)
    assert area.total_pop == pytest.approx(area.boundaries["pop"].sum(), abs=5)
    assert (area.grid["pop"] >= 0).all()
    assert area.grid["cell_id"].is_unique


def test_grid_is_denser_on_residential_land(area):
    # the dasymetric weights put more people in built-up cells than in the river/park cells
    g = area.grid
    top = g["pop"].quantile(0.9)
    assert (g["pop"] > top).sum() > 10
    assert g["pop"].min() < 0.2 * g["pop"].median()


def test_facilities_are_deduplicated_and_inside_the_extent(area):
    f = area.facilities
    assert f["facility_id"].is_unique
    assert (f["name"] == "成都永陵博物馆").sum() == 1
    minlon, minlat, maxlon, maxlat = CHENGDU_EXTENT_LONLAT
    assert f["lon"].between(minlon, maxlon).all() and f["lat"].between(minlat, maxlat).all()
    assert set(f.loc[f["name"].isin(["成都市图书馆", "四川省图书馆"]), "type"]) == {"library"}
    assert f["floor_area_m2"].isna().all()


def test_embedded_build_is_reproducible(tmp_path):
    # rebuilding through the area-build code path gives the committed districts, grid and facilities
    import importlib.util

    import geopandas as gpd

    spec = importlib.util.spec_from_file_location("build_chengdu", DATA_DIR.parent / "scripts" / "build_chengdu.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.build(tmp_path / "chengdu")
    shipped = gpd.read_file(DATA_DIR / "chengdu" / "districts.geojson")
    assert list(res.units["pop"]) == list(shipped["pop"])
    assert list(res.units["unit_id"]) == list(shipped["unit_id"])
    grid = gpd.read_file(res.out / "population_grid.gpkg")
    committed = load_default().grid
    assert len(grid) == len(committed)
    assert np.allclose(grid["pop"].to_numpy(), committed["pop"].to_numpy(), atol=1e-3)
    fac = pd.read_csv(res.out / "facilities.csv")
    shipped_fac = pd.read_csv(DATA_DIR / "chengdu" / "facilities.csv")
    assert fac["facility_id"].tolist() == shipped_fac["facility_id"].tolist()
    assert fac["name"].tolist() == shipped_fac["name"].tolist()


@pytest.mark.parametrize("text, what", [
    ("", "empty"),
    ('{"type": "FeatureCollection", "features": [', "cannot be read"),
    ('{"type": "FeatureCollection", "features": []}', "no features"),
])
def test_broken_boundaries_in_a_study_config_exit_2(tmp_path, capsys, text, what):
    from coverage.cli import main

    (tmp_path / "units.geojson").write_text(text, encoding="utf-8")
    cfg = tmp_path / "study.yaml"
    cfg.write_text("boundaries: units.geojson\npopulation: pop.tif\n", encoding="utf-8")
    code = main(["info", "--study", str(cfg)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "units.geojson" in err and what in err and "Fix:" in err


def _chengdu_config(tmp_path, lonlat_to, **facility_options):
    """A study config of the embedded files with the facilities written through ``lonlat_to``."""
    chengdu = DATA_DIR / "chengdu"
    fac = pd.read_csv(chengdu / "facilities.csv")
    fac["lon"], fac["lat"] = lonlat_to(fac["lon"].to_numpy(), fac["lat"].to_numpy())
    path = tmp_path / "facilities.csv"
    fac.to_csv(path, index=False)
    return {"name": "chengdu", "boundaries": str(chengdu / "districts.geojson"),
            "population": str(chengdu / "population_grid.gpkg"),
            "facilities": {"path": str(path), **facility_options},
            "network": str(chengdu / "chengdu_core_2018.osm.pbf")}


def test_gcj02_facilities_read_as_wgs84_are_flagged_with_the_fix(tmp_path):
    from coverage.facilities import wgs84_to_gcj02
    from coverage.study_area import load_study_area

    area = load_study_area(_chengdu_config(tmp_path, wgs84_to_gcj02))
    text = " ".join(str(p) for p in area.notes)
    assert "facilities.csv" in text and "GCJ-02" in text and "360 m" in text
    assert "--coord-system gcj02" in text and "coord_system" in text
    # the same file declared as GCJ-02, and the true WGS84 positions, raise no such note
    ok = load_study_area(_chengdu_config(tmp_path, wgs84_to_gcj02, coord_system="gcj02"))
    assert not any("GCJ-02" in str(p) for p in ok.notes)
    ok = load_study_area(_chengdu_config(tmp_path, lambda lon, lat: (lon, lat)))
    assert not any("GCJ-02" in str(p) for p in ok.notes)
