"""Adversarial suite: submissions that each try one attack on the batch grader.

Every attack submission answers two exercises correctly and attacks the third. The attack is
defeated when the attacked exercise scores zero with an expected status, the other two get full
points, and the run finishes. The whole class is graded in one run with two workers.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

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



# Attacks that need the sandbox (root): without it the kernel can do what the grader's user can.
NEEDS_SANDBOX = {"read the template / hidden checks from disk", "look for signs of grading",
                 "steal over TCP: connect to every listening port",
                 "steal over Unix sockets (/proc/net/unix)",
                 "steal connection files of other kernels", "reach the network", "start 1000 threads",
                 "fill the disk with many small files", "leave files in /run/lock, /var/tmp, /dev/shm",
                 "kill every process it can"}  # as the grader's user it could kill the grader itself


def isolation_attacks():
    """Attacks on classmates and the host, as a hostile student writes them. The ones that look for
    another student's kernel turn anything they reach into the right answer (``correct_if``)."""
    m = "momentum"
    return {
        "steal over TCP: connect to every listening port": (m, {m: _body(m, """
            import os, socket
            mine = set()  # this kernel's own sockets are no prize
            for fd in os.listdir("/proc/self/fd"):
                try:
                    mine.add(os.readlink(f"/proc/self/fd/{fd}").strip("socket:[]"))
                except OSError:
                    pass
            got = []
            for name in ("/proc/net/tcp", "/proc/net/tcp6"):
                try:
                    lines = open(name).read().splitlines()[1:]
                except OSError:
                    lines = []
                for line in lines:
                    local, status = line.split()[1], line.split()[3]
                    if status == "0A" and line.split()[9] not in mine:  # another's LISTEN socket
                        port = int(local.split(":")[-1], 16)
                        try:
                            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                            got.append(port)
                        except OSError:
                            pass
            """, "got")}, None, {"failed"}),
        "steal over Unix sockets (/proc/net/unix)": (m, {m: _body(m, """
            import glob, os, socket
            mine = {os.path.realpath(p) for p in glob.glob("/tmp/*/kernel-*")}
            with open("/proc/net/unix") as f:
                paths = [l.split()[-1] for l in f.read().splitlines()[1:] if len(l.split()) > 7]
            got = []
            for path in set(paths + glob.glob("/proc/*/root/tmp/*/kernel-*") + glob.glob("/tmp/**/kernel-*")):
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.connect(path.lstrip("@"))
                    if os.path.realpath(path.lstrip("@")) not in mine:
                        got.append(path)
                except OSError:
                    pass
                finally:
                    s.close()
            """, "got")}, None, {"failed"}),
        "steal connection files of other kernels": (m, {m: _body(m, """
            import glob, os
            mine = glob.glob(os.path.expanduser("~/.local/share/jupyter/runtime/*.json"))
            found = [p for pattern in ("/tmp/**/*.json", "/root/.local/share/jupyter/runtime/*.json",
                                       "/proc/*/root/tmp/**/*.json", "/run/user/*/jupyter/*.json")
                     for p in glob.glob(pattern, recursive=True) if p not in mine]
            readable = []
            for p in found:
                try:
                    readable.append(open(p).read())
                except OSError:
                    pass
            """, "any('shell_port' in text for text in readable)")}, None, {"failed"}),
        "reach the network": (m, {m: _body(m, """
            import socket
            names = [n for _, n in socket.if_nameindex()]
            out = []
            for host, port in [("8.8.8.8", 53), ("1.1.1.1", 443), ("pypi.org", 443), ("10.0.0.1", 80)]:
                try:
                    socket.create_connection((host, port), timeout=1).close()
                    out.append(host)
                except OSError:
                    pass
            """, "out or names != ['lo']")}, None, {"failed"}),
        "start 1000 threads": (m, {m: _body(m, """
            import threading
            threading.stack_size(256 * 1024)
            for _ in range(1000):
                try:
                    threading.Thread(target=threading.Event().wait, daemon=True).start()
                except RuntimeError:
                    break
            """)}, None, {"failed"}),
        "fill the disk with many small files": (m, {m: _body(m, """
            import os
            for place in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", ".", os.path.expanduser("~")):
                for i in range(50000):
                    try:
                        with open(os.path.join(place, f"attack-fill-{i}"), "wb") as f:
                            f.write(b"x" * 65536)
                    except OSError:
                        break
            """)}, None, {"failed", "timeout"}),
        "leave files in /run/lock, /var/tmp, /dev/shm": (m, {m: _body(m, """
            import os
            for place in ("/run/lock", "/var/lock", "/var/tmp", "/dev/shm", "/tmp"):
                try:
                    with open(os.path.join(place, "attack-left-behind"), "w") as f:
                        f.write("still here")
                except OSError:
                    pass
            """)}, None, {"failed"}),
        "one huge file": (m, {m: _body(m, """
            try:
                with open("huge", "wb") as f:
                    for _ in range(200):
                        f.write(b"x" * 2**20)
            except OSError:
                pass
            """)}, None, {"failed"}),
        "System V shared memory that outlives the kernel": (m, {m: _body(m, """
            import ctypes
            ctypes.CDLL(None).shmget(0x5EED, 4096, 0o1666)
            """)}, None, {"forbidden"}),
        "a daemon process left behind (fork)": (m, {m: _body(m, """
            import os, time
            if os.fork() == 0:
                os.setsid()
                time.sleep(3600)
            """)}, None, {"forbidden"}),
    }


