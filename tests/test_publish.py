"""The student edition (`python -m course_lib.grading publish`): no answers in it, and it works.

The leak test computes what must not be published from the solution notebooks: every line of every
solution region (code answers, written model answers), hidden-test region and rubric region. Left
out: lines under 12 characters (``n = 6``, ``return r``: they identify nothing), lines
the template shows outside its regions anyway (``rtol=rtol, hint=hint,`` continuing a call), and
solution lines that the lecture material itself shows (lecture notebooks, ``course_lib`` outside
``grading``): the lectures teach these computations and each exercise forbids using the course's
implementation. Every published file is searched, as bytes and, for JSON files such as notebooks,
as the decoded strings (where quotes are escaped in the bytes).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml
from lab_kit import make_lab

from course_lib.grading import assignment as asg
from course_lib.grading import publish
from course_lib.grading.recorded import recorded_functions

ROOT = Path(__file__).resolve().parents[1]
SHORTEST_SECRET = 12
# Everything the published course_lib/grading holds: what visible check cells import (checks and its
# forbidden-use scan, wire, the experiments of homework 10), the recorded references (references.py
# reads references.json) and nbval's report plugin (exercises/conftest.py) with what it reads
# (assignment, markers). A whitelist: any other module published (a grader module, the instructor's
# references) fails the test until it is judged safe and added here.
STUDENT_GRADING = {"assignment.py", "checks.py", "experiments.py", "forbidden.py", "markers.py",
                   "nbval_report.py", "recorded.py", "references.json", "references.py", "wire.py"}


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "course_lib.grading", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("publish") / "student"
    done = cli("publish", "--out", str(out), "--git")
    assert done.returncode == 0, done.stderr
    return out


def solution_lines():
    """(solution-region lines, hidden-test and rubric lines) of every template, stripped, and the
    templates' text outside those regions (what the author shows students anyway)."""
    solution, hidden, shown = set(), set(), []
    for template in sorted((ROOT / "solutions").glob("*.ipynb")):
        for cell in asg.load_assignment(template).notebook.cells:
            if asg.grading_metadata(cell) is None:
                shown.append(cell.source)
                continue
            for region in asg.find_regions(cell.source):
                solution.update(line.strip() for line in region.text.splitlines())
            for begin, end in ((asg.BEGIN_HIDDEN, asg.END_HIDDEN), (asg.BEGIN_RUBRIC, asg.END_RUBRIC)):
                for region in asg.find_regions(cell.source, begin, end):
                    hidden.update(line.strip() for line in region.text.splitlines())
            outside = cell.source
            for begin, end in asg.MARKERS:
                outside = asg.remove_regions(outside, begin, end)
            shown.append(outside)
    return solution, hidden, "\n".join(shown)


def lecture_text():
    """The lecture material: every lecture notebook's cells and course_lib outside grading."""
    texts = [cell.source for notebook in (ROOT / "notebooks").glob("*.ipynb")
             for cell in nbformat.read(notebook, as_version=4).cells]
    texts += [module.read_text() for module in (ROOT / "course_lib").glob("*.py")]
    return "\n".join(texts)


def secrets():
    """Lines of solution and hidden regions, except short ones, solution lines the lectures show, and
    lines the template also shows outside the regions (``rtol=rtol, hint=hint,`` continuing a call)."""
    solution, hidden, shown = solution_lines()
    lectures = lecture_text()
    public = {line for line in solution if line in lectures} | {line for line in solution | hidden
                                                                 if line in shown}
    return {line for line in (solution | hidden) - public if len(line) >= SHORTEST_SECRET}


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)


def views(path: Path):
    """The texts a file can be read as: its bytes (any encoding) and, for JSON, its strings."""
    data = path.read_bytes()
    texts = [data.decode("utf-8", errors="replace")]
    try:
        texts.append("\n".join(_strings(json.loads(data))))
    except ValueError:
        pass
    return texts


