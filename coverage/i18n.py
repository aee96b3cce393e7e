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