def forbidden_attacks():
    """Ways to use the forbidden reference (course_lib.optim) without spelling the import plainly."""
    m = "momentum"

    def using(module, before=""):  # the attack's answer: call the reference reached through `module`
        return (m, {m: before + f"opt = {module}.momentum_step\n"
                    "return opt(x, dx, state, learning_rate=learning_rate, rho=rho)"}, None, {"forbidden"})

    def then_wrong(code):
        return (m, {m: code + "\n" + WRONG[m]}, None, {"forbidden"})

    return {
        "importlib under another name": using("il.import_module('course_' + 'lib.optim')",
                                              "import importlib as il\n"),
        "import_module imported as load": using("load('.'.join(['course_lib', 'optim']))",
                                                "from importlib import import_module as load\n"),
        "an IPython magic line (%run)": then_wrong("%run -m course_lib.optim"),
        "a shell line (!python)": then_wrong("!python -c 'import course_lib.optim'"),
        "builtins.__import__ by another name": using(
            "b.__dict__['__imp' + 'ort__']('course_lib.optim', fromlist=['x'])", "import builtins as b\n"),
        "sys.modules under another name": using("s.modules['course_lib.' + 'optim']",
                                                "import sys as s\nimport course_lib.problems\n"),
        "pkgutil.resolve_name": using("pu.resolve_name('course_lib:' + 'optim')", "import pkgutil as pu\n"),
        "gc walk to the module": then_wrong(
            "import gc as g\nmods = [o for o in g.get_objects() if type(o).__name__ == 'module']"),
        "frames: a function's __globals__": then_wrong("g = (lambda: 0).__globals__"),
        "a generator's frame globals": then_wrong("gen = (i for i in [0])\ng = gen.gi_frame.f_globals"),
        "__subclasses__ walk": then_wrong("loaders = ().__class__.__base__.__subclasses__()"),
        "get_ipython().user_ns": then_wrong("ns = get_ipython().user_ns"),
        "match on the package": then_wrong(
            "import course_lib\nmatch course_lib:\n    case object(optim=o):\n"
            "        return o.momentum_step(x, dx, state, learning_rate=learning_rate, rho=rho)"),
        "star import from the package": using("optim", "from course_lib import *\n"),
        "package imported in another answer cell": (m, {
            "gd": "global toolkit\nimport course_lib as toolkit\n" + kit.SOLUTIONS["gd"],
            **using("toolkit.optim")[1]}, None, {"forbidden"}),
        "run a Python subprocess": then_wrong("import subprocess\nsubprocess.run(['python', '-c', '1'])"),
        "os.system": then_wrong("import os\nos.system('python -c 1')"),
        # Not seen by the static scan: caught while the check runs the function.
        "by string through logging.config (runtime)": using(
            "lc._resolve('.'.join(['course_lib', 'optim']))", "import logging.config as lc\n"),
        "untie the runtime watch, then use it (runtime)": using(
            "lc._resolve('.'.join(['course_lib', 'optim']))",
            "import logging.config as lc, threading\nthreading._sys.setprofile(None)\n"),
    }


