"""Find uses of what an exercise forbids (``course_lib.optim``, ``torch.optim``, ``scipy.optimize``...)
in a student's source, by reading it (``ast``), never by running it.

Forbidden entries are dotted names; an entry forbids itself and everything below it
(``"torch.optim"`` forbids ``torch.optim.Adam``). A use is judged by what a name refers to, not by
how it is spelled:

* the source is first turned into Python the way IPython does it (its input transformer), so magic
  (``%time``) and shell (``!ls``) lines are seen, as calls on ``get_ipython()``; a cell that cannot be
  parsed is reported, never passed as clean;
* names are resolved through the imports and plain assignments in the source and the usual aliases
  (``np``, ``sp``...): ``from torch import optim as o; o.Adam``, ``il = importlib``, ``m = course_lib``;
* every route to import by string or to reach loaded modules and frames is reported however it is
  imported or renamed: ``importlib``, ``builtins``/``__builtin__``, ``sys``, ``pkgutil``, ``gc``,
  ``inspect``, ``ctypes``, ``__import__``, ``eval``/``exec``/``compile``, ``getattr``, ``globals``,
  ``vars``, ``get_ipython`` (unless the answer's own variable of that name: ``symtable`` says which
  scope a name lives in), dunder attributes (``__globals__``, ``__subclasses__``, ``__dict__``; not
  the harmless ``__name__``, ``__qualname__``, ``__doc__``),
  frame and traceback attributes (``f_globals``, ``tb_frame``...), running other programs
  (``subprocess``, ``os.system``...);
* a package above a forbidden module (``course_lib`` for ``course_lib.optim``) may only be used
  through a literal attribute chain: handing the package object to anything else (``match``,
  ``operator.attrgetter``, a function) could reach the forbidden module, so it is reported;
* a forbidden name spelled in a string (also as a sum of string pieces) is reported, except in a
  docstring or other bare string: text only a person reads.

The grading package itself (``ALWAYS_FORBIDDEN``: the references and checks) is forbidden in every
exercise. The static scan cannot be complete; the kernel also watches the student's code while the
checks run (``kernel.py``).
"""

from __future__ import annotations

import ast
import symtable

from IPython.core.inputtransformer2 import TransformerManager

ALWAYS_FORBIDDEN = ["course_lib.grading"]
# The usual abbreviations, and the names check cells import into the student's kernel.
DEFAULT_ALIASES = {"np": "numpy", "sp": "scipy", "plt": "matplotlib.pyplot", "nn": "torch.nn",
                   "checks": "course_lib.grading.checks", "references": "course_lib.grading.references"}
DYNAMIC_MODULES = {"importlib", "sys", "builtins", "__builtin__", "pickle", "marshal", "runpy", "pkgutil",
                   "gc", "inspect", "ctypes", "types", "code", "codeop", "imp", "zipimport", "site",
                   "subprocess", "multiprocessing", "concurrent", "pty", "shelve", "dill", "cloudpickle",
                   "pydoc", "IPython", "_thread"}
# Also everyday attribute names (numpy's `a.ctypes`, `response.code`): these count down a chain only
# when the chain starts at an imported module (`os.sys.modules` always counts).
ATTRIBUTE_WORDS = {"ctypes", "types", "code", "site", "imp", "concurrent"}
DYNAMIC = {"__import__", "eval", "exec", "compile", "getattr", "globals", "locals", "vars", "breakpoint",
           "__builtins__", "get_ipython", *DYNAMIC_MODULES}
OTHER_PROGRAMS = ("system", "popen", "exec", "spawn", "posix_spawn", "fork", "startfile")  # os.<these>*
FRAME_ATTRIBUTES = {"f_globals", "f_locals", "f_back", "f_builtins", "f_code", "tb_frame", "tb_next",
                    "gi_frame", "cr_frame", "ag_frame", "gi_code", "cr_code", "func_globals"}
MAGICS = {"run_line_magic", "run_cell_magic", "system", "getoutput"}
DYNAMIC_NOTE = ("(never allowed in an answer, in any exercise: it could reach code an exercise forbids, "
                "or the grader)")
HARMLESS_DUNDERS = {"__name__", "__qualname__", "__doc__"}  # strings: they reach nothing


