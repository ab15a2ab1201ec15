"""The architecture cell draws the model, or explains and shows the stored drawing without dot."""

from __future__ import annotations

import shutil

import keras
import pytest
from IPython.display import Image, Markdown

from course_tools.notebooks import BOOK_DIR
from course_utils import model_diagram

STORED = BOOK_DIR / "images" / "resnet50_beginning.png"


@pytest.fixture
def shown(monkeypatch):
    """What show_model_diagram displays, instead of displaying it."""
    displayed = []
    monkeypatch.setattr(model_diagram, "display", displayed.append)
    return displayed


@pytest.fixture(scope="module")
def small_model():
    inputs = keras.Input(shape=(8, 8, 3))
    outputs = keras.layers.Conv2D(2, (3, 3), name="conv")(inputs)
    return keras.Model(inputs, outputs, name="small")


def test_the_stored_diagram_is_committed_and_is_a_png():
    assert STORED.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_dot_it_explains_and_shows_the_stored_diagram(monkeypatch, shown, small_model):
    monkeypatch.setattr(model_diagram.shutil, "which", lambda name: None)
    returned = model_diagram.show_model_diagram(small_model, STORED, show_shapes=True)
    note, image = shown
    assert isinstance(note, Markdown) and "Graphviz" in note.data and "not installed" in note.data
    assert isinstance(image, Image) and image.data == STORED.read_bytes()
    assert returned is image


def test_without_dot_or_stored_diagram_it_only_explains(monkeypatch, shown, small_model, tmp_path):
    monkeypatch.setattr(model_diagram.shutil, "which", lambda name: None)
    assert model_diagram.show_model_diagram(small_model, tmp_path / "missing.png") is None
    (note,) = shown
    assert isinstance(note, Markdown) and "not found" in note.data


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_with_dot_it_draws_the_model_and_leaves_no_file_behind(
    shown, small_model, tmp_path, monkeypatch
):
    monkeypatch.setattr(model_diagram.tempfile, "tempdir", str(tmp_path))
    returned = model_diagram.show_model_diagram(small_model, STORED, show_shapes=True, dpi=40)
    (image,) = shown
    assert isinstance(image, Image) and returned is image
    assert image.data[:4] == b"\x89PNG" and image.data != STORED.read_bytes()
    assert list(tmp_path.iterdir()) == []
