"""Helpers of the Streamlit page (``app.py``).

:mod:`ui.logic` holds everything that does not need Streamlit (scenario
edits, district tables, comparisons, uploads, downloads), so that it can be
tested directly; ``app.py`` only wires widgets to it.
"""
