"""Tests of the scenario store (coverage.scenario)."""

from __future__ import annotations

import os
import signal
import sqlite3
import struct
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely

import coverage
from coverage.errors import InputError
from coverage.scenario import (
    FORMAT_VERSION,
    AddedFacility,
    Scenario,
    ScenarioConflictError,
    ScenarioNotFoundError,
    ScenarioResults,
    ScenarioStore,
    SelectedSite,
    SitingResult,
    apply_edits,
    data_fingerprint,
    diff,
)

REPO = Path(coverage.__file__).resolve().parent.parent
TO_UTM = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
TO_LONLAT = pyproj.Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True)


def facility(i: int, *, lon0: float = 104.06, lat0: float = 30.67, type: str = "city_reading_room",
             **extra) -> AddedFacility:
    lon, lat = lon0 + 0.001 * (i % 50), lat0 + 0.001 * (i // 50)
    x, y = TO_UTM.transform(lon, lat)
    return AddedFacility(facility_id=f"new-{i}", name=f"城市书房{i}", type=type, x=x, y=y,
                         lon=lon, lat=lat, **extra)


def site(i: int, new_pop: float) -> SelectedSite:
    lon, lat = 104.08 + 0.002 * i, 30.70
    x, y = TO_UTM.transform(lon, lat)
    return SelectedSite(site_id=f"cand-{i}", x=x, y=y, lon=lon, lat=lat, new_pop=new_pop,
                        name=f"候选{i}")


def full_scenario(name: str = "2025 新增城市书房") -> Scenario:
    return Scenario(
        name=name,
        study_area="chengdu_core",
        data_version="sha256:0123456789abcdef",
        added=[facility(0, capacity=120, floor_area_m2=300.0),
               facility(1, name_en="Reading room 1"), facility(2, type="library")],
        removed=["osm-n-2", "osm-n-1", "osm-n-2"],
        params={"facility_type": "library", "mode": "walk", "threshold_min": 15,
                "speeds": {"walk_kmh": 4.5}, "standards": "gb-2024",
                "siting": {"model": "mclp", "p": 2, "weights": (1, 2)}},
        siting=SitingResult(sites=[site(0, 1500.5), site(1, 820.0)], objective=2320.5,
                            gap=0.001, model="mclp"),
        results=ScenarioResults(coverage_share=0.625, covered_pop=62500, total_pop=100000,
                                deficits={"510104": 1200.0, "510105": 0.0}, deficit_unit="m2"),
        notes="方案说明", author="王工",
    )


@pytest.fixture()
def store(tmp_path: Path) -> ScenarioStore:
    return ScenarioStore(tmp_path / "project.gpkg")


# --------------------------------------------------------------------------
# round trip and basic operations
# --------------------------------------------------------------------------

def test_round_trip_keeps_every_field(store: ScenarioStore) -> None:
    original = full_scenario()
    saved = store.save(original)
    assert original.revision == 0 and original.created_at is None  # caller's copy untouched
    assert saved.revision == 1
    assert saved.created_at == saved.updated_at and saved.created_at.tzinfo is not None
    for key in (saved.id, saved.name, "  " + saved.name + " "):
        loaded = store.load(key)
        assert loaded == saved
    loaded = store.load(saved.id)
    assert loaded.removed == ("osm-n-1", "osm-n-2")
    assert loaded.params["siting"]["weights"] == [1, 2]
    assert [a.facility_id for a in loaded.added] == ["new-0", "new-1", "new-2"]
    assert loaded.added[0].capacity == 120.0 and loaded.added[1].capacity is None
    assert loaded.added[1].name_en == "Reading room 1"
    assert loaded.siting.sites[0].new_pop == 1500.5 and loaded.siting.gap == 0.001
    assert loaded.results.deficits == {"510104": 1200.0, "510105": 0.0}
    assert loaded.author == "王工" and loaded.notes == "方案说明"


def test_update_bumps_revision_and_replaces_rows(store: ScenarioStore) -> None:
    s1 = store.save(full_scenario())
    s2 = store.save(s1.replace(added=s1.added[:1], siting=None, results=None, notes="v2"))
    assert s2.revision == 2 and s2.created_at == s1.created_at and s2.updated_at >= s1.updated_at
    loaded = store.load(s1.id)
    assert loaded == s2 and len(loaded.added) == 1 and loaded.siting is None
    with sqlite3.connect(store.path) as con:
        assert con.execute("SELECT count(*) FROM scenario_facilities").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM scenario_sites").fetchone()[0] == 0


def test_params_are_copied_and_must_be_json(store: ScenarioStore) -> None:
    params = {"threshold_min": np.int64(15), "speeds": {"walk_kmh": 4.5}}
    s = Scenario(name="a", params=params)
    s.params["speeds"]["walk_kmh"] = 99
    assert params["speeds"]["walk_kmh"] == 4.5
    assert type(s.params["threshold_min"]) is int
    with pytest.raises(InputError, match="`params`"):
        Scenario(name="b", params={"threshold_min": float("nan")})
    with pytest.raises(InputError, match="`params`"):
        Scenario(name="b", params={"f": object()})


def test_invalid_facility_fields_are_all_reported() -> None:
    with pytest.raises(InputError) as info:
        AddedFacility(facility_id="", name="x", type="bookshop", x=float("nan"), y=1, lon=104,
                      lat=30)
    text = str(info.value)
    assert "`facility_id`" in text and "`type`" in text and "`x`" in text
    assert len(info.value.problems) == 3
    assert AddedFacility.from_lonlat("z", "区图书馆", "图书馆", 104.07, 30.68).type == "library"
    with pytest.raises(InputError, match="repeats facility ids"):
        Scenario(name="dup", added=[facility(1), facility(1)])
    with pytest.raises(InputError, match="both added and removed"):
        Scenario(name="clash", added=[facility(1)], removed=["new-1"])
    with pytest.raises(InputError, match="`name`"):
        Scenario(name="   ")


def test_save_rejects_xy_that_disagree_with_lonlat(store: ScenarioStore) -> None:
    good = facility(0)
    swapped = AddedFacility(facility_id="bad", name="b", type="museum", x=good.y, y=good.x,
                            lon=good.lon, lat=good.lat)
    with pytest.raises(InputError, match=r"added\[1\] \(bad\)"):
        store.save(Scenario(name="s", added=[good, swapped]))
    assert len(store) == 0
    # from_xy / from_lonlat agree with an independent pyproj transform
    f = AddedFacility.from_lonlat("a", "a", "library", 104.07, 30.68)
    assert (f.x, f.y) == pytest.approx(TO_UTM.transform(104.07, 30.68), abs=1e-6)
    g = AddedFacility.from_xy("a", "a", "library", f.x, f.y)
    assert (g.lon, g.lat) == pytest.approx((104.07, 30.68), abs=1e-9)


def test_list_rename_duplicate_delete(store: ScenarioStore) -> None:
    assert store.list().empty and len(store) == 0
    a = store.save(full_scenario("A"))
    b = store.save(Scenario(name="B", author="李工", added=[facility(7)]))
    df = store.list()
    assert list(df["name"]) == ["A", "B"]
    assert df.loc[0, "n_added"] == 3 and df.loc[0, "n_removed"] == 2 and df.loc[0, "n_sites"] == 2
    assert df.loc[0, "coverage_share"] == 0.625 and np.isnan(df.loc[1, "coverage_share"])
    assert df.loc[1, "author"] == "李工"
    assert isinstance(df.loc[0, "created_at"], pd.Timestamp) and df.loc[0, "created_at"].tz

    renamed = store.rename(a.id, "A 改")
    assert renamed.name == "A 改" and renamed.revision == 2 and renamed.id == a.id
    assert store.load("A 改") == renamed
    assert "A" not in store and "A 改" in store
    with sqlite3.connect(store.path) as con:
        names = {r[0] for r in con.execute("SELECT scenario_name FROM scenario_facilities")}
    assert names == {"A 改", "B"}

    copy = store.duplicate("A 改", "A 副本")
    assert copy.id != a.id and copy.revision == 1 and copy.name == "A 副本"
    assert copy.added == renamed.added and copy.params == renamed.params
    assert copy.siting == renamed.siting and copy.results == renamed.results
    assert len(store) == 3

    store.delete("A 改")
    assert list(store.list()["name"]) == ["B", "A 副本"]
    assert store.load(copy.id).added == renamed.added  # the copy keeps its own rows
    with sqlite3.connect(store.path) as con:
        left = con.execute("SELECT count(*) FROM scenario_facilities WHERE scenario_id = ?",
                           (a.id,)).fetchone()[0]
    assert left == 0
    with pytest.raises(ScenarioNotFoundError, match="'A 副本', 'B'"):
        store.load("A 改")
    with pytest.raises(ScenarioNotFoundError):
        store.delete(a.id)
    assert b == store.load("B")


def test_names_are_unique(store: ScenarioStore) -> None:
    store.save(Scenario(name="方案一"))
    other = store.save(Scenario(name="方案二"))
    with pytest.raises(InputError, match="already called '方案一'.*choose another `name`"):
        store.save(Scenario(name=" 方案一 "))
    with pytest.raises(InputError, match="already called '方案一'"):
        store.rename(other.id, "方案一")
    with pytest.raises(InputError, match="already called '方案二'"):
        store.duplicate("方案一", "方案二")
    assert sorted(store.list()["name"]) == ["方案一", "方案二"]


def test_diff_against_hand_expectations() -> None:
    a = full_scenario("A")
    moved = facility(1)
    moved = AddedFacility(facility_id="new-1", name=moved.name, type=moved.type, x=moved.x + 10,
                          y=moved.y, lon=moved.lon, lat=moved.lat)
    b = a.replace(
        name="B",
        added=[a.added[0], moved, facility(9)],
        removed=["osm-n-2", "osm-n-3"],
        params={**a.params, "threshold_min": 10, "siting": {"model": "mclp", "p": 3},
                "new": True},
        siting=SitingResult(sites=[site(1, 900.0), site(5, 10.0)]),
        results=ScenarioResults(coverage_share=0.7, covered_pop=70000, total_pop=100000,
                                deficits={"510104": 200.0, "510106": 50.0}),
    )
    d = diff(a, b)
    assert d.same_base
    assert d.added_only_in_a == ("new-2",) and d.added_only_in_b == ("new-9",)
    assert d.added_changed == ("new-1",)
    assert d.removed_only_in_a == ("osm-n-1",) and d.removed_only_in_b == ("osm-n-3",)
    assert d.sites_only_in_a == ("cand-0",) and d.sites_only_in_b == ("cand-5",)
    changes = {p.key: (p.a, p.b, p.in_a, p.in_b) for p in d.params}
    assert changes == {
        "new": (None, True, False, True),
        "siting.p": (2, 3, True, True),
        "siting.weights": ([1, 2], None, True, False),
        "threshold_min": (15, 10, True, True),
    }
    assert d.coverage_share_change == pytest.approx(0.075)
    assert d.covered_pop_change == pytest.approx(7500)
    exp = pd.DataFrame({"a": [1200.0, 0.0, np.nan], "b": [200.0, np.nan, 50.0]},
                       index=pd.Index(["510104", "510105", "510106"], name="unit_id"))
    exp["change"] = exp["b"] - exp["a"]
    pd.testing.assert_frame_equal(d.deficits, exp, check_index_type=False)
    text = d.summary()
    assert "threshold_min: 15 -> 10" in text and "new-9" in text

    same = diff(a, a.replace(name="A2"))
    assert not same.facilities_differ and same.params == () and same.coverage_share_change == 0
    assert not diff(a, a.replace(data_version="other")).same_base
    no_results = diff(a, a.replace(results=None))
    assert no_results.deficits is None and no_results.coverage_share_change is None


def test_store_diff_by_name(store: ScenarioStore) -> None:
    a = store.save(full_scenario("A"))
    store.save(a.as_copy("B").replace(removed=[]))
    d = store.diff("A", "B")
    assert d.removed_only_in_a == ("osm-n-1", "osm-n-2") and d.removed_only_in_b == ()
    assert d.a_name == "A" and d.b_name == "B"


# --------------------------------------------------------------------------
# GeoPackage
# --------------------------------------------------------------------------

def _decode_point_blob(blob: bytes) -> tuple[int, float, float]:
    """Independent decoder: GPKG header (no envelope) + little-endian WKB point."""
    magic, version, flags, srs_id = struct.unpack("<2sBBi", blob[:8])
    assert magic == b"GP" and version == 0
    env = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 7]
    order, gtype, x, y = struct.unpack("<BIdd", blob[8 + env:8 + env + 21])
    assert order == 1 and gtype == 1
    return srs_id, x, y