def _is_forbidden(dotted, forbidden):
    return next((f for f in forbidden if dotted == f or dotted.startswith(f + ".")), None)


def _dotted(node):
    """'a.b.c' for an attribute chain on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _string_value(node):
    """The text of a string constant or a sum of string constants ('course_' + 'lib.optim')."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _string_value(node.left), _string_value(node.right)
        if left is not None and right is not None:
            return left + right
    return None


def _globals_looked_up(python: str) -> set[str] | None:
    """Names some scope of the cell looks up among the globals, and so the builtins (``vars(x)``),
    as opposed to names every function scope that uses them binds itself (an answer's
    ``vars = np.var(g)``: a function's local is never looked up elsewhere, even before it is
    assigned or after ``del``). Uses at module level and in class bodies always count: there a
    name not assigned yet is looked up among the builtins. None if ``symtable`` cannot tell."""
    try:
        top = symtable.symtable(python, "<cell>", "exec")
    except (SyntaxError, ValueError):  # top-level await, say: then every use counts
        return None
    found, tables = set(), [top]
    while tables:
        table = tables.pop()
        tables += table.get_children()
        for symbol in table.get_symbols():
            if symbol.is_referenced() and (table.get_type() != "function" or symbol.is_global()):
                found.add(symbol.get_name())
    return found


def _read_by_people(tree) -> set[int]:
    """The string constants only a person reads: docstrings and other bare strings, unless the cell
    reads ``__doc__``. Not printed text (``print`` can be rebound) nor an exception's text
    (``error.args`` gives it back)."""
    nodes = list(ast.walk(tree))
    if any(getattr(n, "attr", None) == "__doc__" or getattr(n, "id", None) == "__doc__" for n in nodes):
        return set()
    return {id(n.value) for n in nodes if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
            and isinstance(n.value.value, str)}


def as_python(source: str) -> str:
    """The cell as the Python IPython runs: magics and ``!`` lines become ``get_ipython()`` calls."""
    return TransformerManager().transform_cell(source)


def parse_cell(source: str) -> ast.Module:
    """Parse a cell as IPython would run it (top-level ``await`` included); raises SyntaxError."""
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    return compile(as_python(source), "<cell>", "exec", flags=flags, dont_inherit=True)


def _bind_imports(tree, names, forbidden, report):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[(alias.asname or alias.name).split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0])
                rule = _is_forbidden(alias.name, forbidden)
                if rule:
                    report(node.lineno, f"import {alias.name}", rule)
                elif alias.name.split(".")[0] in DYNAMIC_MODULES:
                    report(node.lineno, f"import {alias.name} {DYNAMIC_NOTE}", None)
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                full = f"{module}.{alias.name}"
                names[alias.asname or alias.name] = full
                rule = _is_forbidden(full, forbidden) or _is_forbidden(module, forbidden)
                if alias.name == "*" and not rule:
                    rule = next((f for f in forbidden if f.startswith(module + ".")), None)
                if rule:
                    report(node.lineno, f"from {module} import {alias.name}", rule)
                elif module.split(".")[0] in DYNAMIC_MODULES or alias.name in DYNAMIC:
                    report(node.lineno, f"from {module} import {alias.name} {DYNAMIC_NOTE}", None)


def _bind_assignments(tree, names):
    """``m = course_lib`` or ``il = importlib``: the new name refers to the same thing."""
    aliased = set()
    for _ in range(3):  # chains of aliases (a = np; b = a)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr) and node.value is not None:
                dotted = _dotted(node.value)
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if dotted is None:
                    continue
                head, _, rest = dotted.partition(".")
                resolved = names.get(head, head) + (f".{rest}" if rest else "")
                for target in targets:
                    if isinstance(target, ast.Name):
                        names[target.id] = resolved
                        aliased.add(id(node.value))
    return aliased


def bindings(source: str) -> dict:
    """Names a cell binds to modules or their contents (imports, ``m = module``), for other cells'
    scans: a name imported in one answer cell is the same object in the next one."""
    try:
        tree = parse_cell(source)
    except Exception:  # reported by find_forbidden on that cell
        return {}
    names = {}
    _bind_imports(tree, names, [], lambda *_: None)
    _bind_assignments(tree, names)
    return names


