"""Running a learner's code where it can harm nothing: bubblewrap (`bwrap`, from the distribution's
packages) with the whole file system read-only but for the folders named and a HOME of its own
(which holds its TMPDIR), no network, and limits on CPU time and memory.

The grading kernel (`course_tools.grading_kernel`) starts a submission's kernel through
`sandboxed`. Where bubblewrap is missing or cannot create its namespaces, the kernel runs with the
limits only, and `sandbox_warning` says what that risks.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

CPU_SECONDS_ENV = "COURSE_SANDBOX_CPU_S"
MEMORY_GIB_ENV = "COURSE_SANDBOX_MEMORY_GIB"
REQUIRE_ENV = "COURSE_REQUIRE_SANDBOX"  # "1": no sandbox is an error, not a warning


@dataclass(frozen=True)
class Limits:
    """What one submission may use: CPU seconds (all its processes' threads together) and
    address space in GiB."""

    cpu_s: int = 900
    memory_gib: float = 8.0

    def apply(self) -> None:
        """Set the limits on this process; the programs it starts inherit them."""
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_s, self.cpu_s))
        size = int(self.memory_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    def environment(self) -> dict[str, str]:
        return {CPU_SECONDS_ENV: str(self.cpu_s), MEMORY_GIB_ENV: str(self.memory_gib)}

    @classmethod
    def from_environment(cls, env=os.environ) -> Limits:
        default = cls()
        return cls(
            cpu_s=int(env.get(CPU_SECONDS_ENV, default.cpu_s)),
            memory_gib=float(env.get(MEMORY_GIB_ENV, default.memory_gib)),
        )


@functools.cache
def bubblewrap() -> str | None:
    """The path of a bwrap that can create its namespaces here, or None (probed once a
    process)."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    probe = subprocess.run(
        [path, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--", "true"],
        capture_output=True,
    )
    return path if probe.returncode == 0 else None


def sandbox_warning() -> str | None:
    """None where submissions run in a sandbox; else the risk, and the fix."""
    if bubblewrap() is not None:
        return None
    return (
        "bubblewrap (bwrap) is not available, so submissions run WITHOUT a sandbox: a "
        "submission's code can read and write every file the grading user can (the course, its "
        "graders, other submissions, the gradebook) and use the network; only its CPU time and "
        "memory are limited. Fix: install it (sudo apt-get install bubblewrap) and grade again."
    )


def sandboxed(command: list[str], writable: list[Path], home: Path) -> list[str]:
    """``command`` run by bubblewrap: the whole file system read-only (/tmp included) but
    ``writable`` and ``home``, which becomes $HOME and holds $TMPDIR; /dev and /proc of its own,
    no network, its own process tree, ended with its parent."""
    bwrap = bubblewrap()
    if bwrap is None:
        raise RuntimeError(sandbox_warning())
    temporary = Path(home) / "tmp"
    temporary.mkdir(parents=True, exist_ok=True)
    binds: list[str] = []
    for folder in [*writable, home]:
        binds += ["--bind", str(folder), str(folder)]
    return [
        bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", *binds,
        "--setenv", "HOME", str(home), "--setenv", "TMPDIR", str(temporary),
        "--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent", "--new-session",
        "--", *command,
    ]  # fmt: skip