def test_file_is_a_geopackage_readable_by_gdal(store: ScenarioStore) -> None:
    s = store.save(full_scenario())
    store.save(Scenario(name="other", added=[facility(30)]))
    with sqlite3.connect(store.path) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert con.execute("PRAGMA user_version").fetchone()[0] == 10300
        contents = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents"))
        blobs = con.execute("SELECT geom, x, y FROM scenario_facilities").fetchall()
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert contents == {"scenario_facilities": "features", "scenario_sites": "features",
                        "scenarios": "attributes"}
    for blob, x, y in blobs:
        assert _decode_point_blob(blob) == (32648, x, y)

    layers = {name: gtype for name, gtype in pyogrio.list_layers(store.path)}
    assert layers == {"scenario_facilities": "Point", "scenario_sites": "Point",
                      "scenarios": None}
    fac = gpd.read_file(store.path, layer="scenario_facilities")
    assert fac.crs.to_epsg() == 32648
    mine = fac[fac["scenario_id"] == s.id].sort_values("seq")
    assert list(mine["facility_id"]) == ["new-0", "new-1", "new-2"]
    assert (mine["scenario_name"] == s.name).all()
    exp = np.array([TO_UTM.transform(a.lon, a.lat) for a in s.added])
    np.testing.assert_allclose(shapely.get_coordinates(mine.geometry), exp, atol=1e-6)
    assert mine["capacity"].iloc[0] == 120 and np.isnan(mine["capacity"].iloc[1])

    sites = gpd.read_file(store.path, layer="scenario_sites")
    assert sites.crs.to_epsg() == 32648 and list(sites["new_pop"]) == [1500.5, 820.0]
    lonlat = sites.to_crs("EPSG:4326")
    np.testing.assert_allclose(shapely.get_coordinates(lonlat.geometry),
                               [[104.08, 30.70], [104.082, 30.70]], atol=1e-9)
    table = gpd.read_file(store.path, layer="scenarios")
    assert sorted(table["name"]) == sorted([s.name, "other"])
    assert set(table.columns) >= {"id", "name", "author", "notes", "created_at", "updated_at",
                                  "params_json", "results_json", "format_version"}
    info = pyogrio.read_info(store.path, layer="scenario_facilities")
    assert info["features"] == 4
    xs = [x for _, x, _ in blobs]
    ys = [y for _, _, y in blobs]
    assert info["total_bounds"] == pytest.approx((min(xs), min(ys), max(xs), max(ys)))


