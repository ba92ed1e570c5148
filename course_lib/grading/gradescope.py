"""``python -m course_lib.grading gradescope TEMPLATE --out autograder.zip``: a Gradescope autograder.

Gradescope grades each submission in its own container, so a class of any size grades in parallel
on its cluster. Its contract (https://gradescope-autograders.readthedocs.io/en/latest/specs/): the
zip's ``setup.sh`` runs once, as root, when the image is built (Ubuntu); ``run_autograder`` runs per
submission with the student's files in ``/autograder/submission`` and must write
``/autograder/results/results.json``. The bundle holds:

* ``setup.sh``: Python 3.11 from Ubuntu's packages, then ``requirements.txt`` from PyPI: the
  course's runtime packages and everything they need, pinned to the versions of the environment
  that built the bundle (choose Gradescope's Ubuntu 22.04 base image). Nothing else is downloaded.
* ``run_autograder``: grades the submission with the same grader as ``grade`` (its sandbox, its
  limits) through ``python -m course_lib.grading.gradescope ROOT`` and always leaves a valid
  ``results.json``: if the grader cannot run at all, a visible "autograder failed" test of 0 points.
* ``template/<notebook>`` (the solution notebook, made root-only at run time), ``course_lib/``
  (whose grading modules, but those the student's kernel imports, are made root-only at run time:
  ``lock``), ``autograder.json`` (template name, timeout, memory limit).

``ROOT`` is ``/autograder`` on Gradescope; ``AUTOGRADER_ROOT`` and ``AUTOGRADER_PYTHON`` move it
(the tests run the bundle in a temporary folder laid out the same way).
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tomllib
import traceback
import zipfile
from importlib import metadata
from pathlib import Path

import course_lib

PACKAGE = Path(course_lib.__file__).resolve().parent
REPOSITORY = PACKAGE.parent
CONFIG = "autograder.json"
ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed timestamps: the same inputs give the same zip, byte for byte

SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (base image Ubuntu 22.04).
# Python 3.11 comes from Ubuntu's packages, the course's pinned packages from PyPI; nothing else.
set -euxo pipefail
cd /autograder/source
if ! command -v python3.11 >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3.11 python3.11-venv
fi
python3.11 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --no-cache-dir --requirement requirements.txt
"""

RUN = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission, as root, in /autograder. It always leaves
# results/results.json: the grader's, or an "autograder failed" test if the grader could not run.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
mkdir -p "$ROOT/results"
rm -f "$ROOT/results/results.json"
chmod 0700 "$ROOT/source/template"  # student code runs as another user: it cannot read the checks
cd "$ROOT/source" && PYTHONPATH="$ROOT/source" "$PYTHON" -m course_lib.grading.gradescope "$ROOT"
if [ ! -s "$ROOT/results/results.json" ]; then
    cat > "$ROOT/results/results.json" <<'RESULTS'
{failed}
RESULTS
fi
exit 0
"""


def failed_results(total, details="") -> dict:
    """What Gradescope shows when grading itself failed: 0 points, the details for instructors only."""
    tests = [{"name": "autograder failed", "score": 0, "max_score": total, "status": "failed",
              "output": "The autograder could not grade this submission. Your instructor has the details; "
                        "you may resubmit.", "output_format": "md", "visibility": "visible"}]
    if details:
        tests.append({"name": "autograder failure details", "score": 0, "max_score": 0, "status": "failed",
                      "output": details, "output_format": "text", "visibility": "hidden"})
    return {"score": 0, "output": "The autograder failed.", "output_format": "md", "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}


def requirements() -> str:
    """The course's runtime packages and everything they require, pinned to the installed versions."""
    from packaging.requirements import Requirement

    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    todo = [Requirement(spec) for spec in project["dependencies"]]
    pinned = {}
    while todo:
        requirement = todo.pop()
        name = requirement.name.lower().replace("_", "-")
        if name in pinned:
            continue
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency this environment does not have
        pinned[name] = distribution.version
        for spec in distribution.requires or ():
            needed = Requirement(spec)
            if needed.marker is None or needed.marker.evaluate({"extra": ""}):
                todo.append(needed)
    return "".join(f"{name}=={version}\n" for name, version in sorted(pinned.items()))


