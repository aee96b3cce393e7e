"""Planning-standards catalogue and per-unit evaluation (the shortfall table).

Standards are data: the built-in catalogue is ``data/standards/catalogue.yaml``
(rules, the documents they come from, and named presets); a user can load a
YAML file of their own with the same layout. Each rule is a :class:`Rule`;
:func:`evaluate` checks a set of administrative units and their facilities
against a set of rules and returns an :class:`Evaluation` whose ``table`` has
one row per (unit, rule) pair where the rule applies to the unit's level.

Rule kinds
----------
``per_capita_count``
    At least one facility per ``per_residents`` residents; the divisor may
    depend on the unit type (``{区: 50000, 县: 100000}``). Required count is
    the ceiling of ``pop / per_residents``.
``per_capita_quantity``
    ``amount`` of a facility attribute ``column`` (floor area, volumes, ...)
    per ``per_residents`` residents, summed over the unit's facilities.
``presence``
    At least ``min_count`` facilities in every unit (``min_count`` may depend
    on the unit type). With ``unit_column`` the count is read from that unit
    attribute (teams, volunteers, performances) instead of from facilities.
``share_of_units``
    At least ``min_share`` of the units of the level have ``min_count``
    facilities; per-unit rows say whether each unit has one, the verdict is
    in :attr:`Evaluation.totals`.
``share_of_facilities``
    At least ``min_share`` of the rule's facilities meet ``filter`` (a grade,
    a blind-readers room); checked once over the study area.
``proximity``
    At least ``min_share`` of residents reach a facility within
    ``threshold_min`` minutes by ``mode``; needs ``access`` (see
    :func:`evaluate`).
``per_capita_rate``
    ``rate`` items per ``per_residents`` residents, read from the unit
    attribute ``column``; reported as "no data" when the column is absent.

A rule whose ``unit_level`` is ``[市]`` is checked once over all units
together (one row, unit ``全市``).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
import yaml

from .errors import InputError, ProblemCollector

#: Canonical facility types.
FACILITY_TYPES: tuple[str, ...] = (
    "library", "cultural_centre", "culture_station", "city_reading_room", "museum",
    "art_gallery", "theatre", "science_museum", "workers_palace", "other",
)
#: Unit types a rule may apply to, from district level down to village.
UNIT_TYPES: tuple[str, ...] = ("区", "县", "县级市", "街道", "乡镇", "社区", "村")
#: The level meaning "the whole study area at once".
CITY_LEVEL = "市"
#: Rule kinds understood by :func:`evaluate`.
KINDS: tuple[str, ...] = (
    "per_capita_count", "per_capita_quantity", "presence", "share_of_units",
    "share_of_facilities", "proximity", "per_capita_rate",
)
#: Travel modes a proximity rule may name.
MODES: tuple[str, ...] = ("walk", "bike", "drive", "transit")

#: Census ``unit_type`` codes (``data/census``) and their unit types.
CENSUS_UNIT_TYPES: Mapping[str, str] = {
    "district": "区", "county": "县", "county_level_city": "县级市",
    "street": "街道", "township": "乡镇", "community": "社区", "village": "村",
}
_FUNCTIONAL_ZONE = ("functional_zone", "功能区")
_CITY_TOTAL = ("city_total", "市", "全市")

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "standards"
CATALOGUE_PATH = DATA_DIR / "catalogue.yaml"
COSTS_PATH = DATA_DIR / "costs.yaml"

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_COMMON_KEYS = {"id", "kind", "facility_type", "unit_level", "name_zh", "name_en", "source", "filter"}
_KIND_KEYS: dict[str, set[str]] = {
    "per_capita_count": {"per_residents"},
    "per_capita_quantity": {"column", "amount", "per_residents"},
    "presence": {"min_count", "max_count", "unit_column"},
    "share_of_units": {"min_share", "min_count"},
    "share_of_facilities": {"min_share"},
    "proximity": {"mode", "threshold_min", "min_share"},
    "per_capita_rate": {"column", "rate", "rate_max", "per_residents"},
}


# --------------------------------------------------------------------------- model
@dataclass(frozen=True)
class Source:
    """The document a rule comes from.

    Parameters
    ----------
    title
        Document title, without book-title marks.
    issuer
        Issuing body.
    year
        Year of issue.
    section
        Section of the document the rule is taken from (e.g. ``专项工作3``).
    doc_number
        Official document number, if any.
    note
        Anything the reader should know about the citation.
    """

    title: str
    issuer: str
    year: int | None
    section: str = ""
    doc_number: str = ""
    note: str = ""

    def cite(self, lang: str = "zh") -> str:
        """One-line citation: title, issuer, year, number and section."""
        bits = [self.issuer, str(self.year) if self.year else "", self.doc_number]
        head = f"《{self.title}》（{'，'.join(b for b in bits if b)}）"
        if self.section:
            head += (" " if lang == "zh" else ", section ") + self.section
        return head


@dataclass(frozen=True)
class FacilityFilter:
    """Count only facilities whose ``column`` meets every given bound."""

    column: str
    min: float | None = None
    max: float | None = None
    equals: Any = None

    def mask(self, facilities: pd.DataFrame) -> pd.Series:
        """Boolean mask of the facilities that meet the filter (NaN fails)."""
        col = facilities[self.column]
        ok = pd.Series(True, index=facilities.index)
        if self.equals is not None:
            ok &= col.map(lambda v: _same(v, self.equals)).astype(bool)
        if self.min is not None or self.max is not None:
            num = pd.to_numeric(col, errors="coerce")
            if self.min is not None:
                ok &= num >= self.min
            if self.max is not None:
                ok &= num <= self.max
        return ok

    def describe(self) -> str:
        """Short text such as ``grade <= 3``."""
        parts = []
        if self.equals is not None:
            parts.append(f"{self.column} = {self.equals}")
        if self.min is not None:
            parts.append(f"{self.column} >= {_fmt(self.min)}")
        if self.max is not None:
            parts.append(f"{self.column} <= {_fmt(self.max)}")
        return " and ".join(parts)


def _same(value: Any, target: Any) -> bool:
    if isinstance(target, bool):
        if isinstance(value, str):
            return value.strip().lower() in (("true", "1", "yes", "是") if target else ("false", "0", "no", "否"))
        try:
            return (not pd.isna(value)) and bool(value) == target
        except (TypeError, ValueError):
            return False
    return value == target


@dataclass(frozen=True)
class Rule:
    """One planning rule.

    Parameters
    ----------
    id
        Unique id in its catalogue.
    kind
        One of :data:`KINDS`.
    facility_types
        Canonical facility types the rule counts.
    unit_level
        Unit types the rule applies to (:data:`UNIT_TYPES`), or ``("市",)``.
    name_zh, name_en
        Display names.
    source
        The document the rule comes from.
    per_residents
        Divisor: a number, or a mapping from unit type to number.
    amount
        Quantity required per ``per_residents`` (``per_capita_quantity``).
    column
        Facility attribute (``per_capita_quantity``) or unit attribute
        (``per_capita_rate``) that holds the quantity.
    min_count
        Facilities required per unit: a number or a mapping by unit type.
    max_count
        Upper bound stated by the document (reported, not enforced).
    unit_column
        Unit attribute that holds the count for ``presence`` rules about
        teams, volunteers or events rather than buildings.
    min_share
        Share (0-1) of units, facilities or residents required.
    mode, threshold_min
        Travel mode and time for ``proximity`` rules.
    rate, rate_max
        Lower (passing) and upper target for ``per_capita_rate`` rules.
    filter
        Count only facilities that meet this filter.
    info
        Other parameters kept for display (target year, baseline, radius).
    """

    id: str
    kind: str
    facility_types: tuple[str, ...]
    unit_level: tuple[str, ...]
    name_zh: str
    name_en: str
    source: Source
    per_residents: float | Mapping[str, float] | None = None
    amount: float | None = None
    column: str | None = None
    min_count: float | Mapping[str, float] | None = None
    max_count: float | None = None
    unit_column: str | None = None
    min_share: float | None = None
    mode: str | None = None
    threshold_min: float | None = None
    rate: float | None = None
    rate_max: float | None = None
    filter: FacilityFilter | None = None
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def citywide(self) -> bool:
        """True when the rule is checked once over the whole study area."""
        return self.kind == "share_of_facilities" or CITY_LEVEL in self.unit_level

    def name(self, lang: str = "zh") -> str:
        """The rule's display name in ``lang``."""
        return self.name_en if lang == "en" else self.name_zh

    def applies_to(self, unit_type: str) -> bool:
        """Whether the rule applies to units of ``unit_type``."""
        return self.citywide or unit_type in self.unit_level

    def divisor(self, unit_type: str) -> float:
        """Residents per required facility or quantity for ``unit_type``."""
        return float(_by_type(self.per_residents, unit_type))

    def required_count(self, unit_type: str) -> float:
        """``min_count`` for ``unit_type``."""
        return float(_by_type(self.min_count if self.min_count is not None else 1, unit_type))

    def describe(self, lang: str = "zh") -> str:
        """The parameters used, as one line of text."""
        zh = lang != "en"
        p: list[str] = []
        if self.kind == "per_capita_count":
            p.append(("每个设施对应人口 " if zh else "residents per facility ") + _fmt_map(self.per_residents))
        elif self.kind == "per_capita_quantity":
            p.append(f"{self.column} {_fmt(self.amount)} / {_fmt(self.per_residents)} "
                     + ("人" if zh else "residents"))
        elif self.kind in ("presence", "share_of_units"):
            p.append(("每单元至少 " if zh else "at least per unit ") + _fmt_map(self.min_count if self.min_count is not None else 1))
            if self.unit_column:
                p.append(("单元字段 " if zh else "unit column ") + self.unit_column)
            if self.max_count is not None:
                p.append(("至多 " if zh else "at most ") + _fmt(self.max_count))
        elif self.kind == "per_capita_rate":
            rng = _fmt(self.rate) + (f"–{_fmt(self.rate_max)}" if self.rate_max is not None else "")
            p.append(f"{self.column} {rng} / {_fmt(self.per_residents)} " + ("人" if zh else "residents"))
        elif self.kind == "proximity":
            p.append((f"{self.mode} {_fmt(self.threshold_min)} 分钟" if zh
                      else f"{self.mode} {_fmt(self.threshold_min)} min"))
        if self.min_share is not None:
            p.append(("达标比例 ≥ " if zh else "share >= ") + f"{self.min_share:.0%}")
        if self.filter is not None:
            p.append(("条件 " if zh else "filter ") + self.filter.describe())
        p.append(("设施类型 " if zh else "facility types ") + ", ".join(self.facility_types))
        p.append(("适用层级 " if zh else "unit level ") + ", ".join(self.unit_level))
        for k, v in self.info.items():
            p.append(f"{k} {_fmt_map(v)}")
        return "; ".join(p)