RTREE_SQL = """
CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT,
  extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
INSERT INTO gpkg_extensions VALUES ('scenario_facilities', 'geom', 'gpkg_rtree_index',
  'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');
CREATE VIRTUAL TABLE rtree_scenario_facilities_geom USING rtree(id, minx, maxx, miny, maxy);
CREATE TRIGGER rtree_scenario_facilities_geom_insert AFTER INSERT ON scenario_facilities
WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_scenario_facilities_geom VALUES (NEW.fid,
    ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_scenario_facilities_geom_delete AFTER DELETE ON scenario_facilities
WHEN old.geom NOT NULL
BEGIN
  DELETE FROM rtree_scenario_facilities_geom WHERE id = OLD.fid;
END;
"""


def test_saves_keep_a_gis_spatial_index_up_to_date(store: ScenarioStore) -> None:
    # the GeoPackage rtree extension as QGIS/GDAL add it; its triggers call ST_* functions
    with sqlite3.connect(store.path) as con:
        con.executescript(RTREE_SQL)
    s = store.save(Scenario(name="indexed", added=[facility(i) for i in range(60)]))
    s = store.save(s.replace(added=s.added[:40]))
    store.save(Scenario(name="gone", added=[facility(70)]))
    store.delete("gone")
    with sqlite3.connect(store.path) as con:
        idx = con.execute("SELECT r.minx, r.maxx, r.miny, r.maxy, f.x, f.y FROM "
                          "rtree_scenario_facilities_geom r JOIN scenario_facilities f "
                          "ON f.fid = r.id").fetchall()
        n_rtree = con.execute("SELECT count(*) FROM rtree_scenario_facilities_geom").fetchone()[0]
    assert n_rtree == len(idx) == 40
    for minx, maxx, miny, maxy, x, y in idx:  # rtree stores float32-rounded outward bounds
        assert minx <= x <= maxx and miny <= y <= maxy and maxx - minx < 0.1
    # GDAL uses the index for a bounding-box query
    xs = np.array([a.x for a in s.added])
    ys = np.array([a.y for a in s.added])
    box = (xs.min() - 1, ys.min() - 1, np.median(xs), ys.max() + 1)
    expect = sorted(a.facility_id for a in s.added
                    if box[0] <= a.x <= box[2] and box[1] <= a.y <= box[3])
    got = pyogrio.read_dataframe(store.path, layer="scenario_facilities", bbox=box)
    assert 0 < len(expect) < 40 and sorted(got["facility_id"]) == expect
    assert pyogrio.read_info(store.path, layer="scenario_facilities")["capabilities"][
        "fast_spatial_filter"]


