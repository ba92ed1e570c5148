"""What `make lab` adds to JupyterLab: running a lecture leaves `git status` clean.

The repository stores notebooks without outputs; the set-up's git filter (nbstripout, named in
.gitattributes) strips what a run adds before git compares or stores a notebook. One gap remains:
git reports a tracked file whose size changed as modified without running the filter, so a saved
run would still show in `git status` (and block `git pull`). After each save, this hook asks git
whether the notebook's stored content changed; if not, it refreshes git's index entry for it.
A notebook whose source was edited stays modified, as it should.
"""

from __future__ import annotations

import os
import subprocess


def keep_git_index_fresh(model, os_path, contents_manager=None, **_):
    """Jupyter post-save hook (``--ContentsManager.post_save_hook=course_lib.lab.keep_git_index_fresh``)."""
    if model.get("type") != "notebook":
        return
    folder, name = os.path.split(os_path)

    def git(*args):
        return subprocess.run(["git", *args, "--", name], cwd=folder, capture_output=True).returncode

    # Tracked, and equal to the index once filtered (`git diff` runs the filter; `status` may not).
    if git("ls-files", "--error-unmatch") == 0 and git("diff", "--quiet") == 0:
        git("update-index")  # stores the same filtered blob, with the file's new size and time
