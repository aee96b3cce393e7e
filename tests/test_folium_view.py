"""Map payloads built once, and ahead of time on a background thread."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import folium
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ui.folium_view import PayloadStore  # noqa: E402


def _builder(calls: list[str], name: str, started: threading.Event | None = None,
             release: threading.Event | None = None):
    def build():
        calls.append(name)
        if started is not None:
            started.set()
        if release is not None:
            assert release.wait(10)
        m = folium.Map(location=(30.66, 104.06), zoom_start=12, tiles=None)
        folium.Marker((30.66, 104.06), tooltip=name).add_to(m)
        return m
    return build


def test_a_payload_is_built_once_per_key_and_holds_the_map():
    store, calls = PayloadStore(), []
    first = store.get("a", _builder(calls, "a"))
    again = store.get("a", _builder(calls, "a-again"))
    assert calls == ["a"] and again is first
    assert "a" in first.script and first.center == (30.66, 104.06) and first.zoom == 12


def test_a_prebuilt_payload_is_taken_without_building_again():
    store, calls = PayloadStore(), []
    thread = store.prebuild([("bike", _builder(calls, "bike")), ("drive", _builder(calls, "drive"))])
    thread.join(30)
    assert calls == ["bike", "drive"] and "bike" in store and "drive" in store
    store.get("bike", _builder(calls, "bike-foreground"))
    assert calls == ["bike", "drive"]
    assert store.prebuild([("bike", _builder(calls, "bike"))]) is None  # nothing left to do


def test_asking_for_a_map_being_prebuilt_waits_for_that_build():
    store, calls = PayloadStore(), []
    started, release = threading.Event(), threading.Event()
    thread = store.prebuild([("bike", _builder(calls, "bike", started, release))])
    assert started.wait(10)
    got: list = []
    asker = threading.Thread(target=lambda: got.append(store.get("bike", _builder(calls, "bike-again"))))
    asker.start()
    release.set()
    asker.join(30)
    thread.join(30)
    assert calls == ["bike"] and got and "bike" in got[0].script


def test_a_failed_prebuild_is_built_again_when_asked_and_its_error_shown():
    store, calls = PayloadStore(), []

    def broken():
        calls.append("broken")
        raise ValueError("no roads for this mode")

    store.prebuild([("drive", broken)]).join(30)
    assert "drive" not in store
    with pytest.raises(ValueError, match="no roads"):
        store.get("drive", broken)
    assert calls == ["broken", "broken"]


def test_only_the_newest_payloads_are_kept():
    store, calls = PayloadStore(max_entries=2), []
    for name in ("a", "b", "c"):
        store.get(name, _builder(calls, name))
    assert "a" not in store and "b" in store and "c" in store