def test_store_keeps_the_project_crs(tmp_path: Path) -> None:
    path = tmp_path / "beijing.gpkg"
    st = ScenarioStore(path, crs="EPSG:32650")
    f = AddedFacility.from_lonlat("bj-1", "图书馆", "library", 116.4, 39.9, crs="EPSG:32650")
    st.save(Scenario(name="bj", crs="EPSG:32650", added=[f]))
    got = gpd.read_file(path, layer="scenario_facilities")
    assert got.crs.to_epsg() == 32650
    exp = pyproj.Transformer.from_crs(4326, 32650, always_xy=True).transform(116.4, 39.9)
    np.testing.assert_allclose(shapely.get_coordinates(got.geometry)[0], exp, atol=1e-6)
    assert ScenarioStore(path).crs == "EPSG:32650"
    with pytest.raises(InputError, match="`crs` = 'EPSG:32648'.*EPSG:32650"):
        ScenarioStore(path, crs="EPSG:32648")
    with pytest.raises(InputError, match="crs='EPSG:32650'"):
        st.save(Scenario(name="wrong crs"))


# --------------------------------------------------------------------------
# concurrency
# --------------------------------------------------------------------------

def test_stale_copy_raises_conflict(tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    first = ScenarioStore(path).save(Scenario(name="共享", params={"threshold_min": 15}))
    session_a, session_b = ScenarioStore(path), ScenarioStore(path)
    copy_a, copy_b = session_a.load(first.id), session_b.load(first.id)
    saved_b = session_b.save(copy_b.replace(params={"threshold_min": 10}))
    with pytest.raises(ScenarioConflictError, match=r"revision 1.*revision 2.*store.load"):
        session_a.save(copy_a.replace(params={"threshold_min": 20}))
    assert session_a.load(first.id) == saved_b
    # a rename by another session also makes older copies stale
    session_a.rename(first.id, "共享 改名")
    with pytest.raises(ScenarioConflictError):
        session_b.save(saved_b.replace(notes="x"))
    # reloading resolves it; keeping the stale version as a copy also works
    fresh = session_b.load(first.id)
    assert session_b.save(fresh.replace(notes="x")).revision == 4
    kept = session_a.save(copy_a.as_copy("我的版本"))
    assert kept.revision == 1 and session_a.load("我的版本").params == {"threshold_min": 15}
    # saving a scenario another session deleted is a conflict too
    session_b.delete(first.id)
    with pytest.raises(ScenarioConflictError, match="deleted"):
        session_a.save(fresh)


def test_two_sessions_in_threads_never_overwrite_each_other(tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    ScenarioStore(path)
    errors: list[BaseException] = []
    rounds = 12

    def work(label: str) -> None:
        try:
            st = ScenarioStore(path)
            s = st.save(Scenario(name=label))
            for k in range(rounds):
                s = st.save(s.replace(params={"round": k},
                                      added=[facility(i) for i in range(k + 1)]))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(label,)) for label in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    st = ScenarioStore(path)
    for label in ("甲", "乙"):
        s = st.load(label)
        assert s.revision == rounds + 1 and s.params == {"round": rounds - 1}
        assert len(s.added) == rounds
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT count(*) FROM scenario_facilities").fetchone()[0] == 2 * rounds


CHILD = textwrap.dedent("""
    import sys
    from coverage.scenario import AddedFacility, Scenario, ScenarioStore

    class PausingStore(ScenarioStore):
        def _checkpoint(self, stage):
            if stage == "half_written":
                print("ready", flush=True)
                sys.stdin.readline()

    path, target, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = PausingStore(path)
    added = [AddedFacility.from_xy(f"big-{i}", "大批量", "city_reading_room",
                                   404000.0 + i % 1000, 3394000.0 + i // 1000)
             for i in range(n)]
    if target == "NEW":
        scenario = Scenario(name="half-saved new scenario", added=added)
    else:
        scenario = store.load(target).replace(added=added, params={"threshold_min": 99},
                                              notes="big edit")
    store.save(scenario)
    print("done", flush=True)
""")


def _start_child(path: Path, target: str, n: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path), target, str(n)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"child did not reach the pause point: {line!r} {out!r} {err!r}")
    return proc