def bundle_files(template_path, timeout=60.0, memory_mb=2048) -> dict[str, tuple[bytes, int]]:
    """Name in the zip -> (contents, mode)."""
    from course_lib.grading import assignment

    template_path = Path(template_path)
    template = assignment.load_assignment(template_path)
    config = {"template": f"template/{template_path.name}", "timeout": float(timeout),
              "memory_mb": float(memory_mb)}
    failed = json.dumps(failed_results(template.points))
    files = {
        "setup.sh": (SETUP.encode(), 0o755),
        "run_autograder": (RUN.format(failed=failed).encode(), 0o755),
        "requirements.txt": (requirements().encode(), 0o644),
        CONFIG: (json.dumps(config, indent=1).encode(), 0o644),
        f"template/{template_path.name}": (template_path.read_bytes(), 0o644),
    }
    for path in sorted(PACKAGE.rglob("*.py")):
        if "__pycache__" not in path.parts:
            files[str(path.relative_to(REPOSITORY))] = (path.read_bytes(), 0o644)
    return dict(sorted(files.items()))


def write_zip(out, files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (data, mode) in files.items():
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    Path(out).write_bytes(buffer.getvalue())
    return hashlib.sha256(buffer.getvalue()).hexdigest()


# -- on Gradescope ----------------------------------------------------------------------------------

def _submission(folder: Path, notebook_name: str) -> tuple[Path, str | None]:
    """The submitted file (``grade.pick_submission``; the folder itself when it is empty: the grader
    then reports it as unreadable) and a note naming the other notebooks, if any."""
    from course_lib.grading.grade import pick_submission, several_files_note

    files = sorted(p for p in folder.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts
                   and not p.name.startswith("."))
    chosen, others = pick_submission(files, notebook_name)
    if chosen is None:
        return folder, None
    return chosen, several_files_note(chosen, others, folder) if others else None


def lock(folder) -> list[str]:
    """Make the files of ``folder`` (``course_lib/grading``) that the student's kernel does not import
    (``kernel.KERNEL_MODULES``) readable by root alone, compiled copies in ``__pycache__`` included:
    the grader runs as root, the student's code as another uid, and ``references`` computes the
    answers. A copy Python compiles later takes its source's mode. Returns the files locked."""
    from course_lib.grading import kernel

    folder = Path(folder)
    allowed = {name.removesuffix(".py") for name in kernel.kernel_files()}
    locked = []
    for path in sorted([*folder.iterdir(), *folder.glob("__pycache__/*")]):
        if path.is_file() and not path.is_symlink() and path.name.split(".")[0] not in allowed:
            path.chmod(0o600)
            locked.append(str(path.relative_to(folder)))
    return locked


def grade(root) -> dict:
    """Grade ``ROOT/submission`` and return Gradescope's results (never raises)."""
    root = Path(root)
    total = 0
    try:
        from course_lib.grading import assignment, grade, kernel, report

        lock(kernel.grading_folder())  # before any student code runs
        config = json.loads((root / "source" / CONFIG).read_text(encoding="utf-8"))
        template_path = root / "source" / config["template"]
        template = assignment.load_assignment(template_path)
        total = template.points
        submission, note = _submission(root / "submission", template_path.name)
        hide = grade.hidden_paths(template_path, root / "submission", root / "results")
        record = grade.grade_submission(template_path, submission, timeout=config["timeout"],
                                        memory=int(config["memory_mb"] * 2**20), hide=hide)
        record["note"] = note
        return report.gradescope_results(template, report.Record.from_json("submission", record))
    except BaseException:  # noqa: B036 - whatever happened, Gradescope must get a results.json
        return failed_results(total, traceback.format_exc()[-4000:])


def main(argv=None) -> int:
    root = Path((argv or sys.argv[1:])[0])
    results = grade(root)
    from course_lib.grading.report import write_atomic

    write_atomic(root / "results" / "results.json", json.dumps(results, indent=1))
    print(json.dumps({k: v for k, v in results.items() if k != "tests"}))  # results/stdout: instructors
    return 0


# -- the instructor's command -------------------------------------------------------------------------

def cli(args) -> int:
    from course_lib.grading import assignment

    try:
        files = bundle_files(args.template, timeout=args.timeout, memory_mb=args.memory)
    except assignment.AuthoringError as exc:
        print(f"gradescope: template: {exc}", file=sys.stderr)
        return 2
    digest = write_zip(args.out, files)
    print(f"wrote {args.out} ({len(files)} files, sha256 {digest[:12]}): upload it as the assignment's "
          "autograder, base image Ubuntu 22.04")
    return 0


def add_arguments(parser):
    parser.add_argument("template", help="the solution notebook (solutions/NN_topic.ipynb)")
    parser.add_argument("--out", required=True, help="the zip to write (autograder.zip)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per cell (default 60)")
    parser.add_argument("--memory", type=float, default=2048, help="kernel memory limit in MB (default 2048)")
    parser.set_defaults(cli=cli)


if __name__ == "__main__":
    sys.exit(main())
