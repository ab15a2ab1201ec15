"""Quick training (`course_tools.quick_training`): in this process once installed, and in the
notebook kernels that the test configuration and class grading start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import keras
import nbformat
import numpy as np
import pytest
from jupyter_client import KernelManager
from nbclient import NotebookClient

from course_tools import grading_kernel, quick_training
from course_tools.notebooks import cell_source

BATCH = 8  # 32 samples are 4 batches of 8; 100 samples are 13


class Counter(keras.callbacks.Callback):
    """Counts the epochs, training batches and evaluation batches that ran."""

    def __init__(self):
        super().__init__()
        self.epochs = self.train_batches = self.test_batches = 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1

    def on_train_batch_end(self, batch, logs=None):
        self.train_batches += 1

    def on_test_batch_end(self, batch, logs=None):
        self.test_batches += 1


def tiny_model() -> keras.Model:
    """Dense 4 -> 3 softmax, compiled."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def samples(m: int) -> tuple[np.ndarray, np.ndarray]:
    """x (m, 4) float32, y (m,) int labels in 0..2."""
    rng = np.random.default_rng(0)
    return rng.random((m, 4), dtype=np.float32), np.arange(m) % 3


@pytest.fixture
def quick():
    """Quick training installed in this process for one test, then removed."""
    before = (keras.Model.fit, keras.Model.evaluate, dict(vars(keras.Model)))
    quick_training.install()
    quick_training.install()  # a second time changes nothing
    assert quick_training.installed()
    yield
    quick_training.uninstall()
    assert not quick_training.installed()
    assert (keras.Model.fit, keras.Model.evaluate, dict(vars(keras.Model))) == before


def test_fit_trains_one_epoch_on_the_first_32_samples_of_arrays_eagerly(quick):
    model, counter = tiny_model(), Counter()
    x, y = samples(100)
    x_val, y_val = samples(50)
    history = model.fit(
        x, y, batch_size=BATCH, epochs=3, validation_data=(x_val, y_val), callbacks=[counter],
        verbose=0,
    )  # fmt: skip
    assert len(history.history["loss"]) == counter.epochs == 1
    assert counter.train_batches == 32 // BATCH
    assert counter.test_batches == 32 // BATCH  # validation batches are of the same size
    assert model.run_eagerly


def test_fit_resumed_from_an_epoch_trains_one_more(quick):
    model = tiny_model()
    x, y = samples(100)
    history = model.fit(x, y, epochs=5, initial_epoch=2, verbose=0)
    assert len(history.history["loss"]) == 1


def test_fit_takes_one_batch_of_a_dataset(quick):
    import tensorflow as tf

    model, counter = tiny_model(), Counter()
    x, y = samples(100)
    batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH)
    model.fit(
        batches, epochs=3, validation_data=batches, callbacks=[counter], shuffle=False, verbose=0
    )
    assert (counter.epochs, counter.train_batches, counter.test_batches) == (1, 1, 1)


def test_evaluate_runs_eagerly_on_all_its_data(quick):
    model, counter = tiny_model(), Counter()
    x, y = samples(100)
    model.evaluate(x, y, batch_size=BATCH, callbacks=[counter], verbose=0)
    assert counter.test_batches == 13 and model.run_eagerly


def test_without_it_fit_trains_in_full():
    model, counter = tiny_model(), Counter()
    x, y = samples(100)
    model.fit(x, y, batch_size=BATCH, epochs=3, callbacks=[counter], verbose=0)
    assert (counter.epochs, counter.train_batches) == (3, 3 * 13)
    assert not model.run_eagerly


# One cell, as a chapter would train (TensorFlow first, through quiet_start, then Keras: TensorFlow
# looks Keras up while it loads); it prints what ran.
TRAINING_CELL = """
import course_utils.quiet_start
import keras
import numpy as np

batches = []
count = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(1))
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
x, y = np.random.default_rng(0).random((100, 4)), np.arange(100) % 3
history = model.fit(x, y, batch_size=8, epochs=3, callbacks=[count], verbose=0)
print(len(history.history["loss"]), "epochs,", len(batches), "batches")
"""


def run_training_cell(folder: Path, **client_options) -> str:
    """Run TRAINING_CELL in a new kernel started in ``folder``; what it printed."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(TRAINING_CELL)])
    client = NotebookClient(
        nb, timeout=300, resources={"metadata": {"path": str(folder)}}, **client_options
    )
    client.execute()
    (cell,) = nb.cells
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert not errors, f"{cell_source(cell)}\n{errors}"
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def test_a_kernel_with_the_startup_file_trains_one_epoch_of_32_samples(tmp_path, monkeypatch):
    quick_training.write_startup_file(tmp_path / "ipython")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    assert run_training_cell(tmp_path, kernel_name="python3") == "1 epochs, 4 batches\n"


def test_a_kernel_without_it_trains_in_full(tmp_path, monkeypatch):
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))  # a folder of no start-up file
    assert run_training_cell(tmp_path, kernel_name="python3") == "3 epochs, 39 batches\n"


def test_the_class_grading_kernel_trains_one_epoch_of_32_samples(tmp_path, monkeypatch):
    (tmp_path / "home").mkdir()
    (tmp_path / "runtime").mkdir()
    grading_kernel.kernel_spec(tmp_path / "jupyter")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv(grading_kernel.HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "not-this-one"))
    manager = KernelManager(
        kernel_name=grading_kernel.KERNEL_NAME,
        transport="ipc",  # the sandbox has no network
        ip=str(tmp_path / "runtime" / "kernel"),
    )
    assert run_training_cell(tmp_path, km=manager) == "1 epochs, 4 batches\n"
    assert (tmp_path / "home" / ".ipython" / "profile_default" / "startup").is_dir()


def test_the_command_line_writes_the_startup_file(tmp_path, capsys):
    assert quick_training.main([str(tmp_path / "ipython")]) == 0
    written = tmp_path / "ipython" / "profile_default" / "startup" / quick_training.STARTUP_FILE
    assert written.read_text() == quick_training.STARTUP_CODE
    assert str(written) in capsys.readouterr().out


def test_the_startup_file_names_the_module_when_written_from_the_command_line(tmp_path):
    subprocess.run([sys.executable, "-m", "course_tools.quick_training", str(tmp_path)], check=True)
    written = tmp_path / "profile_default" / "startup" / quick_training.STARTUP_FILE
    assert '"course_tools.quick_training"' in written.read_text()
