"""`course_utils.quiet_start`, the first import of every chapter: TensorFlow starts without the
notices its C++ libraries write to standard error, which a kernel would show under the cell."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SETTINGS = ("TF_CPP_MIN_LOG_LEVEL", "KERAS_BACKEND")


def run_python(code: str, **settings: str) -> subprocess.CompletedProcess:
    """``python -c code`` in a learner's environment: neither of SETTINGS set, but ``settings``."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS} | settings
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )


def test_importing_it_writes_nothing_to_standard_error_where_tensorflow_does():
    quiet = run_python("import course_utils.quiet_start\nimport keras")
    assert quiet.returncode == 0 and quiet.stderr == ""
    plain = run_python("import tensorflow")
    assert plain.returncode == 0
    if not plain.stderr:
        pytest.skip("TensorFlow writes no start-up notice on this machine: nothing to compare")


def test_standard_error_works_again_after_it_and_errors_still_raise():
    after = run_python(
        "import sys\nimport course_utils.quiet_start\n"
        "print('still here', file=sys.stderr)\nimport a_module_that_is_not_there"
    )
    assert after.returncode == 1
    assert after.stderr.startswith("still here\n")
    assert "ModuleNotFoundError: No module named 'a_module_that_is_not_there'" in after.stderr


def test_it_sets_the_log_level_and_the_backend_unless_they_are_set():
    code = "import os, course_utils.quiet_start\nprint(*(os.environ[name] for name in SETTINGS))"
    code = f"SETTINGS = {SETTINGS!r}\n{code}"
    assert run_python(code).stdout == "3 tensorflow\n"
    assert run_python(code, TF_CPP_MIN_LOG_LEVEL="1").stdout == "1 tensorflow\n"