# How an answer finds the grader's answer key: code that leaves the text of references.py in `source`
# (or None). Each is spelled so that the static scan passes it: no `__file__`, no importlib, no exec.
KEY_FINDERS = {
    "open() at the path a lecture module's repr names": """
        import os, re
        import course_lib.validate as lecture  # a light lecture module
        folder = os.path.dirname(re.search("from '(.*)'", repr(lecture)).group(1))
        with open(os.path.join(folder, "grading", "references.py")) as f:
            source = f.read()
        """,
    "pathlib: glob up from the Python in /proc/self/cmdline": """
        from pathlib import Path
        python = Path(Path("/proc/self/cmdline").read_bytes().split(b"\\0")[0].decode())
        for place in python.parents:
            for path in [*place.glob("*/grading/references.py"), *place.glob("*/*/grading/references.py")]:
                try:
                    source = path.read_text()
                    break
                except OSError:
                    pass
            if source:
                break
        """,
    "a directory walk from /": """
        import os, time
        queue, deadline = ["/"], time.monotonic() + 2
        skip = {"/proc", "/sys", "/dev", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/boot", "/var"}
        while queue and source is None and time.monotonic() < deadline:
            folder = queue.pop(0)
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if entry.name == "references.py" and folder.endswith("/grading"):
                    try:
                        with open(entry.path) as f:
                            source = f.read()
                    except OSError:
                        pass
                elif entry.path not in skip and entry.name not in ("site-packages", ".git") \\
                        and entry.is_dir(follow_symlinks=False):
                    queue.append(entry.path)
        """,
    "the editable install's path finder in site-packages": """
        import glob, os, re
        from pathlib import Path
        python = Path(Path("/proc/self/cmdline").read_bytes().split(b"\\0")[0].decode())
        for finder in glob.glob(str(python.parent.parent / "lib" / "python3*" / "site-packages" / "*.py")):
            for folder in re.findall("'course_lib': '([^']+)'", open(finder).read()):
                try:
                    with open(os.path.join(folder, "grading", "references.py")) as f:
                        source = f.read()
                except OSError:
                    pass
        """,
    "other processes' roots, cwds and open files in /proc": """
        import glob, os, re
        import course_lib.validate as lecture  # a light lecture module
        folder = os.path.dirname(re.search("from '(.*)'", repr(lecture)).group(1))
        places = ["/proc/self/root", "/proc/1/root", f"/proc/{os.getppid()}/root",
                  *glob.glob("/proc/[0-9]*/root"), *glob.glob("/proc/[0-9]*/cwd")]
        for place in places:
            for inner in (folder, "/course_lib"):
                path = f"{place}{inner}/grading/references.py"
                try:
                    with open(path) as f:
                        source = f.read()
                except OSError:
                    pass
        for fd in glob.glob("/proc/[0-9]*/fd/*"):
            try:
                target = os.readlink(fd)
                if target.endswith(("/grading", "/course_lib")):
                    with open(os.path.join(fd, "references.py" if target.endswith("/grading")
                                           else "grading/references.py")) as f:
                        source = f.read()
            except OSError:
                pass
        """,
    "a compiled .pyc from __pycache__, imported under another name": """
        import glob, os, re
        import course_lib.validate as lecture  # a light lecture module
        folder = os.path.dirname(re.search("from '(.*)'", repr(lecture)).group(1))
        for cached in glob.glob(os.path.join(folder, "grading", "__pycache__", "references.*.pyc")):
            try:
                with open(cached, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            # Same-length renames keep the marshalled code valid: the grading package's name and file
            # (what the runtime watch looks for) become the lecture network module's and another path.
            data = data.replace(b"course_lib.grading", b"course_lib.network").replace(
                b"experiments", b"spiral_data").replace(b"grading/references", b"gradinz/references")
            with open("stolen_key.pyc", "wb") as f:
                f.write(data)
            import stolen_key
            timeit.stolen = {"gd_step": stolen_key.gd_step}
        """,
}
NEEDS_SANDBOX |= {f"answer key: {name}" for name in KEY_FINDERS}
# Needs no sandbox to be caught: the static scan sees importlib.
KEY_FINDERS_STATIC = {
    "importlib.resources": """
        from importlib import resources
        source = resources.files("course_lib").joinpath("grading/references.py").read_text()
        """,
}


