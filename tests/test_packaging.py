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
