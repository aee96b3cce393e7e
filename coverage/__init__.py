"""Facility-coverage planning for public-culture services.

The package is named ``coverage`` inside the distribution
``culture-coverage-planner``; it is unrelated to the ``coverage.py``
test-coverage tool (install only one of them in an environment).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
