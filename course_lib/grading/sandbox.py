"""Start a student's kernel in a sandbox: ``python -I sandbox.py CONFIG.json`` (run by ``kernel.py``).

As root the launcher runs inside ``unshare --mount --pid --net --ipc --uts --fork --mount-proc``:
its own mount, process, network (loopback only), System V / POSIX IPC and host-name namespaces.
Inside, it

* hides everything outside the operating system's folders and what the kernel needs (Python, the
  environment, course_lib) behind empty mounts, so no copy of the course anywhere on the machine is
  readable, and makes every other mount read-only;
* covers ``course_lib/grading`` with a folder that holds only the modules the kernel imports (the
  check module and what it needs), so the code that computes the answers (``references``), compiled
  or not, is not there to read;
* mounts one fresh tmpfs (``tmp_size`` bytes, ``MAX_INODES`` files) and binds a directory of it
  over every world-writable directory it finds (``/tmp``, ``/var/tmp``, ``/dev/shm``, ``/run/lock``...),
  so the whole submission can write at most ``tmp_size`` bytes, all of it gone with the namespace;
* puts the working directory (holding only the submitted notebook), HOME and the kernel's Unix
  sockets (jupyter_client's ``ipc`` transport, in a 0700 directory) on that tmpfs: the grader reaches
  them through ``/proc/<launcher>/root``, no other kernel can see them;
* limits memory, file size and processes (``RLIMIT_NPROC`` counts per uid, and each concurrent kernel
  has its own uid), sets no-new-privileges and drops to that uid before it execs the kernel.

Without root it only limits memory and changes directory (the kernel then runs as the grader's user).
Nothing here tells the kernel it is being graded: the environment is a plain allow-list, the working
directory holds only the notebook and the connection file lives where Jupyter would put it.
This file imports nothing from course_lib, so it runs before any student code can change anything.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import resource
import signal
import socket
import struct
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE = 1024, 2048, 4096, 1 << 14, 1 << 18
MS_RELATIME, MS_STRICTATIME = 1 << 21, 1 << 24
MOUNT_FLAGS = {"ro": MS_RDONLY, "nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC,
               "noatime": MS_NOATIME, "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME,
               "strictatime": MS_STRICTATIME}
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
MAX_INODES = 20000  # files and folders the submission may create in all its writable places
SCAN_DEPTH = 5  # world-writable folders deeper than this stay read-only (found none on Debian)
PSEUDO = ("/proc", "/sys")
# Left visible to the kernel: the operating system (libraries, fonts, users) and the places the
# sandbox replaces itself (/tmp and the other world-writable folders get the capped tmpfs).
SYSTEM = {"/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc", "/dev", "/proc", "/sys",
          "/run", "/var", "/tmp"}

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source, target, fstype, flags, data=""):
    if _libc.mount(os.fsencode(source), os.fsencode(target), fstype.encode(), flags, data.encode()) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {fstype or source} on {target}: {os.strerror(err)}")


def world_writable(max_depth=SCAN_DEPTH):
    """Directories anyone may write to, reachable by anyone (every ancestor world-searchable).

    A directory others cannot enter is not searched: the student's user cannot reach below it.
    """
    found, stack = [], [("/", 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.path in PSEUDO or not entry.is_dir(follow_symlinks=False):
                    continue
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            if mode & 0o002:
                found.append(entry.path)
            elif mode & 0o001 and depth + 1 < max_depth:
                stack.append((entry.path, depth + 1))
    return sorted(found)


def _hide(path):
    """Cover a directory with an empty read-only tmpfs, a file with /dev/null."""
    if os.path.isdir(path):
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k,mode=0755")
    elif os.path.exists(path):
        _mount("/dev/null", path, "", MS_BIND)


def _hide_all_but(keep):
    """Cover everything outside the system folders and the ``keep`` paths with empty mounts.

    From ``/`` down, a folder on the way to a kept path is entered and its other entries are hidden;
    anything else outside ``SYSTEM`` is hidden whole. So another copy of the course anywhere on the
    machine (a second clone, a backup in a home folder) is out of reach, not only the grading one.
    Symbolic links are left alone: they lead to a place that is itself hidden or visible on its own.
    """
    keep = [os.path.normpath(k) for k in keep]

    def visit(folder):
        for entry in os.scandir(folder):
            path = entry.path
            if entry.is_symlink() or path in SYSTEM or path in keep:
                continue
            if any(k.startswith(path + os.sep) for k in keep):
                visit(path)
            else:
                _hide(path)

    visit("/")


def blocking_ancestor(path):
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
        ancestor = blocking_ancestor(path)
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


def _mounts():
    """(mount point, flags) of every mount, parents first (from /proc/self/mountinfo)."""
    result = []
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            fields = line.split()
            point = os.fsdecode(fields[4].decode("unicode_escape").encode("latin-1"))  # \040 etc.
            options = fields[5].decode().split(",")
            result.append((point, sum(MOUNT_FLAGS.get(o, 0) for o in options)))
    return result


def _read_only_everywhere():
    """Remount every mount but /proc read-only: the student's only writable places are ours."""
    for point, flags in _mounts():
        if point == "/proc" or point.startswith("/proc/") or flags & MS_RDONLY:
            continue
        try:
            _mount("none", point, "", MS_REMOUNT | MS_BIND | MS_RDONLY | flags)
        except OSError:
            if point == "/":
                raise
            # A mount point covered by a later mount (or gone) cannot be reached by path anyway.


def _bind_read_only(source, target):
    _mount(source, target, "", MS_BIND | MS_REC)
    _mount("none", target, "", MS_REMOUNT | MS_BIND | MS_RDONLY)