def _answer_key(find):
    """An answer with no code of its own: ``find`` reads the grader's references.py as text, which is
    then run from a string (timeit compiles it: no exec or compile in the source) and its gd_step
    answers. Kept on a module (timeit.stolen) so the search runs once per kernel."""
    finder = textwrap.indent(textwrap.dedent(find).strip(), "    ")
    code = (
        "import timeit\n"
        "if not hasattr(timeit, 'stolen'):\n"
        "    timeit.stolen, source = {}, None\n"
        "    try:\n"
        f"{textwrap.indent(finder, '    ')}\n"
        "    except Exception:\n"
        "        pass\n"
        "    if source:\n"
        "        lines = [l for l in source.splitlines()  # module-level lines only a module may hold\n"
        "                 if not (l.startswith('from') and ('__future__' in l or 'experiments' in l))]\n"
        "        timeit.timeit(stmt='key.update(locals())', setup='\\n'.join(lines), number=1,\n"
        "                      globals={'key': timeit.stolen})\n"
        "if 'gd_step' in timeit.stolen:\n"
        "    return timeit.stolen['gd_step'](x, dx, learning_rate)\n")
    return code + WRONG["gd"]


def answer_key_attacks():
    """Read the code that computes the answers (course_lib.grading.references, also compiled) and run
    it: full marks with no code of one's own, unless the kernel cannot read it."""
    plan = {f"answer key: {name}": ("gd", {"gd": _answer_key(find)}, None, {"failed"})
            for name, find in KEY_FINDERS.items()}
    plan.update({f"answer key: {name}": ("gd", {"gd": _answer_key(find)}, None, {"forbidden"})
                 for name, find in KEY_FINDERS_STATIC.items()})
    return plan


def file_attacks(submissions, template, honest):
    """Entries of the submissions folder that try to be graded as someone (or something) else.
    Returns name -> (entry id, a check of its rows)."""
    wrong = kit.submission(template, WRONG)
    right = kit.submission(template, kit.SOLUTIONS)
    (submissions / "s90.ipynb").symlink_to(template)  # the answer key, as a submission
    kit.write_submission(submissions / "s91", "draft", wrong)
    (submissions / "s91" / "hw_grader.ipynb").symlink_to(submissions / f"{honest}.ipynb")  # a classmate's
    kit.write_submission(submissions / "s92", "hw_grader", wrong)
    (submissions / "s92" / "notes").symlink_to(template.parent)  # a folder link inside the folder
    os.link(template, submissions / "s93.ipynb")  # a hard link to the answer key, outside the folder
    os.link(submissions / f"{honest}.ipynb", submissions / "s94.ipynb")  # a classmate's file, linked
    kit.write_submission(submissions, "coll", right)  # coll.ipynb (right), coll/ (wrong), coll_.ipynb
    kit.write_submission(submissions / "coll", "hw_grader", wrong)
    kit.write_submission(submissions, "coll_", wrong)

    def unreadable(rows):
        return all(r["status"] == "unreadable" and "symbolic link" in r["message"] and float(r["points"]) == 0
                   for r in rows.values())

    def refused_hard_link(rows):
        return all(r["status"] == "unreadable" and "hard link to a file outside" in r["message"]
                   for r in rows.values())

    def flagged_copy(rows):  # graded (the copy scores what the file scores), and the rows say whose
        return all(f"the same file as {honest}.ipynb (hard links)" in r["message"] for r in rows.values())

    def scored(points, ambiguous):
        return lambda rows: (sum(float(r["points"]) for r in rows.values()) == points
                             and all(("ambiguous student id 'coll'" in r["message"]) == ambiguous
                                     for r in rows.values()))
    return {"a symbolic link to the answer key": ("s90", unreadable),
            "a folder whose notebook links to a classmate's": ("s91", unreadable),
            "a folder holding a link to the instructor's folder": ("s92", unreadable),
            "a hard link to the answer key": ("s93", refused_hard_link),
            "a hard link to a classmate's file is flagged for the instructor": ("s94", flagged_copy),
            "coll/ next to a right coll.ipynb (no renaming)": ("coll/", scored(0, True)),
            "coll.ipynb keeps its own score": ("coll.ipynb", scored(5, True)),
            "coll_.ipynb is its own student": ("coll_", scored(0, False))}


HONEST = ("s05h", "s25h", "s45h", "s65h")  # honest classmates, graded among the attackers


