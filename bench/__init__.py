"""Benchmarks for gridwatch: `make bench` (or `python -m bench`) runs them all on loopback.

Each benchmark starts its own processes (simulator, exporter, baseline), measures, stops them and
returns a `report.Result`; `__main__` writes bench/results/<name>.json and bench/RESULTS.md.
"""
