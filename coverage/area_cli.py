"""``cultcov area``: build a study area, or list the places one can be built for.

``cultcov area build --county 资阳区 --osm hunan-latest.osm.pbf --out ziyang/``
``cultcov area build --adcode 410100 --osm henan-latest.osm.pbf --out zhengzhou/``
``cultcov area list [--parent 430900]``
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable, TextIO

from .errors import InputError, Problem

__all__ = ["add_arguments", "run", "parse_census_pop"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the ``area`` subcommand's arguments to ``p``."""
    p.add_argument("action", choices=("build", "list"),
                   help="build: make a study-area folder; list: provinces, cities or counties with adcodes")
    p.add_argument("--county", action="append", default=[], metavar="NAME",
                   help="county name, e.g. 资阳区 or 益阳市资阳区; repeat for several / 区县名称")
    p.add_argument("--adcode", action="append", default=[], metavar="CODE[,CODE]",
                   help="county adcode(s) (430902), or a city's (410100) for all its districts / 行政区划代码")
    p.add_argument("--osm", metavar="FILE.osm.pbf", help="local OpenStreetMap file, e.g. a province extract")
    p.add_argument("--out", metavar="DIR", help="the study-area folder to create / 输出目录")
    p.add_argument("--units", metavar="FILE", help="sub-county units (街道/乡镇) polygons / 街道乡镇边界")
    p.add_argument("--facilities", metavar="FILE", help="your facility file / 设施文件")
    p.add_argument("--population", metavar="FILE",
                   help="population raster (WorldPop GeoTIFF) or polygons with `pop`, instead of the census grid")
    p.add_argument("--facilities-mode", choices=("extend", "replace"), default="extend",
                   help="extend: add to (or correct) the OSM facilities; replace: use only the file")
    p.add_argument("--census-pop", action="append", default=[], metavar="ADCODE=N",
                   help="residents of a county with no 2020 census row (split after 2020)")
    p.add_argument("--buffer-km", type=float, default=3.0, metavar="KM",
                   help="roads and facilities kept beyond the county border (default 3)")
    p.add_argument("--cell", type=float, default=200.0, metavar="M", help="population grid cell in metres (200)")
    p.add_argument("--osm-bounds", metavar="W,S,E,N",
                   help="the extract's bounds when known (otherwise estimated from the data)")
    p.add_argument("--name", help="short name of the area")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    p.add_argument("--parent", metavar="ADCODE", help="list: regions inside this province or city")


def parse_census_pop(values: list[str]) -> dict[str, float]:
    """``["330113=1175010"]`` -> ``{"330113": 1175010.0}``; bad items raise."""
    out: dict[str, float] = {}
    problems = []
    for v in values:
        code, sep, num = str(v).partition("=")
        try:
            n = float(num.replace(",", ""))
        except ValueError:
            n = -1.0
        if not sep or len(code.strip()) != 6 or not code.strip().isdigit() or n < 0:
            problems.append(Problem(f"`--census-pop {v}` is not ADCODE=RESIDENTS.",
                                    fix="write e.g. --census-pop 330113=1175010"))
            continue
        out[code.strip()] = n
    if problems:
        raise InputError(problems)
    return out


def _bounds(text: str | None):
    if not text:
        return None
    try:
        vals = [float(x) for x in text.split(",")]
    except ValueError:
        vals = []
    if len(vals) != 4 or not (vals[0] < vals[2] and vals[1] < vals[3]):
        raise InputError(Problem(f"`--osm-bounds {text}` is not W,S,E,N in degrees.",
                                 fix="write e.g. --osm-bounds 104.0421,30.6528,104.1296,30.7279"))
    return tuple(vals)


def run(args: argparse.Namespace, out: TextIO, progress_factory: Callable | None = None) -> int:
    """Run ``cultcov area``; returns the exit code."""
    if args.action == "list":
        from .admin_regions import list_regions

        parent = args.parent
        if parent is None:
            regs = list_regions("province")
        elif str(parent).endswith("0000"):
            regs = list_regions("city", parent) or list_regions("county", parent)
        else:
            regs = list_regions("county", parent)
        for r in regs:
            print(f"{r.adcode}\t{r.name}\t{r.level}", file=out)
        return 0
    problems = []
    queries = list(args.county) + [c.strip() for a in args.adcode for c in str(a).split(",") if c.strip()]
    if not queries:
        problems.append(Problem("no county given.", fix="pass --county NAME or --adcode CODE"))
    if not args.osm:
        problems.append(Problem("`--osm` is missing.", fix="give a local .osm.pbf file, e.g. --osm hunan-latest.osm.pbf"))
    if not args.out:
        problems.append(Problem("`--out` is missing.", fix="give the folder to create, e.g. --out ziyang/"))
    if args.buffer_km < 0 or args.cell <= 0:
        problems.append(Problem("`--buffer-km` must be >= 0 and `--cell` > 0.", fix="e.g. --buffer-km 3 --cell 200"))
    if problems:
        raise InputError(problems)
    census_pop = parse_census_pop(args.census_pop)
    bounds = _bounds(args.osm_bounds)
    from .area_build import build_area

    bar = progress_factory() if progress_factory is not None else None
    try:
        res = build_area(Path(args.out), osm=Path(args.osm), counties=queries, units_file=args.units,
                         facilities=args.facilities, facilities_mode=args.facilities_mode,
                         population=args.population,
                         census_pop=census_pop, buffer_m=args.buffer_km * 1000.0, cell_m=args.cell,
                         osm_bounds=bounds, name=args.name, overwrite=args.overwrite,
                         progress=bar.fraction if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    print("\n".join(res.report), file=out)
    print("", file=out)
    print(f"study area / 研究区: {res.config}", file=out)
    print(f"next / 下一步: cultcov standards --study {res.config}", file=out)
    return 0
