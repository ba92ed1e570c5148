"""pyproject.toml and environment.yml install the same course; the README's commands exist."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def requirement_name(spec):
    return re.split(r"[<>=!~ \[;]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def environment():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def test_environment_lists_the_runtime_dependencies_of_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {requirement_name(s): s.replace(" ", "") for s in project["dependencies"]}
    conda = [d for d in environment()["dependencies"] if isinstance(d, str)]
    conda_specs = {requirement_name(s): s.replace(" ", "") for s in conda}
    assert set(conda_specs) - {"python", "pip"} == set(runtime)
    assert conda_specs == {**runtime, "python": "python=3.11", "pip": "pip"}


def test_environment_follows_repo2docker_conventions():
    env = environment()
    assert env["channels"] == ["conda-forge"]
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert pip_sections == [["-e ."]]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_command():
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:bash|sh)?\n(.*?)```", readme, re.S).group(1)
    assert "make lab" in first_block and "make test" in first_block
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^\s*make test\b", ci, re.M)
    assert "set -e" in ci


# Import names that differ from the distribution that provides them (all runtime dependencies).
PROVIDED_BY = {"IPython": "ipykernel", "mpl_toolkits": "matplotlib", "jupyter_client": "nbclient",
               "_pytest": "pytest", "nbconvert": "jupyterlab", "zmq": "nbclient", "PIL": "matplotlib"}


def imported_modules(source):
    import ast

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.split(".")[0]


def test_course_code_imports_only_runtime_dependencies():
    """What a Binder/JupyterHub user runs (notebooks, homework, course_lib) needs no dev extra."""
    import json
    import sys

    runtime = {requirement_name(s) for s in tomllib.loads((ROOT / "pyproject.toml").read_text())
               ["project"]["dependencies"]}
    sources = {p: p.read_text() for p in (ROOT / "course_lib").rglob("*.py")}
    for folder in ("notebooks", "solutions", "exercises"):
        for nb in (ROOT / folder).glob("*.ipynb"):
            cells = json.loads(nb.read_text())["cells"]
            sources[nb] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code"
                                    and not "".join(c["source"]).lstrip().startswith(("%", "!")))
    missing = set()
    for path, source in sources.items():
        for module in imported_modules(source):
            dist = PROVIDED_BY.get(module, module).lower().replace("_", "-")
            if module not in sys.stdlib_module_names and module != "course_lib" and dist not in runtime:
                missing.add(f"{path.relative_to(ROOT)}: {module}")
    assert not missing, sorted(missing)
