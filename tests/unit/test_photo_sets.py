"""Photos from files: one photo (`load_image`), labelled folders and SIGNS .h5 files
(`load_labelled_photos`), the report on them and `python -m course_utils.evaluate`, on real
dataset photos and on broken input."""

from __future__ import annotations

import shutil

import keras
import numpy as np
import pytest
from data_helpers import original_signs, write_signs_file
from PIL import Image

from course_utils.data.paths import default_source_dir
from course_utils.evaluate import main, photo_report
from course_utils.photo_sets import PhotoSet, PhotoSetError, load_image, load_labelled_photos

SOURCE = default_source_dir()
EXAMPLE = SOURCE / "Examples" / "example_3.JPG"
needs_source = pytest.mark.skipif(
    not EXAMPLE.is_file(), reason="needs the Sign Language Digits folder"
)


@pytest.mark.skipif(not EXAMPLE.is_file(), reason="needs the Sign Language Digits folder")
def test_load_image_reads_a_dataset_photo_as_a_64x64_uint8_image():
    image = load_image(EXAMPLE)
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image, load_image(EXAMPLE.read_bytes()))


def test_load_image_crops_a_centred_square_and_turns_the_photo_upright(tmp_path):
    photo = np.zeros((60, 120, 3), dtype=np.uint8)
    photo[:, 30:90] = 255  # the centred square is white, the sides black
    path = tmp_path / "wide.png"
    Image.fromarray(photo).save(path)
    assert load_image(path).mean() > 240  # squashing the whole photo would give about 128

    rotated = Image.fromarray(photo)
    exif = rotated.getexif()
    exif[0x0112] = 6  # EXIF orientation: rotate 90 degrees to display
    rotated.save(tmp_path / "tagged.jpg", exif=exif)
    assert load_image(tmp_path / "tagged.jpg").shape == (64, 64, 3)


def test_load_image_names_a_missing_file_and_a_file_that_is_no_image(tmp_path):
    with pytest.raises(ValueError, match="missing.jpg does not exist"):
        load_image(tmp_path / "missing.jpg")
    (tmp_path / "notes.jpg").write_text("not a photo")
    with pytest.raises(ValueError, match="notes.jpg is not an image"):
        load_image(tmp_path / "notes.jpg")
    with pytest.raises(ValueError, match="uploaded bytes is not an image"):
        load_image(b"\x00\x01")


@pytest.fixture()
def photo_folder(tmp_path):
    """Two real dataset photos of each digit 0-5, in digit subfolders."""
    folder = tmp_path / "photos"
    for digit in range(6):
        (folder / str(digit)).mkdir(parents=True)
        for photo in sorted((SOURCE / "Dataset" / str(digit)).glob("*.JPG"))[:2]:
            shutil.copy(photo, folder / str(digit) / photo.name)
    return folder


@needs_source
def test_a_folder_of_digit_subfolders_is_read_as_labelled_64x64_photos(photo_folder):
    (photo_folder / "3" / "notes.txt").write_text("not a photo: skipped")
    photos = load_labelled_photos(photo_folder)
    assert photos.images.shape == (12, 64, 64, 3) and photos.images.dtype == np.uint8
    assert photos.labels.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert photos.names[0].endswith(".JPG")
    np.testing.assert_array_equal(photos.images[0], load_image(photos.names[0]))


def test_a_signs_h5_file_is_read_with_its_labels(tmp_path):
    arrays = original_signs(8, seed=0)
    path = write_signs_file(tmp_path / "test_signs.h5", "test", **arrays)
    photos = load_labelled_photos(path)
    np.testing.assert_array_equal(photos.images, arrays["x"])
    assert photos.labels.tolist() == arrays["y"].tolist()
    assert photos.names[7] == f"{path}[7]"


def _write_photo(path, size=(80, 80)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (200, 180, 160)).save(path)
    return path


def _text_file(folder):
    (folder / "notes.txt").write_text("x")
    return folder / "notes.txt"


def _subfolder(name):
    def make(folder):
        _write_photo(folder / name / "a.png")
        return folder

    return make


def _broken_photo(folder):
    _write_photo(folder / "1" / "a.png")
    (folder / "2").mkdir()
    (folder / "2" / "b.jpg").write_text("not a photo")
    return folder


def _not_hdf5(folder):
    (folder / "x.h5").write_bytes(b"not hdf5")
    return folder / "x.h5"


