"""Streamlit page of the culture-coverage planner.

Run with ``streamlit run app.py``. The page stays thin: data loading, maps
and analysis live in the :mod:`coverage` package, the page logic in
:mod:`ui.logic` and the widgets in :mod:`ui.page`. Everything works without
a network (the map's scripts are vendored, the default basemap is drawn from
the embedded OSM data, charts use the Vega library bundled with Streamlit).
"""

from ui.page import main

main()