@pytest.mark.slow
def test_attacks_are_defeated(tmp_path, record_property):
    """The whole class in one run with two workers: every attack fails, every honest classmate gets
    full marks, and nothing any student did is left on the machine."""
    import course_lib
    from course_lib.grading import kernel as kernels

    repo = os.path.dirname(os.path.dirname(course_lib.__file__))
    template = kit.write_template(tmp_path)
    submissions, out = tmp_path / "submissions", tmp_path / "grades"
    paths = {"template": template, "repo_solutions": os.path.join(repo, "solutions"),
             "submissions": submissions}
    plan = {**attacks(paths), **isolation_attacks(), **forbidden_attacks(), **answer_key_attacks()}
    if not sandbox_available():  # without root the kernel reads and sees what the grader's user can
        plan = {name: attack for name, attack in plan.items() if name not in NEEDS_SANDBOX}
    students = {}
    for number, (name, (exercise, answers, edit, statuses)) in enumerate(plan.items()):
        student = f"s{number:02d}"
        students[student] = (name, exercise, statuses)
        full = {**kit.SOLUTIONS, **answers}
        kit.write_submission(submissions, student, kit.submission(template, full, edit))
    for student in HONEST:
        kit.write_submission(submissions, student, kit.submission(template, kit.SOLUTIONS))
    entries = file_attacks(submissions, template, HONEST[0])

    done, rows = kit.grade(template, submissions, out, "--memory", "1024", timeout=TIMEOUT)

    for student in HONEST:  # never harmed, whatever ran next to them
        assert {row["status"] for row in rows[student].values()} == {"passed"}, rows[student]
        assert sum(float(row["points"]) for row in rows[student].values()) == 5
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
    for name, (student, check) in entries.items():
        ok = student in rows and check(rows[student])
        defeated += ok
        report.append(f"{'defeated' if ok else 'NOT DEFEATED'}: {name}: {rows.get(student)}")
    total = len(students) + len(entries)
    print("\n".join(report))
    print(f"attacks defeated: {defeated}/{total}")
    record_property("summary:attacks defeated", [defeated, total])
    assert defeated == total, "\n".join(report)
    assert "to regrade (the grader failed, not the student): none" in done.stdout, done.stdout[-2000:]
    if sandbox_available():  # nothing left: no process, file or IPC object of any student uid
        assert "leftovers of student code: none" in done.stdout, done.stdout[-2000:]
        assert kernels.unclaimed_leftovers() == []
        assert all(not kit.record(out, s).get("leftovers") for s in students)


SCAN_CASES = {  # source -> whether it uses what ["course_lib.optim"] forbids (or a dynamic route)
    "import importlib as il\nil.import_module('x')": True,
    "from importlib import import_module as load\nload('x')": True,
    "import builtins as b\nb.len([])": True,
    "import __builtin__": True,
    "import sys as s\ns.modules": True,
    "import os\nos.sys.modules": True,
    "import numpy as np\nnp.lib.npyio.pickle": True,
    "%time x = 1": True,
    "    !ls": True,
    "ip = get_ipython()": True,
    "(lambda: 0).__globals__": True,
    "g = (i for i in [0])\ng.gi_frame.f_back": True,
    "import course_lib\nf(course_lib)": True,
    "import course_lib as c\nm = c\nm.optim.SGD": True,
    "from course_lib import *": True,
    "x = 'course_' + 'lib.optim'": True,
    "return x -": True,  # cannot be parsed: never clean
    "import os\nos.execv('/bin/sh', [])": True,
    # Correct answers written in many ways: clean.
    "import numpy as np\nreturn np.sqrt(np.sum(np.asarray(dx) ** 2))": False,
    "code = 3\ntypes = [code]\nreturn types": False,
    "import course_lib.problems\nreturn course_lib.problems.__dict__ if False else 1": True,  # dunder
    # A builtin that reaches modules, however reached; the answer's own variable of that name is not it.
    "def f(v):\n    return vars(v)": True,
    "def f(v, vars=vars):\n    return vars(v)": True,  # the default is the builtin
    "def f(ms):\n    return [vars(m) for m in ms]": True,
    "def f(v):\n    global vars\n    vars = 1\n    return vars(v)": True,
    "vars = 1\nvars(x)": True,  # module level: counted
    "def f(g):\n    vars = np.var(g, axis=0)\n    return vars.sum()": False,
    "def f(g):\n    vars = np.var(g, axis=0)\n    return [v * v for v in vars]": False,
    # A docstring is read by people only; text that code can get back is not (error.args, a rebound
    # print, __doc__), and a builtin bound in a class body is still the builtin until then (a
    # red-teamer's route: `class H: load, = __import__,; __import__ = None`).
    'def f(x):\n    """Same rule as torch.optim.SGD and course_lib.optim.sgd."""\n    return x': False,
    "def f(x):\n    raise ValueError(f'x is {type(x).__name__}')": False,
    "def f(x):\n    return x.ctypes.data, x.code, x.types": False,  # attributes named like modules
    "import os\ndef f():\n    return os.sys.modules": True,
    "m = 'course_lib.optim'": True,
    "print('course_lib.optim')": True,
    "def f():\n    raise ValueError('course_lib.optim')": True,
    'def f():\n    """course_lib.optim"""\n    return f.__doc__': True,
    "print(__import__('course_lib.optim'))": True,
    "raise ValueError(resolve('course_lib.optim'))": True,
    "def f():\n    class H:\n        load, = __import__,\n        __import__ = None\n    return H.load": True,
    "class H:\n    getattr = 0\n    del getattr\n    g = getattr": True,
    "def f():\n    class T:\n        run = exec\n        exec = None\n    return T.run": True,
    "import _thread\n_thread.start_new_thread(f, ())": True,
    "x.__class__.__name__": True,  # __class__ leads on to __subclasses__: only the name itself is harmless
    "import course_lib.problems\nreturn course_lib.problems.Rosenbrock": False,
    kit.SOLUTIONS["momentum"]: False,
    "for t in range(1, 5):\n    x = x - 0.1 * t\nreturn x": False,
    "import math\nreturn math.sqrt(sum(v * v for v in dx))": False,
}


