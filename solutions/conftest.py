"""nbval shows each failed check's message and ends with a points table per exercise
(``course_lib.grading.nbval_report``; registered once, also when given with ``-p``)."""

from course_lib.grading import nbval_report


def pytest_configure(config):
    if not config.pluginmanager.has_plugin(nbval_report.__name__):
        config.pluginmanager.register(nbval_report, nbval_report.__name__)