def _h5(prefix="test", **change):
    return lambda folder: write_signs_file(
        folder / "x.h5", prefix, **{**original_signs(4, seed=0), **change}
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda folder: folder / "absent", "does not exist"),
        (_text_file, "neither a folder"),
        (lambda folder: folder, "holds no photo in a digit subfolder"),
        (_subfolder("seven"), r"\['seven'\] that are not digits 0-5"),
        (_subfolder("7"), r"\['7'\] that are not digits 0-5"),
        (_broken_photo, "b.jpg is not an image that can be read"),
        (_not_hdf5, "not a readable HDF5"),
        (_h5(prefix="other"), "neither test_set_x nor train_set_x"),
        (_h5(x=np.zeros((4, 64, 64, 3))), "uint8"),
        (_h5(x=np.zeros((4, 32, 32, 3), np.uint8)), r"shape \(32, 32, 3\)"),
        (_h5(y=np.array([0, 1, 7, 2]), list_classes=np.arange(8)), "has label 7"),
    ],
    ids=[
        "missing",
        "a-text-file",
        "empty-folder",
        "word-subfolder",
        "digit-7",
        "broken-photo",
        "not-hdf5",
        "no-signs-datasets",
        "float-images",
        "wrong-size",
        "unknown-label",
    ],
)
def test_bad_photo_sets_get_one_error_naming_the_problem_and_the_fix(tmp_path, make, message):
    folder = tmp_path / "input"
    folder.mkdir()
    with pytest.raises(PhotoSetError, match=message) as error:
        load_labelled_photos(make(folder))
    assert "Fix" in str(error.value) or "Or remove" in str(error.value)


class _ReadsTheMeanColour(keras.Model):
    """Reads digit 1 where the left half of an image is brighter than the right half, else 0:
    an image and its mirror image read differently."""

    def call(self, x, training=False):
        n_W = x.shape[2]
        left = keras.ops.mean(x[:, :, : n_W // 2], axis=(1, 2, 3))
        right = keras.ops.mean(x[:, :, n_W // 2 :], axis=(1, 2, 3))
        brighter = keras.ops.cast(left > right, "float32")[:, None]
        return keras.ops.concatenate(
            [1 - brighter, brighter, keras.ops.zeros((keras.ops.shape(x)[0], 4))], axis=1
        )


def test_the_report_counts_one_pass_the_mirror_images_and_their_average():
    images = np.zeros((4, 64, 64, 3), dtype=np.uint8)
    images[:3, :, :32] = 200  # three images brighter on the left: read as 1
    photos = PhotoSet(images, np.array([1, 1, 0, 0]), ["a", "b", "c", "d"])
    report = photo_report(_ReadsTheMeanColour(), photos)
    assert "4 photos" in report
    assert "one pass:                            3 of 4    75.0%" in report
    # Mirrored, the first three read 0 and the fourth (uniform) still reads 0: 2 of 4.
    assert "their mirror images (other hand):    2 of 4    50.0%" in report
    assert "    0    1/2      50.0%" in report and "1 (1)" in report
    assert "    1    2/2     100.0%" in report
    assert "    2  no photos" in report
    assert "    0     1    1    0    0    0    0" in report


@needs_source
def test_the_command_reports_the_shipped_weights_on_a_folder_and_an_h5_file(
    photo_folder, tmp_path, capsys
):
    assert main([str(photo_folder)]) == 0
    out = capsys.readouterr().out
    assert "weights: the shipped weights" in out and "12 photos" in out
    assert "confusion matrix" in out and "averaged with their mirror images" in out
    photos = load_labelled_photos(photo_folder)
    path = write_signs_file(
        tmp_path / "test_signs.h5",
        "test",
        x=photos.images,
        y=photos.labels,
        list_classes=np.arange(6),
    )
    assert main([str(path)]) == 0
    # The same images give the same report, from photos or from the file.
    assert capsys.readouterr().out.split("12 photos")[1] == out.split("12 photos")[1]


def test_the_command_names_bad_photos_and_bad_weights_and_exits_2(tmp_path, capsys):
    assert main([str(tmp_path / "absent")]) == 2
    assert "absent does not exist" in capsys.readouterr().err
    path = write_signs_file(tmp_path / "test_signs.h5", "test", **original_signs(4, 0))
    assert main([str(path), "--weights", str(tmp_path / "none.weights.h5")]) == 2
    assert "none.weights.h5 does not exist" in capsys.readouterr().err
