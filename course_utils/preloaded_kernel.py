"""Jupyter kernels forked from a process that has already imported TensorFlow and Keras.

A kernel of the kernel spec ``course-preloaded`` starts in a fraction of a second instead of
spending some 3 CPU-seconds importing TensorFlow (25 on a slow machine): it is forked by
`course_utils.preloaded`, whose server imports TensorFlow once per grading process.
`course_utils.grade_submission` grades a class's notebooks in such kernels, and the test command
runs the chapters under nbval in them (``--nbval-kernel-name course-preloaded``, with
``course_utils/jupyter``, where the kernel spec lives, on ``JUPYTER_PATH``). A forked kernel is an
ordinary ipykernel in a process and session of its own (an interrupt or a kill reaches the
programs it started too); it runs the notebook's first cell like any kernel, only its imports of
TensorFlow and Keras find them loaded.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner

from course_utils import preloaded

KERNEL_NAME = "course-preloaded"
JUPYTER_DIR = Path(__file__).with_name("jupyter")
LAUNCHER = "ipykernel_launcher"


def jupyter_environment(env: dict[str, str]) -> dict[str, str]:
    """``env`` with ``course_utils/jupyter`` first on ``JUPYTER_PATH``, where Jupyter finds the
    kernel spec ``course-preloaded``."""
    paths = [str(JUPYTER_DIR), *filter(None, env.get("JUPYTER_PATH", "").split(os.pathsep))]
    return {**env, "JUPYTER_PATH": os.pathsep.join(dict.fromkeys(paths))}


def kernel_arguments(cmd: list[str]) -> list[str]:
    """The arguments after ``-m ipykernel_launcher`` in the kernel spec's command.

    Raises:
        ValueError: the command does not start an ipykernel that way.
    """
    for index in range(len(cmd) - 1):
        if cmd[index : index + 2] == ["-m", LAUNCHER]:
            return cmd[index + 2 :]
    raise ValueError(
        f"the kernel spec {KERNEL_NAME!r} must start an ipykernel with 'python -m {LAUNCHER}'; "
        f"its command is {cmd}: restore course_utils/jupyter/kernels/{KERNEL_NAME}/kernel.json"
    )


def _output_file(stream: Any) -> str | None:
    """The file a kernel's stdout or stderr goes to (None: the fork server's own)."""
    if stream is None:
        return None
    name = getattr(stream, "name", None)
    if not isinstance(name, str) or not os.path.exists(name):
        raise ValueError(
            f"a preloaded kernel writes its output only to a file opened by name, not to "
            f"{stream!r}: pass one, or start another kernel than {KERNEL_NAME!r}"
        )
    return name


def run_kernel(arguments: list[str]) -> None:
    """In the forked process: become an ipykernel, as ``python -m ipykernel_launcher`` does."""
    sys.argv = [LAUNCHER, *arguments]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


class PreloadedKernelProvisioner(LocalProvisioner):
    """Starts the kernels of the spec ``course-preloaded`` with `course_utils.preloaded`.

    Each kernel gets a temporary folder of its own (``TMPDIR``), removed when the kernel is
    cleaned up: a killed kernel (``pytest --nbval`` kills its kernels) skips the exit handlers that
    would remove what it left there, such as the files TensorFlow's autograph writes.
    """

    temporary_folder: str | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        cwd = kwargs.get("cwd")
        env = dict(os.environ if kwargs.get("env") is None else kwargs["env"])
        self.temporary_folder = tempfile.mkdtemp(prefix="course-kernel-", dir=env.get("TMPDIR"))
        env["TMPDIR"] = self.temporary_folder
        self.process = preloaded.start(
            run_kernel,
            kernel_arguments(cmd),
            env=env,
            cwd=cwd,
            stdout=_output_file(kwargs.get("stdout")),
            stderr=_output_file(kwargs.get("stderr")),
            new_session=True,
        )
        self.pid = self.process.pid
        self.pgid = self.pid  # its own session: the group is never the fork server's
        self.cwd = cwd or Path.cwd()
        return self.connection_info

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart)
        if self.temporary_folder is not None:
            shutil.rmtree(self.temporary_folder, ignore_errors=True)
            self.temporary_folder = None
