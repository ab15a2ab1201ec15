"""Processes forked from a server that has already imported TensorFlow and Keras.

Starting Python and importing TensorFlow costs about 3 CPU-seconds, 25 on a slow machine. A
program that starts many short-lived TensorFlow processes (notebook kernels for grading, training
runs killed on purpose by the tests) starts them with `start` instead: a fork server, started
with the first of them, imports `course_utils.kernel_preload` once and then forks each process
in a few milliseconds. A forked process is a real process of its own: it can be signalled and
killed, it splits the CPU into logical devices or joins a multi-worker cluster as a fresh one
does (importing runs no TensorFlow operation), and it ends when its function returns.

A program that has imported TensorFlow itself (the test processes, once they have collected their
tests) calls `fork_server_here` instead: its server is then a copy of the program, forked before
TensorFlow starts, and nothing imports TensorFlow a second time.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import types
from collections.abc import Callable
from typing import Any

PRELOAD = "course_utils.kernel_preload"
# The address of another process's fork server, to fork from instead of starting one's own.
SERVER_VARIABLE = "COURSE_FORK_SERVER"

# A fork server needs Unix (Linux, macOS); elsewhere `start` says so and graders start ordinary
# kernels.
AVAILABLE = "forkserver" in multiprocessing.get_all_start_methods()
if AVAILABLE:
    from multiprocessing import connection, forkserver, resource_tracker

    _context = multiprocessing.get_context("forkserver")
    _context.set_forkserver_preload([PRELOAD])


class ForkedProcess:
    """A forked process, with the part of `subprocess.Popen`'s interface that runners use."""

    stdin = stdout = stderr = None

    def __init__(self, process: multiprocessing.process.BaseProcess, args: Any):
        self._process = process
        self.pid = process.pid
        self.args = args

    @property
    def returncode(self) -> int | None:
        """None while it runs; then its exit status, or minus the signal that ended it."""
        return self._process.exitcode

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Its exit status.

        Raises:
            subprocess.TimeoutExpired: it still runs after ``timeout`` seconds.
        """
        self._process.join(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(self.args, timeout)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:  # once it has ended, its pid may be another process's
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def start(
    target: Callable,
    *args,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    stdout: str | os.PathLike | None = None,
    stderr: str | os.PathLike | None = None,
    new_session: bool = False,
) -> ForkedProcess:
    """Fork a process that runs ``target(*args)`` and ends when it returns.

    Args:
        target: a function importable by its module and name (it is sent to the fork server),
            not one of the main script's: the child does not run the main script.
        env: the process's whole environment (default: this process's).
        cwd: its working directory (default: this process's).
        stdout, stderr: files its output is appended to (default: the fork server's, which are
            this process's when the server started).
        new_session: give it a session and process group of its own (``os.setsid``), so that a
            signal to the group reaches it and the programs it starts, and nothing else.
    """
    if not AVAILABLE:
        raise RuntimeError(
            "preloaded processes need multiprocessing's 'forkserver' start method, which this "
            "system lacks (it is Unix-only): start ordinary processes (grade_submission: "
            "--fresh-kernels)"
        )
    streams = {1: _existing_file(stdout), 2: _existing_file(stderr)}
    shared = _adopt_shared_server()
    process = _context.Process(
        target=_run,
        args=(target, args, dict(os.environ if env is None else env), cwd, streams, new_session),
        name=getattr(target, "__qualname__", "forked"),
    )
    # multiprocessing would have the child import this program's main script (as __mp_main__)
    # and run whatever it runs unguarded at the top; the child needs only the fork server's.
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        process.start()
    except (FileNotFoundError, ConnectionRefusedError) as error:
        if not shared:
            raise
        raise RuntimeError(
            f"the fork server at {shared!r} ({SERVER_VARIABLE}) is gone ({error}): the program "
            f"that started it has ended; unset {SERVER_VARIABLE} to start a server of your own"
        ) from None
    finally:
        sys.modules["__main__"] = main
    return ForkedProcess(process, [getattr(target, "__qualname__", repr(target)), *args])


def sharing_environment(env: dict[str, str]) -> dict[str, str]:
    """``env`` for a program that this process starts (a ``pytest --nbval`` run, say) so that its
    `start` forks from this process's server (started now if need be) instead of starting a server
    of its own, which costs 3 CPU-seconds of importing TensorFlow. Without a fork server
    (`AVAILABLE`), ``env`` as it is."""
    if not AVAILABLE:
        return dict(env)
    server = forkserver._forkserver
    if _adopt_shared_server() is None:
        server.ensure_running()
    address = server._forkserver_address
    if isinstance(address, bytes):
        address = address.decode()
    # Linux's abstract socket names start with a NUL byte, which an environment cannot hold.
    return {**env, SERVER_VARIABLE: "@" + address[1:] if address.startswith("\0") else address}


def _adopt_shared_server() -> str | None:
    """The address of the server named by COURSE_FORK_SERVER, made this process's server unless
    it has one of its own; None when there is none to share."""
    server = forkserver._forkserver
    address = os.environ.get(SERVER_VARIABLE)
    with server._lock:
        if getattr(server, "_course_shared", False):
            return server._forkserver_address
        if not address or server._forkserver_pid is not None:
            return None
        server._forkserver_address = "\0" + address[1:] if address.startswith("@") else address
        # Each request hands the child a descriptor for the server's "alive" pipe; the server
        # watches its owner's, so any open descriptor will do here.
        server._forkserver_alive_fd = os.open(os.devnull, os.O_RDONLY)
        server.ensure_running = lambda: None  # it runs, and it is not this process's to start
        server._course_shared = True
        return server._forkserver_address


def fork_server_here() -> bool:
    """Make this process's fork server a copy of this process, forked now, instead of a fresh
    Python that imports TensorFlow (3 CPU-seconds): for a program that has imported TensorFlow
    itself and has not started it yet (a test process after collecting its tests).

    The copy imports the rest of `PRELOAD` and serves as a fresh server would. It keeps this
    process's modules and memory, and its file descriptors 1 and 2 (``sys.stdout`` and
    ``sys.stderr`` are set back to them), but not its exit handlers: a forked process runs only
    ``logging.shutdown``, `stop_server` and those registered after this call, as one forked from
    a fresh server.

    Returns:
        Whether the server was forked. False, with nothing changed, where there is no fork
        server (`AVAILABLE`), where this process has a server or shares one, or where TensorFlow
        has run an operation here (its threads would be missing in the copy).
    """
    if not AVAILABLE or _adopt_shared_server() is not None or _tensorflow_started():
        return False
    server = forkserver._forkserver
    with server._lock:
        if server._forkserver_pid is not None:
            return False
        resource_tracker.ensure_running()
        address = connection.arbitrary_address("AF_UNIX")
        with socket.socket(socket.AF_UNIX) as listener:
            listener.bind(address)
            if not address.startswith("\0"):
                os.chmod(address, 0o600)
            listener.listen()
            # Every process forked from the server holds the write end of the "alive" pipe, as
            # this one does: the server stops once they have all ended.
            alive_r, alive_w = os.pipe()
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _serve(listener.fileno(), alive_r, alive_w)
            os.close(alive_r)
        server._forkserver_address = address
        server._forkserver_alive_fd = alive_w
        server._forkserver_pid = pid
    return True


def _tensorflow_started() -> bool:
    if "tensorflow" not in sys.modules:
        return False
    from tensorflow.python.eager import context

    return context._context is not None and context._context._initialized


def _serve(listener_fd: int, alive_r: int, alive_w: int) -> None:
    """In the forked copy: serve fork requests until every owner of ``alive_w`` has ended."""
    code = 1
    try:
        os.close(alive_w)
        forkserver._forkserver._lock = threading.Lock()
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        atexit._clear()
        atexit.register(logging.shutdown)
        atexit.register(stop_server)
        forkserver.main(listener_fd, alive_r, [PRELOAD])
    except SystemExit:  # the alive pipe closed: the normal end
        code = 0
    except BaseException:  # noqa: BLE001 - the server's own failure, told on its stderr
        traceback.print_exc()
    finally:
        os._exit(code)


def _existing_file(path: str | os.PathLike | None) -> str | None:
    if path is None:
        return None
    if not os.path.isfile(path) and os.fspath(path) != os.devnull:
        raise ValueError(
            f"a forked process appends its output to an existing file; {os.fspath(path)!r} is "
            "none: create it first (open(path, 'w'))"
        )
    return os.fspath(path)


def _run(target: Callable, args: tuple, env: dict, cwd, streams: dict, new_session: bool):
    """In the forked process: take on the requested session, environment, folder and output."""
    if new_session:
        os.setsid()
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = None  # found again from TMPDIR, which may have changed
    if cwd is not None:
        os.chdir(cwd)
    for fd, path in streams.items():
        if path is not None:
            (sys.stdout if fd == 1 else sys.stderr).flush()
            target_fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            os.dup2(target_fd, fd)
            os.close(target_fd)
    try:
        target(*args)
    finally:
        # A forked process ends with os._exit, which skips these; a fresh process would run
        # them (TensorFlow's, for one, removes the files that autograph wrote to TMPDIR).
        atexit._run_exitfuncs()


STOP_TIMEOUT_S = 10


@atexit.register
def stop_server(timeout_s: float = STOP_TIMEOUT_S) -> None:
    """Stop this process's fork server and wait for it (so that its CPU time and its children's
    count as this process's children's, and no server outlives the program). Runs at exit.

    The server ends once every process forked from it has ended: a run still going after
    ``timeout_s`` seconds is left to finish, and the server with it.
    """
    if not AVAILABLE:
        return
    server = forkserver._forkserver
    with server._lock:
        pid = server._forkserver_pid
        if pid is None:  # never started (or in a forked process, which has none of its own)
            return
        os.close(server._forkserver_alive_fd)  # the server stops when it sees this closed
        server._forkserver_alive_fd = server._forkserver_pid = server._forkserver_address = None
        deadline = time.monotonic() + timeout_s
        try:
            while os.waitpid(pid, os.WNOHANG) == (0, 0) and time.monotonic() < deadline:
                time.sleep(0.01)
        except ChildProcessError:  # already waited for
            pass
