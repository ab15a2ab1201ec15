"""Processes and Jupyter kernels forked from the server that has imported TensorFlow behave as
fresh ones: their own environment, folder, output files, session and exit status; they can be
interrupted, killed and waited for, and still configure TensorFlow before it starts."""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from jupyter_client import KernelManager

from course_utils import preloaded
from course_utils.preloaded_kernel import (
    KERNEL_NAME,
    PreloadedKernelProvisioner,
    _output_file,
    jupyter_environment,
    kernel_arguments,
)


def describe_self(result: str) -> None:
    """Runs forked: writes what the process found, and a line to stdout and to stderr."""
    import tempfile

    print("to stdout", flush=True)
    print("to stderr", file=sys.stderr, flush=True)
    found = {
        "tensorflow_loaded": "tensorflow" in sys.modules,
        "cwd": os.getcwd(),
        "mark": os.environ.get("COURSE_TEST_MARK"),
        "tmp": tempfile.gettempdir(),
        "pid": os.getpid(),
        "session": os.getsid(0),
    }
    Path(result).write_text(json.dumps(found))


def sleep_long() -> None:
    time.sleep(300)


def fail() -> None:
    raise RuntimeError("a forked run that fails")


def logical_devices(n: int, result: str) -> None:
    from course_utils import distributed

    distributed.use_logical_cpus(n)
    import tensorflow as tf

    Path(result).write_text(str(len(tf.config.list_logical_devices("CPU"))))


def test_a_forked_process_starts_with_tensorflow_loaded_and_what_it_was_given(tmp_path):
    result, out, err = tmp_path / "result.json", tmp_path / "out.txt", tmp_path / "err.txt"
    out.write_text("")
    err.write_text("")
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "COURSE_TEST_MARK": "given", "TMPDIR": str(tmp_path / "tmp")}
    process = preloaded.start(
        describe_self, str(result), env=env, cwd=tmp_path, stdout=out, stderr=err,
        new_session=True,
    )  # fmt: skip
    assert process.wait(timeout=60) == 0
    found = json.loads(result.read_text())
    assert found["tensorflow_loaded"]
    assert (found["cwd"], found["mark"], found["tmp"]) == (
        str(tmp_path), "given", str(tmp_path / "tmp"),
    )  # fmt: skip
    assert found["pid"] == process.pid != os.getpid()
    assert found["session"] == process.pid  # a session of its own
    assert out.read_text() == "to stdout\n" and err.read_text() == "to stderr\n"


def test_a_forked_process_is_killed_and_waited_for_like_a_subprocess():
    process = preloaded.start(sleep_long)
    assert process.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(timeout=0.1)
    process.kill()
    assert process.wait(timeout=60) == -signal.SIGKILL == process.returncode
    process.kill()  # ended: nothing is signalled (its pid may be another process's by now)


def test_a_failing_forked_run_exits_with_status_1(tmp_path):
    err = tmp_path / "err.txt"
    err.write_text("")
    process = preloaded.start(fail, stderr=err)
    assert process.wait(timeout=60) == 1
    assert "RuntimeError: a forked run that fails" in err.read_text()


def test_a_forked_process_can_still_split_the_cpu_into_logical_devices(tmp_path):
    """As chapter 08 and the distributed tests do before TensorFlow starts."""
    result = tmp_path / "devices.txt"
    assert preloaded.start(logical_devices, 3, str(result)).wait(timeout=60) == 0
    assert result.read_text() == "3"


STOPPED_AT_EXIT = """
import atexit, multiprocessing, os
from pathlib import Path

# Registered before course_utils.preloaded's own handler, so it runs after it.
atexit.register(lambda: print("server reaped:", not Path(f"/proc/{server}").exists()))

from course_utils import preloaded

multiprocessing.set_forkserver_preload([])  # a server without TensorFlow: this test is on exit
assert preloaded.start(os.getpid).wait(timeout=60) == 0
server = preloaded.forkserver._forkserver._forkserver_pid
"""


def test_the_fork_server_is_stopped_and_waited_for_when_the_program_ends():
    run = subprocess.run(
        [sys.executable, "-c", STOPPED_AT_EXIT], capture_output=True, text=True, timeout=60
    )
    assert (run.returncode, run.stdout) == (0, "server reaped: True\n"), run.stderr


UNGUARDED_SCRIPT = """
import multiprocessing, os, sys
with open(sys.argv[1], "a") as runs:
    runs.write("ran\\n")
from course_utils import preloaded
multiprocessing.set_forkserver_preload([])
assert preloaded.start(os.getpid).wait(timeout=60) == 0
"""


