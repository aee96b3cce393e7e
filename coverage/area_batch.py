"""Batch configs that build their study areas from one OSM file.

A ``build:`` section in a batch config lists counties (or a city or a whole
province) and one OSM file; every county becomes one area of the batch. Each
Dask task builds its county's area folder (:func:`coverage.area_build.build_area`)
when it is not there yet, then evaluates it like any other area::

    preset: zhengzhou-2022-culture-space
    build:
      osm: hunan-latest.osm.pbf
      province: 430000          # every county of the province; or
      # city: 430900            # every county of a city; or
      # counties: [430902, 资阳区]
      areas_dir: hunan-areas/   # one folder per county (default: areas/ beside the config)
      buffer_km: 3
      census_pop: {330113: 1175010}   # counties split after the 2020 census

Relative paths are relative to the config file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from .errors import InputError, Problem

__all__ = ["expand_build_config", "built_area_config"]


def expand_build_config(cfg: Mapping[str, Any], base: Path, *, file: str | None = None) -> dict:
    """Add one area per county of ``cfg["build"]`` to ``cfg["areas"]``.

    Parameters
    ----------
    cfg
        The batch config.
    base
        Folder relative paths start from.
    file
        The config file's name, for error messages.

    Returns
    -------
    dict
        The config with ``areas`` extended; each new area has ``name``
        (``"资阳区 430902"``) and ``build`` (``adcode``, ``osm``, ``out``,
        ``buffer_m``, ``census_pop``).

    Raises
    ------
    InputError
        No OSM file, no counties, an unknown name or adcode.
    """
    from .admin_regions import list_regions, resolve_counties

    b = cfg.get("build")
    if not isinstance(b, Mapping):
        raise InputError(Problem("`build` must be a mapping with `osm` and `province`, `city` or `counties`.",
                                 file=file, fix="see the batch config example in the README"))

    def path(v: Any) -> Path:
        p = Path(str(v))
        return p if p.is_absolute() else (base / p).resolve()

    problems = []
    if not b.get("osm"):
        problems.append(Problem("`build` lacks `osm`.", file=file, fix="add `osm: <province>-latest.osm.pbf`"))
    regions = []
    if b.get("province"):
        regions += list_regions("county", str(b["province"]))
    if b.get("city"):
        regions += resolve_counties([str(b["city"])])
    if b.get("counties"):
        regions += resolve_counties([str(c) for c in b["counties"]])
    if not regions:
        problems.append(Problem("`build` names no county.", file=file,
                                fix="add `province: 430000`, `city: 430900` or `counties: [430902]`"))
    if problems:
        raise InputError(problems)
    out_dir = path(b.get("areas_dir", "areas"))
    census_pop = {str(k): v for k, v in (b.get("census_pop") or {}).items()}
    areas = list(cfg.get("areas") or [])
    seen = set()
    for r in regions:
        if r.adcode in seen:
            continue
        seen.add(r.adcode)
        areas.append({"name": f"{r.name} {r.adcode}", "build": {
            "adcode": r.adcode, "osm": str(path(b["osm"])), "out": str(out_dir / r.adcode),
            "buffer_m": float(b.get("buffer_km", 3.0)) * 1000.0, "cell_m": float(b.get("cell_m", 200.0)),
            "census_pop": {k: v for k, v in census_pop.items() if k == r.adcode}}})
    return {**{k: v for k, v in cfg.items() if k != "build"}, "areas": areas}


def built_area_config(area: Mapping[str, Any]) -> Path:
    """Build the area of a ``build`` entry unless its folder exists; return its ``area.yaml``."""
    from .area_build import build_area

    b = area["build"]
    out = Path(b["out"])
    cfg = out / "area.yaml"
    if not cfg.is_file():
        build_area(out, osm=b["osm"], counties=[b["adcode"]], buffer_m=float(b.get("buffer_m", 3000.0)),
                   cell_m=float(b.get("cell_m", 200.0)), census_pop=b.get("census_pop") or None,
                   overwrite=out.exists())
    return cfg