def _by_type(value: Any, unit_type: str) -> Any:
    if isinstance(value, Mapping):
        return value[unit_type]
    return value


def _fmt(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def _fmt_map(v: Any) -> str:
    if isinstance(v, Mapping):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return "–".join(_fmt(x) for x in v)
    return _fmt(v)


@dataclass(frozen=True)
class Catalogue:
    """A set of rules loaded from a preset or a file; iterable over rules.

    Attributes
    ----------
    rules
        The rules, in file order.
    preset
        The preset id the rules were selected by, if any.
    path
        The file the rules were read from.
    name_zh, name_en
        Display name of the preset (or the file name).
    """

    rules: tuple[Rule, ...]
    preset: str | None
    path: Path
    name_zh: str = ""
    name_en: str = ""

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __getitem__(self, rule_id: str | int) -> Rule:
        if isinstance(rule_id, int):
            return self.rules[rule_id]
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(f"no rule `{rule_id}`; the catalogue has {', '.join(self.ids)}")

    @property
    def ids(self) -> tuple[str, ...]:
        """Rule ids in order."""
        return tuple(r.id for r in self.rules)


@dataclass(frozen=True)
class Preset:
    """A named subset of the built-in catalogue."""

    id: str
    name_zh: str
    name_en: str
    rule_ids: tuple[str, ...]


# --------------------------------------------------------------------------- loading
class _LineLoader(yaml.SafeLoader):
    """Safe YAML loader that records the line of every mapping in ``__line__``."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip_lines(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_lines(v) for k, v in obj.items() if k != "__line__"}
    if isinstance(obj, list):
        return [_strip_lines(v) for v in obj]
    return obj


#: Parsed YAML files by (path, modification time, size): the catalogue is read on every
#: evaluation, and parsing it costs about 0.1 s.
_YAML_CACHE: dict[tuple[str, int, int], Any] = {}
_YAML_CACHE_LOCK = threading.Lock()


def _read_yaml(path: Path) -> Any:
    """The parsed file (a fresh copy: callers may change it)."""
    try:
        stat = path.stat()
        key = (str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)
        with _YAML_CACHE_LOCK:
            if key in _YAML_CACHE:
                return copy.deepcopy(_YAML_CACHE[key])
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read standards file `{path}`: {exc.strerror}.",
                         fix="pass an existing YAML file or a preset id from list_presets()") from exc
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InputError(f"`{path}` is not valid YAML: {exc}",
                         fix="fix the YAML syntax at the line shown") from exc
    with _YAML_CACHE_LOCK:
        if len(_YAML_CACHE) >= 32:
            _YAML_CACHE.clear()
        _YAML_CACHE[key] = data
    return copy.deepcopy(data)


def list_presets() -> list[Preset]:
    """The presets of the built-in catalogue, plus ``all`` (every rule).

    Returns
    -------
    list of Preset
    """
    raw = _strip_lines(_read_yaml(CATALOGUE_PATH))
    out = [Preset(pid, p.get("name_zh", pid), p.get("name_en", pid), tuple(p.get("rules", [])))
           for pid, p in (raw.get("presets") or {}).items()]
    out.append(Preset("all", "全部规划标准", "All planning standards",
                      tuple(r["id"] for r in raw.get("rules", []))))
    return out


def load_catalogue(preset_or_path: str | Path = "all", *, preset: str | None = None) -> Catalogue:
    """Load rules from a built-in preset or a user's YAML file.

    Parameters
    ----------
    preset_or_path
        A preset id of the built-in catalogue (see :func:`list_presets`), or
        the path of a YAML file with ``rules`` (and optionally ``sources`` and
        ``presets``) in the layout of ``data/standards/catalogue.yaml``.
    preset
        With a file path: select this preset of the file instead of every
        rule in it.

    Returns
    -------
    Catalogue
        Iterable over :class:`Rule`.

    Raises
    ------
    InputError
        Listing every problem found, each naming the rule id, its line and
        the field (unknown kind, missing divisor, negative value, unknown
        unit or facility type, duplicate id, unknown preset).
    """
    arg = str(preset_or_path)
    is_file = isinstance(preset_or_path, Path) or arg.endswith((".yaml", ".yml")) or Path(arg).is_file()
    if is_file:
        path = Path(arg)
        chosen = preset
    else:
        if preset is not None:
            raise InputError("`preset` is only used with a file path.",
                             fix=f"call load_catalogue({arg!r}) without `preset`")
        path, chosen = CATALOGUE_PATH, arg
    raw = _read_yaml(path)
    pc = ProblemCollector(file=str(path))
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list):
        pc.add("the file has no `rules` list.", column="rules",
               fix="put the rules under a top-level `rules:` key, one mapping per rule")
        pc.raise_if_any()
    sources = {} if path == CATALOGUE_PATH else dict(_strip_lines(_read_yaml(CATALOGUE_PATH)).get("sources") or {})
    own_sources = raw.get("sources") or {}
    if not isinstance(own_sources, dict):
        pc.add("`sources` must be a mapping from a document id to its title, issuer and year.",
               column="sources", fix="write `sources: {my-doc: {title: ..., issuer: ..., year: ...}}`")
        own_sources = {}
    sources.update(_strip_lines(own_sources))

    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw["rules"]):
        rule = _parse_rule(item, i, sources, seen, pc)
        if rule is not None:
            rules.append(rule)

    presets = {k: v for k, v in (raw.get("presets") or {}).items() if k != "__line__"}
    name_zh = name_en = path.stem
    if chosen is not None and chosen != "all":
        if chosen not in presets:
            known = ", ".join(list(presets) + ["all"])
            pc.add(f"unknown preset `{chosen}`.", column="preset", fix=f"use one of: {known}")
            pc.raise_if_any()
        p = presets[chosen]
        ids = list(p.get("rules") or [])
        known_ids = {r["id"] for r in raw["rules"] if isinstance(r, dict) and "id" in r}
        for rid in ids:
            if rid not in known_ids:
                pc.add(f"preset `{chosen}` lists unknown rule `{rid}` (line {p.get('__line__', '?')}).",
                       column="presets", fix="add the rule under `rules` or remove it from the preset")
        pc.raise_if_any()
        order = {rid: k for k, rid in enumerate(ids)}
        rules = sorted((r for r in rules if r.id in order), key=lambda r: order[r.id])
        name_zh, name_en = p.get("name_zh", chosen), p.get("name_en", chosen)
    elif chosen == "all":
        name_zh, name_en = "全部规划标准", "All planning standards"
    pc.raise_if_any()
    return Catalogue(tuple(rules), chosen, path, name_zh, name_en)


def _num(pc: ProblemCollector, where: str, fieldname: str, value: Any, *, positive: bool,
         upto_one: bool = False) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        pc.add(f"{where}: `{fieldname}` = {value!r} is not a number.", column=fieldname,
               fix="write a plain number such as 50000")
        return None
    if value < 0:
        pc.add(f"{where}: `{fieldname}` = {value} is negative.", column=fieldname,
               fix="use a value >= 0")
        return None
    if positive and value == 0:
        pc.add(f"{where}: `{fieldname}` is 0.", column=fieldname, fix="use a value > 0")
        return None
    if upto_one and value > 1:
        pc.add(f"{where}: `{fieldname}` = {value} is above 1.", column=fieldname,
               fix="write a share between 0 and 1 (30 % is 0.3)")
        return None
    return float(value)


def _num_or_map(pc: ProblemCollector, where: str, fieldname: str, value: Any,
                levels: Sequence[str], *, positive: bool) -> float | dict[str, float] | None:
    if isinstance(value, dict):
        out: dict[str, float] = {}
        for k, v in value.items():
            if k not in UNIT_TYPES and k != CITY_LEVEL:
                pc.add(f"{where}: `{fieldname}` names unknown unit type `{k}`.", column=fieldname,
                       fix=f"use unit types from: {', '.join(UNIT_TYPES + (CITY_LEVEL,))}")
                continue
            n = _num(pc, where, f"{fieldname}.{k}", v, positive=positive)
            if n is not None:
                out[k] = n
        for lvl in levels:
            if lvl not in value:
                pc.add(f"{where}: `{fieldname}` has no value for unit type `{lvl}` listed in `unit_level`.",
                       column=fieldname, fix=f"add `{lvl}: <number>` to `{fieldname}` or drop `{lvl}` from `unit_level`")
        return out
    return _num(pc, where, fieldname, value, positive=positive)


def _parse_rule(item: Any, i: int, sources: Mapping[str, Any], seen: dict[str, int],
                pc: ProblemCollector) -> Rule | None:
    if not isinstance(item, dict):
        pc.add(f"rule #{i + 1} is not a mapping.", column="rules",
               fix="write each rule as `- id: ...` with its fields indented below")
        return None
    line = item.get("__line__", "?")
    item = _strip_lines(item)
    rid = item.get("id")
    where = f"rule `{rid}` (line {line})" if rid else f"rule #{i + 1} (line {line})"
    n_before = len(pc.problems)
    if not isinstance(rid, str) or not _ID_RE.match(rid):
        pc.add(f"{where}: `id` is missing or not a plain name.", column="id",
               fix="give every rule an id of letters, digits, '-' or '_'")
    elif rid in seen:
        pc.add(f"{where}: duplicate id `{rid}`, first used at line {seen[rid]}.", column="id",
               fix="give each rule its own id")
    else:
        seen[rid] = line

    kind = item.get("kind")
    if kind not in KINDS:
        pc.add(f"{where}: unknown kind `{kind}`.", column="kind", fix=f"use one of: {', '.join(KINDS)}")

    ftypes = item.get("facility_type")
    ftypes = [ftypes] if isinstance(ftypes, str) else ftypes
    if not ftypes or not isinstance(ftypes, list):
        pc.add(f"{where}: `facility_type` is missing.", column="facility_type",
               fix=f"name one or more of: {', '.join(FACILITY_TYPES)}")
        ftypes = []
    for t in ftypes:
        if t not in FACILITY_TYPES:
            pc.add(f"{where}: unknown facility type `{t}`.", column="facility_type",
                   fix=f"use one of: {', '.join(FACILITY_TYPES)}")

    levels = item.get("unit_level")
    levels = [levels] if isinstance(levels, str) else levels
    if not levels or not isinstance(levels, list):
        pc.add(f"{where}: `unit_level` is missing.", column="unit_level",
               fix=f"list the unit types the rule applies to, from: {', '.join(UNIT_TYPES + (CITY_LEVEL,))}")
        levels = []
    for lvl in levels:
        if lvl not in UNIT_TYPES and lvl != CITY_LEVEL:
            pc.add(f"{where}: unknown unit type `{lvl}` in `unit_level`.", column="unit_level",
                   fix=f"use unit types from: {', '.join(UNIT_TYPES + (CITY_LEVEL,))}")
    if CITY_LEVEL in levels and len(levels) > 1:
        pc.add(f"{where}: `unit_level` mixes `{CITY_LEVEL}` with other unit types.", column="unit_level",
               fix=f"use `[{CITY_LEVEL}]` alone for a citywide rule, or split the rule in two")
    levels = [lvl for lvl in levels if lvl in UNIT_TYPES or lvl == CITY_LEVEL]

    for key in ("name_zh", "name_en"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            pc.add(f"{where}: `{key}` is missing.", column=key, fix="give the rule a display name")

    source = _parse_source(item.get("source"), where, sources, pc)

    kw: dict[str, Any] = {}
    if kind == "per_capita_count":
        if "per_residents" not in item:
            pc.add(f"{where}: missing divisor `per_residents`.", column="per_residents",
                   fix="write `per_residents: 50000` or `per_residents: {区: 50000, 县: 100000}`")
        else:
            kw["per_residents"] = _num_or_map(pc, where, "per_residents", item["per_residents"],
                                              levels, positive=True)
    elif kind in ("per_capita_quantity", "per_capita_rate"):
        qty = "amount" if kind == "per_capita_quantity" else "rate"
        for key in ("column", qty, "per_residents"):
            if key not in item:
                pc.add(f"{where}: missing `{key}`.", column=key,
                       fix="a per-capita rule needs `column`, `%s` and `per_residents`" % qty)
        if isinstance(item.get("column"), str):
            kw["column"] = item["column"]
        elif "column" in item:
            pc.add(f"{where}: `column` must be a column name.", column="column", fix="write e.g. `column: floor_area_m2`")
        if qty in item:
            kw[qty] = _num(pc, where, qty, item[qty], positive=False)
        if "per_residents" in item:
            kw["per_residents"] = _num(pc, where, "per_residents", item["per_residents"], positive=True)
        if kind == "per_capita_rate" and "rate_max" in item:
            kw["rate_max"] = _num(pc, where, "rate_max", item["rate_max"], positive=False)
    elif kind in ("presence", "share_of_units"):
        kw["min_count"] = _num_or_map(pc, where, "min_count", item.get("min_count", 1), levels, positive=False)
        if "max_count" in item:
            kw["max_count"] = _num(pc, where, "max_count", item["max_count"], positive=False)
        if "unit_column" in item:
            if isinstance(item["unit_column"], str):
                kw["unit_column"] = item["unit_column"]
            else:
                pc.add(f"{where}: `unit_column` must be a column name.", column="unit_column",
                       fix="write e.g. `unit_column: culture_teams`")
    if kind in ("share_of_units", "share_of_facilities"):
        if "min_share" not in item:
            pc.add(f"{where}: missing `min_share`.", column="min_share", fix="write e.g. `min_share: 0.3` for 30 %")
        else:
            kw["min_share"] = _num(pc, where, "min_share", item["min_share"], positive=True, upto_one=True)
    if kind == "proximity":
        mode = item.get("mode")
        if mode not in MODES:
            pc.add(f"{where}: unknown `mode` `{mode}`.", column="mode", fix=f"use one of: {', '.join(MODES)}")
        kw["mode"] = mode
        if "threshold_min" not in item:
            pc.add(f"{where}: missing `threshold_min`.", column="threshold_min", fix="write e.g. `threshold_min: 15`")
        else:
            kw["threshold_min"] = _num(pc, where, "threshold_min", item["threshold_min"], positive=True)
        kw["min_share"] = _num(pc, where, "min_share", item.get("min_share", 1.0), positive=True, upto_one=True)

    flt = None
    if "filter" in item:
        flt = _parse_filter(item["filter"], where, pc)
    elif kind == "share_of_facilities":
        pc.add(f"{where}: missing `filter`.", column="filter",
               fix="write e.g. `filter: {column: grade, max: 3}`")

    info = {k: v for k, v in _strip_lines(item).items()
            if k not in _COMMON_KEYS and k not in set().union(*_KIND_KEYS.values())}
    if len(pc.problems) > n_before:
        return None
    return Rule(id=rid, kind=kind, facility_types=tuple(ftypes), unit_level=tuple(levels),
                name_zh=item["name_zh"].strip(), name_en=item["name_en"].strip(), source=source,
                filter=flt, info=info, **kw)


def _parse_source(raw: Any, where: str, sources: Mapping[str, Any], pc: ProblemCollector) -> Source | None:
    if not isinstance(raw, dict):
        pc.add(f"{where}: `source` is missing.", column="source",
               fix="write `source: {document: <id under sources>, section: ...}` or give title, issuer, year, section")
        return None
    raw = _strip_lines(raw)
    doc: dict = {}
    if "document" in raw:
        if raw["document"] not in sources:
            pc.add(f"{where}: `source.document` names unknown document `{raw['document']}`.",
                   column="source", fix=f"add it under `sources`, or use one of: {', '.join(sources)}")
            return None
        doc = dict(sources[raw["document"]])
    doc.update({k: v for k, v in raw.items() if k != "document"})
    missing = [k for k in ("title", "issuer", "year", "section") if not doc.get(k)]
    if missing:
        pc.add(f"{where}: `source` has no {', '.join(missing)}.", column="source",
               fix="cite the document by title, issuing body, year and section")
        return None
    year = doc["year"]
    if not isinstance(year, int) or isinstance(year, bool):
        pc.add(f"{where}: `source.year` = {year!r} is not a year.", column="source", fix="write e.g. `year: 2022`")
        return None
    return Source(str(doc["title"]), str(doc["issuer"]), year, str(doc["section"]),
                  str(doc.get("doc_number", "")), str(doc.get("note", "")))


def _parse_filter(raw: Any, where: str, pc: ProblemCollector) -> FacilityFilter | None:
    raw = _strip_lines(raw) if isinstance(raw, dict) else raw
    if not isinstance(raw, dict) or not isinstance(raw.get("column"), str) or not (
            {"min", "max", "equals"} & set(raw)):
        pc.add(f"{where}: `filter` needs a `column` and one of `min`, `max`, `equals`.", column="filter",
               fix="write e.g. `filter: {column: grade, max: 3}`")
        return None
    lo = _num(pc, where, "filter.min", raw["min"], positive=False) if "min" in raw else None
    hi = _num(pc, where, "filter.max", raw["max"], positive=False) if "max" in raw else None
    return FacilityFilter(raw["column"], lo, hi, raw.get("equals"))


# --------------------------------------------------------------------------- costs
@dataclass(frozen=True)
class Costs:
    """Unit cost per facility type, used to price proposed sites.

    The built-in figures are editable planning assumptions (see
    ``data/standards/costs.yaml``), not values from the cited documents.
    """

    unit_cost: Mapping[str, float]
    currency: str = "CNY"
    note_zh: str = ""
    note_en: str = ""
    assumption: bool = True

    def note(self, lang: str = "zh") -> str:
        """The caveat in ``lang``."""
        return self.note_en if lang == "en" else self.note_zh


def load_costs(costs: Mapping[str, float] | str | Path | None = None) -> Costs:
    """Unit costs: the built-in assumptions, a YAML file, or a mapping.

    Parameters
    ----------
    costs
        ``None`` for the built-in table; a path to a YAML file in the layout of
        ``data/standards/costs.yaml``; or a mapping ``{facility type: yuan}``
        that overrides the built-in values for the types it names.
    """
    base = _strip_lines(_read_yaml(COSTS_PATH))
    table = dict(base["unit_cost"])
    note_zh, note_en = base.get("note_zh", ""), base.get("note_en", "")
    if isinstance(costs, (str, Path)):
        user = _strip_lines(_read_yaml(Path(costs)))
        table.update((user or {}).get("unit_cost", {}))
        note_zh, note_en = user.get("note_zh", note_zh), user.get("note_en", note_en)
    elif costs is not None:
        table.update(costs)
    pc = ProblemCollector(file=str(costs) if isinstance(costs, (str, Path)) else "costs")
    for t, v in table.items():
        if t not in FACILITY_TYPES:
            pc.add(f"unknown facility type `{t}` in `costs`.", column=t, fix=f"use one of: {', '.join(FACILITY_TYPES)}")
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
            pc.add(f"unit cost of `{t}` = {v!r} is not a number >= 0.", column=t, fix="write the cost in yuan")
    pc.raise_if_any()
    return Costs({k: float(v) for k, v in table.items()}, str(base.get("currency", "CNY")), note_zh, note_en,
                 bool(base.get("assumption", True)))


# --------------------------------------------------------------------------- access
AccessFn = Callable[[tuple[str, ...], str, float], pd.DataFrame]
"""``access(facility_types, mode, threshold_min)`` -> DataFrame indexed by unit id
with columns ``pop`` (residents counted) and ``covered_pop`` (residents within
``threshold_min`` minutes by ``mode`` of the nearest facility of any of
``facility_types``)."""


def access_from_cells(cells: Mapping[str, pd.DataFrame]) -> AccessFn:
    """Build an ``access`` function from per-cell travel times.

    Parameters
    ----------
    cells
        Mapping from travel mode (``"walk"``, ...) to a per-cell table with
        ``unit_id``, ``pop`` and one ``time_s_<facility type>`` column per
        facility type: seconds to the nearest facility of that type (NaN or
        inf when none is reachable).

    Returns
    -------
    callable
        ``access(facility_types, mode, threshold_min)`` for :func:`evaluate`.
    """
    cells = dict(cells)

    def access(facility_types: tuple[str, ...], mode: str, threshold_min: float) -> pd.DataFrame:
        if mode not in cells:
            raise InputError(f"`access` has no travel times for mode `{mode}`.",
                             fix=f"add a `{mode}` table to the mapping passed to access_from_cells")
        tab = cells[mode]
        cols = [f"time_s_{t}" for t in facility_types]
        missing = [c for c in cols + ["unit_id", "pop"] if c not in tab.columns]
        if missing:
            raise InputError(f"the `{mode}` access table has no column(s) {', '.join(missing)}.",
                             fix="give one `time_s_<type>` column per facility type plus `unit_id` and `pop`")
        t = tab[cols].apply(pd.to_numeric, errors="coerce").min(axis=1, skipna=True)
        covered = t.le(threshold_min * 60.0) & t.notna()
        frame = pd.DataFrame({"unit_id": tab["unit_id"].astype(str), "pop": tab["pop"].astype(float),
                              "covered_pop": tab["pop"].astype(float).where(covered, 0.0)})
        return frame.groupby("unit_id")[["pop", "covered_pop"]].sum()

    return access


# --------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class Evaluation:
    """Result of :func:`evaluate`.

    Attributes
    ----------
    table
        One row per (unit, rule) pair where the rule applies to the unit
        (citywide rules: one row, unit ``全市``). Columns: ``unit``,
        ``unit_id``, ``unit_type``, ``pop``, ``rule_id``, ``rule_name_zh``,
        ``rule_name_en``, ``kind``, ``measure`` (what ``required`` and
        ``existing`` count), ``required``, ``existing``, ``deficit`` (>= 0),
        ``surplus`` (>= 0), ``passed`` (nullable boolean, NA for no data),
        ``status`` (``pass``, ``fail``, ``no_data``), ``coverage_share``
        (proximity rules), ``source``, ``note``. ``result["deficit"]`` reads a
        column of this table.
    totals
        One row per rule: sums of ``pop``, ``required``, ``existing``,
        ``deficit``, ``surplus`` over its rows, ``units``, ``units_passed``,
        ``units_no_data`` and the overall ``passed``/``status``. For
        ``share_of_units`` rules ``required``/``existing`` count units.
    outside
        Facilities that lie in no unit (not counted by any rule).
    rules
        The rules evaluated.
    skipped
        Rules that applied to no unit, with the reason.
    units
        Unit ids, names and geometry (GeoDataFrame) for spatial exports, or
        ``None`` when the units had no geometry.
    params
        Settings used: ``data_date``, ``functional_zone_as``, ``crs``.
    """

    table: pd.DataFrame
    totals: pd.DataFrame
    outside: pd.DataFrame
    rules: tuple[Rule, ...]
    skipped: pd.DataFrame
    units: Any
    params: Mapping[str, Any]

    def __getitem__(self, key: Any) -> Any:
        return self.table[key]

    @property
    def columns(self) -> pd.Index:
        """Columns of :attr:`table`."""
        return self.table.columns

    def rule(self, rule_id: str) -> Rule:
        """The evaluated rule with id ``rule_id``."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(f"no rule `{rule_id}` in this evaluation")

    def rule_table(self, rule_id: str) -> pd.DataFrame:
        """Rows of one rule, largest deficit first."""
        self.rule(rule_id)
        rows = self.table[self.table["rule_id"] == rule_id]
        return rows.sort_values(["deficit", "unit"], ascending=[False, True], kind="stable")


TABLE_COLUMNS = [
    "unit", "unit_id", "unit_type", "pop", "rule_id", "rule_name_zh", "rule_name_en", "kind",
    "measure", "required", "existing", "planned", "deficit", "surplus", "passed", "status",
    "coverage_share", "source", "note",
]
TOTAL_COLUMNS = [
    "rule_id", "rule_name_zh", "rule_name_en", "kind", "measure", "units", "units_passed",
    "units_no_data", "pop", "required", "existing", "planned", "deficit", "surplus", "passed", "status",
    "coverage_share", "source", "note",
]
CITY_UNIT = "全市"


def evaluate(units: pd.DataFrame, facilities: pd.DataFrame | None,
             rules: Iterable[Rule] | Catalogue | str | Path, *, access: AccessFn | Mapping[str, pd.DataFrame] | None = None,
             functional_zone_as: str = "区", data_date: str | None = None) -> Evaluation:
    """Check units and their facilities against planning rules.

    Parameters
    ----------
    units
        Administrative units: ``name``, ``unit_type`` and ``pop`` (residents),
        optionally ``unit_id`` (adcode) and polygon geometry. ``unit_type`` is
        one of :data:`UNIT_TYPES` or a census code (``district``, ``county``,
        ``county_level_city``, ``functional_zone``, ...). Attribute columns
        named by ``per_capita_rate`` and ``presence`` rules (``art_teams``,
        ``culture_volunteers``, ...) are read when present.
    facilities
        Facilities with ``type`` (canonical types) and Point geometry, plus
        attribute columns the rules name (``floor_area_m2``, ``volumes``,
        ``grade``, ...). A facility is counted in the unit whose polygon
        contains it (CRS reprojected to the units' CRS when they differ).
        When the units have no geometry, facilities must carry ``unit_id``
        (or ``unit``, a unit name) instead. ``None`` means no facilities.
    rules
        Rules, a :class:`Catalogue`, or a preset id / YAML path for
        :func:`load_catalogue`.
    access
        For ``proximity`` rules: a function ``access(facility_types, mode,
        threshold_min)`` returning a DataFrame indexed by ``unit_id`` with
        ``pop`` and ``covered_pop``, or a mapping mode -> per-cell table
        accepted by :func:`access_from_cells`. The share covered is taken
        from it and applied to the unit's ``pop``. Without it proximity rules
        are reported as no data.
    functional_zone_as
        Unit type applied to functional zones (经开区, 高新区, ...), which
        census tables list as units of their own: ``区`` by default, since
        they are urban and administered like districts.
    data_date
        Date (or vintage) of the population and facility data, carried into
        exports.

    Returns
    -------
    Evaluation
        ``table`` (one row per unit and rule), ``totals`` (one row per rule),
        ``outside`` (facilities in no unit) and the settings used.

    Raises
    ------
    InputError
        Listing every problem with the units, facilities or access tables.

    Examples
    --------
    >>> import pandas as pd
    >>> units = pd.DataFrame({"name": ["金水区"], "unit_type": ["区"], "pop": [2145588]})
    >>> ev = evaluate(units, None, "zhengzhou-2022-culture-space")
    >>> int(ev.table.loc[0, "required"])
    43
    """
    if isinstance(rules, (str, Path)):
        rules = load_catalogue(rules)
    rules = tuple(rules)
    for r in rules:
        if not isinstance(r, Rule):
            raise InputError(f"`rules` holds {type(r).__name__}, not Rule.",
                             fix="pass load_catalogue(...) or a preset id")
    if functional_zone_as not in UNIT_TYPES:
        raise InputError(f"`functional_zone_as` = {functional_zone_as!r} is not a unit type.",
                         fix=f"use one of: {', '.join(UNIT_TYPES)}")
    if callable(access) or access is None:
        access_fn = access
    elif isinstance(access, Mapping):
        access_fn = access_from_cells(access)
    else:
        raise InputError("`access` is neither a function nor a mapping of per-cell tables.",
                         fix="pass access_from_cells({'walk': cells}) or a function")

    u = _check_units(units, functional_zone_as)
    fac = _check_facilities(facilities)
    assign, outside, unit_geo = _assign(u, fac, units, facilities)

    rows: list[dict] = []
    skipped: list[dict] = []
    for rule in rules:
        scope = u if rule.citywide else u[u["unit_type"].isin(rule.unit_level)]
        if scope.empty:
            skipped.append({"rule_id": rule.id, "reason": "no units of level " + ", ".join(rule.unit_level)})
            continue
        rows.extend(_evaluate_rule(rule, scope, fac, assign, access_fn))

    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    table["passed"] = table["passed"].astype("boolean")
    for c in ("pop", "required", "existing", "deficit", "surplus", "coverage_share"):
        table[c] = pd.to_numeric(table[c], errors="coerce").astype(float)
    table["planned"] = _no_planned(table["existing"])
    present = set(table["rule_id"])
    totals = _totals(table, [r for r in rules if r.id in present])
    params = {"data_date": data_date, "functional_zone_as": functional_zone_as,
              "crs": str(getattr(units, "crs", None)) if getattr(units, "crs", None) is not None else None}
    return Evaluation(table, totals, outside, rules,
                      pd.DataFrame(skipped, columns=["rule_id", "reason"]), unit_geo, params)


def _check_units(units: pd.DataFrame, functional_zone_as: str) -> pd.DataFrame:
    pc = ProblemCollector(file="units")
    if not isinstance(units, pd.DataFrame):
        raise InputError(f"`units` is a {type(units).__name__}, not a DataFrame.",
                         fix="pass a (Geo)DataFrame with name, unit_type and pop")
    for col in ("name", "unit_type", "pop"):
        if col not in units.columns:
            pc.add(f"`units` has no `{col}` column.", column=col,
                   fix="add it (name: unit name, unit_type: 区/县/县级市/街道/乡镇, pop: residents)")
    pc.raise_if_any()
    attrs = units.drop(columns=[units.geometry.name]) if _has_geometry_col(units) else units
    out = pd.DataFrame(attrs.drop(columns=[c for c in ("key", "type_note") if c in attrs.columns]), copy=True)
    out["name"] = units["name"].astype(str)
    key = units["unit_id"] if "unit_id" in units.columns else units["name"]
    out["key"] = key.map(lambda v: "" if pd.isna(v) else str(v))
    out["unit_id"] = units["unit_id"].map(lambda v: None if pd.isna(v) else str(v)) if "unit_id" in units.columns else None
    pop = pd.to_numeric(units["pop"], errors="coerce")
    types, notes = [], []
    for n, (idx, raw_type) in enumerate(units["unit_type"].items()):
        row = n + 2
        t = str(raw_type).strip() if not pd.isna(raw_type) else ""
        note = ""
        if t in UNIT_TYPES:
            pass
        elif t in CENSUS_UNIT_TYPES:
            t = CENSUS_UNIT_TYPES[t]
        elif t in _FUNCTIONAL_ZONE:
            t, note = functional_zone_as, f"functional zone counted as {functional_zone_as}"
        elif t in _CITY_TOTAL:
            pc.add(f"unit `{out.at[idx, 'name']}` is a city total, which would count its residents twice.",
                   row=row, column="unit_type", fix="drop rows with unit_type 'city_total'")
        else:
            pc.add(f"unit `{out.at[idx, 'name']}` has unknown unit_type `{t}`.", row=row, column="unit_type",
                   fix=f"use one of {', '.join(UNIT_TYPES)} or a census code such as 'district'")
        types.append(t)
        notes.append(note)
        p = pop.at[idx]
        if pd.isna(p) or p < 0 or not np.isfinite(p):
            pc.add(f"unit `{out.at[idx, 'name']}` has pop {units['pop'].at[idx]!r}.", row=row, column="pop",
                   fix="give the number of residents as a number >= 0")
        if out.at[idx, "key"] == "":
            pc.add("a unit has no id or name.", row=row, column="unit_id" if "unit_id" in units.columns else "name",
                   fix="give every unit a unique unit_id")
    dup = out["key"][out["key"].duplicated() & (out["key"] != "")]
    for k in dup.unique():
        pc.add(f"unit id `{k}` appears more than once.", column="unit_id" if "unit_id" in units.columns else "name",
               fix="give every unit a unique unit_id (adcode)")
    pc.raise_if_any()
    out["unit_type"] = types
    out["type_note"] = notes
    out["pop"] = pop.astype(float)
    return out


def _check_facilities(facilities: pd.DataFrame | None) -> pd.DataFrame:
    if facilities is None:
        return pd.DataFrame({"type": pd.Series(dtype=str)})
    if not isinstance(facilities, pd.DataFrame):
        raise InputError(f"`facilities` is a {type(facilities).__name__}, not a DataFrame.",
                         fix="pass a GeoDataFrame with `type` and Point geometry, or None")
    if "type" not in facilities.columns:
        raise InputError("`facilities` has no `type` column.",
                         fix=f"add `type` with one of: {', '.join(FACILITY_TYPES)}")
    return facilities.reset_index(drop=True)


def _has_geometry_col(df: Any) -> bool:
    import geopandas as gpd
    return isinstance(df, gpd.GeoDataFrame) and df._geometry_column_name in df.columns


def _has_geometry(df: Any) -> bool:
    import geopandas as gpd
    return _has_geometry_col(df) and bool(df.geometry.notna().any())


def _assign(u: pd.DataFrame, fac: pd.DataFrame, units: pd.DataFrame,
            facilities_original: pd.DataFrame | None) -> tuple[pd.Series, pd.DataFrame, Any]:
    """Unit key of each facility (NaN outside), facilities outside, unit geometry."""
    import geopandas as gpd
    unit_geo = None
    if _has_geometry(units):
        unit_geo = gpd.GeoDataFrame({"unit_id": u["key"].values, "name": u["name"].values},
                                    geometry=units.geometry.values, crs=units.crs, index=units.index)
    if fac.empty:
        empty = facilities_original if facilities_original is not None else fac
        return pd.Series(dtype=object), empty.iloc[0:0].copy(), unit_geo
    if unit_geo is not None and _has_geometry(fac):
        if (units.crs is None) != (fac.crs is None):
            missing = "units" if units.crs is None else "facilities"
            raise InputError(f"`{missing}` has no CRS while the other input has one ({units.crs or fac.crs}).",
                             fix=f"call `{missing}.set_crs(...)` with the CRS of its coordinates, "
                                 f"or `to_crs(...)` both to the same CRS")
        pts = fac.geometry
        if units.crs is not None and not fac.crs.equals(units.crs):
            pts = pts.to_crs(units.crs)
        pts_gdf = gpd.GeoDataFrame({"_fidx": np.arange(len(fac))}, geometry=pts.values, crs=units.crs)
        joined = gpd.sjoin(pts_gdf, unit_geo[["unit_id", "geometry"]], how="left", predicate="intersects")
        joined = joined.sort_values(["_fidx", "index_right"]).drop_duplicates("_fidx", keep="first")
        assign = pd.Series(joined.sort_values("_fidx")["unit_id"].values, index=fac.index, dtype=object)
    elif "unit_id" in fac.columns or "unit" in fac.columns:
        if "unit_id" in fac.columns:
            vals = fac["unit_id"].map(lambda v: None if pd.isna(v) else str(v))
            known = set(u["key"])
        else:
            name_to_key = dict(zip(u["name"], u["key"]))
            vals = fac["unit"].map(lambda v: name_to_key.get(str(v)) if not pd.isna(v) else None)
            known = set(u["key"])
        assign = vals.where(vals.isin(known), None).astype(object)
    else:
        raise InputError("cannot tell which unit each facility is in.",
                         fix="give `units` polygon geometry and `facilities` point geometry, "
                             "or add a `unit_id` (or `unit` name) column to `facilities`")
    outside = facilities_original.iloc[np.flatnonzero(assign.isna().to_numpy())].copy()
    return assign, outside, unit_geo


def _row(rule: Rule, unit: str, unit_id: Any, unit_type: str, pop: float, measure: str,
         required: float, existing: float | None, note: str = "", coverage_share: float | None = None) -> dict:
    if existing is None or (isinstance(existing, float) and np.isnan(existing)):
        deficit = surplus = np.nan
        passed, status = pd.NA, "no_data"
    else:
        deficit = max(required - existing, 0.0)
        surplus = max(existing - required, 0.0)
        passed = bool(existing >= required - 1e-9)
        status = "pass" if passed else "fail"
    return {
        "unit": unit, "unit_id": unit_id, "unit_type": unit_type, "pop": pop, "rule_id": rule.id,
        "rule_name_zh": rule.name_zh, "rule_name_en": rule.name_en, "kind": rule.kind, "measure": measure,
        "required": required, "existing": existing, "deficit": deficit, "surplus": surplus,
        "passed": passed, "status": status, "coverage_share": coverage_share,
        "source": rule.source.cite("zh"), "note": note,
    }


def _join_note(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _evaluate_rule(rule: Rule, scope: pd.DataFrame, fac: pd.DataFrame, assign: pd.Series,
                   access_fn: AccessFn | None) -> list[dict]:
    # facilities the rule counts, and whether their data exist
    sel = fac["type"].isin(rule.facility_types) if not fac.empty else pd.Series(dtype=bool)
    data_note = ""
    fac_ok = True
    if rule.filter is not None and not fac.empty:
        if rule.filter.column not in fac.columns:
            fac_ok, data_note = False, f"facilities have no `{rule.filter.column}` column"
        else:
            sel &= rule.filter.mask(fac)
    elif rule.filter is not None:
        fac_ok, data_note = False, f"facilities have no `{rule.filter.column}` column"
    sel_idx = sel[sel].index if not fac.empty else pd.Index([])
    located = assign.reindex(sel_idx)
    in_scope = located.isin(set(scope["key"]))
    counts = located[in_scope].value_counts()

    if rule.citywide:
        units = [(CITY_UNIT, None, CITY_LEVEL, float(scope["pop"].sum()), set(scope["key"]), "")]
    else:
        units = [(r.name, r.unit_id, r.unit_type, r.pop, {r.key}, r.type_note)
                 for r in scope.itertuples(index=False)]

    rows = []
    acc = acc_index = qty = None
    lookups: dict[str, dict] = {}

    def unit_values(column: str, keys: set[str]) -> pd.Series:
        if column not in lookups:
            lookups[column] = pd.to_numeric(scope[column], errors="coerce").set_axis(scope["key"]).to_dict()
        return pd.Series([lookups[column].get(k, np.nan) for k in keys], dtype=float)

    if rule.kind == "share_of_facilities":
        n_all = int(in_scope.sum()) if fac_ok else 0
        if not fac_ok:
            rows.append(_row(rule, CITY_UNIT, None, CITY_LEVEL, units[0][3], "facilities", np.nan, None, data_note))
            return rows
        all_sel = fac["type"].isin(rule.facility_types) if not fac.empty else pd.Series(dtype=bool)
        n_all = int(assign.reindex(all_sel[all_sel].index).isin(set(scope["key"])).sum())
        req = float(math.ceil(rule.min_share * n_all - 1e-9))
        note = f"{int(in_scope.sum())} of {n_all} facilities meet {rule.filter.describe()}"
        rows.append(_row(rule, CITY_UNIT, None, CITY_LEVEL, units[0][3], "facilities", req,
                         float(in_scope.sum()), note))
        return rows

    for name, uid, utype, pop, keys, tnote in units:
        if rule.kind == "per_capita_count":
            req = float(math.ceil(pop / rule.divisor(utype) - 1e-9))
            ex = float(sum(counts.get(k, 0) for k in keys)) if fac_ok else None
            rows.append(_row(rule, name, uid, utype, pop, "facilities", req, ex, _join_note(tnote, data_note)))
        elif rule.kind in ("presence", "share_of_units"):
            req = rule.required_count(utype)
            if rule.unit_column:
                measure = rule.unit_column
                if rule.unit_column not in scope.columns:
                    ex, note = None, f"units have no `{rule.unit_column}` column"
                else:
                    vals = unit_values(rule.unit_column, keys)
                    ex = float(vals.sum()) if vals.notna().all() else None
                    note = "" if ex is not None else f"`{rule.unit_column}` is empty"
            else:
                measure = "facilities"
                ex = float(sum(counts.get(k, 0) for k in keys)) if fac_ok else None
                note = data_note
            rows.append(_row(rule, name, uid, utype, pop, measure, req, ex, _join_note(tnote, note)))
        elif rule.kind == "per_capita_quantity":
            req = pop / rule.per_residents * rule.amount
            col = rule.column
            if not fac_ok or col not in fac.columns:
                rows.append(_row(rule, name, uid, utype, pop, col, req, None,
                                 _join_note(tnote, data_note or f"facilities have no `{col}` column")))
                continue
            if qty is None:
                loc_in = located[in_scope]
                qv = pd.to_numeric(fac.loc[loc_in.index, col], errors="coerce")
                qty = (qv.groupby(loc_in).sum(), qv.isna().groupby(loc_in).sum(), loc_in.value_counts())
            n_fac = int(sum(qty[2].get(k, 0) for k in keys))
            n_unknown = int(sum(qty[1].get(k, 0) for k in keys))
            if n_fac and n_unknown == n_fac:
                ex, note = None, f"`{col}` unknown for all {n_fac} facilities"
            else:
                ex = float(sum(qty[0].get(k, 0.0) for k in keys))
                note = f"`{col}` unknown for {n_unknown} of {n_fac} facilities" if n_unknown else ""
            rows.append(_row(rule, name, uid, utype, pop, col, req, ex, _join_note(tnote, note)))
        elif rule.kind == "per_capita_rate":
            req = pop / rule.per_residents * rule.rate
            col = rule.column
            if col not in scope.columns:
                rows.append(_row(rule, name, uid, utype, pop, col, req, None,
                                 _join_note(tnote, f"units have no `{col}` column")))
                continue
            vals = unit_values(col, keys)
            if vals.isna().any():
                rows.append(_row(rule, name, uid, utype, pop, col, req, None, _join_note(tnote, f"`{col}` is empty")))
                continue
            ex = float(vals.sum())
            rate = ex / pop * rule.per_residents if pop > 0 else np.nan
            rows.append(_row(rule, name, uid, utype, pop, col, req, ex,
                             _join_note(tnote, f"{rate:.2f} per {_fmt(rule.per_residents)} residents")))
        elif rule.kind == "proximity":
            req = pop * rule.min_share
            if access_fn is None:
                rows.append(_row(rule, name, uid, utype, pop, "residents", req, None,
                                 _join_note(tnote, "pass `access` to evaluate proximity rules")))
                continue
            if acc is None:
                acc = access_fn(rule.facility_types, rule.mode, rule.threshold_min)
                _check_access(acc)
                acc_index = acc.index.astype(str)
            sub = acc[acc_index.isin(keys)]
            if sub.empty or float(sub["pop"].sum()) <= 0:
                rows.append(_row(rule, name, uid, utype, pop, "residents", req, None,
                                 _join_note(tnote, "no residents of this unit in `access`")))
                continue
            share = float(sub["covered_pop"].sum()) / float(sub["pop"].sum())
            rows.append(_row(rule, name, uid, utype, pop, "residents", req, share * pop, tnote,
                             coverage_share=share))
    return rows


def _check_access(acc: Any) -> None:
    if not isinstance(acc, pd.DataFrame) or not {"pop", "covered_pop"} <= set(acc.columns):
        raise InputError("`access` returned something other than a DataFrame with `pop` and `covered_pop`.",
                         fix="return a DataFrame indexed by unit_id with columns pop and covered_pop")


def _totals(table: pd.DataFrame, rules: Sequence[Rule]) -> pd.DataFrame:
    out = []
    for rule in rules:
        rows = table[table["rule_id"] == rule.id]
        has = rows["status"] != "no_data"
        rec = {
            "rule_id": rule.id, "rule_name_zh": rule.name_zh, "rule_name_en": rule.name_en, "kind": rule.kind,
            "measure": rows["measure"].iloc[0], "units": len(rows), "units_passed": int((rows["status"] == "pass").sum()),
            "units_no_data": int((~has).sum()), "pop": float(rows["pop"].sum()),
            "source": rule.source.cite("zh"), "note": "", "coverage_share": np.nan,
        }
        if not has.any():
            rec.update(required=float(rows["required"].sum(min_count=1)), existing=np.nan, deficit=np.nan, surplus=np.nan,
                       passed=pd.NA, status="no_data", note="no data")
        elif rule.kind == "share_of_units":
            n = int(has.sum())
            req = float(math.ceil(rule.min_share * n - 1e-9))
            ex = float((rows["status"] == "pass").sum())
            rec.update(measure="units", required=req, existing=ex, deficit=max(req - ex, 0.0),
                       surplus=max(ex - req, 0.0), passed=bool(ex >= req), status="pass" if ex >= req else "fail",
                       coverage_share=ex / n if n else np.nan,
                       note=f"{int(ex)} of {n} units have at least {_fmt(rule.required_count(rows['unit_type'].iloc[0]))}")
        else:
            sub = rows[has]
            passed = bool((sub["status"] == "pass").all())
            status = "pass" if passed else "fail"
            if (~has).any():
                status, passed = ("no_data", pd.NA) if passed else (status, passed)
            rec.update(required=float(sub["required"].sum()), existing=float(sub["existing"].sum()),
                       deficit=float(sub["deficit"].sum()), surplus=float(sub["surplus"].sum()),
                       passed=passed, status=status,
                       note=f"{int((~has).sum())} units without data" if (~has).any() else "")
            if rule.kind == "proximity":
                rec["coverage_share"] = float(sub["existing"].sum() / sub["pop"].sum()) if sub["pop"].sum() > 0 else np.nan
        out.append(rec)
    tot = pd.DataFrame(out, columns=TOTAL_COLUMNS)
    tot["passed"] = tot["passed"].astype("boolean")
    tot["planned"] = _no_planned(pd.to_numeric(tot["existing"], errors="coerce"))
    return tot


def _no_planned(existing: pd.Series) -> pd.Series:
    """Planned amount 0 where the existing amount is known, NaN where it is not."""
    return pd.Series(np.where(existing.notna(), 0.0, np.nan), index=existing.index, dtype=float)


def split_planned(with_planned: Evaluation, without_planned: Evaluation) -> Evaluation:
    """One evaluation with existing and planned facilities counted apart.

    Parameters
    ----------
    with_planned
        Evaluation of the existing plus the planned facilities (a scenario).
    without_planned
        Evaluation of the same units and rules with the existing facilities only.

    Returns
    -------
    Evaluation
        ``with_planned`` whose ``existing`` is the amount of the existing
        facilities alone and whose ``planned`` is what the planned facilities
        add (``existing + planned`` is the amount after the scenario);
        ``deficit``, ``surplus`` and ``status`` stay those after the scenario.

    Raises
    ------
    InputError
        If the two evaluations are not of the same units and rules.
    """
    def split(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        if len(a) != len(b) or not a[keys].astype(str).reset_index(drop=True).equals(
                b[keys].astype(str).reset_index(drop=True)):
            raise InputError("the evaluations with and without the planned facilities differ in units or rules.",
                             fix="evaluate the same units and rules twice, once without the planned facilities")
        out = a.copy()
        base = b["existing"].to_numpy(float)
        out["planned"] = a["existing"].to_numpy(float) - base
        out["existing"] = base
        return out

    table = split(with_planned.table, without_planned.table, ["rule_id", "unit"])
    totals = split(with_planned.totals, without_planned.totals, ["rule_id"])
    return dataclasses.replace(with_planned, table=table, totals=totals)
