"""A folium map in the page, rendered to its browser payload once and reused.

``streamlit_folium.st_folium`` renders the whole folium tree to HTML and
JavaScript on every script run (about a second for the planning map, most of
it template compilation) and alters the map while doing so. Here the payload
(script, header, HTML, asset links) is computed once per map and cached by
the page; each run only hands the cached strings to the same browser
component, with the view (centre and zoom) the planner left the map at.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, Sequence

import streamlit as st

__all__ = ["MapPayload", "PayloadStore", "prepare", "show"]


@dataclass(frozen=True)
class MapPayload:
    """What the browser component needs to draw one map."""

    script: str
    header: str
    html: str
    map_id: str
    bounds: dict[str, dict[str, float | None]]
    center: tuple[float, float] | None
    zoom: int | None
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]
    size: int


def _bounds(fmap: Any) -> dict[str, dict[str, float | None]]:
    try:
        (s, w), (n, e) = fmap.get_bounds()
    except (AttributeError, TypeError, ValueError):
        s = w = n = e = None
    return {"_southWest": {"lat": s, "lng": w}, "_northEast": {"lat": n, "lng": e}}


def _assets(fmap: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Style sheet and script links of every element of the map, in tree order."""
    css: dict[str, None] = {}
    js: dict[str, None] = {}
    todo = [fmap]
    while todo:
        element = todo.pop(0)
        css.update((href, None) for _, href in getattr(element, "default_css", []))
        js.update((src, None) for _, src in getattr(element, "default_js", []))
        todo.extend(getattr(element, "_children", {}).values())
    return tuple(css), tuple(js)


def prepare(fmap: Any) -> MapPayload:
    """Render a folium map to its component payload.

    The map is rendered in place (element ids change): pass a map built for
    this purpose, or a copy.
    """
    import streamlit_folium as sf

    m = fmap
    m.get_root().render()
    html, header = sf._get_html(m), sf._get_header(m)
    script = sf._get_map_string(m)
    css, js = _assets(m)
    zoom = m.options.get("zoom") if hasattr(m, "options") else None
    location = getattr(m, "location", None)
    center = (float(location[0]), float(location[1])) if location else None
    return MapPayload(script=script, header=header, html=html, map_id=sf.get_full_id(m),
                      bounds=_bounds(m), center=center, zoom=zoom, css_links=css, js_links=js,
                      size=len(script) + len(header) + len(html))


class PayloadStore:
    """Map payloads by key, each built at most once, some ahead of time on a background thread.

    :meth:`get` returns the payload for a key, building it with the given
    function unless it is stored or being built (then it waits for that
    build). :meth:`prebuild` builds maps the planner is likely to ask for
    next (the same question by another travel mode) while the page is idle.
    The newest ``max_entries`` payloads are kept.
    """

    def __init__(self, max_entries: int = 16) -> None:
        self._items: OrderedDict[Hashable, MapPayload] = OrderedDict()
        self._busy: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()
        self._max = int(max_entries)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def get(self, key: Hashable, build: Callable[[], Any]) -> MapPayload:
        """The payload for ``key``; ``build()`` returns the folium map when it must be made."""
        while True:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
                done = self._busy.get(key)
                mine = done is None
                if mine:
                    done = self._busy[key] = threading.Event()
            if not mine:
                done.wait()  # built by another thread, or failed there: then built here
                continue
            try:
                payload = prepare(build())
                with self._lock:
                    self._items[key] = payload
                    while len(self._items) > self._max:
                        self._items.popitem(last=False)
                return payload
            finally:
                with self._lock:
                    self._busy.pop(key, None)
                done.set()

    def prebuild(self, jobs: Sequence[tuple[Hashable, Callable[[], Any]]]) -> threading.Thread | None:
        """Build the maps of ``jobs`` (key, build) not stored or under way, on one background thread."""
        with self._lock:
            todo = [(k, b) for k, b in jobs if k not in self._items and k not in self._busy]
        if not todo:
            return None

        def work() -> None:
            for key, build in todo:
                try:
                    self.get(key, build)
                except Exception:  # noqa: BLE001 - shown when the planner asks for that map
                    continue

        thread = threading.Thread(target=work, name="map-prebuild", daemon=True)
        thread.start()
        return thread


def show(payload: MapPayload, *, key: str, height: int,
         returned_objects: Iterable[str] = ("last_clicked",),
         center: tuple[float, float] | None = None, zoom: int | None = None,
         on_change: Callable[[], None] | None = None) -> dict[str, Any]:
    """Draw a prepared map; returns what the browser reported (``last_clicked``, ``center``, ...).

    The last report is also kept in ``st.session_state[key]``.
    """
    import streamlit_folium as sf

    returned = list(returned_objects)
    # What the browser reports right after drawing the map at this view: with it as the
    # starting value, a new map does not send its first view back (no extra script run).
    # The keys follow the component's own order.
    start = center if center is not None else payload.center
    defaults = {"last_clicked": None, "bounds": payload.bounds,
                "zoom": zoom if zoom is not None else payload.zoom,
                "center": {"lat": start[0], "lng": start[1]} if start is not None else None}
    component_key = sf.generate_js_hash(payload.script, key, False)

    def changed() -> None:
        st.session_state[key] = st.session_state.get(component_key, {})
        if on_change is not None:
            on_change()

    return sf._component_func(
        script=payload.script, header=payload.header, html=payload.html, id=payload.map_id,
        key=component_key, height=height, width=None, returned_objects=returned,
        default={k: v for k, v in defaults.items() if k in returned},
        zoom=zoom, center=list(center) if center is not None else None, feature_group=None,
        return_on_hover=False, layer_control=None, pixelated=False,
        css_links=list(payload.css_links), js_links=list(payload.js_links),
        on_change=changed, wrap_longitude=False) or {}

