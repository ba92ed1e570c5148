"""Suite-wide summary lines: a test records ``record_property("summary:<what>", [hits, total])`` and
the end of the run prints "<what>: hits/total" summed over all tests (also under pytest-xdist)."""


def pytest_terminal_summary(terminalreporter):
    totals = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            for key, value in getattr(report, "user_properties", []):
                if report.when == "call" and isinstance(key, str) and key.startswith("summary:"):
                    hits, total = totals.get(key[len("summary:"):], (0, 0))
                    totals[key[len("summary:"):]] = (hits + value[0], total + value[1])
    for what, (hits, total) in sorted(totals.items()):
        terminalreporter.write_line(f"{what}: {hits}/{total}")
