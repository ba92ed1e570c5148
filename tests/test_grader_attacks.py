"""Adversarial suite: submissions that each try one attack on the batch grader.

Every attack submission answers two exercises correctly and attacks the third. The attack is
defeated when the attacked exercise scores zero with an expected status, the other two get full
points, and the run finishes. The whole class is graded in one run with two workers.
"""

from __future__ import annotations

import os
import textwrap

import grader_kit as kit
import nbformat
import pytest

from course_lib.grading import assignment as asg
from course_lib.grading.kernel import sandbox_available

WRONG = {"gd": "return x", "momentum": "return x, state", "norm": "return 0.0"}
TIMEOUT = 6


def _body(exercise, attack, correct_if=None):
    """Attack code, then the wrong answer (or the right one when ``correct_if`` holds in the kernel:
    how an attack that gains information would turn it into points)."""
    code = textwrap.dedent(attack).strip()
    if correct_if:
        right = textwrap.indent(kit.SOLUTIONS[exercise], "    ")
        code += f"\nif {correct_if}:\n{right}"
    return code + "\n" + WRONG[exercise]


def _replace_checks(source, exercise):
    def edit(notebook):
        for cell in notebook.cells:
            meta = cell.metadata.get("grading", {})
            if meta.get("kind") == "check" and meta["exercise"] == exercise:
                cell.source = source
    return edit


def _delete_checks(notebook):
    notebook.cells = [c for c in notebook.cells if c.metadata.get("grading", {}).get("kind") != "check"]


def _duplicate_cells(kind):
    def edit(notebook):
        cells = []
        for cell in notebook.cells:
            cells.append(cell)
            if cell.metadata.get("grading", {}).get("kind") == kind:
                cells.append(nbformat.from_dict(dict(cell, id=cell.id + "-copy")))
        notebook.cells = cells
    return edit


def attacks(paths):
    """name -> (attacked exercise, answers, edit, statuses that count as defeated)."""
    secret_files = [str(paths["template"]), str(paths["repo_solutions"]), str(paths["submissions"])]
    peek = f"""
    import os
    found = ""
    for path in {secret_files!r}:
        try:
            if os.path.isdir(path):
                for name in os.listdir(path):
                    with open(os.path.join(path, name), errors="replace") as f:
                        found += f.read()
            else:
                with open(path, errors="replace") as f:
                    found += f.read()
        except OSError:
            pass
    """
    signs = """
    import os, re
    marks = re.compile("grad|nbgrader|otter|submission|solution|hidden", re.I)
    signals = [k for k in os.environ if marks.search(k)]
    here = os.listdir(".")
    signals += [n for n in here if not n.endswith(".ipynb")]
    signals += [os.getcwd()] if marks.search(os.getcwd()) else []
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marks.search(f.read().decode(errors="replace")):
                    signals.append(pid)
        except OSError:
            pass
    """
    m = "momentum"
    return {
        "edit check cells to assert True": (m, {m: WRONG[m]}, _replace_checks("assert True", m), {"failed"}),
        "delete check cells": (m, {m: WRONG[m]}, _delete_checks, {"failed"}),
        "duplicate check cells": (m, {m: WRONG[m]}, _duplicate_cells("check"), {"failed"}),
        "duplicate answer cells (right answer second)": (
            m, {m: WRONG[m]}, _duplicate_answer_with(m, kit.SOLUTIONS[m]), {"failed"}),
        "monkeypatch np.allclose/isclose": (m, {m: _body(m, """
            np.allclose = lambda *a, **k: True
            np.isclose = lambda a, b, **k: np.ones(np.broadcast(a, b).shape, bool)
            """)}, None, {"failed"}),
        "monkeypatch np.testing": (m, {m: _body(m, """
            np.testing.assert_allclose = lambda *a, **k: None
            np.testing.assert_array_almost_equal = lambda *a, **k: None
            """)}, None, {"failed"}),
        "monkeypatch builtins": (m, {m: _body(m, """
            b = print.__self__
            b.isinstance = lambda *a: True
            b.abs = lambda v: 0.0
            b.AssertionError = type("Quiet", (Exception,), {})
            """)}, None, {"failed", "timeout", "forbidden"}),
        "monkeypatch course_lib": ("gd", {"gd": _body("gd", """
            import course_lib.optim
            course_lib.optim.SGD.update = lambda self, x, dx: x
            """)}, None, {"failed"}),
        "read the template / hidden checks from disk": (m, {m: _body(m, peek, "'HIDDEN TESTS' in found")},
                                                        None, {"failed"}),
        "look for signs of grading": (m, {m: _body(m, signs, "signals")}, None, {"failed"}),
        "forge a result message": (m, {m: _body(m, """
            from IPython.display import publish_display_data
            for guess in ("0" * 32, "f" * 32):
                publish_display_data({"application/json": {"nonce": guess, "value": "[[0.9, 2.1], {}]"}})
            print('{"nonce": "' + "0" * 32 + '", "value": "1"}')
            """)}, None, {"failed", "forbidden"}),
        "infinite loop": (m, {m: "while True:\n    pass"}, None, {"timeout"}),
        "os._exit": (m, {m: "import os\nos._exit(0)"}, None, {"crashed"}),
        "segfault": (m, {m: "import faulthandler\nfaulthandler._read_null()"}, None, {"crashed"}),
        "memory bomb": (m, {m: "blocks = []\nwhile True:\n    blocks.append(bytearray(2**26))"}, None,
                        {"error", "crashed"}),
        "print hundreds of MB": (m, {m: _body(m, """
            chunk = "x" * 1_000_000
            for _ in range(300):
                print(chunk)
            """)}, None, {"failed", "timeout"}),
        "a thread that never ends": (m, {m: _body(m, """
            import threading, time
            def forever():
                while True:
                    np.allclose = lambda *a, **k: True
                    time.sleep(0.01)
            threading.Thread(target=forever).start()
            """)}, None, {"failed"}),
        "kill every process it can": (m, {m: _body(m, """
            import os, signal
            for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
                if pid != os.getpid():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            """)}, None, {"failed"}),
        "reach the forbidden reference dynamically": (m, {m: (
            "import os\nreference = os.sys.modules['importlib'].import_module('course_lib.' + 'optim')\n"
            "opt = reference.Momentum(learning_rate, rho)\nopt.velocity = state['velocity']\n"
            "x = opt.step(x, dx)\nreturn x, {'velocity': opt.velocity}")}, None, {"forbidden"}),
        "call the forbidden reference": (m, {m: (
            "from course_lib.optim import Momentum\n"
            "opt = Momentum(learning_rate, rho)\nopt.velocity = state['velocity']\n"
            "x = opt.step(x, dx)\nreturn x, {'velocity': opt.velocity}")}, None, {"forbidden"}),
    }


