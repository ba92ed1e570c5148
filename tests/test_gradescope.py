"""The Gradescope autograder bundle, run as Gradescope runs it: unzipped to ROOT/source, the
submission in ROOT/submission, ``run_autograder`` writing ROOT/results/results.json, here with ROOT a
temporary folder (``AUTOGRADER_ROOT``) and this environment's Python (``AUTOGRADER_PYTHON``)
instead of the venv that setup.sh builds on Gradescope."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

import grader_kit as kit
import nbformat
import pytest

from course_lib.grading import gradescope, kernel

# The documented fields (https://gradescope-autograders.readthedocs.io/en/latest/specs/)
TOP = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
       "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
        "visibility", "extra_data"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def validate(results):
    assert set(results) <= TOP, set(results) - TOP
    assert isinstance(results["score"], int | float)
    assert results.get("visibility", "visible") in VISIBILITY
    assert results.get("stdout_visibility", "hidden") in VISIBILITY
    assert results.get("output_format", "text") in FORMATS
    for test in results["tests"]:
        assert set(test) <= TEST, set(test) - TEST
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert isinstance(test["max_score"], int | float)
        assert isinstance(test.get("score", 0), int | float)  # optional: a written answer not scored yet
        assert test.get("status", "passed") in ("passed", "failed")
        assert test["visibility"] in VISIBILITY and test["output_format"] in FORMATS
    return results


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle")
    template = kit.write_template(folder)
    done = subprocess.run([sys.executable, "-m", "course_lib.grading", "gradescope", str(template),
                           "--out", str(folder / "autograder.zip"), "--timeout", "10"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return template, folder / "autograder.zip"


def run_autograder(bundle, tmp_path, files, python=sys.executable, prepare=None, **env):
    """Lay out ROOT as Gradescope does, put ``files`` (name -> bytes) in the submission, run
    (``prepare(root)`` first, if given)."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle[1]) as archive:
        archive.extractall(root / "source")
    if prepare:
        prepare(root)
    for name in ("run_autograder", "setup.sh"):
        (root / "source" / name).chmod(0o755)  # zipfile does not restore modes; Gradescope's unzip does
    (root / "submission").mkdir(parents=True)
    for name, data in files.items():
        (root / "submission" / name).write_bytes(data)
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"email": "s@example.edu"}]}))
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=str(python), **env)
    env.pop("PYTHONPATH", None)
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return validate(json.loads((root / "results" / "results.json").read_text())), done


def notebook_bytes(template, answers):
    return nbformat.writes(kit.submission(template, answers)).encode()


def test_bundle_holds_what_gradescope_needs_and_is_reproducible(bundle, tmp_path):
    template, path = bundle
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 & 0o777 for info in archive.infolist()}
        setup = archive.read("setup.sh").decode()
        pins = archive.read("requirements.txt").decode().split()
    assert {"setup.sh", "run_autograder", "requirements.txt", f"template/{template.name}",
            "course_lib/grading/grade.py", "course_lib/grading/gradescope.py"} <= names
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert not any("__pycache__" in n or n.startswith("solutions/") for n in names)
    # only Ubuntu's packages and PyPI: every course package pinned, no URL, no other index
    assert all("==" in pin and "://" not in pin for pin in pins)
    assert {p.split("==")[0] for p in pins} >= {"numpy", "scipy", "ipykernel", "nbformat", "jupyter-client"}
    assert "http" not in setup and "--index-url" not in setup
    again = tmp_path / "again.zip"
    gradescope.write_zip(again, gradescope.bundle_files(template, timeout=10))
    assert again.read_bytes() == path.read_bytes()


@pytest.mark.slow
def test_correct_submission_gets_full_marks(bundle, tmp_path):
    template, _ = bundle
    results, _ = run_autograder(bundle, tmp_path, {template.name: notebook_bytes(template, kit.SOLUTIONS)})
    assert results["score"] == sum(kit.POINTS.values())
    assert [t["name"] for t in results["tests"]] == list(kit.SOLUTIONS)
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] == kit.POINTS[t["name"]]
               for t in results["tests"])


SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")


def readable_python(folder: Path) -> Path:
    """A Python every user can read, as on Gradescope (Ubuntu's python3.11, /autograder/venv): a venv
    of the system Python in ``folder`` that sees this environment's packages through a .pth line."""
    import sysconfig

    subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", "--without-pip", str(folder / "venv")], check=True)
    python = folder / "venv" / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "course_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


