"""End-to-end: the Streamlit page shows its map in a real browser with no network.

Starts ``streamlit run app.py`` on a free local port, opens it in Debian's
chromium through Playwright, aborts every request that is not to
127.0.0.1/localhost (and fails listing them), waits for the Leaflet map
inside the st_folium component iframe, clicks it, and saves a screenshot to
``tests/artifacts/``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
SERVER_START_TIMEOUT_S = 60
MAP_TIMEOUT_MS = 45_000

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} is absent (install Debian's chromium package)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(port: int, proc: subprocess.Popen) -> None:
    url = f"http://127.0.0.1:{port}/_stcore/health"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"streamlit exited with {proc.returncode}:\n"
                                 + proc.stdout.read().decode(errors="replace"))
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.read() == b"ok":
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"streamlit did not answer {url} within {SERVER_START_TIMEOUT_S} s")


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]]
                                                        if env.get("PYTHONPATH") else []))
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(port, proc)
        yield {"url": f"http://127.0.0.1:{port}/", "started": started}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_map_appears_offline_and_returns_clicks(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    attempted_remote: list[str] = []
    seen_local: list[str] = []
    page_errors: list[str] = []

    def route(r):
        url = r.request.url
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob") or parsed.hostname in LOCAL_HOSTS:
            seen_local.append(url)
            r.continue_()
        else:
            attempted_remote.append(url)
            r.abort()

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"])
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            # Routing on the context covers the page and its component iframes.
            context.route("**/*", route)
            page = context.new_page()
            page.route("**/*", route)
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            t0 = time.monotonic()
            page.goto(server["url"], timeout=MAP_TIMEOUT_MS)
            frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]')
            try:
                frame.locator(".leaflet-container").wait_for(timeout=MAP_TIMEOUT_MS)
                # Vector basemap (canvas), population raster and legend are in the map.
                frame.locator(".leaflet-overlay-pane canvas").wait_for(timeout=MAP_TIMEOUT_MS)
                frame.locator("img.leaflet-image-layer").first.wait_for(timeout=MAP_TIMEOUT_MS)
                frame.locator(".cultcov-legend").wait_for(timeout=MAP_TIMEOUT_MS)
            except sync_api.TimeoutError as exc:
                page.screenshot(path=str(ARTIFACTS / "e2e_no_map.png"), full_page=True)
                raise AssertionError(
                    f"the map did not appear within {MAP_TIMEOUT_MS / 1000:.0f} s; "
                    f"network requests attempted: {attempted_remote}; "
                    f"page errors: {page_errors}") from exc
            first_map_s = time.monotonic() - t0
            assert frame.locator(".leaflet-control-attribution").inner_text().find(
                "OpenStreetMap") >= 0
            # The raster overlay really decoded (a data: PNG with a size).
            natural_width = frame.locator("img.leaflet-image-layer").first.evaluate(
                "img => img.complete ? img.naturalWidth : 0")
            assert natural_width > 10

            # A click on the map reaches Python and is shown on the page.
            box = frame.locator(".leaflet-container").bounding_box()
            page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
            page.get_by_text("最近点击位置").wait_for(timeout=MAP_TIMEOUT_MS)
            shot = ARTIFACTS / "e2e_offline_map.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()

    print(f"first map {first_map_s:.1f} s after page load "
          f"({time.monotonic() - server['started']:.1f} s since server start)")
    assert not attempted_remote, "requests to the network were attempted:\n" + "\n".join(
        attempted_remote)
    # The route handler did see the component iframe's own files (routing works there).
    assert any("/component/streamlit_folium" in u for u in seen_local)
    assert not page_errors, page_errors
    assert shot.stat().st_size > 10_000
    assert first_map_s < 30