def find_forbidden(source: str, forbidden, aliases=None) -> list[str]:
    """Messages, one per forbidden use in ``source`` (empty when clean).

    ``aliases`` maps local names to the modules/objects they stand for (imports made elsewhere in
    the notebook); imports in ``source`` itself are added. Unparseable source is reported as such.
    """
    forbidden = [f.strip() for f in [*forbidden, *ALWAYS_FORBIDDEN] if f.strip()]
    try:
        tree = parse_cell(source)
        builtins_reached = _globals_looked_up(as_python(source))
    except SyntaxError as exc:
        return [f"cannot be checked: syntax error at line {exc.lineno} ({exc.msg})"]
    except Exception as exc:  # IPython's transformer failed on it: never clean
        return [f"cannot be checked: {type(exc).__name__}: {exc}"]
    names = dict(DEFAULT_ALIASES)
    names.update(aliases or {})
    parents = {f.rsplit(".", i)[0] for f in forbidden for i in range(1, f.count(".") + 1)}
    found = []

    def report(line, what, rule):
        message = f"line {line}: uses {what}" + (f" (forbidden: {rule})" if rule else "")
        if message not in found:
            found.append(message)

    _bind_imports(tree, names, forbidden, report)
    aliased = _bind_assignments(tree, names)
    inner = set()  # the a.b of a.b.c: only the whole chain is resolved
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            inner.add(id(node.value))
    prose = _read_by_people(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MAGICS \
                and isinstance(node.func.value, ast.Call) and _dotted(node.func.value.func) == "get_ipython":
            report(node.lineno, "an IPython magic or shell command (a line starting with % or !) "
                   "which is not allowed in answer cells", None)
        if isinstance(node, ast.Attribute):
            if node.attr.startswith("__") and node.attr.endswith("__") and node.attr not in HARMLESS_DUNDERS:
                report(node.lineno, f"{node.attr} {DYNAMIC_NOTE}", None)
            elif node.attr in FRAME_ATTRIBUTES:
                report(node.lineno, f"{node.attr} (frames and tracebacks) {DYNAMIC_NOTE}", None)
        if isinstance(node, ast.Attribute | ast.Name) and id(node) not in inner:
            _check_name(node, names, forbidden, parents, aliased, report, builtins_reached)
        elif isinstance(node, ast.Constant | ast.BinOp) and id(node) not in prose:
            text = _string_value(node)
            rule = next((f for f in forbidden if f in text), None) if text else None
            if rule:
                report(node.lineno, f"the string {text!r}", rule)
    return found


def _check_name(node, names, forbidden, parents, aliased, report, builtins_reached=None):
    dotted = _dotted(node)
    if dotted is None:
        return
    head, _, rest = dotted.partition(".")
    resolved = names.get(head, head) + (f".{rest}" if rest else "")
    parts = resolved.split(".")
    # A builtin by its own name; a module only through an import or alias (a variable named `code`
    # is not the module), or anywhere down a chain (os.sys.modules).
    builtin = head in DYNAMIC and head not in DYNAMIC_MODULES and (
        builtins_reached is None or head in builtins_reached)  # not the answer's own `vars = ...`
    dynamic = (head if builtin else None) or (
        parts[0] if head in names and parts[0] in DYNAMIC else None) or next(
        (p for p in parts[1:] if p in DYNAMIC_MODULES and (head in names or p not in ATTRIBUTE_WORDS)), None)
    if dynamic:
        report(node.lineno, f"{dynamic} {DYNAMIC_NOTE}", None)
        return
    if parts[0] == "os" and len(parts) > 1 and parts[1].startswith(OTHER_PROGRAMS):
        report(node.lineno, f"{resolved} (running other programs is not allowed in this exercise)", None)
        return
    rule = _is_forbidden(resolved, forbidden)
    if rule:
        report(node.lineno, resolved, rule)
    elif resolved in parents and id(node) not in aliased and isinstance(node.ctx, ast.Load):
        below = next(f for f in forbidden if f.startswith(resolved + "."))
        report(node.lineno, f"the package {resolved} other than by a plain attribute "
                            f"(it could reach {below})", below)
