"""Find uses of what an exercise forbids (``course_lib.optim``, ``torch.optim``, ``scipy.optimize``...)
in a student's source, by reading it (``ast``), never by running it.

Forbidden entries are dotted names; an entry forbids itself and everything below it
(``"torch.optim"`` forbids ``torch.optim.Adam``). Names are resolved through the imports in the
source and the usual aliases (``np``, ``sp``...), so ``from torch import optim; optim.Adam`` and
``import scipy.optimize as so`` are both found. Dynamic access (``__import__``, ``importlib``,
``eval``, ``exec``, ``getattr`` with a string, a forbidden name spelled in a string) is reported
too: a student answer has no business hiding what it calls. The grading package itself
(``ALWAYS_FORBIDDEN``: the references and checks) is forbidden in every exercise.
"""

from __future__ import annotations

import ast

ALWAYS_FORBIDDEN = ["course_lib.grading"]
# The usual abbreviations, and the names check cells import into the student's kernel.
DEFAULT_ALIASES = {"np": "numpy", "sp": "scipy", "plt": "matplotlib.pyplot", "nn": "torch.nn",
                   "checks": "course_lib.grading.checks", "references": "course_lib.grading.references"}
DYNAMIC_MODULES = {"importlib", "sys", "builtins", "pickle", "marshal", "runpy"}  # also as os.sys
DYNAMIC = {"__import__", "eval", "exec", "compile", "getattr", "globals", "vars", "__builtins__",
           *DYNAMIC_MODULES}


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


def find_forbidden(source: str, forbidden, aliases=None) -> list[str]:
    """Messages, one per forbidden use in ``source`` (empty when clean).

    ``aliases`` maps local names to the modules/objects they stand for (imports made elsewhere in
    the notebook); imports in ``source`` itself are added. Unparseable source is reported as such.
    """
    forbidden = [f.strip() for f in [*forbidden, *ALWAYS_FORBIDDEN] if f.strip()]
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"cannot be checked: syntax error at line {exc.lineno}"]
    names = dict(DEFAULT_ALIASES)
    names.update(aliases or {})
    found = []

    def report(line, what, rule):
        message = f"line {line}: uses {what}" + (f" (forbidden: {rule})" if rule else "")
        if message not in found:
            found.append(message)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[(alias.asname or alias.name).split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0])
                rule = _is_forbidden(alias.name, forbidden)
                if rule:
                    report(node.lineno, f"import {alias.name}", rule)
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                full = f"{module}.{alias.name}"
                names[alias.asname or alias.name] = full
                rule = _is_forbidden(full, forbidden) or _is_forbidden(module, forbidden)
                if rule:
                    report(node.lineno, f"from {module} import {alias.name}", rule)
    inner = set()  # the a.b of a.b.c: only the whole chain is resolved
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            inner.add(id(node.value))
            if node.attr.startswith("__") and node.attr.endswith("__"):  # np.__dict__, f.__globals__...
                report(node.lineno, f"{node.attr} (dynamic access is not allowed in this exercise)", None)
        if isinstance(node, ast.Attribute | ast.Name) and id(node) not in inner:
            dotted = _dotted(node)
            if dotted is None:
                continue
            head, _, rest = dotted.partition(".")
            parts = dotted.split(".")
            dynamic = parts[0] if parts[0] in DYNAMIC else next(
                (part for part in parts[1:] if part in DYNAMIC_MODULES), None)  # os.sys.modules
            if dynamic:
                report(node.lineno, f"{dynamic} (dynamic access is not allowed in this exercise)", None)
                continue
            resolved = names.get(head, head) + (f".{rest}" if rest else "")
            rule = _is_forbidden(resolved, forbidden)
            if rule:
                report(node.lineno, resolved, rule)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            rule = next((f for f in forbidden if f in node.value), None)
            if rule:
                report(node.lineno, f"the string {node.value!r}", rule)
    return found
