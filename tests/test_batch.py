"""Batch runs on a local Dask cluster: merged table, failures, part files, resume.

Four synthetic study areas are written to a temporary folder (square
districts as GeoJSON, population points, a facility CSV, no road network);
one has a negative population. Required counts are computed by hand from
the per-capita rule (one space per 50,000 residents in a district, per
100,000 in a county, rounded up) and existing counts by brute-force
point-in-square tests.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from coverage.batch import load_batch_config, run_batch
from coverage.cli import main
from coverage.errors import InputError

SIDE_DEG = 0.02
PER_CAPITA = {"区": 50_000, "县": 100_000}

CATALOGUE = {
    "rules": [
        {"id": "rooms-per-capita", "kind": "per_capita_count",
         "facility_type": ["city_reading_room", "culture_station"], "unit_level": ["区", "县"],
         "per_residents": dict(PER_CAPITA),
         "name_zh": "城市书房、文化驿站：区每5万人1个，县每10万人1个",
         "name_en": "Reading rooms and culture stations per residents",
         "source": {"document": "zhengzhou-2022", "section": "二(二)4"}},
        {"id": "rooms-walk-10", "kind": "proximity", "facility_type": ["city_reading_room"],
         "unit_level": ["区", "县"], "mode": "walk", "threshold_min": 10, "min_share": 1.0,
         "name_zh": "步行10分钟可达城市书房", "name_en": "A reading room within a 10-minute walk",
         "source": {"document": "gb50180-2018", "section": "十分钟生活圈居住区"}},
    ],
}

# area name -> units (name, unit_type, pop) and facilities (unit index, type, dx, dy in cell fractions)
AREAS = {
    "甲县区": {"units": [("甲一区", "区", 120_000), ("甲二区", "区", 30_000)],
              "facilities": [(0, "city_reading_room", 0.3, 0.3), (0, "culture_station", 0.7, 0.6),
                             (1, "library", 0.5, 0.5)]},
    "乙区": {"units": [("乙一区", "区", 250_001)],
            "facilities": [(0, "city_reading_room", 0.2, 0.8)]},
    "丙县": {"units": [("丙一县", "县", 150_000), ("丙二区", "区", 100_000), ("丙三区", "区", 49_999)],
            "facilities": [(1, "city_reading_room", 0.5, 0.5), (1, "city_reading_room", 0.6, 0.5),
                           (2, "museum", 0.5, 0.5)]},
    "丁区（坏）": {"units": [("丁一区", "区", 80_000)], "facilities": [], "negative": True},
}


def _write_area(folder: Path, k: int, spec: dict, *, negative: bool | None = None) -> dict:
    """Write one synthetic area; returns its batch-config entry (relative paths)."""
    folder.mkdir(parents=True, exist_ok=True)
    lon0, lat0 = 104.0 + 0.2 * k, 30.5
    negative = spec.get("negative", False) if negative is None else negative
    feats, pts = [], []
    for j, (name, utype, pop) in enumerate(spec["units"]):
        x0 = lon0 + j * SIDE_DEG
        ring = [[x0, lat0], [x0 + SIDE_DEG, lat0], [x0 + SIDE_DEG, lat0 + SIDE_DEG], [x0, lat0 + SIDE_DEG], [x0, lat0]]
        feats.append({"type": "Feature",
                      "properties": {"adcode": f"59{k:02d}{j:02d}", "name": name, "unit_type": utype, "pop": pop},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})
        for a in range(3):
            for b in range(3):
                value = -10.0 if negative and a == b == 1 else pop / 9
                pts.append({"type": "Feature", "properties": {"pop": value},
                            "geometry": {"type": "Point",
                                         "coordinates": [x0 + (a + 0.5) * SIDE_DEG / 3, lat0 + (b + 0.5) * SIDE_DEG / 3]}})
    (folder / "units.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats},
                                                     ensure_ascii=False), encoding="utf-8")
    (folder / "pop.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": pts}), encoding="utf-8")
    lines = ["facility_id,name,type,lon,lat"]
    for i, (j, ftype, dx, dy) in enumerate(spec["facilities"]):
        lines.append(f"f{k}-{i},设施{i},{ftype},{lon0 + (j + dx) * SIDE_DEG:.7f},{lat0 + dy * SIDE_DEG:.7f}")
    if len(lines) == 1:  # a facility outside every unit keeps the file non-empty
        lines.append(f"f{k}-x,外部书房,city_reading_room,{lon0 - 0.005:.7f},{lat0 - 0.005:.7f}")
    (folder / "facilities.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"name": None, "boundaries": f"{folder.name}/units.geojson", "population": f"{folder.name}/pop.geojson",
            "facilities": f"{folder.name}/facilities.csv"}


def _expected_rows() -> pd.DataFrame:
    """Hand-computed required/existing counts of the per-capita rule for the good areas."""
    rows = []
    for k, (area, spec) in enumerate(AREAS.items()):
        if spec.get("negative"):
            continue
        lon0 = 104.0 + 0.2 * k
        for j, (name, utype, pop) in enumerate(spec["units"]):
            x0, x1 = lon0 + j * SIDE_DEG, lon0 + (j + 1) * SIDE_DEG
            existing = 0
            for jj, ftype, dx, dy in spec["facilities"]:
                lon = lon0 + (jj + dx) * SIDE_DEG
                if ftype in ("city_reading_room", "culture_station") and x0 < lon < x1 and 0 < dy < 1:
                    existing += 1
            required = math.ceil(pop / PER_CAPITA[utype])
            rows.append({"area": area, "unit": name, "pop": float(pop), "required": float(required),
                         "existing": float(existing), "deficit": float(max(0, required - existing))})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("batch")
    (root / "rules.yaml").write_text(yaml.safe_dump(CATALOGUE, allow_unicode=True), encoding="utf-8")
    areas = []
    for k, (name, spec) in enumerate(AREAS.items()):
        entry = _write_area(root / f"area{k}", k, spec)
        entry["name"] = name
        areas.append(entry)
    cfg = {"catalogue": "rules.yaml", "mode": "walk", "areas": areas}
    (root / "batch.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return root


def test_config_paths_are_resolved_relative_to_the_file(batch_dir):
    cfg = load_batch_config(batch_dir / "batch.yaml")
    assert cfg["catalogue"] == str((batch_dir / "rules.yaml").resolve())
    assert cfg["areas"][1]["boundaries"] == str((batch_dir / "area1" / "units.geojson").resolve())
    assert [a["name"] for a in cfg["areas"]] == list(AREAS)


def test_broken_configs_are_refused_with_every_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"areas": [{"name": "a"}, {"boundaries": "x.geojson"},
                                             {"name": "a", "boundaries": "b", "population": "p"}]}),
                   encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_batch_config(bad)
    text = str(err.value)
    assert "lacks `boundaries`" in text and "lacks `population`" in text
    assert "has no `name`" in text and "used twice" in text
    with pytest.raises(InputError, match="non-empty list"):
        load_batch_config(_write(tmp_path / "empty.yaml", "preset: x\nareas: []\n"))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_batch_broken_config_exits_2(tmp_path, capsys):
    code = main(["batch", str(_write(tmp_path / "b.yaml", "areas: [1, 2\n")), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert "b.yaml" in err and "YAML" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
    code = main(["batch", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o")])
    assert code == 2 and "missing.yaml" in capsys.readouterr().err


@pytest.mark.slow
def test_batch_on_local_cluster_then_resume_from_the_command_line(batch_dir, capsys):
    out = batch_dir / "out"
    parts = out / "parts"
    seen: list[tuple[int, int, str, str, int]] = []

    def progress(done: int, total: int, name: str, status: str) -> None:
        # the part file of every finished area is on disk when its progress is reported
        seen.append((done, total, name, status, len(list(parts.glob("*.csv")))))

    res = run_batch(batch_dir / "batch.yaml", out, n_workers=2, threads_per_worker=1, progress=progress)

    # outcomes
    assert set(res.succeeded) == {"甲县区", "乙区", "丙县"}
    assert res.failed == ("丁区（坏）",)
    assert res.skipped == ()
    assert sorted(d for d, *_ in seen) == [1, 2, 3, 4] and all(t == 4 for _, t, *_ in seen)
    assert all(n_files >= done for done, _, _, _, n_files in seen)

    # part files: one per area, written atomically (no temporary files left)
    files = sorted(p.name for p in parts.iterdir())
    assert len(files) == 4 and all(f.endswith(".csv") and not f.startswith(".tmp") for f in files)

    table = res.table
    merged = pd.read_csv(out / "merged.csv", encoding="utf-8-sig", dtype={"unit_id": str})
    assert len(merged) == len(table)

    # the failed area: one row naming the problem and the file
    failed = table[table["area_status"] == "failed"]
    assert len(failed) == 1 and failed.iloc[0]["area"] == "丁区（坏）"
    assert failed.iloc[0]["status"] == "failed"
    assert "negative" in failed.iloc[0]["error"] and "pop.geojson" in failed.iloc[0]["error"]

    # good areas: hand-computed counts, rule statuses kept
    ok = table[table["area_status"] == "ok"]
    assert (ok["error"] == "").all()
    per_cap = ok[ok["rule_id"] == "rooms-per-capita"].set_index(["area", "unit"]).sort_index()
    exp = _expected_rows().set_index(["area", "unit"]).sort_index()
    assert list(per_cap.index) == list(exp.index)
    for col in ("pop", "required", "existing", "deficit"):
        assert per_cap[col].astype(float).tolist() == exp[col].tolist(), col
    assert per_cap.loc[("丙县", "丙一县"), "required"] == 2.0  # county: 150,000 / 100,000 -> 2
    assert per_cap.loc[("乙区", "乙一区"), "required"] == 6.0  # 250,001 / 50,000 -> 6
    expected_status = ["pass" if d == 0 else "fail" for d in exp["deficit"]]
    assert per_cap["status"].tolist() == expected_status
    prox = ok[ok["rule_id"] == "rooms-walk-10"]
    assert len(prox) == len(exp) and (prox["status"] == "no_data").all()  # no road network

    # rerun from the command line: the three areas done are skipped, the broken one runs again
    before = {p.name: p.stat().st_mtime_ns for p in parts.iterdir()}
    capsys.readouterr()
    code = main(["batch", str(batch_dir / "batch.yaml"), "--out", str(out), "--workers", "2", "-q"])
    text = capsys.readouterr().out
    assert code == 0  # per-area failures are reported, not fatal
    assert "ok 0, failed 1, skipped (done before) 3" in text
    assert str(out / "merged.csv") in text
    assert "丁区（坏）:" in text and "negative" in text
    after = {p.name: p.stat().st_mtime_ns for p in parts.iterdir()}
    assert [n for n in after if after[n] != before[n]] == ["0003_丁区_坏.csv"]
    merged = pd.read_csv(out / "merged.csv", encoding="utf-8-sig", dtype={"unit_id": str})
    assert len(merged) == len(table)
    again = merged[merged["rule_id"] == "rooms-per-capita"].set_index(["area", "unit"]).sort_index()
    assert again["required"].tolist() == exp["required"].tolist()


def test_batch_config_that_is_a_yaml_list_exits_2_with_the_fix(tmp_path, capsys):
    cfg = _write(tmp_path / "list.yaml", "- name: a\n  boundaries: a.geojson\n  population: a.tif\n")
    with pytest.raises(InputError, match=r"list\.yaml.*a list, not a mapping.*Fix:.*areas:"):
        load_batch_config(cfg)
    code = main(["batch", str(cfg), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "areas:" in err and "internal error" not in err
