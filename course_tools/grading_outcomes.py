"""A pytest plugin that records whether each notebook passed: ``grade_submission`` runs one
``pytest --nbval-lax`` over many graded copies and reports a verdict per submission from it.

    python -m pytest -p course_tools.grading_outcomes ...   # with COURSE_GRADING_OUTCOMES=FILE

Writes ``{notebook path: {"passed": bool, "failed_cells": [cell number, ...]}}`` as JSON to the
file named by the environment variable ``COURSE_GRADING_OUTCOMES`` when the session ends. Notebook
paths are as pytest's node ids give them (relative to its root folder); cell numbers are nbval's
(the position among the code cells, from 0).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

OUTCOMES_ENV = "COURSE_GRADING_OUTCOMES"

_outcomes: dict[str, dict] = {}


def pytest_runtest_logreport(report) -> None:
    notebook, _, cell = report.nodeid.partition("::")
    outcome = _outcomes.setdefault(notebook, {"passed": True, "failed_cells": []})
    if report.failed:
        outcome["passed"] = False
        number = cell.split()[-1] if cell else ""
        if number.isdigit() and int(number) not in outcome["failed_cells"]:
            outcome["failed_cells"].append(int(number))


def pytest_collectreport(report) -> None:
    if report.failed:  # a notebook that cannot even be read
        _outcomes[report.nodeid] = {"passed": False, "failed_cells": []}


def pytest_sessionfinish(session) -> None:
    target = os.environ.get(OUTCOMES_ENV)
    if target:
        Path(target).write_text(json.dumps(_outcomes, indent=1), encoding="utf-8")
