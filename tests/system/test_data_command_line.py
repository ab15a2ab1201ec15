"""The data command line, `python -m course_utils.data`, run in processes of its own: concurrent
builds, the up-to-date message, errors without tracebacks, and regenerating the manifest."""

from __future__ import annotations

import subprocess

from data_helpers import (
    assert_same_arrays,
    data_command,
    data_command_env,
    read_arrays,
    shared_source,
)

from course_utils.data.build import cache_is_current
from course_utils.data.manifest import MANIFEST_PATH
from course_utils.data.paths import PROJECT_ROOT


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        data_command(*args),
        cwd=PROJECT_ROOT,
        env=data_command_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_concurrent_prepares_end_with_one_identical_cache(source_copy, built_arrays, tmp_path):
    out = tmp_path / "signs"
    args = data_command("prepare", "--source", str(source_copy), "--out", str(out), "--no-progress")
    runs = [
        subprocess.Popen(
            args,
            cwd=PROJECT_ROOT,
            env=data_command_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    stdouts = sorted(o[0].decode() for o in outputs)
    assert sum("Wrote" in s for s in stdouts) == 1, stdouts
    assert sum(f"SIGNS data up to date in {out}" in s for s in stdouts) == 1, stdouts
    assert cache_is_current(out)
    assert_same_arrays(read_arrays(out), built_arrays)  # a second process builds the same bytes


def test_up_to_date_folder_is_reported_in_one_line(built):
    run = _run("prepare", "--out", str(built))
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"SIGNS data up to date in {built}\n"


def test_error_is_one_message_without_traceback(tmp_path):
    run = _run("prepare", "--source", "/nonexistent/signs", "--out", str(tmp_path / "out"))
    assert run.returncode == 1
    assert run.stderr.startswith("error: ") and "/nonexistent/signs" in run.stderr
    assert "Traceback" not in run.stderr


def test_manifest_regenerates_the_committed_manifest(tmp_path):
    out = tmp_path / "manifest.sha256"
    run = _run("manifest", "--source", str(shared_source()), "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert out.read_bytes() == MANIFEST_PATH.read_bytes()