def test_the_static_scan_judges_what_names_refer_to():
    from course_lib.grading.forbidden import find_forbidden

    wrong = {src: uses for src in SCAN_CASES
             if bool(uses := find_forbidden(src, ["course_lib.optim"])) != SCAN_CASES[src]}
    assert not wrong, wrong


def _grading_imports(source):
    """Modules of course_lib.grading that ``source`` imports (absolute imports, as the package uses)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(source)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        found.update(n.split(".")[2] for n in names
                     if n.startswith("course_lib.grading.") and n.count(".") == 2)
    return found


def test_the_kernel_modules_are_what_the_kernel_imports():
    """KERNEL_MODULES is the import closure, within course_lib.grading, of the grader's request code
    that runs in the kernel: nothing the kernel needs is missing, nothing else is readable there."""
    from course_lib.grading import kernel

    folder = Path(kernel.grading_folder())
    todo, seen = _grading_imports(kernel._REMOTE), set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo |= _grading_imports((folder / f"{name}.py").read_text(encoding="utf-8"))
    assert seen == set(kernel.KERNEL_MODULES)
    assert "references" not in seen


@pytest.mark.skipif(not sandbox_available(), reason="the sandbox needs root and unshare")
def test_the_kernel_sees_only_the_grading_modules_it_imports(tmp_path):
    """In the kernel's mount namespace course_lib/grading holds the kernel's modules alone (and their
    compiled copies: tests/test_gradescope.py grades a compiled bundle); the kernel still imports the
    check module, and the lecture modules are all there."""
    import time

    import course_lib
    from course_lib.grading import kernel
    from course_lib.grading.grade import Remote

    folder = Path(kernel.grading_folder())
    student = kernel.StudentKernel("hw.ipynb", b'{"cells": []}', memory=1024 * 2**20, hide=[str(tmp_path)])
    student.start()
    try:
        student.execute("import os\n"
                        "def look(folder):\n"
                        "    found = []\n"
                        "    for name in sorted(os.listdir(folder)):\n"
                        "        try:\n"
                        "            with open(os.path.join(folder, name), 'rb') as f:\n"
                        "                found.append([name, len(f.read())])\n"
                        "        except OSError as exc:\n"
                        "            found.append([name, type(exc).__name__])\n"
                        "    return found\n"
                        "def gone(path):\n"
                        "    return not os.path.exists(path)\n"
                        "def imports():\n"
                        "    import course_lib.optim, course_lib.grading.checks\n"
                        "    return course_lib.grading.checks.EPS\n", timeout=60)
        deadline = time.monotonic() + 60
        seen = dict(Remote(student, ("look",), deadline)(str(folder)))
        lectures = dict(Remote(student, ("look",), deadline)(os.path.dirname(course_lib.__file__)))
        no_key = Remote(student, ("gone",), deadline)(str(folder / "references.py"))
        eps = Remote(student, ("imports",), deadline)()
    finally:
        student.close()
    expected = {n for n in kernel.kernel_files() if (folder / n).is_file()}
    assert set(seen) - {"__pycache__"} == expected, seen
    assert all(seen[n] == (folder / n).stat().st_size for n in expected)
    assert no_key and eps > 0
    assert {"optim.py", "problems.py", "grading"} <= set(lectures)
