"""Run a command as if on the project's slowest machine: a CPU quota that trains ResNet-50 at 7/s.

    sudo python benchmarks/slow_machine.py [--images-per-second 7] [--period-ms 100] [--json OUT] \
        -- make test

The slowest machine the course is tested on trains ResNet-50 at 7 images/s; this one may be 10
times faster. This script measures this machine's training speed, puts a Linux control group with a
CPU quota around the command (the share of the CPUs that brings training down to the target speed),
checks the speed again inside the quota, then runs the command there and reports its wall time.

A quota slows all work by the same factor when it keeps every core busy (TensorFlow's training), and
single-threaded Python work by half that factor (one thread can use the whole quota of two cores).
The emulation is therefore exact for training and optimistic for single-threaded code by up to 2x
on a machine whose cores are each that much slower. The report gives the command's CPU time and the
share of the quota it used.

The quota's period matters: the kernel hands quota to each core in slices of 5 ms
(`sched_cfs_bandwidth_slice_us`). With a 20 ms period a quarter of a CPU is one slice per period,
which one core takes while the other waits; training then needs 14% of the CPUs for 7 images/s
instead of 12% with a 100 ms period, and that extra quota speeds up everything else. The default,
100 ms, keeps several slices per period.

Needs root and the cgroup `cpu` controller (cgroup v1 `cpu.cfs_quota_us` or v2 `cpu.max`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from course_tools.machine import cpu_model

HERE = Path(__file__).resolve().parent
PERIOD_MS = 100  # the quota's scheduling period (--period-ms): several 5 ms slices per period
MEASURE = [sys.executable, str(HERE / "slow_machine.py"), "--measure-training"]


def training_images_per_second(steps: int = 6, batch: int = 32) -> float:
    """Images/s of the course ResNet-50 training with plain SGD (the convolutions dominate; SGD
    keeps the one-off graph trace short), after one warm-up step."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    from course_utils.resnet import ResNet50

    model = ResNet50()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (batch, 64, 64, 3)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 6, batch), 6)
    model.train_on_batch(x, y)
    started = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return steps * batch / (time.perf_counter() - started)


class CpuQuota:
    """A control group whose processes share ``fraction`` of all CPUs (root only)."""

    def __init__(self, fraction: float, period_ms: float = PERIOD_MS):
        self.fraction = fraction
        self.period_us = round(period_ms * 1000)
        name = f"course-slow-machine-{os.getpid()}"
        v1 = Path("/sys/fs/cgroup/cpu")
        if (v1 / "cpu.cfs_quota_us").exists():
            self.path, self.v2 = v1 / name, False
        elif (Path("/sys/fs/cgroup") / "cgroup.controllers").exists():
            self.path, self.v2 = Path("/sys/fs/cgroup") / name, True
        else:
            raise SystemExit("no cgroup cpu controller found under /sys/fs/cgroup")

    def __enter__(self) -> CpuQuota:
        try:
            self.path.mkdir()
        except PermissionError:
            raise SystemExit(f"cannot create {self.path}: run this script as root") from None
        self.set(self.fraction)
        return self

    def set(self, fraction: float) -> None:
        self.fraction = min(1.0, fraction)
        quota = max(1000, round(self.fraction * (os.cpu_count() or 1) * self.period_us))
        if self.v2:
            (self.path / "cpu.max").write_text(f"{quota} {self.period_us}")
        else:
            (self.path / "cpu.cfs_period_us").write_text(str(self.period_us))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))

    def run(self, command: list[str], **kwargs) -> subprocess.CompletedProcess:
        """Run ``command`` inside the group (it joins before it starts)."""
        procs = self.path / "cgroup.procs"
        return subprocess.run(
            command, preexec_fn=lambda: procs.write_text(str(os.getpid())), **kwargs
        )

    def __exit__(self, *exc):
        """Stop whatever still runs in the group (after Ctrl-C, say), then remove it: a group
        that keeps processes cannot be removed, and they would go on at a quarter of a CPU."""
        for _ in range(100):
            pids = (self.path / "cgroup.procs").read_text().split()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        self.path.rmdir()


def children_cpu_s() -> float:
    """CPU seconds (user and system) of the finished child processes and their descendants."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(command_runner) -> float:
    result = command_runner(MEASURE, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images-per-second", type=float, default=7.0)
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--period-ms", type=float, default=PERIOD_MS, help="the quota's period")
    parser.add_argument("--measure-training", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("command", nargs="*", help="the command to run (after --)")
    args = parser.parse_args(argv)
    if args.measure_training:
        print(f"{training_images_per_second():.2f}")
        return 0
    if not args.command:
        parser.error("give the command to run after --, e.g. -- make test")

    # A plain `kill` ends the run like Ctrl-C: the control group is emptied and removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    here = measured(subprocess.run)
    fraction = min(1.0, args.images_per_second / here)
    print(f"this machine: {here:.1f} images/s; quota: {fraction:.1%} of the CPUs", flush=True)
    with CpuQuota(fraction, args.period_ms) as quota:
        emulated = measured(quota.run)
        # Throttling costs some throughput: correct the quota once and measure again.
        quota.set(quota.fraction * args.images_per_second / emulated)
        emulated = measured(quota.run)
        print(
            f"inside a quota of {quota.fraction:.1%}: {emulated:.1f} images/s; running "
            f"{args.command}",
            flush=True,
        )
        started, cpu_before = time.perf_counter(), children_cpu_s()
        returncode = quota.run(args.command).returncode
        wall, cpu = time.perf_counter() - started, children_cpu_s() - cpu_before
    used = cpu / (wall * quota.fraction * (os.cpu_count() or 1))
    print(
        f"exit status {returncode}; wall time {wall:.0f} s ({wall / 60:.1f} min); "
        f"{cpu:.0f} CPU-s, {used:.0%} of the quota used"
    )
    if args.json:
        results = {
            "cpu_model": cpu_model(),
            "cpu_count": os.cpu_count(),
            "images_per_second_here": here,
            "cpu_fraction": quota.fraction,
            "images_per_second_emulated": emulated,
            "command": args.command,
            "returncode": returncode,
            "wall_s": wall,
            "cpu_s": cpu,
            "period_ms": args.period_ms,
        }
        Path(args.json).write_text(json.dumps(results, indent=1))
    return returncode


if __name__ == "__main__":
    sys.exit(main())
