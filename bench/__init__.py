"""modelplane benchmarks: every figure is a ratio against a baseline measured in the same run.

Run ``make bench`` (or ``python -m bench.run``); results go to ``bench/results/*.json`` and the
table in ``docs/benchmarks.md``. See ``bench/run.py``.
"""
