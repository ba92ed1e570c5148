"""nbval shows each failed check's message and ends with a points table per exercise."""

from course_lib.grading.nbval_report import *  # noqa: F403  (the plugin's hooks)
