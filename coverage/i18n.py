"""User-interface strings in Chinese (default) and English.

Every label the map and the Streamlit page show comes from here, so that the
two languages stay complete and in step. Look a string up with :func:`t`;
facility types, travel modes and district unit types have their own helpers.

Examples
--------
>>> t("mode", "en")
'Travel mode'
>>> facility_type_label("library", "zh")
'公共图书馆'
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

#: Supported interface languages, default first.
LANGS: tuple[str, ...] = ("zh", "en")
#: The language chooser shows each language in its own script.
LANG_NAMES: Mapping[str, str] = MappingProxyType({"zh": "中文", "en": "English"})

_STRINGS: dict[str, tuple[str, str]] = {
    # page
    "app_title": ("公共文化设施覆盖规划", "Public-culture facility coverage planner"),
    "app_caption": (
        "成都中心城区示例数据 · 路网可达性 · 规划标准 · 选址优化 · 离线地图",
        "Central Chengdu sample data · road-network accessibility · planning "
        "standards · optimal siting · offline map",
    ),
    "language": ("语言 / Language", "Language / 语言"),
    "settings": ("分析设置", "Analysis settings"),
    "facility_type": ("设施类型", "Facility type"),
    "all_types": ("全部类型", "All types"),
    "mode": ("出行方式", "Travel mode"),
    "threshold_min": ("时间阈值（分钟）", "Travel-time threshold (minutes)"),
    "preset": ("规划标准", "Planning standard"),
    "basemap": ("底图", "Basemap"),
    "tianditu_key": ("天地图密钥（tk）", "Tianditu key (tk)"),
    "tianditu_key_help": (
        "在 console.tianditu.gov.cn 申请的浏览器端密钥；仅在联网时使用。",
        "Browser key from console.tianditu.gov.cn; used only when online.",
    ),
    "layers": ("图层", "Layers"),
    "show_grid": ("显示人口格网", "Show population grid"),
    "map_hint": (
        "点击地图可选取候选设施位置。",
        "Click on the map to pick a candidate facility site.",
    ),
    "last_click": ("最近点击位置", "Last clicked location"),
    "summary": ("概况", "Summary"),
    "n_facilities": ("设施数量", "Facilities"),
    "n_districts": ("行政区数量", "Districts"),
    "pop_study_area": ("研究区人口", "Population in study area"),
    "data_error": ("数据无法使用：", "The data cannot be used:"),
    "unexpected_error": (
        "出现意外错误，请检查输入数据后重试。",
        "Something went wrong; check the input data and try again.",
    ),
    "error_details": ("错误详情", "Error details"),
    "online_basemap_note": (
        "在线底图需要联网；内网环境请使用离线底图。",
        "Online basemaps need a network connection; use the offline basemap on an intranet.",
    ),
    "need_tianditu_key": (
        "天地图底图需要密钥，已改用离线底图。",
        "The Tianditu basemap needs a key; showing the offline basemap instead.",
    ),
    "data_source": (
        "数据：© OpenStreetMap 贡献者（ODbL）；第七次全国人口普查（2020）",
        "Data: © OpenStreetMap contributors (ODbL); 2020 census",
    ),
    # basemaps
    "basemap_offline": ("离线底图（OSM 路网）", "Offline (OSM roads)"),
    "basemap_tianditu": ("天地图（需密钥，联网）", "Tianditu (key, online)"),
    "basemap_amap": ("高德地图（联网，GCJ-02）", "Amap (online, GCJ-02)"),
    "basemap_osm": ("OpenStreetMap（联网）", "OpenStreetMap (online)"),
    # map layers and legend
    "layer_basemap": ("离线底图", "Offline basemap"),
    "layer_boundaries": ("行政区界", "District boundaries"),
    "layer_facilities": ("现状设施", "Existing facilities"),
    "layer_grid": ("人口格网", "Population grid"),
    "layer_uncovered": ("未覆盖区域", "Not covered"),
    "layer_proposals": ("建议新增设施", "Proposed facilities"),
    "layer_choropleth": ("分区指标", "District indicator"),
    "legend": ("图例", "Legend"),
    "grid_pop_label": ("人口（人/格）", "Residents per cell"),
    "name": ("名称", "Name"),
    "type": ("类型", "Type"),
    "pop": ("研究区人口", "Population (study area)"),
    "pop_census": ("普查人口（2020）", "Census population (2020)"),
    "capacity": ("容量", "Capacity"),
    "floor_area_m2": ("建筑面积（㎡）", "Floor area (m²)"),
    "new_pop_covered": ("新增覆盖人口", "Newly covered residents"),
    "proposal": ("建议站点", "Proposed site"),
    "unknown": ("未知", "unknown"),
    "roads_major": ("主干道", "Major roads"),
    "water": ("水体", "Water"),
    "green": ("绿地", "Green space"),
    # modes
    "mode_walk": ("步行", "Walk"),
    "mode_bike": ("骑行", "Bike"),
    "mode_drive": ("驾车", "Drive"),
    # presets
    "preset_national": ("国家标准（GB/T 公共文化服务）", "National standard (GB/T public culture)"),
    "preset_15min": ("15 分钟文化圈", "15-minute culture circle"),
    "preset_custom": ("自定义", "Custom"),
}

_FACILITY_TYPES: dict[str, tuple[str, str]] = {
    "library": ("公共图书馆", "Public library"),
    "cultural_centre": ("文化馆", "Cultural centre"),
    "culture_station": ("综合文化站", "Community culture station"),
    "city_reading_room": ("城市书房", "City reading room"),
    "museum": ("博物馆", "Museum"),
    "art_gallery": ("美术馆", "Art gallery"),
    "theatre": ("剧院", "Theatre"),
    "science_museum": ("科技馆", "Science museum"),
    "workers_palace": ("工人文化宫", "Workers' cultural palace"),
    "other": ("其他文化设施", "Other culture venue"),
}

_UNIT_TYPES: dict[str, str] = {
    "区": "District", "县": "County", "县级市": "County-level city",
    "街道": "Subdistrict", "乡镇": "Township",
}

#: Canonical facility types, in legend order.
FACILITY_TYPES: tuple[str, ...] = tuple(_FACILITY_TYPES)
#: Travel modes offered in the interface.
MODES: tuple[str, ...] = ("walk", "bike", "drive")


def _check_lang(lang: str) -> int:
    try:
        return LANGS.index(lang)
    except ValueError:
        raise ValueError(
            f"`lang` = {lang!r} is not supported; use one of {', '.join(LANGS)}."
        ) from None


def t(key: str, lang: str = "zh") -> str:
    """Return the interface string ``key`` in ``lang``.

    Parameters
    ----------
    key
        A string key, e.g. ``"mode"``.
    lang
        ``"zh"`` (default) or ``"en"``.

    Raises
    ------
    KeyError
        If ``key`` is unknown; the message lists close keys.
    """
    i = _check_lang(lang)
    try:
        return _STRINGS[key][i]
    except KeyError:
        close = sorted(k for k in _STRINGS if k.split("_")[0] == key.split("_")[0])
        raise KeyError(
            f"`key` = {key!r} is not an interface string; add it to coverage.i18n"
            + (f" or use one of {close}" if close else "") + "."
        ) from None


def facility_type_label(facility_type: str, lang: str = "zh") -> str:
    """Label of a canonical facility type; unknown types show as they are."""
    i = _check_lang(lang)
    pair = _FACILITY_TYPES.get(str(facility_type))
    return pair[i] if pair else str(facility_type)


def mode_label(mode: str, lang: str = "zh") -> str:
    """Label of a travel mode (``walk``, ``bike``, ``drive``)."""
    return t(f"mode_{mode}", lang)


def unit_type_label(unit_type: str, lang: str = "zh") -> str:
    """Label of a district unit type (区, 县, 县级市, 街道, 乡镇)."""
    _check_lang(lang)
    return unit_type if lang == "zh" else _UNIT_TYPES.get(unit_type, unit_type)


def keys() -> tuple[str, ...]:
    """All interface-string keys (for completeness checks)."""
    return tuple(_STRINGS)