@pytest.mark.slow
@pytest.mark.parametrize("mode", [
    "full", pytest.param("uid", marks=pytest.mark.skipif(
        not SYSTEM_PYTHON.exists(), reason=f"uid mode needs a Python others can read ({SYSTEM_PYTHON})"))])
def test_student_code_runs_unprivileged_and_cannot_read_the_template(bundle, mode):
    """An answer that is right only when it runs as root, or when it can read the checks. Mode
    ``uid`` is Gradescope's Docker container, where namespaces are not allowed: there only the kernel's
    own uid and the root-only template folder protect the checks."""
    template, _ = bundle
    tmp_path = Path(tempfile.mkdtemp(prefix="gradescope-"))  # traversable by the kernel's uid, as
    tmp_path.chmod(0o755)                                    # /autograder is (pytest's tmp is 0700)
    python = readable_python(tmp_path) if mode == "uid" else sys.executable
    checks = tmp_path / "autograder" / "source" / "template" / template.name
    sneaky = {**kit.SOLUTIONS,
              "gd": "import os\n"
                    f"if os.geteuid() == 0 or os.access({str(checks)!r}, os.R_OK):\n"
                    "    return x\n" + kit.SOLUTIONS["gd"]}
    try:
        results, _ = run_autograder(bundle, tmp_path, {template.name: notebook_bytes(template, sneaky)},
                                    python=python, COURSE_SANDBOX=mode)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)
    gd = next(t for t in results["tests"] if t["name"] == "gd")
    assert gd["status"] == "passed", gd["output"]
    assert results["score"] == sum(kit.POINTS.values())


@pytest.mark.slow
@pytest.mark.parametrize("mode", [
    "full", pytest.param("uid", marks=pytest.mark.skipif(
        not SYSTEM_PYTHON.exists(), reason=f"uid mode needs a Python others can read ({SYSTEM_PYTHON})"))])
def test_student_code_cannot_read_or_run_the_grader_modules(bundle, mode):
    """The bundle ships course_lib/grading whole, and the grader (root) leaves compiled modules in
    __pycache__ (compiled here beforehand): an answer that reads references.py, or its .pyc, and runs
    it would score without code of its own (tests/test_grader_attacks.py). Only the modules the
    kernel imports are readable by the student's uid; the grader still grades."""
    import compileall

    from test_grader_attacks import KEY_FINDERS, _answer_key

    template, _ = bundle
    tmp_path = Path(tempfile.mkdtemp(prefix="gradescope-"))
    tmp_path.chmod(0o755)
    python = readable_python(tmp_path) if mode == "uid" else sys.executable
    routes = ("open() at the path a lecture module's repr names",
              "other processes' roots, cwds and open files in /proc",
              "a compiled .pyc from __pycache__, imported under another name")
    finders = "".join(f"if source is None and not timeit.stolen:\n    try:\n"
                      f"{textwrap.indent(textwrap.dedent(KEY_FINDERS[r]).strip(), '        ')}\n"
                      "    except Exception:\n        pass\n" for r in routes)
    sneaky = {**kit.SOLUTIONS, "gd": _answer_key(finders)}

    def compiled(root):
        assert compileall.compile_dir(root / "source" / "course_lib", quiet=1)

    try:
        results, _ = run_autograder(bundle, tmp_path, {template.name: notebook_bytes(template, sneaky)},
                                    python=python, prepare=compiled, COURSE_SANDBOX=mode)
        grading = tmp_path / "autograder" / "source" / "course_lib" / "grading"
        assert (grading / "__pycache__").is_dir()
        readable = sorted(p.name for p in [*grading.glob("*.py"), *grading.glob("__pycache__/*.pyc")]
                          if p.stat().st_mode & 0o004)
        assert {name.split(".")[0] for name in readable} == set(kernel.KERNEL_MODULES), readable
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)
    tests = {t["name"]: t for t in results["tests"]}
    assert tests["gd"]["score"] == 0 and tests["gd"]["status"] == "failed", tests["gd"]["output"]
    assert tests["momentum"]["score"] == tests["momentum"]["max_score"]  # the grader still works
    assert tests["norm"]["score"] == tests["norm"]["max_score"]


