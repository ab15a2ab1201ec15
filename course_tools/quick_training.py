"""Quick training for the course's own runs of the chapters: the tests and class grading.

Some chapters train ResNet-50 for minutes. Where the chapters are run to check them (``make test``,
which sets ``COURSE_QUICK=1`` for the test configuration in ``tests/conftest.py``) or to grade a
class (`course_tools.grading_kernel`), every notebook kernel starts with a start-up file that
calls `install_when_keras_loads`. From then on, in that kernel only:

* ``keras.Model.fit`` trains at most one epoch. NumPy array (or tensor) inputs ``x``, ``y`` and
  ``sample_weight``, and the arrays of ``validation_data``, are cut to their first 32 samples;
  other inputs (a ``tf.data.Dataset``, a generator, a ``keras.utils.PyDataset``) give one batch
  per epoch, and one batch of validation data. The model runs eagerly: tracing ResNet-50's train
  step into a graph costs more than the few steps taken. A model under a distribution strategy
  of several replicas keeps its graph, as `course_utils.training.train` requires.
* ``keras.Model.evaluate`` runs eagerly, on all of its data.

Everything else (``predict``, ``train_on_batch``, the chapters' own training loops) is unchanged.
The chapters know nothing of this: a learner's kernel has no start-up file, and their notebook
trains in full. The stored outputs come from full runs (``make execute``), so a cell whose output
depends on training is tagged ``nbval-ignore-output``.

To run one chapter quickly outside ``make test`` (pytest reads ``tests/conftest.py`` only for tests
under ``tests/``), write the start-up file into a folder and point ``IPYTHONDIR`` at it:

    python -m course_tools.quick_training /tmp/quick-ipython
    IPYTHONDIR=/tmp/quick-ipython pytest --nbval --nbval-current-env book/05_training.ipynb
"""

from __future__ import annotations

import argparse
import functools
import importlib.abc
import importlib.util
import inspect
import sys
from pathlib import Path

QUICK_SAMPLES = 32
QUICK_EPOCHS = 1
STARTUP_FILE = "00-quick-training.py"
# IPython runs a start-up file in the notebook's namespace: it defines no name there.
MODULE = "course_tools.quick_training"
STARTUP_CODE = f"""# Written by {MODULE}: quick training in this kernel (the course's tests and
# class grading), see that module. A learner's kernel has no such file.
__import__(
    "{MODULE}", fromlist=["install_when_keras_loads"]
).install_when_keras_loads()
"""

_ORIGINAL = "__course_quick_training_original__"


def install() -> None:
    """Make ``keras.Model.fit`` train quickly and ``keras.Model.evaluate`` run eagerly, in this
    process (imports Keras). Installing twice changes nothing."""
    import keras

    if hasattr(keras.Model.fit, _ORIGINAL):
        return
    for name, wrap in (("fit", _quick_fit), ("evaluate", _eager_evaluate)):
        original = getattr(keras.Model, name)
        wrapper = wrap(original)
        setattr(wrapper, _ORIGINAL, (original, name in vars(keras.Model)))
        setattr(keras.Model, name, wrapper)


def uninstall() -> None:
    """Give ``keras.Model`` its own ``fit`` and ``evaluate`` back (no-op if not installed)."""
    keras = sys.modules.get("keras")
    if keras is None:
        return
    for name in ("fit", "evaluate"):
        method = vars(keras.Model).get(name)
        if not hasattr(method, _ORIGINAL):
            continue
        original, defined_by_model = getattr(method, _ORIGINAL)
        if defined_by_model:
            setattr(keras.Model, name, original)
        else:  # inherited from Keras's trainer: inherited again
            delattr(keras.Model, name)


def installed() -> bool:
    """Whether quick training is installed in this process."""
    keras = sys.modules.get("keras")
    return keras is not None and hasattr(keras.Model.fit, _ORIGINAL)


def install_when_keras_loads() -> None:
    """`install` as soon as Keras is imported (now, if it already is).

    A kernel's start-up file calls this rather than `install`, so that the chapter itself imports
    TensorFlow and Keras, at the moment and with the settings it chooses.
    """
    if "keras" in sys.modules:
        install()
    elif not any(isinstance(finder, _InstallAfterKeras) for finder in sys.meta_path):
        sys.meta_path.insert(0, _InstallAfterKeras())


def write_startup_file(ipython_dir: Path | str) -> Path:
    """Write the start-up file that makes every IPython kernel started with ``IPYTHONDIR`` set to
    ``ipython_dir`` train quickly; returns its path."""
    startup = Path(ipython_dir) / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    path = startup / STARTUP_FILE
    path.write_text(STARTUP_CODE, encoding="utf-8")
    return path


class _InstallAfterKeras(importlib.abc.MetaPathFinder):
    """Finds nothing itself: it hands out the real spec of ``keras`` with a loader that runs
    `install` once the module has loaded, then takes itself off ``sys.meta_path``.

    It stays in place until Keras really loads: TensorFlow's import looks ``keras`` up with
    `importlib.util.find_spec` (to locate ``keras._tf_keras``) before anything imports it, and a
    spec handed out then is never executed.
    """

    def __init__(self):
        self._looking = False

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras" or self._looking:
            return None
        self._looking = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._looking = False
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            install()

        spec.loader.exec_module = exec_module
        return spec


def _quick_fit(fit):
    signature = inspect.signature(fit)

    @functools.wraps(fit)
    def quick_fit(self, *args, **kwargs):
        call = signature.bind(self, *args, **kwargs)
        call.apply_defaults()
        given = call.arguments
        given["epochs"] = min(given["epochs"], given["initial_epoch"] + QUICK_EPOCHS)
        if _is_array_data(given["x"]):
            for name in ("x", "y", "sample_weight"):
                given[name] = _first_samples(given[name])
            given["steps_per_epoch"] = None
        else:
            given["steps_per_epoch"] = 1
        validation = given["validation_data"]
        if isinstance(validation, tuple | list) and all(map(_is_array_data, validation)):
            given["validation_data"] = tuple(_first_samples(part) for part in validation)
            given["validation_steps"] = None
        elif validation is not None:
            given["validation_steps"] = 1
        if self.distribute_strategy.num_replicas_in_sync == 1:
            self.run_eagerly = True
        return fit(*call.args, **call.kwargs)

    return quick_fit


def _eager_evaluate(evaluate):
    @functools.wraps(evaluate)
    def eager_evaluate(self, *args, **kwargs):
        if self.distribute_strategy.num_replicas_in_sync == 1:
            self.run_eagerly = True
        return evaluate(self, *args, **kwargs)

    return eager_evaluate


def _is_array_data(data) -> bool:
    """Whether ``data`` is None or arrays (NumPy, or tensors), possibly nested in lists, tuples
    and dicts: what can be cut to its first samples."""
    import keras
    import numpy as np

    leaves = keras.tree.flatten(data) if data is not None else []
    return all(isinstance(leaf, np.ndarray) or keras.ops.is_tensor(leaf) for leaf in leaves)


def _first_samples(data):
    """The first QUICK_SAMPLES samples of every array of ``data`` (None stays None)."""
    import keras

    if data is None:
        return None
    return keras.tree.map_structure(lambda array: array[:QUICK_SAMPLES], data)


def main(argv: list[str] | None = None) -> int:
    """Command line: write the start-up file into an IPython folder."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {__name__}",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("ipython_dir", type=Path, help="the folder IPYTHONDIR will name")
    args = parser.parse_args(argv)
    path = write_startup_file(args.ipython_dir)
    print(f"wrote {path}: kernels started with IPYTHONDIR={args.ipython_dir} train quickly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