def test_a_forked_process_does_not_run_the_main_script_again(tmp_path):
    """multiprocessing's own children import the main script; an unguarded one would run twice."""
    script, runs = tmp_path / "grade_all.py", tmp_path / "runs.txt"
    script.write_text(UNGUARDED_SCRIPT)
    run = subprocess.run(
        [sys.executable, str(script), str(runs)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert runs.read_text() == "ran\n"


SHARING_CLIENT = """
import os, sys
from pathlib import Path
from course_utils import preloaded
process = preloaded.start(preloaded_parent, sys.argv[1])
assert process.wait(timeout=60) == 0
print(preloaded.forkserver._forkserver._forkserver_pid)  # a server of its own: None
"""


def preloaded_parent(result: str) -> None:
    Path(result).write_text(str(os.getppid()))


def test_a_program_started_with_the_sharing_environment_forks_from_this_process_server(
    tmp_path,
):
    result = tmp_path / "parent.txt"
    env = preloaded.sharing_environment({**os.environ, "PYTHONPATH": str(Path(__file__).parent)})
    run = subprocess.run(
        [sys.executable, "-c", "from test_preloaded import *\n" + SHARING_CLIENT, str(result)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout == "None\n"  # it started no server (no second import of TensorFlow)
    assert int(result.read_text()) == preloaded.forkserver._forkserver._forkserver_pid


def test_a_shared_server_that_is_gone_is_named(tmp_path):
    env = {**os.environ, preloaded.SERVER_VARIABLE: str(tmp_path / "gone")}
    run = subprocess.run(
        [sys.executable, "-c", "import os\nfrom course_utils import preloaded\n"
         "preloaded.start(os.getpid)"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1
    assert f"unset {preloaded.SERVER_VARIABLE}" in run.stderr.splitlines()[-1]


MARK = "fresh"  # what a fresh import of this module holds


def program_forking_its_server(result: str, out: str, err: str, ran: str) -> None:
    """Runs forked, as a program that has imported TensorFlow and, before it, matplotlib with
    the Agg backend: forks its fork server from itself, then two processes from that server."""
    import io

    import matplotlib.pyplot

    global MARK
    MARK = "set by the program"  # seen by a copy of this process, not by a fresh server
    sys.modules.pop(preloaded.PRELOAD, None)  # as in a program that never imported it
    os.environ.pop("MPLBACKEND", None)
    matplotlib.pyplot.switch_backend("agg")
    atexit.register(lambda: Path(ran).write_text(Path(ran).read_text() + "handler\n"))
    sys.stdout = io.StringIO()  # as pytest's capture does
    assert preloaded.fork_server_here()
    assert not preloaded.fork_server_here()  # one server
    for target, path in ((describe_self, result), (describe_copy, f"{result}.copy")):
        assert preloaded.start(target, path, stdout=out, stderr=err).wait(timeout=60) == 0


def describe_copy(result: str) -> None:
    """Runs forked: what it inherited from its server's memory, and the plotting backend."""
    import matplotlib

    found = {"mark": MARK, "backend": matplotlib.get_backend()}
    Path(result).write_text(json.dumps(found))


def start_tensorflow_then_fork_a_server(result: str) -> None:
    import tensorflow as tf

    tf.constant(1.0) + 1.0  # TensorFlow's thread pools now run
    forked = preloaded.fork_server_here()
    Path(result).write_text(json.dumps([forked, preloaded.forkserver._forkserver._forkserver_pid]))


def _own_server_environment() -> dict:
    return {k: v for k, v in os.environ.items() if k != preloaded.SERVER_VARIABLE}


def test_a_program_that_has_imported_tensorflow_forks_its_server_from_itself(tmp_path):
    """No fresh Python imports TensorFlow again: the server is a copy of the program."""
    result, out, err, ran, log = (tmp_path / n for n in ("r.json", "out", "err", "ran", "log"))
    for path in (out, err, ran, log):
        path.write_text("")
    program = preloaded.start(
        program_forking_its_server, *map(str, (result, out, err, ran)),
        env=_own_server_environment(), stdout=log, stderr=log,
    )  # fmt: skip
    assert program.wait(timeout=120) == 0, log.read_text()
    assert json.loads(result.read_text())["tensorflow_loaded"]
    copy = json.loads(Path(f"{result}.copy").read_text())
    assert copy["mark"] == "set by the program"  # the server was a copy of the program
    assert copy["backend"] == "module://matplotlib_inline.backend_inline"  # as in a kernel
    # Output to the files given, though the program had replaced sys.stdout.
    assert out.read_text() == "to stdout\n" and err.read_text() == "to stderr\n"
    # The program's exit handler ran once, in the program, not in the processes it forked.
    assert ran.read_text() == "handler\n"


def test_a_server_is_not_forked_from_a_program_where_tensorflow_has_started(tmp_path):
    result = tmp_path / "result.json"
    process = preloaded.start(
        start_tensorflow_then_fork_a_server, str(result), env=_own_server_environment()
    )
    assert process.wait(timeout=120) == 0
    assert json.loads(result.read_text()) == [False, None]


def test_without_a_fork_server_start_says_so_and_sharing_changes_nothing(monkeypatch):
    monkeypatch.setattr(preloaded, "AVAILABLE", False)
    with pytest.raises(RuntimeError, match="--fresh-kernels"):
        preloaded.start(os.getpid)
    assert preloaded.sharing_environment({"A": "1"}) == {"A": "1"}


def test_output_goes_only_to_a_file_that_exists(tmp_path):
    with pytest.raises(ValueError, match="create it first"):
        preloaded.start(sleep_long, stdout=tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="opened by name"):
        _output_file(subprocess.PIPE)


def test_the_kernel_spec_must_start_ipykernel_launcher():
    assert kernel_arguments(["python", "-m", "ipykernel_launcher", "-f", "k.json"]) == [
        "-f", "k.json",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="restore course_utils/jupyter/kernels"):
        kernel_arguments(["python", "-m", "other_kernel", "-f", "k.json"])


def test_the_kernel_spec_folder_comes_first_on_jupyter_path_once():
    env = jupyter_environment({"JUPYTER_PATH": f"/a{os.pathsep}/b"})
    first, *rest = env["JUPYTER_PATH"].split(os.pathsep)
    assert rest == ["/a", "/b"] and Path(first, "kernels", KERNEL_NAME, "kernel.json").is_file()
    assert jupyter_environment(env) == env


def execute(client, code: str) -> tuple[dict, str]:
    """Run ``code`` in the kernel: (the reply's content, what it printed)."""
    printed = []

    def collect(message):
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])

    reply = client.execute_interactive(code, timeout=60, output_hook=collect)
    return reply["content"], "".join(printed)


def test_a_preloaded_kernel_runs_code_is_interrupted_and_killed_with_what_it_started(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("JUPYTER_PATH", jupyter_environment({})["JUPYTER_PATH"])
    manager = KernelManager(kernel_name=KERNEL_NAME)
    manager.start_kernel(cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    try:
        assert isinstance(manager.provisioner, PreloadedKernelProvisioner)
        client.wait_for_ready(timeout=60)
        reply, printed = execute(
            client,
            "import os, sys, tempfile\n"
            "print('tensorflow' in sys.modules, os.getcwd(), os.getsid(0) == os.getpid())\n"
            "print(tempfile.mkdtemp(prefix='left-behind-'))",
        )
        assert reply["status"] == "ok"
        found, left_behind = printed.splitlines()
        assert found == f"True {tmp_path} True"
        # A temporary folder of its own, inside this process's.
        kernel_folder = Path(left_behind).parent
        assert kernel_folder.parent == Path(tempfile.gettempdir())
        assert kernel_folder.name.startswith("course-kernel-")

        # stop_on_error=False: otherwise ipykernel aborts a request that follows the error at once.
        client.execute("import time\ntime.sleep(60)", stop_on_error=False)
        time.sleep(0.5)
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=30)["content"]
        assert (reply["status"], reply["ename"]) == ("error", "KeyboardInterrupt")

        reply, _ = execute(
            client,
            "import pathlib, subprocess\n"
            "child = subprocess.Popen(['sleep', '300'])\n"
            "pathlib.Path('child.pid').write_text(str(child.pid))",
        )
        assert reply["status"] == "ok"
        child = int((tmp_path / "child.pid").read_text())
        manager.shutdown_kernel(now=True)  # SIGKILL to the kernel's process group
        assert not manager.is_alive()
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child), "the kernel's own subprocess outlived it"
        assert not kernel_folder.exists()  # removed with the killed kernel
    finally:
        client.stop_channels()
        if manager.is_alive():
            manager.shutdown_kernel(now=True)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed and not yet reaped by init, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