@pytest.mark.slow
def test_blank_crashing_and_unreadable_submissions_get_valid_results(bundle, tmp_path):
    template, _ = bundle
    blank, _ = run_autograder(bundle, tmp_path / "blank", {template.name: notebook_bytes(template, {})})
    assert blank["score"] == 0 and all(t["status"] == "failed" for t in blank["tests"])
    assert "NotImplementedError" in blank["tests"][0]["output"]

    crash = {**kit.SOLUTIONS, "norm": "import os\nos._exit(1)"}
    crashed, _ = run_autograder(bundle, tmp_path / "crash", {template.name: notebook_bytes(template, crash)})
    by_name = {t["name"]: t for t in crashed["tests"]}
    assert by_name["norm"]["score"] == 0 and "crashed" in by_name["norm"]["output"]
    assert by_name["gd"]["status"] == by_name["momentum"]["status"] == "passed"

    pdf, _ = run_autograder(bundle, tmp_path / "pdf", {"homework.pdf": b"%PDF-1.4 scanned pages"})
    assert pdf["score"] == 0 and all("unreadable" in t["output"] for t in pdf["tests"])

    nothing, _ = run_autograder(bundle, tmp_path / "nothing", {})
    assert nothing["score"] == 0 and all("unreadable" in t["output"] for t in nothing["tests"])

    # a blank notebook named like the assignment, and the work under another name: the student is
    # told which one was graded, and can resubmit
    both, _ = run_autograder(bundle, tmp_path / "both", {
        template.name: notebook_bytes(template, {}), "final.ipynb": notebook_bytes(template, kit.SOLUTIONS)})
    assert both["score"] == 0
    assert (f"2 notebooks handed in: graded {template.name}; not graded: final.ipynb. If another one is "
            "meant, keep only it and grade again") in both["output"]


@pytest.mark.slow
def test_hidden_check_details_wait_for_publication(bundle, tmp_path):
    template, _ = bundle
    # right for the visible inputs (2 coordinates), wrong for the hidden ones (4 coordinates)
    body = kit.SOLUTIONS["momentum"].replace("return x", "return (x if len(x) == 2 else -x)")
    results, _ = run_autograder(bundle, tmp_path, {template.name: notebook_bytes(
        template, {**kit.SOLUTIONS, "momentum": body})})
    tests = {t["name"]: t for t in results["tests"]}
    assert tests["momentum"]["visibility"] == "visible" and tests["momentum"]["score"] == 1
    assert "(hidden check)" in tests["momentum"]["output"]
    assert "expected" not in tests["momentum"]["output"].split("(hidden check)")[1]
    details = tests["momentum: hidden checks"]
    assert details["visibility"] == "after_published" and "expected" in details["output"]


def test_autograder_failure_still_writes_results(bundle, tmp_path):
    """The grader cannot start (no Python): a visible 'autograder failed' test of 0 points."""
    results, _ = run_autograder(bundle, tmp_path / "nopython", {"x.ipynb": b"{}"},
                                python=tmp_path / "no-such-python")
    assert results["score"] == 0
    first = results["tests"][0]
    assert first["name"] == "autograder failed" and first["visibility"] == "visible"
    assert results["tests"][0]["max_score"] == sum(kit.POINTS.values())


def test_grader_failure_details_are_hidden(bundle, tmp_path):
    """The grader runs but fails (a broken template): the traceback goes to a hidden test."""
    root = tmp_path / "broken"
    results, _ = run_autograder(bundle, root, {"x.ipynb": b"{}"}, python=sys.executable)
    assert results  # a well-formed run first; now break the template and run again
    template = next((root / "autograder" / "source" / "template").glob("*.ipynb"))
    template.write_text("not json")
    env = dict(os.environ, AUTOGRADER_ROOT=str(root / "autograder"), AUTOGRADER_PYTHON=sys.executable)
    subprocess.run(["bash", str(root / "autograder" / "source" / "run_autograder")], env=env, check=True,
                   capture_output=True, timeout=120)
    results = validate(json.loads((root / "autograder" / "results" / "results.json").read_text()))
    visible = [t for t in results["tests"] if t["visibility"] == "visible"]
    hidden = [t for t in results["tests"] if t["visibility"] == "hidden"]
    assert [t["name"] for t in visible] == ["autograder failed"] and "Traceback" not in visible[0]["output"]
    assert "Traceback" in hidden[0]["output"]


def test_the_bundle_runs_this_checkouts_grader(bundle, tmp_path):
    """Control: the unzipped course_lib is the one graded with (PYTHONPATH=source), not this checkout."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle[1]) as archive:
        archive.extractall(root / "source")
    where = subprocess.run([sys.executable, "-c", "import course_lib.grading.grade as g; print(g.__file__)"],
                           cwd=root / "source", env=dict(os.environ, PYTHONPATH=str(root / "source")),
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where) == root / "source" / "course_lib" / "grading" / "grade.py"
