"""Batch runs over many study areas on a Dask cluster.

A province planner lists one study area per county or district in a batch
config (YAML) and gets one merged shortfall table. Each area is one Dask task;
a failing area becomes a ``failed`` row in the merged output and does not stop
the others. Each finished area is written to its own part file at once
(atomically), so a crash loses at most the areas still in flight, and a rerun
with the same output folder skips the areas already done.

Batch config::

    preset: zhengzhou-2022-culture-space   # standards preset (or a catalogue file)
    areas:
      - name: 锦江区
        boundaries: jinjiang/units.geojson
        population: jinjiang/pop.tif
        facilities: jinjiang/facilities.csv
        network: jinjiang/roads.osm.pbf     # optional: proximity rules need it
      - ...

Relative paths are relative to the config file. A ``build:`` section (one
OSM file and a list of counties, a city or a province) adds one area per
county, built on the workers; see :mod:`coverage.area_batch`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from .errors import InputError, Problem
from .safe_text import spreadsheet_csv

__all__ = ["BatchResult", "load_batch_config", "run_batch", "evaluate_area"]

AreaTask = Callable[[Mapping[str, Any], Mapping[str, Any]], pd.DataFrame]


@dataclass(frozen=True)
class BatchResult:
    """Outcome of :func:`run_batch`.

    Attributes
    ----------
    table
        The merged table: the rows of every area that succeeded, plus one row
        with ``status == "failed"`` and the ``error`` for each area that failed.
        ``area_status`` is ``"ok"`` or ``"failed"`` on every row; ``status``
        keeps each rule's ``pass``/``fail``/``no_data`` on the rows of areas
        that succeeded.
    out_dir
        Folder with ``parts/`` (one CSV per finished area) and ``merged.csv``.
    succeeded, failed, skipped
        Area names by outcome (``skipped`` = already done by an earlier run).
    time_s
        Wall time of the run.
    """

    table: pd.DataFrame
    out_dir: Path
    succeeded: tuple[str, ...]
    failed: tuple[str, ...]
    skipped: tuple[str, ...]
    time_s: float


def load_batch_config(path: str | Path) -> dict:
    """Read a batch config and resolve its relative paths.

    Raises
    ------
    InputError
        When the file is missing, not YAML, or an area lacks a name or its
        required files.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise InputError(Problem("batch config not found.", file=str(path), fix="check the path"))
    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InputError(Problem(f"not valid YAML ({exc}).", file=str(path), fix="fix the YAML syntax")) from exc
    if not isinstance(cfg, Mapping):
        kind = "a list" if isinstance(cfg, list) else f"a {type(cfg).__name__}"
        raise InputError(Problem(f"the batch config is {kind}, not a mapping of settings.", file=str(path),
                                 fix="put the areas under a top-level key: `preset: ...` then `areas:` "
                                     "followed by the list of areas"))
    problems = []
    if "build" in cfg:  # areas built from one OSM file (coverage.area_batch)
        from .area_batch import expand_build_config

        cfg = expand_build_config(cfg, path.parent, file=str(path))
    areas = cfg.get("areas")
    if not isinstance(areas, list) or not areas:
        raise InputError(Problem("`areas` must be a non-empty list of study areas.", file=str(path),
                                 fix="add `areas:` with one entry per county or district"))
    names = set()
    for i, area in enumerate(areas):
        if not isinstance(area, Mapping) or not area.get("name"):
            problems.append(Problem(f"area #{i + 1} has no `name`.", file=str(path), fix="give every area a name"))
            continue
        if area["name"] in names:
            problems.append(Problem(f"area name {area['name']!r} is used twice.", file=str(path),
                                    fix="give every area a unique name"))
        names.add(area["name"])
        for key in ("boundaries", "population"):
            if key not in area and "build" not in area:
                problems.append(Problem(f"area {area['name']!r} lacks `{key}`.", file=str(path),
                                        fix=f"add a `{key}:` file path"))
    if problems:
        raise InputError(problems)
    base = path.parent
    for area in areas:
        for key in ("boundaries", "population", "facilities", "network"):
            val = area.get(key)
            if isinstance(val, str) and not Path(val).is_absolute():
                area[key] = str((base / val).resolve())
            elif isinstance(val, Mapping) and "path" in val and not Path(val["path"]).is_absolute():
                area[key] = {**val, "path": str((base / val["path"]).resolve())}
    for key in ("catalogue",):
        if isinstance(cfg.get(key), str) and not Path(cfg[key]).is_absolute():
            cfg[key] = str((base / cfg[key]).resolve())
    return cfg


def evaluate_area(area: Mapping[str, Any], settings: Mapping[str, Any]) -> pd.DataFrame:
    """Standards evaluation of one study area (the default batch task).

    Parameters
    ----------
    area
        One entry of the batch config's ``areas``.
    settings
        The batch config's top-level keys (``preset`` or ``catalogue``,
        ...); proximity rules take their mode and threshold from the rule.

    Returns
    -------
    pandas.DataFrame
        The shortfall table of :func:`coverage.standards.evaluate`.
    """
    from .study_area import load_study_area
    from .workflow import evaluate_standards

    if "build" in area:
        from .area_batch import built_area_config

        sa = load_study_area(built_area_config(area))
    else:
        sa = load_study_area(dict(area))
    preset = settings.get("catalogue") or settings.get("preset", "zhengzhou-2022-culture-space")
    return evaluate_standards(sa, preset, with_access=bool(sa.network_source)).table


def _safe_name(i: int, name: str) -> str:
    slug = re.sub(r"[^\w\-]+", "_", str(name), flags=re.UNICODE).strip("_")[:60]
    return f"{i:04d}_{slug or 'area'}"


