"""Coordinate reference systems used inside the package.

Everything is reprojected once, at load time, to a local projected metric
CRS (UTM); metres and seconds everywhere inside; EPSG:4326 only for the web
map and for exports.
"""

from __future__ import annotations

import numpy as np
import pyproj

WGS84 = "EPSG:4326"
#: The metric CRS of the embedded central-Chengdu study area (UTM zone 48N).
CHENGDU_CRS = "EPSG:32648"


def utm_crs_for(lon: float, lat: float) -> str:
    """Return the EPSG code of the UTM zone containing ``(lon, lat)``.

    Parameters
    ----------
    lon, lat
        A point in WGS84 degrees.
    """
    if not (-180 <= lon <= 180 and -80 <= lat <= 84):
        raise ValueError(
            f"`lon`, `lat` = ({lon}, {lat}) are not WGS84 degrees; pass longitude "
            "first, then latitude, both in degrees."
        )
    zone = int((lon + 180) // 6) + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def transformer(src: str, dst: str) -> pyproj.Transformer:
    """A cached, always-xy transformer from ``src`` to ``dst``."""
    return _transformer(str(src), str(dst))


_CACHE: dict[tuple[str, str], pyproj.Transformer] = {}


def _transformer(src: str, dst: str) -> pyproj.Transformer:
    key = (src, dst)
    if key not in _CACHE:
        _CACHE[key] = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    return _CACHE[key]


def to_metric(lon: np.ndarray, lat: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 ``lon``/``lat`` arrays to ``crs`` metres."""
    x, y = transformer(WGS84, crs).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x), np.asarray(y)


def to_lonlat(x: np.ndarray, y: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Project ``crs`` metre arrays back to WGS84 lon/lat."""
    lon, lat = transformer(crs, WGS84).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon), np.asarray(lat)