def _fresh_writable_places(stage, config):
    """One capped tmpfs at ``stage``; a 1777 folder of it bound over each world-writable folder.

    Returns the path at which the tmpfs's own 'root' folder (HOME, workdir, sockets) is reachable.
    """
    _mount("tmpfs", stage, "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={config['tmp_size']},nr_inodes={MAX_INODES},mode=0755")
    targets = [t for t in config["writable"] if os.path.isdir(t) and not os.path.islink(t)]
    targets.sort(key=lambda t: t == "/tmp")  # /tmp last: the stage lives under it
    places = []
    for number, target in enumerate(targets):
        place = os.path.join(stage, str(number))
        os.mkdir(place)
        os.chmod(place, 0o1777)
        places.append((place, target))
    # The installation may live under a temporary folder (a CI clone in /tmp): hold it open, cover
    # the folder, then bind it back read-only at the same path.
    held = [(path, os.open(path, os.O_PATH)) for path in config["expose"]
            if any(path.startswith(t + os.sep) for t in targets)]
    for place, target in places:
        _mount(place, target, "", MS_BIND)
    for path, fd in held:
        os.makedirs(path, 0o755, exist_ok=True)
        _bind_read_only(f"/proc/self/fd/{fd}", path)
        os.close(fd)
    if "/tmp" not in targets:
        raise OSError("no world-writable /tmp found to put the kernel's files in")
    return "/tmp"


def _only(folder, files):
    """Cover ``folder`` with a read-only tmpfs holding only ``files`` of it (bound read-only from the
    original) and their compiled copies in ``__pycache__``: the rest of the folder is out of reach."""
    if not os.path.isdir(folder):
        return
    fd = os.open(folder, os.O_PATH | os.O_DIRECTORY)
    try:
        original = f"/proc/self/fd/{fd}"
        stems = {name.rsplit(".", 1)[0] for name in files}
        kept = [name for name in files if os.path.isfile(os.path.join(original, name))]
        try:
            compiled = sorted(name for name in os.listdir(os.path.join(original, "__pycache__"))
                              if name.endswith(".pyc") and name.split(".")[0] in stems)
        except OSError:
            compiled = []
        _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,nr_inodes=64,mode=0755")
        if compiled:
            os.mkdir(os.path.join(folder, "__pycache__"), 0o755)
        for name in kept + [os.path.join("__pycache__", name) for name in compiled]:
            target = os.path.join(folder, name)
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            _bind_read_only(os.path.join(original, name), target)
        _mount("none", folder, "", MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
               "size=64k,nr_inodes=64,mode=0755")
    finally:
        os.close(fd)


def _loopback_up():
    """Inside a fresh network namespace the only interface, lo, starts down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def _write(path, data: bytes, uid, gid, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chown(path, uid, gid)


def _mkdirs(paths, uid, gid):
    for d in paths:
        os.mkdir(d, 0o700)
        os.chown(d, uid, gid)  # uid = gid = -1 (no change) without a sandbox


def main(config_path):
    with open(config_path) as f:
        config = json.load(f)
    with open(config["notebook"], "rb") as f:
        notebook = f.read()
    with open(config["connection"]) as f:
        connection = json.load(f)
    uid, gid = config["uid"], config["gid"]
    sandboxed = config["sandbox"]

    if sandboxed:
        _mount("none", "/", "", MS_REC | MS_PRIVATE)  # nothing below leaks to the grader's namespace
        _loopback_up()
        socket.sethostname("localhost")
        _expose(config["expose"], os.path.dirname(config_path))
        _hide_all_but(config["expose"])
        for path in config["hide"]:
            _hide(path)
        _read_only_everywhere()
        root = _fresh_writable_places(config["stage"], config)
        _only(config["only"]["folder"], config["only"]["files"])  # last: also over a rebound installation
    else:
        root = config["scratch"]

    names = config["names"]  # random folder names chosen by the grader, which must find the sockets
    workdir, home, sockets = (os.path.join(root, names[k]) for k in ("workdir", "home", "sockets"))
    runtime = os.path.join(home, ".local", "share", "jupyter", "runtime")
    local = [os.path.join(home, ".local", *parts)
             for parts in ((), ("share",), ("share", "jupyter"), ("share", "jupyter", "runtime"))]
    _mkdirs([workdir, home, sockets, *local], uid, gid)
    _write(os.path.join(workdir, config["notebook_name"]), notebook, uid, gid, 0o644)
    conn_file = os.path.join(runtime, f"kernel-{names['connection']}.json")
    connection["ip"] = os.path.join(sockets, "kernel")
    _write(conn_file, json.dumps(connection).encode(), uid, gid)

    limit = config["memory"]
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (config["max_file"], config["max_file"]))
    if config["drop"]:  # also without namespaces (a container that forbids them), as root
        # Per-uid process cap (threads count too); the uid is this kernel's alone.
        resource.setrlimit(resource.RLIMIT_NPROC, (config["max_processes"], config["max_processes"]))
        resource.setrlimit(resource.RLIMIT_MSGQUEUE, (2**18, 2**18))  # POSIX queues
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        # Changing user cleared the parent-death signal that `unshare --kill-child` set: set it again,
        # so the kernel (and with it the whole PID namespace) dies with a killed worker.
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # set-uid programs (su, mount) gain nothing
    os.chdir(workdir)
    env = dict(config["env"], HOME=home)
    python = config["python"]
    os.execve(python, [python, "-m", "ipykernel_launcher", "-f", conn_file], env)


if __name__ == "__main__":
    main(sys.argv[1])
