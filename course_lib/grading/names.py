"""Student ids from file names, and the file names the grader writes for them.

A submission's id is its file or folder name, whatever it holds: 240 characters, bytes that are not
UTF-8, newlines. ``student_id`` turns a name into printable text (what the gradebook shows) and
``file_stem`` turns an id into a short file name that is safe on any file system and unique per id
(what ``records/``, ``feedback/`` and ``gradescope/`` use).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata

SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,79}")
OUTPUT_MARKER = ".course-grader-output"  # written into every --out folder: never graded as a student


def student_id(name: str) -> str:
    """A file name as printable text: bytes that are not UTF-8 as ``\\xNN``, control characters as
    escapes (``\\n``), a backslash doubled so that no two names give the same id."""
    text = os.fsencode(name).replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def same_id(text: str) -> str:
    """The form in which ids are compared: NFC, so that ``José`` typed on one machine is the
    ``José`` a Mac wrote as a file name (NFD)."""
    return unicodedata.normalize("NFC", text)


def find_id(text: str, ids) -> str | None:
    """The id among ``ids`` that ``text`` names (the same id, or the same in NFC), or None."""
    if text in ids:
        return text
    return next((student for student in ids if same_id(student) == same_id(text)), None)


def file_stem(student: str) -> str:
    """A file name stem for ``student``: the id itself when it is short and plain (``alice``),
    else its plain characters cut short plus a hash of the whole id."""
    if SAFE.fullmatch(student) and not student.endswith("."):
        return student
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", student).strip("._")[:60]
    return f"{plain or 'id'}-{hashlib.sha256(student.encode()).hexdigest()[:16]}"