def leaks(folder: Path, secret_lines):
    found = []
    for path in sorted(folder.rglob("*")):
        if ".git" in path.relative_to(folder).parts or path.is_symlink() or not path.is_file():
            continue
        for text in views(path):
            found += [(str(path.relative_to(folder)), line) for line in secret_lines if line in text]
    return sorted(set(found))


def test_the_secret_lines_are_many_and_found_where_they_are():
    """Controls: the detector has something to look for, finds it in the answer keys and in the
    instructor's references module (which publish replaces), and not in the released exercises."""
    secret_lines = secrets()
    assert len(secret_lines) > 50
    assert {line for _, line in leaks(ROOT / "solutions", secret_lines)} == secret_lines
    instructor_references = [p for p, _ in leaks(ROOT / "course_lib" / "grading", secret_lines)]
    assert "references.py" in instructor_references


def test_no_solution_or_hidden_check_text_anywhere_in_the_edition(edition):
    assert leaks(edition, secrets()) == []
    for path in edition.rglob("*.ipynb"):  # (the grading code that defines the marker may be there)
        assert asg.BEGIN_HIDDEN.encode() not in path.read_bytes(), path


def test_the_edition_holds_no_solutions_and_no_grading_internals(edition):
    assert not (edition / "solutions").exists()
    grading = edition / "course_lib" / "grading"
    assert {p.name for p in grading.iterdir()} == STUDENT_GRADING
    assert (grading / "references.py").read_text() == publish.STUDENT_REFERENCES  # not the instructor's
    # what a student opens: the course map, every lecture and every exercise
    for folder in ("notebooks", "exercises"):
        assert sorted(p.name for p in (edition / folder).glob("*.ipynb")) == \
            sorted(p.name for p in (ROOT / folder).glob("*.ipynb"))
        assert os.readlink(edition / folder / "course_lib") == "../course_lib"
    for name in ("README.md", "Makefile", "environment.yml", "pyproject.toml"):
        assert (edition / name).is_file()


def test_the_editions_environment_and_pyproject_install_the_same_packages(edition):
    from test_packaging import requirement_name

    project = tomllib.loads((edition / "pyproject.toml").read_text())["project"]
    conda = [d for d in yaml.safe_load((edition / "environment.yml").read_text())["dependencies"]
             if isinstance(d, str)]
    assert {requirement_name(s) for s in conda} - {"python", "pip"} == \
        {requirement_name(s) for s in project["dependencies"]}
    assert "nbstripout" in {requirement_name(s) for s in conda}  # the git filter its Makefile sets up


def test_exercises_are_the_released_ones(edition):
    for exercise in (ROOT / "exercises").glob("*.ipynb"):
        assert (edition / "exercises" / exercise.name).read_bytes() == exercise.read_bytes()


