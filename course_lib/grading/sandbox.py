"""Start a student's kernel in a sandbox: ``python -I sandbox.py CONFIG.json`` (run by ``kernel.py``).

As root (inside ``unshare --mount --pid --fork --mount-proc``) it hides the instructor's files behind
empty mounts, gives the kernel a private /tmp holding only a working directory with the submitted
notebook, limits its memory and drops to an unprivileged user before it execs the kernel. Without
root it only limits memory and changes directory (the kernel then runs as the grader's user).

Nothing here tells the kernel it is being graded: the environment is a plain allow-list, the working
directory holds only the notebook and the connection file lives where Jupyter would put it.
This file imports nothing from course_lib, so it runs before any student code can change anything.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import secrets
import signal
import sys

MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 1 << 14, 1 << 18
PR_SET_PDEATHSIG = 1


def _mount(source, target, fstype, flags, data=""):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(source.encode(), target.encode(), fstype.encode(), flags, data.encode()) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {fstype} on {target}: {os.strerror(err)}")


def _hide(path):
    """Cover a directory with an empty read-only tmpfs, a file with /dev/null."""
    if os.path.isdir(path):
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=4k,mode=0755")
    elif os.path.exists(path):
        _mount("/dev/null", path, "", MS_BIND)


def _blocking_ancestor(path):
    """The first directory above ``path`` that others may not enter, or None."""
    parts = os.path.normpath(path).split(os.sep)
    for i in range(2, len(parts)):
        ancestor = os.sep.join(parts[:i])
        if not os.stat(ancestor).st_mode & 0o001:
            return ancestor
    return None


def _expose(paths, keep_dir):
    """Make ``paths`` (the Python installation) reachable for the student's user.

    A blocking ancestor (say /root, mode 0700) is covered by an empty tmpfs that others may enter,
    and only the needed paths are bound back into it: the rest of the ancestor stays out of sight.
    """
    blocked = {}
    for path in sorted(set(paths)):
        ancestor = _blocking_ancestor(path)
        if ancestor and not any(path.startswith(p + os.sep) for p in blocked.get(ancestor, [])):
            blocked.setdefault(ancestor, []).append(path)
    for ancestor, inner in blocked.items():
        kept = []
        for path in inner:
            keep = os.path.join(keep_dir, f"keep{len(os.listdir(keep_dir))}")
            os.mkdir(keep)
            _mount(path, keep, "", MS_BIND | MS_REC)
            kept.append((keep, path))
        _mount("tmpfs", ancestor, "tmpfs", MS_NOSUID | MS_NODEV, "size=4k,mode=0755")
        for keep, path in kept:
            os.makedirs(path, 0o755, exist_ok=True)
            _mount(keep, path, "", MS_BIND | MS_REC)


def _write(path, data: bytes, uid, gid, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chown(path, uid, gid)


def main(config_path):
    with open(config_path) as f:
        config = json.load(f)
    with open(config["notebook"], "rb") as f:
        notebook = f.read()
    with open(config["connection"], "rb") as f:
        connection = f.read()
    uid, gid = config["uid"], config["gid"]
    sandboxed = config["sandbox"]

    if sandboxed:
        # Private mount tree: nothing below leaks to the grader's namespace.
        _mount("none", "/", "", MS_REC | MS_PRIVATE)
        _expose(config["expose"], os.path.dirname(config_path))
        for path in config["hide"]:
            _hide(path)
        tmps = [t for t in ("/tmp", "/var/tmp", "/dev/shm") if os.path.isdir(t)]
        # An installation under a temporary folder (a CI clone in /tmp, say) must survive the
        # private /tmp: hold it open, cover /tmp, then bind it back at the same path.
        held = [(path, os.open(path, os.O_PATH)) for path in config["expose"]
                if any(path.startswith(t + os.sep) for t in tmps)]
        for tmp in tmps:
            _mount("tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV, f"size={config['tmp_size']},mode=1777")
        for path, fd in held:
            os.makedirs(path, 0o755, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", path, "", MS_BIND | MS_REC)
            os.close(fd)
        root = "/tmp"
    else:
        root = config["scratch"]

    workdir = os.path.join(root, secrets.token_hex(4))
    home = os.path.join(root, secrets.token_hex(4))
    runtime = os.path.join(home, ".local", "share", "jupyter", "runtime")
    for d in (workdir, home, *(os.path.join(home, ".local", *parts) for parts in
                               ((), ("share",), ("share", "jupyter"), ("share", "jupyter", "runtime")))):
        os.mkdir(d, 0o700)
        os.chown(d, uid, gid)  # uid = gid = -1 (no change) without a sandbox
    _write(os.path.join(workdir, config["notebook_name"]), notebook, uid, gid, 0o644)
    conn_file = os.path.join(runtime, f"kernel-{secrets.token_hex(8)}.json")
    _write(conn_file, connection, uid, gid)

    limit = config["memory"]
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (config["max_file"], config["max_file"]))
    if sandboxed:
        # Per-user process cap (threads count too): a fork bomb stays inside the sandbox's budget.
        resource.setrlimit(resource.RLIMIT_NPROC, (config["max_processes"], config["max_processes"]))
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        # Changing user cleared the parent-death signal that `unshare --kill-child` set: set it again,
        # so the kernel (and with it the whole PID namespace) dies with a killed worker.
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    os.chdir(workdir)
    env = dict(config["env"], HOME=home)
    python = config["python"]
    os.execve(python, [python, "-m", "ipykernel_launcher", "-f", conn_file], env)


if __name__ == "__main__":
    main(sys.argv[1])