def test_killed_mid_save_leaves_previous_state(tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    st = ScenarioStore(path)
    before = st.save(full_scenario("基线"))
    other = st.save(Scenario(name="other", added=[facility(5)]))

    proc = _start_child(path, before.id, 20000)
    assert Path(str(path) + "-journal").exists()  # the transaction is in flight
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL

    proc = _start_child(path, "NEW", 5000)
    proc.kill()
    proc.communicate()

    reopened = ScenarioStore(path)
    assert reopened.load(before.id) == before
    assert reopened.load("other") == other
    assert list(reopened.list()["name"]) == ["基线", "other"]
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT count(*) FROM scenario_facilities").fetchone()[0] == 4
    assert len(gpd.read_file(path, layer="scenario_facilities")) == 4
    # the store is writable again
    assert reopened.save(before.replace(notes="after")).revision == 2


def test_another_process_and_this_one_save_different_scenarios(tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    st = ScenarioStore(path)
    theirs = st.save(Scenario(name="theirs"))
    proc = _start_child(path, theirs.id, 300)  # holds the write lock, paused mid-save
    result: dict[str, Scenario] = {}
    t = threading.Thread(target=lambda: result.setdefault(
        "mine", ScenarioStore(path).save(Scenario(name="mine", added=[facility(1)]))))
    t.start()
    proc.stdin.write("go\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=60)
    t.join(timeout=60)
    assert proc.returncode == 0 and "done" in out, err
    check = ScenarioStore(path)
    assert check.load("theirs").notes == "big edit" and len(check.load("theirs").added) == 300
    assert check.load("mine") == result["mine"]


# --------------------------------------------------------------------------
# file format versions and foreign files
# --------------------------------------------------------------------------

V1_SQL = """
CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
  identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL
  DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE,
  max_y DOUBLE, srs_id INTEGER);
CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL,
  m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name));
CREATE TABLE meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE scenarios (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL UNIQUE, notes TEXT NOT NULL DEFAULT '', study_area TEXT NOT NULL DEFAULT '',
  data_version TEXT NOT NULL DEFAULT '', crs TEXT NOT NULL, revision INTEGER NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, removed_json TEXT NOT NULL DEFAULT '[]',
  params_json TEXT NOT NULL DEFAULT '{}', siting_json TEXT, results_json TEXT,
  format_version INTEGER NOT NULL);
CREATE TABLE scenario_facilities (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom POINT,
  scenario_id TEXT NOT NULL, scenario_name TEXT NOT NULL, seq INTEGER NOT NULL,
  facility_id TEXT NOT NULL, name TEXT, name_en TEXT, type TEXT NOT NULL, capacity REAL,
  floor_area_m2 REAL, x REAL NOT NULL, y REAL NOT NULL, lon REAL NOT NULL, lat REAL NOT NULL);
CREATE TABLE scenario_sites (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom POINT,
  scenario_id TEXT NOT NULL, scenario_name TEXT NOT NULL, seq INTEGER NOT NULL,
  site_id TEXT NOT NULL, name TEXT, new_pop REAL NOT NULL, x REAL NOT NULL, y REAL NOT NULL,
  lon REAL NOT NULL, lat REAL NOT NULL);
"""


def _write_v1_file(path: Path, version: str = "1") -> tuple[float, float, float, float]:
    lon, lat = 104.07, 30.67
    x, y = TO_UTM.transform(lon, lat)
    blob = struct.pack("<2sBBi", b"GP", 0, 1, 32648) + struct.pack("<BIdd", 1, 1, x, y)
    wkt = pyproj.CRS.from_epsg(32648).to_wkt("WKT1_GDAL")
    con = sqlite3.connect(path)
    con.executescript(V1_SQL)
    con.execute("PRAGMA application_id = 1196444487")
    con.execute("PRAGMA user_version = 10300")
    con.execute("INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 / UTM zone 48N', 32648, "
                "'EPSG', 32648, ?, '')", (wkt,))
    con.executemany("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
                    "VALUES (?, ?, ?, ?)",
                    [("scenario_facilities", "features", "scenario_facilities", 32648),
                     ("scenario_sites", "features", "scenario_sites", 32648),
                     ("scenarios", "attributes", "scenarios", None)])
    con.executemany("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'POINT', 32648, 0, 0)",
                    [("scenario_facilities",), ("scenario_sites",)])
    con.executemany("INSERT INTO meta VALUES (?, ?)",
                    [("format_version", version), ("crs", "EPSG:32648")])
    con.execute("INSERT INTO scenarios (id, name, notes, study_area, data_version, crs, revision, "
                "created_at, updated_at, removed_json, params_json, format_version) VALUES "
                "('old1', '旧方案', 'n', 'chengdu_core', 'v0', 'EPSG:32648', 3, "
                "'2024-05-01T08:00:00+00:00', '2024-05-02T09:30:00+00:00', '[\"osm-1\"]', "
                "'{\"threshold_min\": 15}', 1)")
    con.execute("INSERT INTO scenario_facilities (geom, scenario_id, scenario_name, seq, "
                "facility_id, name, name_en, type, capacity, floor_area_m2, x, y, lon, lat) "
                "VALUES (?, 'old1', '旧方案', 0, 'f1', '书房', '', 'city_reading_room', NULL, "
                "250.0, ?, ?, ?, ?)", (blob, x, y, lon, lat))
    con.commit()
    con.close()
    return x, y, lon, lat


def test_v1_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.gpkg"
    x, y, lon, lat = _write_v1_file(path)
    st = ScenarioStore(path)
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT value FROM meta WHERE key='format_version'").fetchone() == \
            (str(FORMAT_VERSION),)
        cols = [r[1] for r in con.execute("PRAGMA table_info(scenarios)")]
    assert "author" in cols
    s = st.load("旧方案")
    assert s.author == "" and s.revision == 3 and s.removed == ("osm-1",)
    assert s.params == {"threshold_min": 15} and s.notes == "n"
    assert s.created_at.isoformat() == "2024-05-01T08:00:00+00:00"
    assert len(s.added) == 1
    f = s.added[0]
    assert (f.facility_id, f.x, f.y, f.floor_area_m2, f.capacity) == ("f1", x, y, 250.0, None)
    saved = st.save(s.replace(author="张工"))
    assert ScenarioStore(path).load("old1").author == "张工" and saved.revision == 4
    assert pyogrio.read_info(path, layer="scenario_facilities")["features"] == 1


def test_newer_format_asks_to_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "future.gpkg"
    _write_v1_file(path, version=str(FORMAT_VERSION + 1))
    with pytest.raises(InputError, match=r"future\.gpkg.*format version 3.*pip install -U"):
        ScenarioStore(path)
    with sqlite3.connect(path) as con:  # untouched
        assert con.execute("SELECT value FROM meta WHERE key='format_version'").fetchone() == \
            (str(FORMAT_VERSION + 1),)


def test_foreign_files_are_rejected(tmp_path: Path) -> None:
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(InputError, match=r"junk\.gpkg.*not an SQLite database.*Fix:"):
        ScenarioStore(junk)
    assert junk.read_bytes() == bytes(range(256)) * 64

    other_gpkg = tmp_path / "roads.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=32648).to_file(other_gpkg)
    with pytest.raises(InputError, match=r"roads\.gpkg.*GeoPackage without the scenario tables"):
        ScenarioStore(other_gpkg)

    plain = tmp_path / "plain.sqlite"
    with sqlite3.connect(plain) as con:
        con.execute("CREATE TABLE t (a)")
    with pytest.raises(InputError, match="not a GeoPackage"):
        ScenarioStore(plain)

    with pytest.raises(InputError, match="folder of `path` does not exist"):
        ScenarioStore(tmp_path / "missing" / "x.gpkg")
    with pytest.raises(InputError, match="`path` is a folder"):
        ScenarioStore(tmp_path)



def test_a_zero_byte_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    empty = tmp_path / "empty.gpkg"
    empty.touch()
    with pytest.raises(InputError, match=r"empty\.gpkg.*empty \(0 bytes\).*not a GeoPackage.*Fix:"):
        ScenarioStore(empty)
    assert empty.stat().st_size == 0


def test_a_damaged_store_is_an_input_error_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "damaged.gpkg"
    store = ScenarioStore(path)
    store.save(full_scenario())
    data = bytearray(path.read_bytes())
    for i in range(4096, len(data), 7):  # keep the header page, scramble the rest
        data[i] = 0xAB
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"damaged\.gpkg.*damaged.*Fix:.*backup"):
        ScenarioStore(path).list()


READONLY_CHILD = textwrap.dedent("""
    import os, sys
    from coverage.errors import InputError
    from coverage.scenario import Scenario, ScenarioStore
    if os.geteuid() == 0:  # root writes any file: drop to an ordinary user after the imports
        os.setgid(65534)
        os.setuid(65534)
    try:
        ScenarioStore(sys.argv[1]).save(Scenario(name="second"))
    except InputError as exc:
        print("InputError:", exc)
""")


def test_a_read_only_store_is_an_input_error_with_the_fix() -> None:
    import shutil
    import tempfile

    top = Path(tempfile.mkdtemp(prefix="cultcov-ro-"))  # outside pytest's private folder
    folder = top / "ro"
    folder.mkdir()
    path = folder / "ro.gpkg"
    ScenarioStore(path).save(Scenario(name="first"))
    path.chmod(0o444)
    folder.chmod(0o555)
    top.chmod(0o755)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    try:
        proc = subprocess.run([sys.executable, "-c", READONLY_CHILD, str(path)], capture_output=True,
                              text=True, env=env, cwd="/", timeout=120)
        folder.chmod(0o755)
        path.chmod(0o644)
        assert "Traceback" not in proc.stderr, proc.stderr
        assert "InputError:" in proc.stdout and "read-only" in proc.stdout and "Fix:" in proc.stdout
        assert len(ScenarioStore(path)) == 1
    finally:
        folder.chmod(0o755)
        shutil.rmtree(top)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def test_apply_edits_drops_closed_and_appends_added() -> None:
    xs, ys = TO_UTM.transform([104.05, 104.06, 104.07], [30.66, 30.67, 30.68])
    base = gpd.GeoDataFrame(
        {"facility_id": ["a", "b", "c"], "name": ["甲", "乙", "丙"], "name_en": ["", "", ""],
         "type": ["library", "museum", "theatre"], "capacity": [1.0, np.nan, 3.0],
         "floor_area_m2": [10.0, 20.0, 30.0]},
        geometry=shapely.points(xs, ys), crs="EPSG:32648", index=[10, 11, 12])
    snapshot = base.copy()
    s = Scenario(name="s", removed=["b"], added=[facility(0, capacity=5), facility(1)])
    out = apply_edits(base, s)
    pd.testing.assert_frame_equal(base, snapshot)
    assert list(out["facility_id"]) == ["a", "c", "new-0", "new-1"]
    assert list(out.index) == [0, 1, 2, 3] and out.crs == base.crs
    assert list(out.columns) == list(base.columns)
    assert out["capacity"].iloc[2] == 5 and np.isnan(out["capacity"].iloc[3])
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry[2:]),
                               [[a.x, a.y] for a in s.added])
    in_lonlat = apply_edits(base.to_crs("EPSG:4326"), s)
    np.testing.assert_allclose(shapely.get_coordinates(in_lonlat.geometry[2:]),
                               [[a.lon, a.lat] for a in s.added], atol=1e-9)
    with pytest.raises(InputError, match=r"\['zz'\] are not in the base"):
        apply_edits(base, Scenario(name="t", removed=["zz"]))
    with pytest.raises(InputError, match="already exist"):
        apply_edits(base, Scenario(name="t", added=[facility(0).__class__(
            facility_id="a", name="x", type="library", x=xs[0], y=ys[0], lon=104.05, lat=30.66)]))


def test_data_fingerprint(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("x\n1\n")
    b.write_text("y\n2\n")
    fp = data_fingerprint([a, b])
    assert fp.startswith("sha256:") and len(fp) == 7 + 16
    assert data_fingerprint([b, a]) == fp
    b.write_text("y\n3\n")
    assert data_fingerprint([a, b]) != fp
    with pytest.raises(InputError, match="does not exist"):
        data_fingerprint([tmp_path / "nope.csv"])