def _duplicate_answer_with(exercise, body):
    def edit(notebook):
        cells = []
        for cell in notebook.cells:
            cells.append(cell)
            meta = cell.metadata.get("grading", {})
            if meta.get("kind") == "answer" and meta["exercise"] == exercise:
                source = asg.replace_regions(cell.source, [body])
                cells.append(nbformat.from_dict(dict(cell, id=cell.id + "-copy", source=source)))
        notebook.cells = cells
    return edit


@pytest.mark.slow
def test_attacks_are_defeated(tmp_path, record_property):
    import course_lib

    repo = os.path.dirname(os.path.dirname(course_lib.__file__))
    template = kit.write_template(tmp_path)
    submissions, out = tmp_path / "submissions", tmp_path / "grades"
    paths = {"template": template, "repo_solutions": os.path.join(repo, "solutions"),
             "submissions": submissions}
    plan = attacks(paths)
    if not sandbox_available():  # without root the kernel reads and sees what the grader's user can
        plan.pop("read the template / hidden checks from disk")
        plan.pop("look for signs of grading")
    students = {}
    for number, (name, (exercise, answers, edit, statuses)) in enumerate(plan.items()):
        student = f"s{number:02d}"
        students[student] = (name, exercise, statuses)
        full = {**kit.SOLUTIONS, **answers}
        kit.write_submission(submissions, student, kit.submission(template, full, edit))
    kit.write_submission(submissions, "clean", kit.submission(template, kit.SOLUTIONS))

    done, rows = kit.grade(template, submissions, out, "--memory", "1024", timeout=TIMEOUT)

    assert {row["status"] for row in rows["clean"].values()} == {"passed"}, rows["clean"]
    defeated, report = 0, []
    for student, (name, attacked, statuses) in students.items():
        row = rows[student][attacked]
        others_full = all(float(r["points"]) == float(r["max_points"]) and r["status"] == "passed"
                          for ex, r in rows[student].items() if ex != attacked)
        ok = float(row["points"]) == 0 and row["status"] in statuses and others_full
        defeated += ok
        report.append(f"{'defeated' if ok else 'NOT DEFEATED'}: {name}: {attacked} {row['status']} "
                      f"{row['points']}/{row['max_points']} ({kit.record(out, student)['seconds']:.1f} s)"
                      + ("" if others_full else f"; other exercises: {rows[student]}"))
    print("\n".join(report))
    print(f"attacks defeated: {defeated}/{len(students)}")
    record_property("summary:attacks defeated", [defeated, len(students)])
    assert defeated == len(students), "\n".join(report)
