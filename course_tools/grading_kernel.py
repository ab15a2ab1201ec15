"""The Jupyter kernel that runs a submission during class grading: an IPython kernel started in the
sandbox of `course_tools.sandbox`, with write access only to its working folder (the submission's
own copy), the folder of its sockets and a HOME of its own.

    python -m course_tools.grading_kernel -f CONNECTION_FILE

`kernel_spec` writes the kernel spec that starts it. Its settings come from the environment that
`course_tools.grade_class` gives nbgrader: the limits, the HOME folder, and
COURSE_REQUIRE_SANDBOX=1 to refuse to run without bubblewrap.

The kernel is an ordinary IPython kernel. A chapter in which the learner trains ResNet-50 for
minutes is graded with papermill's parameters injected into the submission's copy
(`course_tools.brief_chapters`), so that it trains one short epoch.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from course_tools import sandbox

KERNEL_NAME = "course-grading"
HOME_ENV = "COURSE_SANDBOX_HOME"


def kernel_spec(jupyter_path: Path) -> Path:
    """Write the kernel spec KERNEL_NAME under ``jupyter_path`` (a JUPYTER_PATH entry)."""
    folder = Path(jupyter_path) / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "course_tools.grading_kernel", "-f", "{connection_file}"],
        "display_name": "Python 3 (course grading sandbox)",
        "language": "python",
        # Interrupts go as messages: a signal would reach bubblewrap, not the kernel in it.
        "interrupt_mode": "message",
        "metadata": {"debugger": False},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return folder


def socket_folders(connection_file: Path) -> list[Path]:
    """The folder where the kernel makes its sockets: with the ipc transport (the only one that
    works without a network), the folder of the connection's ``ip`` path prefix."""
    connection = json.loads(connection_file.read_text(encoding="utf-8"))
    if connection.get("transport") != "ipc":
        return []
    return [Path(connection["ip"]).resolve().parent]


def main(argv: list[str]) -> int:
    connection_file = Path(argv[argv.index("-f") + 1]).resolve()
    home = Path(os.environ.get(HOME_ENV) or Path.cwd() / ".home")
    home.mkdir(parents=True, exist_ok=True)
    os.environ["IPYTHONDIR"] = str(home / ".ipython")
    command = [sys.executable, "-m", "ipykernel_launcher", *argv]
    writable = [Path.cwd(), *socket_folders(connection_file)]
    warning = sandbox.sandbox_warning()
    if warning is None:
        command = sandbox.sandboxed(command, writable, home)
    elif os.environ.get(sandbox.REQUIRE_ENV) == "1":
        print(f"error: {warning}", file=sys.stderr)
        return 2
    else:
        print(f"warning: {warning}", file=sys.stderr)
        os.environ["HOME"] = str(home)
    # In its own process tree the kernel's parent is bubblewrap's init (process 1), which
    # ipykernel's watch on its parent takes for a dead parent; bubblewrap ends the kernel with
    # its parent instead (--die-with-parent).
    os.environ.pop("JPY_PARENT_PID", None)
    sandbox.Limits.from_environment().apply()
    os.execv(command[0], command)
    return 1  # not reached: execv replaces this process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
