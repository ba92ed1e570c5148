"""Benchmarks of the course: how fast it runs and grades, against baselines measured in the same run.

``python -m benchmarks`` (or ``make bench``) writes docs/BENCHMARKS.md; ``--quick`` is a smoke run
that the tests use. Each section module has a ``run`` returning a report section (a dict with
title, text, header, rows, verdicts and extra tables).
"""