def _write_atomic_csv(df: pd.DataFrame, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
            spreadsheet_csv(df, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _run_one(task: AreaTask, area: Mapping[str, Any], settings: Mapping[str, Any], part: str,
             parts_dir: str) -> dict:
    """Worker side: run one area and write its part file; never raises."""
    name = str(area.get("name"))
    t0 = time.perf_counter()
    try:
        table = task(area, settings)
        table = table.copy()
        table.insert(0, "area", name)
        table.insert(1, "area_status", "ok")
        if "status" not in table.columns:  # keep the rule status (pass/fail/no_data) of a shortfall table
            table["status"] = "ok"
        table["error"] = ""
        _write_atomic_csv(table, Path(parts_dir) / f"{part}.csv")
        return {"area": name, "status": "ok", "rows": len(table), "time_s": time.perf_counter() - t0}
    except Exception as exc:  # one area's failure must not stop the batch
        if isinstance(exc, InputError):
            msg = str(exc)
        else:
            msg = f"{type(exc).__name__}: {exc}"
        row = pd.DataFrame([{"area": name, "area_status": "failed", "status": "failed", "error": msg}])
        _write_atomic_csv(row, Path(parts_dir) / f"{part}.csv")
        return {"area": name, "status": "failed", "error": msg, "trace": traceback.format_exc(limit=5),
                "time_s": time.perf_counter() - t0}


def run_batch(config: Mapping[str, Any] | str | Path, out_dir: str | Path, *,
              scheduler_address: str | None = None, n_workers: int = 2, threads_per_worker: int = 1,
              task: AreaTask = evaluate_area, resume: bool = True,
              progress: Callable[[int, int, str, str], None] | None = None) -> BatchResult:
    """Run ``task`` over every area of a batch config on a Dask cluster.

    Parameters
    ----------
    config
        A batch config mapping or the path of its YAML file.
    out_dir
        Output folder; ``parts/`` receives one CSV per area as soon as it
        finishes, ``merged.csv`` the merged table at the end.
    scheduler_address
        Address of a running Dask scheduler (``tcp://host:8786``); a
        ``LocalCluster`` on this machine when None.
    n_workers, threads_per_worker
        Size of the ``LocalCluster`` (ignored with ``scheduler_address``).
    task
        Function ``(area, settings) -> DataFrame`` run for each area; it must
        be importable by the workers (a module-level function).
    resume
        Skip areas whose part file exists from an earlier run.
    progress
        Called as ``progress(done, total, area_name, status)`` after each area.
    """
    from dask.distributed import Client, LocalCluster, as_completed

    cfg = load_batch_config(config) if isinstance(config, (str, Path)) else dict(config)
    areas = list(cfg["areas"])
    if n_workers < 1:
        raise InputError(Problem(f"`n_workers` must be >= 1, got {n_workers}.", fix="pass n_workers=2"))
    settings = {k: v for k, v in cfg.items() if k != "areas"}
    out = Path(out_dir)
    parts_dir = out / "parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    part_names = [_safe_name(i, a["name"]) for i, a in enumerate(areas)]
    t0 = time.perf_counter()

    todo, skipped = [], []
    for area, part in zip(areas, part_names):
        done_path = parts_dir / f"{part}.csv"
        if resume and done_path.exists():
            prev = pd.read_csv(done_path, encoding="utf-8-sig")
            col = "area_status" if "area_status" in prev.columns else "status"
            if len(prev) and (prev[col] == "ok").all():
                skipped.append(area["name"])
                continue
        todo.append((area, part))

    cluster = None
    if scheduler_address:
        client = Client(scheduler_address)
    else:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    outcomes: list[dict] = []
    try:
        futures = [client.submit(_run_one, task, area, settings, part, str(parts_dir), pure=False, key=f"area-{part}")
                   for area, part in todo]
        by_key = {f"area-{part}": (str(area["name"]), part) for area, part in todo}
        for n, fut in enumerate(as_completed(futures), start=1):
            try:
                res = fut.result()
            except Exception as exc:  # a worker died: report the area, keep going
                name, part = by_key.get(fut.key, (str(fut.key), None))
                res = {"area": name, "status": "failed", "error": f"worker lost: {type(exc).__name__}: {exc}"}
                if part is not None:
                    _write_atomic_csv(pd.DataFrame([{"area": name, "area_status": "failed", "status": "failed",
                                                     "error": res["error"]}]), parts_dir / f"{part}.csv")
            outcomes.append(res)
            if progress is not None:
                progress(n + len(skipped), len(areas), res["area"], res["status"])
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

    frames = []
    for part in part_names:
        p = parts_dir / f"{part}.csv"
        if p.exists():
            frames.append(pd.read_csv(p, encoding="utf-8-sig", dtype={"unit_id": str}))
    merged = (pd.concat(frames, ignore_index=True) if frames
              else pd.DataFrame(columns=["area", "area_status", "status", "error"]))
    merged["error"] = merged["error"].fillna("").astype(str)
    _write_atomic_csv(merged, out / "merged.csv")
    (out / "outcomes.json").write_text(json.dumps(outcomes, ensure_ascii=False, indent=1, default=str),
                                       encoding="utf-8")
    ok = tuple(o["area"] for o in outcomes if o["status"] == "ok")
    failed = tuple(o["area"] for o in outcomes if o["status"] != "ok")
    return BatchResult(merged, out, ok, failed, tuple(skipped), time.perf_counter() - t0)


def merged_areas(table: pd.DataFrame) -> Sequence[str]:
    """Names of the areas present in a merged table."""
    return list(dict.fromkeys(table["area"]))
