"""Population grids: reconciliation, dasymetric weighting and bad input."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage.errors import InputError
from coverage.population import (
    dasymetric_grid, grid_from_points, grid_from_polygons, grid_from_raster, make_grid, validate_grid)

CRS = "EPSG:32648"


def two_units(pop_a=1000.0, pop_b=3000.0) -> gpd.GeoDataFrame:
    # two 1 km x 1 km squares side by side; the boundary at x = 1000 is not on the 300 m grid
    return gpd.GeoDataFrame(
        {"unit_id": ["A", "B"], "pop": [pop_a, pop_b]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)], crs=CRS)


def test_make_grid_covers_bounds_with_aligned_cells():
    g = make_grid((10, 20, 1010, 520), cell_m=200, crs=CRS)
    minx, miny, maxx, maxy = g.total_bounds
    assert (minx, miny) == (0, 0)
    assert maxx >= 1010 and maxy >= 520
    assert len(g) == 6 * 3
    assert np.allclose(g.geometry.area, 200 * 200)


def test_dasymetric_reconciles_per_unit_and_cuts_cells_at_boundaries():
    grid = dasymetric_grid(two_units(), cell_m=300)
    sums = grid.groupby("unit_id")["pop"].sum()
    assert sums["A"] == pytest.approx(1000.0, abs=1e-9)
    assert sums["B"] == pytest.approx(3000.0, abs=1e-9)
    # a cell straddling x=1000 gives one piece per unit
    straddle = grid.groupby("grid_id")["unit_id"].nunique()
    assert (straddle == 2).any()
    # area weighting: density uniform within a unit
    dens = grid["pop"] / grid.geometry.area
    assert np.allclose(dens[grid.unit_id == "A"], 1000 / 1e6)
    assert np.allclose(dens[grid.unit_id == "B"], 3000 / 1e6)
    validate_grid(grid)
    # x, y lie inside their piece
    assert shapely.contains_xy(grid.geometry.to_numpy(), grid.x.to_numpy(), grid.y.to_numpy()).all() or \
        shapely.intersects_xy(grid.geometry.to_numpy(), grid.x.to_numpy(), grid.y.to_numpy()).all()


def test_dasymetric_scores_move_people_but_keep_totals():
    units = two_units()
    cells = make_grid((0, 0, 2000, 1000), cell_m=500, crs=CRS)
    scores = pd.Series(0.0, index=cells.index)
    scores.iloc[0] = 1.0            # only the first cell of unit A is inhabited
    grid = dasymetric_grid(units, cells=cells, scores=scores)
    a = grid[grid.unit_id == "A"]
    assert a["pop"].sum() == pytest.approx(1000.0)
    assert a.loc[a.grid_id == cells.grid_id.iloc[0], "pop"].sum() == pytest.approx(1000.0)
    # unit B has only zero-score cells: falls back to area weighting, still reconciles
    assert grid[grid.unit_id == "B"]["pop"].sum() == pytest.approx(3000.0)


def test_dasymetric_extent_clips():
    extent = shapely.box(0, 0, 1500, 1000)
    grid = dasymetric_grid(two_units(1000, 1000), cell_m=250, extent=extent)
    assert grid.total_bounds[2] <= 1500 + 1e-9
    assert grid["pop"].sum() == pytest.approx(2000.0)


def test_dasymetric_reports_every_bad_population_row():
    units = gpd.GeoDataFrame({"unit_id": ["A", "B", "C"], "pop": [10, -5, "many"]},
                             geometry=[shapely.box(0, 0, 1, 1)] * 3, crs=CRS)
    with pytest.raises(InputError) as err:
        dasymetric_grid(units, cell_m=1, name="units.gpkg")
    msg = str(err.value)
    assert "2 problems" in msg
    assert "units.gpkg, row 2, column 'pop': population -5 is negative" in msg
    assert "row 3, column 'pop': population 'many' is not a number" in msg


def test_dasymetric_refuses_degrees_and_missing_columns():
    units = two_units().to_crs("EPSG:4326")
    with pytest.raises(InputError, match="in degrees, not metres"):
        dasymetric_grid(units)
    with pytest.raises(InputError, match="column `population` is missing"):
        dasymetric_grid(two_units(), pop_col="population")
    with pytest.raises(InputError, match="`cell_m` must be a positive"):
        make_grid((0, 0, 1, 1), cell_m=0, crs=CRS)


def test_grid_from_polygons_keeps_total():
    layer = two_units(123.0, 456.0).to_crs("EPSG:4326")
    grid = grid_from_polygons(layer, cell_m=100, crs=CRS, id_col="unit_id")
    assert grid["pop"].sum() == pytest.approx(579.0)
    assert set(grid.unit_id) == {"A", "B"}


def test_grid_from_points_sums_into_cells_and_labels_units():
    pts = gpd.GeoDataFrame({"pop": [5, 7, 11]},
                           geometry=gpd.points_from_xy([50, 60, 1500], [50, 70, 500]), crs=CRS)
    grid = grid_from_points(pts, cell_m=100, units=two_units())
    assert sorted(grid["pop"]) == [11, 12]
    assert dict(zip(grid["pop"], grid.unit_id)) == {12: "A", 11: "B"}
    bad = pts.assign(pop=[1, -1, 2])
    with pytest.raises(InputError, match="row 2, column 'pop': population -1 is negative"):
        grid_from_points(bad)


def _write_raster(path, data, crs="EPSG:4326"):
    import rasterio
    from rasterio.transform import from_origin

    transform = from_origin(104.05, 30.70, 0.001, 0.001)  # ~100 m pixels
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
                       dtype="float32", crs=crs, transform=transform, nodata=-99999) as dst:
        dst.write(data.astype("float32"), 1)


def test_grid_from_raster_keeps_total_and_ignores_nodata(tmp_path):
    data = np.arange(1, 101, dtype=float).reshape(10, 10)
    data[0, 0] = -99999  # no-data
    path = tmp_path / "pop.tif"
    _write_raster(path, data)
    grid = grid_from_raster(path, crs=CRS, cell_m=300)
    assert grid["pop"].sum() == pytest.approx(data[data > 0].sum(), rel=1e-6)
    assert grid.crs == CRS


def test_grid_from_raster_bad_input(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        grid_from_raster(tmp_path / "missing.tif")
    data = np.ones((4, 4))
    data[2, 3] = -3
    path = tmp_path / "neg.tif"
    _write_raster(path, data)
    with pytest.raises(InputError, match=r"1 pixels have a negative population \(first at pixel row 2, column 3\)"):
        grid_from_raster(path, crs=CRS)
    txt = tmp_path / "notraster.tif"
    txt.write_text("hello")
    with pytest.raises(InputError, match="cannot read as a raster"):
        grid_from_raster(txt)


def test_truncated_geotiff_is_refused_with_the_file_and_fix(tmp_path):
    path = tmp_path / "pop.tif"
    _write_raster(path, np.ones((300, 300)))
    data = path.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.tif.*truncated or damaged.*Fix:"):
        grid_from_raster(cut, crs=CRS)


def test_population_layer_rows_count_features_from_one_as_a_gis_shows_them(tmp_path):
    from coverage.study_area import load_study_area

    units = two_units().assign(name=["甲区", "乙区"])
    units.to_file(tmp_path / "units.gpkg")
    pts = gpd.GeoDataFrame({"pop": [5.0, 7.0, -2.0]},
                           geometry=gpd.points_from_xy([50, 60, 1500], [50, 70, 500]), crs=CRS)
    pts.to_file(tmp_path / "pop.gpkg")
    with pytest.raises(InputError, match=r"pop\.gpkg, row 3, column 'pop': population -2 is negative"):
        load_study_area({"boundaries": str(tmp_path / "units.gpkg"), "population": str(tmp_path / "pop.gpkg"),
                         "crs": CRS})


def test_a_grid_over_the_cell_limit_is_refused_before_it_is_built():
    from coverage.limits import MAX_GRID_CELLS

    side = 250_000.0  # 1,562,500 cells of 200 m
    with pytest.raises(InputError) as err:
        make_grid((0, 0, side, side), cell_m=200, crs=CRS)
    text = str(err.value)
    assert "1,562,500 cells" in text and f"{MAX_GRID_CELLS:,}" in text
    assert "cultcov batch" in text and "cell_m" in text


def _lonlat_raster(path, west, north, step_deg, shape, value=10.0):
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(path, "w", driver="GTiff", height=shape[0], width=shape[1], count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(west, north, step_deg, step_deg),
                       nodata=-99999) as dst:
        dst.write(np.full(shape, value, dtype="float32"), 1)


def _units_lonlat(box_lonlat):
    return gpd.GeoDataFrame({"unit_id": ["U1"], "name": ["甲区"]}, geometry=[shapely.box(*box_lonlat)],
                            crs="EPSG:4326").to_crs(CRS)


def test_a_raster_much_larger_than_the_study_area_is_read_only_over_the_area(tmp_path):
    # 2° × 1.5° of 0.01° pixels around a 5 km study area: only the area's pixels are gridded
    path = tmp_path / "region.tif"
    _lonlat_raster(path, 103.5, 31.5, 0.01, (150, 200))
    units = _units_lonlat((104.05, 30.65, 104.10, 30.70))
    grid = grid_from_raster(path, crs=CRS, cell_m=200, units=units)
    assert (grid["unit_id"] == "U1").all()
    ub = units.total_bounds
    gb = grid.total_bounds
    assert gb[0] >= ub[0] - 1500 and gb[2] <= ub[2] + 1500 and gb[1] >= ub[1] - 1500 and gb[3] <= ub[3] + 1500
    # the area holds about 5 × 5 pixels of 10 residents
    assert 150 <= grid["pop"].sum() <= 400


def test_a_raster_spanning_china_is_cut_to_the_study_area(tmp_path):
    path = tmp_path / "china.tif"
    _lonlat_raster(path, 73.0, 54.0, 1.0, (51, 63))  # 1° pixels, all of China
    units = _units_lonlat((104.05, 30.65, 104.10, 30.70))
    with pytest.raises(InputError, match=r"china\.tif.*centre of none.*pixels of about 1\d\d,\d\d\d m"):
        grid_from_raster(path, crs=CRS, cell_m=200, units=units)
    with pytest.raises(InputError, match=r"china\.tif.*cells of 200 m, more than the limit"):
        grid_from_raster(path, crs=CRS, cell_m=200)


def test_a_raster_that_misses_the_study_area_is_refused_with_both_extents(tmp_path):
    path = tmp_path / "elsewhere.tif"
    _lonlat_raster(path, 113.0, 23.2, 0.001, (100, 100))  # Guangzhou
    units = _units_lonlat((104.05, 30.65, 104.10, 30.70))  # Chengdu
    with pytest.raises(InputError) as err:
        grid_from_raster(path, crs=CRS, cell_m=200, units=units)
    text = str(err.value)
    assert "elsewhere.tif" in text and "does not overlap" in text
    assert "lon 113.0000–113.1000" in text and re.search(r"lon 104\.0[45]\d\d–104\.10\d\d", text)
    assert "Fix:" in text


def test_an_undeclared_float32_max_fill_is_refused_not_counted(tmp_path):
    import rasterio
    from rasterio.transform import from_origin

    data = np.full((20, 20), 12.0, dtype="float32")
    data[3:, 15:] = np.finfo(np.float32).max  # the fill value, not declared as no-data
    path = tmp_path / "fill.tif"
    with rasterio.open(path, "w", driver="GTiff", height=20, width=20, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(104.05, 30.70, 0.001, 0.001)) as dst:
        dst.write(data, 1)
    with pytest.raises(InputError) as err:
        grid_from_raster(path, crs=CRS, cell_m=200)
    text = str(err.value)
    assert "fill.tif" in text and "85 pixels hold implausible counts" in text
    assert "pixel row 3, column 15" in text and "3.403e+38" in text and "no-data" in text
