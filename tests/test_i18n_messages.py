"""Problems a page user meets when uploading a study area read as Chinese on the Chinese page.

Each case makes the real loaders refuse a small synthetic file and checks that
:func:`coverage.i18n.problem_text` gives Chinese text: after removing the file
name, quoted values, code spans and parenthesised parts, no run of four or more
ASCII letters is left.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from coverage import limits
from coverage import population as popm
from coverage.errors import InputError
from coverage.i18n import problem_text
from coverage.network import load_network
from ui import logic

_QUOTED = re.compile(r"“[^”]*”|'[^']*'|\"[^\"]*\"|`[^`]*`")
_PARENS = re.compile(r"\([^()]*\)|（[^（）]*）")
_WORD = re.compile(r"[A-Za-z]{4,}")
#: Product and format names that Chinese planners also write in Latin letters.
_NAMES = ("QGIS", "WorldPop", "GeoJSON", "GeoPackage", "Shapefile", "GeoTIFF", "GraphML", "CGCS")


def _english_left(problem, extra: tuple[str, ...] = ()) -> list[str]:
    text = problem_text(problem, "zh")
    for s in (problem.file or "", *extra, *_NAMES):
        if s:
            text = text.replace(str(s), "")
    text = _QUOTED.sub("", text)
    while _PARENS.search(text):
        text = _PARENS.sub("", text)
    return _WORD.findall(text)


def _problems(exc: pytest.ExceptionInfo) -> list:
    return list(exc.value.problems)


def _assert_chinese(problems, extra: tuple[str, ...] = ()) -> None:
    assert problems
    left = {problem_text(p, "zh"): _english_left(p, extra) for p in problems}
    assert not any(left.values()), left


def _square(x: float, y: float, d: float) -> list:
    return [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]


def _geojson(features: list[dict], crs: str | None = None) -> bytes:
    fc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(fc, ensure_ascii=False).encode("utf-8")


def _feature(props: dict, geometry: dict) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _poly(x: float, y: float, d: float = 0.02) -> dict:
    return {"type": "Polygon", "coordinates": _square(x, y, d)}


def _units(n: int = 2) -> bytes:
    return _geojson([_feature({"adcode": f"51010{i}", "name": f"{'锦江青羊金牛'[2 * i:2 * i + 2]}区"},
                              _poly(104.05 + 0.02 * i, 30.65)) for i in range(n)])


def _raster(west: float = 104.05, north: float = 30.67, value: float = 10.0) -> bytes:
    from rasterio.io import MemoryFile
    from rasterio.transform import from_origin

    data = np.full((20, 40), value, dtype="float32")
    with MemoryFile() as mem:
        with mem.open(driver="GTiff", width=40, height=20, count=1, dtype="float32", crs="EPSG:4326",
                      transform=from_origin(west, north, 0.001, 0.001)) as dst:
            dst.write(data, 1)
        return mem.read()


def _upload(tmp_path, bnd: bytes | None, pop: bytes | None = None, bname: str = "b.geojson"):
    files = {}
    if bnd is not None:
        files["boundaries"] = (bname, bnd)
    if pop is not None:
        files["population"] = ("p.tif", pop)
    with pytest.raises(InputError) as exc:
        logic.load_area_upload(files, folder=tmp_path)
    return _problems(exc)


@pytest.mark.parametrize("case", [
    "points", "overlap", "no_name", "no_type", "duplicate_id", "declared_metres",
    "no_features", "missing_population", "unreadable",
])
def test_boundary_problems_read_as_chinese(tmp_path, case):
    pop = _raster()
    if case == "points":
        bnd = _geojson([_feature({"name": "锦江区"}, {"type": "Point", "coordinates": [104.06, 30.66]}),
                        _feature({"name": "青羊区"}, _poly(104.07, 30.65))])
    elif case == "overlap":
        bnd = _geojson([_feature({"name": "锦江区"}, _poly(104.05, 30.65)),
                        _feature({"name": "青羊区"}, _poly(104.06, 30.65))])
    elif case == "no_name":
        bnd = _geojson([_feature({"label": "锦江区"}, _poly(104.05, 30.65))])
    elif case == "no_type":
        bnd = _geojson([_feature({"name": "Alpha"}, _poly(104.05, 30.65))])
    elif case == "duplicate_id":
        bnd = _geojson([_feature({"adcode": "510104", "name": "锦江区"}, _poly(104.05, 30.65)),
                        _feature({"adcode": "510104", "name": "青羊区"}, _poly(104.07, 30.65))])
    elif case == "declared_metres":
        bnd = _geojson([_feature({"name": "锦江区"}, _poly(0.01, 0.01))], crs="urn:ogc:def:crs:EPSG::3857")
    elif case == "no_features":
        bnd = _geojson([])
    elif case == "missing_population":
        bnd, pop = _units(), None
    else:
        bnd = b"{not json"
    _assert_chinese(_upload(tmp_path, bnd, pop))


def test_empty_boundaries_file_reads_as_chinese(tmp_path):
    path = tmp_path / "b.geojson"
    path.write_bytes(b"")
    from coverage.study_area import load_study_area

    with pytest.raises(InputError) as exc:
        load_study_area({"boundaries": str(path), "population": str(path)})
    _assert_chinese(_problems(exc))


@pytest.mark.parametrize("case", ["elsewhere", "negative", "zeros", "pixel_limit", "grid_limit"])
def test_population_raster_problems_read_as_chinese(tmp_path, monkeypatch, case):
    if case == "elsewhere":
        pop = _raster(west=10.0, north=50.0)
    elif case == "negative":
        pop = _raster(value=-1.0)
    elif case == "zeros":
        pop = _raster(value=0.0)
    elif case == "pixel_limit":
        monkeypatch.setattr(popm, "MAX_RASTER_PIXELS", 10)
        pop = _raster()
    else:
        monkeypatch.setattr(limits, "MAX_GRID_CELLS", 2)
        pop = _raster()
    _assert_chinese(_upload(tmp_path, _units(), pop))


def test_upload_over_the_size_limit_reads_as_chinese(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_UPLOAD_MB", 0)
    _assert_chinese(_upload(tmp_path, _units(), _raster()))


@pytest.mark.parametrize("body", [b'<?xml version="1.0"?><osm version="0.6"></osm>', b"not osm at all"])
def test_road_file_problems_read_as_chinese(tmp_path, body):
    path = tmp_path / "roads.osm"
    path.write_bytes(body)
    with pytest.raises(InputError) as exc:
        load_network(path)
    _assert_chinese(_problems(exc), extra=(str(path),))


def test_unknown_road_format_reads_as_chinese(tmp_path):
    path = tmp_path / "roads.txt"
    path.write_bytes(b"x")
    with pytest.raises(InputError) as exc:
        load_network(path)
    _assert_chinese(_problems(exc), extra=(repr(str(path)),))


def test_road_file_without_walkable_roads_reads_as_chinese(tmp_path):
    nodes = "".join(f'<node id="{i}" lat="30.6{i}" lon="104.0{i}"/>' for i in range(1, 4))
    way = ('<way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>'
           '<tag k="highway" v="motorway"/><tag k="oneway" v="yes"/></way>')
    path = tmp_path / "roads.osm"
    path.write_text(f'<?xml version="1.0"?><osm version="0.6">{nodes}{way}</osm>', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_network(path)
    problems = _problems(exc)
    assert any("步行" in problem_text(p, "zh") for p in problems)
    _assert_chinese(problems, extra=(str(path),))
