"""The 2020 census (7th national census) per county, matched by adcode.

``data/census/census2020_county.csv`` holds every county-level unit of the
census. Counties created, merged or renamed since the census have other
adcodes today; ``data/census/adcode_changes.csv`` maps each such current
adcode to the census units it came from:

``rename`` / ``code``
    the same territory under another name or code: the census figure is used;
``merge``
    several census units merged: their figures are added (age shares weighted
    by population);
``split``
    the census unit was divided (or took in part of another): no exact figure
    exists, so the build stops and asks for one (``census_pop`` override).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import InputError, Problem

__all__ = ["CENSUS_TABLE", "CHANGES_TABLE", "CensusMatch", "census_for", "functional_zones"]

_DATA = Path(__file__).resolve().parent.parent / "data" / "census"
#: The shipped county table of the 2020 census.
CENSUS_TABLE = _DATA / "census2020_county.csv"
#: Adcode changes since the census.
CHANGES_TABLE = _DATA / "adcode_changes.csv"


@dataclass(frozen=True)
class CensusMatch:
    """The census figures of one current county.

    Attributes
    ----------
    adcode, name
        The county today.
    pop_census
        Residents (常住人口) on 2020-11-01.
    pct_0_14, pct_65_plus
        Age shares in percent (NaN when given by an override).
    census_units
        ``"adcode name"`` of the census rows used.
    note
        How the match was made when it was not one row under the same name
        (a rename, merge, override); ``""`` otherwise.
    """

    adcode: str
    name: str
    pop_census: int
    pct_0_14: float
    pct_65_plus: float
    census_units: tuple[str, ...]
    note: str = ""


@lru_cache(maxsize=4)
def _table(path: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"adcode": str}).set_index("adcode")


@lru_cache(maxsize=1)
def _changes() -> pd.DataFrame:
    return pd.read_csv(CHANGES_TABLE, dtype={"adcode": str, "census_adcodes": str, "year": str},
                       keep_default_na=False).set_index("adcode")


def census_for(regions: Sequence[tuple[str, str]], *, overrides: Mapping[str, float] | None = None,
               table: str | Path = CENSUS_TABLE) -> list[CensusMatch]:
    """Census figures of current counties.

    Parameters
    ----------
    regions
        ``(adcode, name)`` of each county today.
    overrides
        Residents per adcode to use instead of the table (for a county split
        after 2020, or a newer figure).
    table
        The census table (columns ``adcode``, ``county``, ``pop_total``,
        ``pct_0_14``, ``pct_65_plus``).

    Returns
    -------
    list of CensusMatch
        One per region, in order.

    Raises
    ------
    InputError
        Every county without a usable census row, naming the table, the
        adcode and what to give instead.
    """
    tab = _table(str(table))
    changes = _changes()
    overrides = {str(k): v for k, v in (overrides or {}).items()}
    out: list[CensusMatch] = []
    problems: list[Problem] = []
    fix = "pass its resident population (e.g. `--census-pop {a}=N` on the command line, `census_pop:` in a batch config) from the city's census bulletin"
    for adcode, name in regions:
        adcode = str(adcode)
        if adcode in overrides:
            pop = overrides[adcode]
            try:
                pop = float(pop)
            except (TypeError, ValueError):
                pop = float("nan")
            if not np.isfinite(pop) or pop < 0:
                problems.append(Problem(f"census override for {name} ({adcode}) is {overrides[adcode]!r}, "
                                        "not a count of residents.", fix="give a number >= 0"))
                continue
            out.append(CensusMatch(adcode, name, int(round(pop)), float("nan"), float("nan"), (),
                                   f"population {int(round(pop)):,} given by the user, not the census table"))
            continue
        if adcode in changes.index:
            ch = changes.loc[adcode]
            codes = [c for c in str(ch["census_adcodes"]).split(";") if c]
            if ch["kind"] == "split":
                problems.append(Problem(
                    f"{name} ({adcode}) has no exact 2020 census figure: {ch['note']} ({ch['year']}), after the "
                    "census.", file=str(table), fix=fix.format(a=adcode)))
                continue
            missing = [c for c in codes if c not in tab.index]
            if missing:
                problems.append(Problem(f"census rows {', '.join(missing)} for {name} ({adcode}) are missing.",
                                        file=str(table), fix=fix.format(a=adcode)))
                continue
            rows = tab.loc[codes]
            pops = rows["pop_total"].to_numpy(float)
            w = pops / pops.sum() if pops.sum() > 0 else np.full(len(pops), 1 / len(pops))
            note = f"{ch['note']}" + (f" ({ch['year']})" if ch["year"] else "") + \
                f"; census units used: {', '.join(f'{c} {n}' for c, n in zip(codes, rows['county']))}"
            out.append(CensusMatch(adcode, name, int(pops.sum()), float(np.round(w @ rows["pct_0_14"].to_numpy(float), 2)),
                                   float(np.round(w @ rows["pct_65_plus"].to_numpy(float), 2)),
                                   tuple(f"{c} {n}" for c, n in zip(codes, rows["county"])), note))
            continue
        if adcode not in tab.index:
            problems.append(Problem(f"no 2020 census row for {name} ({adcode}).", file=str(table),
                                    column="adcode", fix=fix.format(a=adcode)))
            continue
        row = tab.loc[adcode]
        note = "" if row["county"] == name else f"named {row['county']} in the 2020 census, {name} today"
        out.append(CensusMatch(adcode, name, int(row["pop_total"]), float(row["pct_0_14"]),
                               float(row["pct_65_plus"]), (f"{adcode} {row['county']}",), note))
    if problems:
        raise InputError(problems)
    return out


def functional_zones(city_adcode: str, *, table: str | Path = CENSUS_TABLE) -> pd.DataFrame:
    """Census units of a city that have no boundary of their own.

    Development zones and new districts (经济技术开发区, 高新区, 航空港区…;
    adcodes ``xxxx7x``) are counted separately in the census although their
    land lies inside the counties' polygons.

    Parameters
    ----------
    city_adcode
        The city's adcode, e.g. ``"410100"``.

    Returns
    -------
    pandas.DataFrame
        ``adcode``, ``county`` and ``pop_total`` of each such unit.
    """
    tab = _table(str(table)).reset_index()
    pre = str(city_adcode)[:4]
    m = tab["adcode"].str.startswith(pre) & (tab["adcode"].str[4] == "7")
    return tab.loc[m, ["adcode", "county", "pop_total"]].reset_index(drop=True)