def test_republishing_is_byte_identical_and_commits_nothing(edition):
    before = {p: p.read_bytes() for p in edition.rglob("*") if p.is_file() and ".git" not in p.parts}
    head = subprocess.run(["git", "-C", str(edition), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout
    done = cli("publish", "--out", str(edition), "--git")
    assert done.returncode == 0, done.stderr
    assert "nothing changed" in done.stdout
    after = {p: p.read_bytes() for p in edition.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert after == before
    assert subprocess.run(["git", "-C", str(edition), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout == head


def test_a_stale_file_goes_and_a_foreign_folder_is_refused(tmp_path, edition):
    copy = tmp_path / "copy"
    shutil.copytree(edition, copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    (copy / "exercises" / "99_old.ipynb").write_text("{}")
    assert cli("publish", "--out", str(copy)).returncode == 0
    assert not (copy / "exercises" / "99_old.ipynb").exists()

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("mine")
    done = cli("publish", "--out", str(foreign))
    assert done.returncode == 1 and "MANIFEST" in done.stderr
    assert (foreign / "thesis.tex").read_text() == "mine"


def test_recorded_references_answer_only_the_visible_inputs(edition):
    references = recorded_functions(edition / "course_lib" / "grading" / "references.json")
    import numpy as np

    from course_lib.grading import references as instructor

    hessian = np.diag([2.0, -1.0])
    with pytest.raises(LookupError, match="visible checks"):
        references["classify_critical_point"](hessian)
    assert instructor.classify_critical_point(hessian) == "saddle"  # the real one would have answered


# -- the edition from a fresh clone ---------------------------------------------------------------

@pytest.fixture(scope="module")
def clone(edition, tmp_path_factory):
    """A fresh clone with a .venv whose third-party packages come from this environment (a .pth
    line: no download from PyPI in the test); `make` then installs the student edition itself into
    it with `pip install -e .` as it would for a student."""
    target = tmp_path_factory.mktemp("clone") / "course"
    subprocess.run(["git", "clone", "--quiet", str(edition), str(target)], check=True)
    python = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run([str(python), "-m", "venv", "--without-pip", str(target / ".venv")], check=True)
    site = subprocess.run([str(target / ".venv" / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "course_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return target


def make(clone, *args, **kwargs):
    env = dict(os.environ, PIP_NO_BUILD_ISOLATION="0", **kwargs.pop("env", {}))
    return subprocess.run(["make", "-s", *args], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=600, **kwargs)


def solved(exercise: Path) -> nbformat.NotebookNode:
    """The released exercise with the solution's answers written between the markers."""
    template = asg.load_assignment(ROOT / "solutions" / exercise.name)
    answers = {cell.id: [r.text for r in asg.find_regions(cell.source)] for cell in template.notebook.cells
               if (asg.grading_metadata(cell) or {}).get("kind") == asg.ANSWER}
    notebook = nbformat.read(exercise, as_version=4)
    for cell in notebook.cells:
        if cell.id in answers:
            cell.source = asg.replace_regions(cell.source, answers[cell.id])
    return notebook


@pytest.mark.slow
def test_self_check_in_a_fresh_clone(clone):
    """`make check` fails a released exercise exactly in its check cells and passes every solved
    one, with the recorded references of the clone (not this checkout's course_lib)."""
    done = make(clone, "check", "NB=exercises/01_conditioning.ipynb")
    assert done.returncode != 0
    template = asg.load_assignment(ROOT / "solutions" / "01_conditioning.ipynb")
    check_cells = sum(len(exercise.check_cells) for exercise in template.exercises.values())
    assert done.stdout.count("NotImplementedError") >= check_cells, done.stdout[-2000:]
    assert f"{check_cells} failed" in done.stdout, done.stdout[-2000:]

    for exercise in sorted((clone / "exercises").glob("*.ipynb")):
        nbformat.write(solved(exercise), exercise)
    done = make(clone, "check")
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
    # The command the student README says `make check` runs works as written.
    import re
    import shlex

    readme = " ".join((clone / "README.md").read_text(encoding="utf-8").split())
    command = shlex.split(re.search(r"`make check` runs `([^`]+)`", readme).group(1))
    done = subprocess.run(command, cwd=clone, capture_output=True, text=True)
    assert done.returncode == 0 and " passed" in done.stdout, done.stdout[-2000:]

    where = subprocess.run([str(clone / ".venv" / "bin" / "python"), "-c",
                            "import course_lib.grading.references as r; print(r.__file__)"],
                           cwd=clone / "exercises", capture_output=True, text=True, check=True).stdout
    assert Path(where.strip()) == clone / "exercises" / "course_lib" / "grading" / "references.py"


@pytest.mark.slow
def test_make_lab_in_a_fresh_clone_serves_lectures_and_exercises(clone, tmp_path):
    with make_lab(clone, tmp_path, PIP_NO_BUILD_ISOLATION="0") as get:
        for path in ("notebooks/00_index.ipynb", "exercises/07_adam.ipynb"):
            with get(path) as response:
                assert response.status == 200
        with get(content=True) as response:
            names = {item["name"] for item in json.load(response)["content"]}
        assert "solutions" not in names and {"notebooks", "exercises"} <= names


def test_readme_launch_links_open_the_student_edition(edition):
    """The README's Binder badge and nbgitpuller link name the student edition's repository (the
    published pyproject's name) and open a notebook that the edition holds."""
    import re
    import tomllib
    from urllib.parse import parse_qs, urlparse

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    name = tomllib.loads((edition / "pyproject.toml").read_text())["project"]["name"]
    binder = urlparse(re.search(r"https://mybinder\.org/v2/gh/[^)\s]+", readme).group(0))
    assert binder.path.split("/")[4] == name
    assert (edition / parse_qs(binder.query)["urlpath"][0].removeprefix("lab/tree/")).is_file()
    link = re.search(r"https://\S+/hub/user-redirect/git-pull\?\S+", readme).group(0)
    puller = parse_qs(urlparse(link).query)
    assert puller["repo"][0].endswith(f"/{name}")
    assert (edition / puller["urlpath"][0].removeprefix(f"lab/tree/{name}/")).is_file()


def variants(clone, folder, table):
    """The clone's exercises with the first answer of ``table[notebook][exercise]`` written into
    every exercise, in ``clone/folder`` (with the course_lib link and the nbval plugin's conftest)."""
    target = clone / folder
    target.mkdir()
    os.symlink("../course_lib", target / "course_lib")
    shutil.copy(clone / "exercises" / "conftest.py", target / "conftest.py")
    count = 0
    for exercise in sorted((ROOT / "exercises").glob("*.ipynb")):  # as released (the clone's are solved)
        notebook = nbformat.read(exercise, as_version=4)
        for cell in notebook.cells:
            meta = asg.grading_metadata(cell) or {}
            answers = table.get(exercise.stem, {}).get(meta.get("exercise"), {})
            if meta.get("kind") == asg.ANSWER and answers:
                cell.source = asg.replace_regions(cell.source, [next(iter(answers.values()))])
                count += 1
        nbformat.write(notebook, target / exercise.name)
    return count


@pytest.mark.slow
def test_recorded_references_judge_answers_written_differently_and_wrong_ones(clone):
    """The student edition's checks pass correct answers written another way (their results differ
    from the reference's in the last bits, and check_steps feeds the student's own state to the
    reference) and fail planted slips with their messages, never with a missing recorded result."""
    from homework_mutants import CONTROLS, MUTANTS

    controls = variants(clone, "controls", CONTROLS)
    done = make(clone, "check", "NB=controls")
    assert done.returncode == 0 and controls > 10, done.stdout[-3000:]

    mutants = variants(clone, "mutants", MUTANTS)
    done = make(clone, "check", "NB=mutants")
    assert done.returncode != 0 and "LookupError" not in done.stdout, done.stdout[-3000:]
    assert f"{mutants} failed" in done.stdout, done.stdout[-3000:]


@pytest.mark.slow
def test_running_a_lecture_leaves_the_students_git_clean(clone):
    """The set-up installs the nbstripout filter in the clone: outputs saved into a notebook are no
    change to git, an edited cell is (and `make lab` passes the post-save hook that keeps the index
    fresh)."""
    done = make(clone, "git-filter")
    assert done.returncode == 0, done.stderr
    assert "nbstripout" in subprocess.run(["git", "config", "filter.nbstripout.clean"], cwd=clone,
                                          capture_output=True, text=True, check=True).stdout
    path = clone / "notebooks" / "00_index.ipynb"
    notebook = nbformat.read(path, as_version=4)
    cell = next(c for c in notebook.cells if c.cell_type == "code")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
    cell.execution_count = 7
    nbformat.write(notebook, path)

    def changed():
        return subprocess.run(["git", "diff", "--quiet", "--", str(path)], cwd=clone).returncode != 0

    assert not changed()
    cell.source += "\n# a student's note"
    nbformat.write(notebook, path)
    assert changed()
    assert "post_save_hook=course_lib.lab.keep_git_index_fresh" in make(clone, "-n", "lab").stdout
    subprocess.run(["git", "checkout", "--", str(path)], cwd=clone, check=True)
