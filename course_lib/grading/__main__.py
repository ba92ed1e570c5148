"""``python -m course_lib.grading {release,grade,review,publish,gradescope} ...``: the instructor's tools."""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    command = next((a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")), "")
    try:  # Ctrl-C at any moment, during the imports too (seconds on a busy machine), ends in one line
        return _run(argv)
    except KeyboardInterrupt:
        resume = "; the submissions graded so far are kept, run the same command to grade the rest"
        print(f"\npython -m course_lib.grading {command}: interrupted{resume if command == 'grade' else ''}",
              file=sys.stderr)
        return 130


def _run(argv) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.grading", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    try:
        from course_lib.grading import batch, gradescope, publish, release, review
    except ModuleNotFoundError as exc:
        parser.exit(2, f"{parser.prog}: {exc.name} is not installed in this Python ({sys.executable}); "
                       "use the course's environment: .venv/bin/python (made by `make test` or `make lab`)\n")

    release.add_arguments(commands.add_parser("release", help="regenerate exercises/ from solutions/"))
    batch.add_arguments(commands.add_parser(
        "grade", help="grade a folder of submissions", description=batch.HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter))
    publish.add_arguments(commands.add_parser(
        "publish", help="write the student edition (no solutions, no hidden checks) to a folder",
        description=publish.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    gradescope.add_arguments(commands.add_parser(
        "gradescope", help="write a Gradescope autograder.zip for one assignment",
        description=gradescope.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    review.add_arguments(commands.add_parser(
        "review", help="write a page per written question (every answer, the rubric) and a CSV to score",
        description=review.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    args = parser.parse_args(argv)
    return int(args.cli(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
