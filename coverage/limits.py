"""Size limits checked before heavy work starts.

One upload or one config entry must not be able to take the server down, so
the loaders check these limits from cheap facts (the file size, a count of
line breaks, a raster's header, the bounds of the study area) before they
parse, read pixels or build a grid. Each refusal names the limit and how to
split the work. The limits are listed in the README.
"""

from __future__ import annotations

from .errors import Problem

__all__ = [
    "MAX_UPLOAD_MB",
    "MAX_TABLE_ROWS",
    "MAX_GRID_CELLS",
    "MAX_RASTER_PIXELS",
    "SPLIT_FIX",
    "grid_cells_problem",
]

#: Largest file the page accepts, in megabytes (``[server] maxUploadSize`` in
#: ``.streamlit/config.toml`` holds the same number).
MAX_UPLOAD_MB = 100
#: Most rows of a facility table (CSV/XLSX); a province has fewer culture facilities.
MAX_TABLE_ROWS = 100_000
#: Most population grid cells of one study area (a 40,000 km² area at 200 m cells).
MAX_GRID_CELLS = 1_000_000
#: Most population-raster pixels read for one study area.
MAX_RASTER_PIXELS = 25_000_000

#: How to split work that is over a limit.
SPLIT_FIX = ("split the study area into districts or counties and run them with the command line "
             "(`cultcov batch areas.yaml --out results/`), one area per entry")


def grid_cells_problem(n_cells: float, *, cell_m: float, what: str, file: str | None = None) -> Problem | None:
    """A problem when a grid of ``n_cells`` cells of side ``cell_m`` is over :data:`MAX_GRID_CELLS`.

    Parameters
    ----------
    n_cells
        Number of square cells the grid would have.
    cell_m
        Their side in metres.
    what
        What spans the grid (e.g. ``"the study area"``), for the message.
    file
        The file that asked for the grid, if any.
    """
    if n_cells <= MAX_GRID_CELLS:
        return None
    side_for_limit = cell_m * (n_cells / MAX_GRID_CELLS) ** 0.5
    return Problem(
        f"{what} needs a population grid of {n_cells:,.0f} cells of {cell_m:g} m, more than the "
        f"limit of {MAX_GRID_CELLS:,} cells.", file=file,
        fix=f"use cells of at least {side_for_limit:,.0f} m (`cell_m` in the study config), or "
            + SPLIT_FIX)
