"""nbval shows each failed check's message and ends with a points table per exercise
(``course_lib.grading.nbval_report``; loaded once, also when given with ``-p``)."""


def pytest_configure(config):
    config.pluginmanager.import_plugin("course_lib.grading.nbval_report")
