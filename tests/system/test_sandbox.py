"""The sandbox that class grading runs each submission in: what a program inside can and cannot
do. Without bubblewrap these tests are skipped, or fail where COURSE_REQUIRE_SANDBOX=1 (CI)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from course_tools import sandbox
from course_utils.data.paths import PROJECT_ROOT

if sandbox.bubblewrap() is None:
    if os.environ.get(sandbox.REQUIRE_ENV) == "1":
        pytest.fail(sandbox.sandbox_warning(), pytrace=False)
    pytest.skip(sandbox.sandbox_warning(), allow_module_level=True)


def run_inside(code: str, tmp_path: Path, limits: sandbox.Limits | None = None):
    """Run Python ``code`` in the sandbox, with ``tmp_path/work`` writable."""
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir(exist_ok=True)
    home.mkdir(exist_ok=True)
    command = sandbox.sandboxed([sys.executable, "-c", code], [work], home)
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=(limits or sandbox.Limits()).apply,
    )


def test_the_project_and_other_folders_are_read_only_and_its_own_folders_writable(tmp_path):
    grader = PROJECT_ROOT / "course_utils" / "grading" / "blocks.py"
    neighbour = tmp_path / "other-submission.ipynb"
    neighbour.write_text("theirs")
    before = grader.read_bytes()
    code = f"""
import os, tempfile
for path in [{str(grader)!r}, {str(neighbour)!r}, "/tmp/scratch"]:
    try:
        open(path, "w").write("overwritten")
        print("wrote", path)
    except OSError as error:
        print("refused", error.errno)
open({str(tmp_path / "work" / "mine.txt")!r}, "w").write("mine")
open(os.path.join(os.environ["HOME"], "x"), "w").write("home")
with tempfile.NamedTemporaryFile(dir=None) as scratch:
    print("TMPDIR", os.path.dirname(scratch.name))
print("HOME", os.environ["HOME"])
"""
    run = run_inside(code, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("refused 30") == 3 and "wrote" not in run.stdout  # EROFS
    assert grader.read_bytes() == before and neighbour.read_text() == "theirs"
    assert not Path("/tmp/scratch").exists()
    assert (tmp_path / "work" / "mine.txt").read_text() == "mine"
    assert f"HOME {tmp_path / 'home'}" in run.stdout
    assert f"TMPDIR {tmp_path / 'home' / 'tmp'}" in run.stdout


def test_there_is_no_network_not_even_this_machines_loopback(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        code = f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=5)
    print("connected")
except OSError as error:
    print("refused", type(error).__name__)
"""
        run = run_inside(code, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("refused")


def test_a_program_that_spins_is_stopped_at_its_cpu_time_limit(tmp_path):
    run = run_inside("while True: pass", tmp_path, sandbox.Limits(cpu_s=2))
    # bubblewrap reports its child's death by a signal as 128 + the signal's number.
    assert run.returncode in {128 + signal.SIGXCPU, 128 + signal.SIGKILL}, run


def test_a_program_that_asks_for_too_much_memory_is_refused_it(tmp_path):
    code = "b = bytearray(3 * 2**30)\nprint('allocated')"
    run = run_inside(code, tmp_path, sandbox.Limits(memory_gib=1))
    assert "MemoryError" in run.stderr and "allocated" not in run.stdout
