"""Benchmarks: jupyter_ycollab against jupyter-collaboration (see benchmarks/README.md)."""
