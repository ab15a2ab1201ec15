"""Building the SIGNS files: the split, the manifest, sources (folders, zips, URLs), integrity
checks, atomic writes and the up-to-date check. The command line is tested in
tests/system/test_data_command_line.py."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import h5py
import numpy as np
import pytest
from data_helpers import (
    assert_same_arrays,
    image_path,
    link_tree,
    listing,
    make_zip,
    read_arrays,
    replace_file,
    serve_folder,
    shared_source,
    write_original_pair,
)
from PIL import Image

from course_utils.data import build
from course_utils.data.build import BUILDER, LOCK_FILE, cache_is_current, prepare
from course_utils.data.errors import SignsDataError
from course_utils.data.manifest import MANIFEST_PATH, read_manifest, sha256_file
from course_utils.data.paths import TEST_FILE, TRAIN_FILE
from course_utils.data.source import open_source
from course_utils.data.split import SPLIT_RULE, compute_split, parse_image_path

MANIFEST = read_manifest()
IMAGES = [parse_image_path(p) for p in MANIFEST]


@pytest.fixture
def source_tree(source_copy, tmp_path):
    """A dataset folder of symlinks to the private copy, free to alter with `replace_file`."""
    return link_tree(source_copy, tmp_path / "source")


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Send `tempfile` (downloads, extraction) to a folder the test can inspect."""
    folder = tmp_path / "system-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _quiet_prepare(source, out, **kwargs):
    return prepare(source, out, progress=False, log=None, **kwargs)


# ---------------------------------------------------------------------------------------------
# The split, as a pure function of the manifest's (number, digit) list


def test_manifest_lists_every_image_of_the_dataset():
    assert len(MANIFEST) == 2062
    assert Counter(i.digit for i in IMAGES) == {
        0: 205, 1: 206, 2: 206, 3: 206, 4: 207, 5: 207, 6: 207, 7: 206, 8: 208, 9: 204
    }  # fmt: skip
    assert all(len(sha) == 64 for sha in MANIFEST.values())


def test_split_sizes_and_no_signer_on_both_sides():
    split = compute_split(IMAGES)
    assert len(split.train) == 1080 and len(split.test) == 120
    assert Counter(i.digit for i in split.train) == dict.fromkeys(range(6), 180)
    assert Counter(i.digit for i in split.test) == dict.fromkeys(range(6), 20)
    assert not set(split.train) & set(split.test)
    assert len(set(split.train)) == 1080 and len(set(split.test)) == 120
    assert {i.key for i in split.test} == set(split.test_signers)
    assert not {i.key for i in split.train} & set(split.test_signers)


def test_test_signers_are_complete_isolated_and_evenly_spaced():
    split = compute_split(IMAGES)
    digits_by_key: dict[int, set[int]] = {}
    for image in IMAGES:
        digits_by_key.setdefault(image.key, set()).add(image.digit)
    keys = sorted(digits_by_key)
    eligible = [
        k
        for k in keys
        if digits_by_key[k] == set(range(10)) and not any(0 < abs(j - k) < 10 for j in keys)
    ]
    assert len(split.test_signers) == 20
    assert set(split.test_signers) <= set(eligible)
    positions = [eligible.index(k) for k in split.test_signers]
    step = len(eligible) / 20
    assert all(abs(b - a - step) <= 1 for a, b in zip(positions, positions[1:], strict=False))
    assert positions[0] < step and positions[-1] >= len(eligible) - step


def test_split_rule_on_a_small_synthetic_dataset():
    # 30 signers with keys 0, 10, ..., 290; test takes indices (2i+1)*30//6 = 5, 15, 25.
    images = [(10 * s + d, d) for s in range(30) for d in range(10)]
    split = compute_split(images, n_test_signers=3, train_per_class=25)
    assert split.test_signers == (50, 150, 250)
    assert Counter(i.digit for i in split.train) == dict.fromkeys(range(6), 25)
    # 27 candidates, 2 extras dropped at positions (2j+1)*27//4 = 6 and 20.
    kept = sorted(i.key for i in split.train if i.digit == 0)
    candidates = [10 * s for s in range(30) if 10 * s not in (50, 150, 250)]
    assert kept == [k for n, k in enumerate(candidates) if n not in (6, 20)]


def test_split_is_deterministic_and_independent_of_input_order():
    split = compute_split(IMAGES)
    shuffled = list(IMAGES)
    np.random.default_rng(123).shuffle(shuffled)
    assert compute_split(shuffled) == split
    assert compute_split(reversed(IMAGES)) == split
    labels = [i.digit for i in split.train]
    assert labels != sorted(labels)  # stored shuffled, like the original files


def test_split_refuses_impossible_requests():
    with pytest.raises(ValueError, match="signers"):
        compute_split(IMAGES, n_test_signers=500)
    with pytest.raises(ValueError, match="training images"):
        compute_split(IMAGES, train_per_class=1000)
    with pytest.raises(ValueError, match="two digits"):
        compute_split([*IMAGES, (IMAGES[0].number, (IMAGES[0].digit + 1) % 10)])


# ---------------------------------------------------------------------------------------------
# The real build


def test_build_writes_the_original_format(built):
    for name, prefix, m in ((TRAIN_FILE, "train", 1080), (TEST_FILE, "test", 120)):
        with h5py.File(built / name, "r") as f:
            assert set(f) == {f"{prefix}_set_x", f"{prefix}_set_y", "list_classes", "file_numbers"}
            x, y = f[f"{prefix}_set_x"], f[f"{prefix}_set_y"]
            assert x.shape == (m, 64, 64, 3) and x.dtype == np.uint8
            assert y.shape == (m,) and y.dtype == np.int64
            assert f["list_classes"][()].tolist() == [0, 1, 2, 3, 4, 5]
            assert f["list_classes"].dtype == np.int64
            assert f.attrs["builder"] == BUILDER
            assert f.attrs["manifest_sha256"] == sha256_file(MANIFEST_PATH)
            assert f.attrs["split_rule"] == SPLIT_RULE
    assert cache_is_current(built)


def _ids(numbers: np.ndarray, labels: np.ndarray) -> set[tuple[int, int]]:
    return set(zip(numbers.tolist(), labels.tolist(), strict=True))


def test_build_holds_the_split_with_no_signer_on_both_sides(built_arrays):
    a = built_arrays
    assert np.bincount(a["train/train_set_y"]).tolist() == [180] * 6
    assert np.bincount(a["test/test_set_y"]).tolist() == [20] * 6
    train_ids = _ids(a["train/file_numbers"], a["train/train_set_y"])
    test_ids = _ids(a["test/file_numbers"], a["test/test_set_y"])
    assert len(train_ids) == 1080 and len(test_ids) == 120
    assert train_ids | test_ids <= set(IMAGES)
    train_keys = {n - d for n, d in train_ids}
    test_keys = {n - d for n, d in test_ids}
    assert len(test_keys) == 20 and not train_keys & test_keys
    split = compute_split(IMAGES)
    assert a["train/file_numbers"].tolist() == [i.number for i in split.train]
    assert a["test/file_numbers"].tolist() == [i.number for i in split.test]


def test_build_images_are_lanczos_resized_source_images(built_arrays):
    for prefix in ("train", "test"):
        for row in (0, 7):
            number = int(built_arrays[f"{prefix}/file_numbers"][row])
            digit = int(built_arrays[f"{prefix}/{prefix}_set_y"][row])
            with Image.open(image_path(shared_source(), number, digit)) as image:
                assert image.size == (100, 100)
                expected = np.asarray(image.convert("RGB").resize((64, 64), Image.LANCZOS))
            np.testing.assert_array_equal(built_arrays[f"{prefix}/{prefix}_set_x"][row], expected)


def test_up_to_date_folder_is_left_untouched(built, capsys):
    before = {p.name: p.stat().st_mtime_ns for p in built.iterdir()}
    result = prepare(shared_source(), built)
    assert not result.built
    assert capsys.readouterr().out == f"SIGNS data up to date in {built}\n"
    assert {p.name: p.stat().st_mtime_ns for p in built.iterdir()} == before


def test_stamp_that_does_not_match_the_files_triggers_a_rebuild(built, built_arrays, tmp_path):
    out = tmp_path / "signs"
    shutil.copytree(built, out)
    with open(out / TEST_FILE, "ab") as f:
        f.write(b"\0")
    assert not cache_is_current(out)
    assert _quiet_prepare(shared_source(), out).built
    assert cache_is_current(out)
    assert_same_arrays(read_arrays(out), built_arrays)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in built.iterdir())


def test_files_not_written_by_the_tool_are_replaced_only_with_force(source_copy, tmp_path):
    out = write_original_pair(tmp_path / "original")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(SignsDataError, match="--force") as info:
        _quiet_prepare(source_copy, out)
    assert str(out / TRAIN_FILE) in str(info.value)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.suffix == ".h5"} == before
    assert _quiet_prepare(source_copy, out, force=True).built
    assert cache_is_current(out)


# ---------------------------------------------------------------------------------------------
# Sources: the Dataset/ folder, zip files, file:// and http:// URLs


def test_source_may_be_the_dataset_folder_or_its_dataset_subfolder():
    root = shared_source()
    with open_source(root) as a, open_source(root / "Dataset") as b:
        assert a == b == root / "Dataset"


def test_zip_source_builds_the_same_data(source_copy, built_arrays, tmp_path, private_tmp):
    archive = make_zip(source_copy, tmp_path / "signs.zip")
    assert _quiet_prepare(archive, tmp_path / "out").built
    assert_same_arrays(read_arrays(tmp_path / "out"), built_arrays)
    assert listing(private_tmp) == []


def test_file_url_source_builds_the_same_data(source_copy, built_arrays, tmp_path, private_tmp):
    archive = make_zip(source_copy, tmp_path / "signs.zip", prefix="")
    assert _quiet_prepare(archive.as_uri(), tmp_path / "out").built
    assert_same_arrays(read_arrays(tmp_path / "out"), built_arrays)
    assert listing(private_tmp) == []


def test_http_url_source_is_downloaded_and_builds_the_same_data(
    source_copy, built_arrays, tmp_path, private_tmp, monkeypatch, capsys
):
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    served = tmp_path / "served"
    served.mkdir()
    make_zip(source_copy, served / "signs.zip")
    with serve_folder(served) as base:
        result = prepare(f"{base}/signs.zip", tmp_path / "out", progress=False)
        with pytest.raises(SignsDataError, match="could not download") as info:
            _quiet_prepare(f"{base}/missing.zip", tmp_path / "out2")
    assert result.built
    assert f"Downloading {base}/signs.zip" in capsys.readouterr().out
    assert f"{base}/missing.zip" in str(info.value) and "Fix:" in str(info.value)
    assert_same_arrays(read_arrays(tmp_path / "out"), built_arrays)
    assert listing(private_tmp) == []


def _evil_zip(path: Path, source_copy: Path, name: str, symlink: bool = False) -> Path:
    """A zip with real images plus one dangerous entry `name`."""
    make_zip(source_copy, path)
    with zipfile.ZipFile(path, "a") as zf:
        info = zipfile.ZipInfo(name)
        if symlink:
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
        else:
            zf.writestr(info, b"not a picture")
    return path


@pytest.mark.parametrize(
    ("entry", "symlink", "why"),
    [
        ("../escaped.txt", False, "'..'"),
        ("x/Dataset/0/../../../../escaped.JPG", False, "'..'"),
        ("/tmp/escaped-signs-test/Dataset/0/IMG_1.JPG", False, "absolute"),
        ("x/Dataset/0/IMG_1.JPG", True, "symbolic link"),
    ],
)
def test_unsafe_zip_entries_are_refused_before_anything_is_written(
    source_copy, tmp_path, private_tmp, entry, symlink, why
):
    work = tmp_path / "work"
    work.mkdir()
    archive = _evil_zip(work / "evil.zip", source_copy, entry, symlink)
    out = tmp_path / "out"
    before = listing(tmp_path)
    with pytest.raises(SignsDataError, match=why) as info:
        _quiet_prepare(archive, out)
    assert str(archive) in str(info.value) and entry in str(info.value)
    assert "Fix:" in str(info.value)
    assert listing(tmp_path) == sorted([*before, "out", "out/.prepare.lock"])
    assert listing(private_tmp) == []
    assert not Path("/tmp/escaped-signs-test").exists()


def test_zip_without_dataset_images_or_not_a_zip_is_refused(tmp_path, private_tmp):
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("repo/README.md", "nothing here")
    with pytest.raises(SignsDataError, match="holds no") as info:
        _quiet_prepare(empty, tmp_path / "out")
    assert str(empty) in str(info.value)
    text = tmp_path / "notes.zip"
    text.write_text("not a zip")
    with pytest.raises(SignsDataError, match="not a readable zip") as info:
        _quiet_prepare(text, tmp_path / "out")
    assert str(text) in str(info.value) and "Fix:" in str(info.value)
    assert listing(private_tmp) == []


@pytest.mark.parametrize("source", ["/nonexistent/signs", "ftp://example.invalid/signs.zip"])
def test_missing_or_unsupported_source_is_refused(tmp_path, source):
    with pytest.raises(SignsDataError, match="--source") as info:
        _quiet_prepare(source, tmp_path / "out")
    assert source in str(info.value)


def test_folder_without_digit_folders_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SignsDataError, match="no Dataset/<digit>/") as info:
        _quiet_prepare(tmp_path / "empty", tmp_path / "out")
    assert str(tmp_path / "empty") in str(info.value)


# ---------------------------------------------------------------------------------------------
# Integrity: images must match the manifest and decode


def test_missing_image_is_named(source_tree, tmp_path):
    lost = image_path(source_tree, 1118, 0)
    lost.unlink()
    with pytest.raises(SignsDataError, match="1 image\\(s\\) missing") as info:
        _quiet_prepare(source_tree, tmp_path / "out")
    assert str(lost) in str(info.value) and "Fix: use an intact copy" in str(info.value)
    assert listing(tmp_path / "out") == [".prepare.lock"]


def test_altered_image_is_named(source_tree, tmp_path):
    changed = image_path(source_tree, 1128, 0)
    data = bytearray(changed.read_bytes())
    data[-10] ^= 0xFF
    replace_file(changed, bytes(data))
    with pytest.raises(SignsDataError, match="differ from the manifest") as info:
        _quiet_prepare(source_tree, tmp_path / "out")
    assert str(changed) in str(info.value) and "Fix: use an intact copy" in str(info.value)
    assert listing(tmp_path / "out") == [".prepare.lock"]


@pytest.mark.parametrize(
    "damage",
    [lambda data: data[: len(data) // 3], lambda data: b"this is a text file, not a JPEG\n"],
    ids=["truncated-jpeg", "text-named-jpg"],
)
def test_undecodable_image_is_named(source_tree, built_arrays, tmp_path, damage):
    # The manifest is made to agree with the damaged file, so that decoding is what fails.
    number = int(built_arrays["test/file_numbers"][0])
    digit = int(built_arrays["test/test_set_y"][0])
    broken = image_path(source_tree, number, digit)
    replace_file(broken, damage(broken.read_bytes()))
    relpath = f"Dataset/{digit}/IMG_{number}.JPG"
    entries = {**MANIFEST, relpath: hashlib.sha256(broken.read_bytes()).hexdigest()}
    manifest = tmp_path / "manifest.sha256"
    manifest.write_text("".join(f"{sha}  {p}\n" for p, sha in entries.items()))
    with pytest.raises(SignsDataError, match="cannot decode") as info:
        _quiet_prepare(source_tree, tmp_path / "out", manifest=manifest)
    assert str(broken) in str(info.value) and "Fix:" in str(info.value)
    assert listing(tmp_path / "out") == [".prepare.lock"]


def test_malformed_manifest_is_named(tmp_path):
    manifest = tmp_path / "manifest.sha256"
    manifest.write_text("abc  Dataset/0/IMG_1.JPG\n")
    with pytest.raises(SignsDataError, match="line 1") as info:
        read_manifest(manifest)
    assert str(manifest) in str(info.value) and "manifest" in str(info.value)


# ---------------------------------------------------------------------------------------------
# Output folder: unwritable, failures mid-build


@pytest.mark.parametrize("where", ["under-a-file", "is-a-file"])
def test_output_folder_that_cannot_be_made_is_named(tmp_path, where):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    out = blocker / "signs" if where == "under-a-file" else blocker
    with pytest.raises(SignsDataError, match="cannot create the SIGNS data folder") as info:
        _quiet_prepare(shared_source(), out)
    assert str(out) in str(info.value) and "--out" in str(info.value)


def test_output_folder_where_the_lock_cannot_be_made_is_named(tmp_path):
    out = tmp_path / "signs"
    (out / LOCK_FILE).mkdir(parents=True)
    with pytest.raises(SignsDataError, match="cannot write in the SIGNS data folder") as info:
        _quiet_prepare(shared_source(), out)
    assert str(out) in str(info.value) and "--out" in str(info.value)
    assert listing(out) == [LOCK_FILE]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders anyway")
def test_read_only_output_folder_is_named(tmp_path):
    out = tmp_path / "read-only"
    out.mkdir()
    out.chmod(0o555)
    try:
        with pytest.raises(SignsDataError, match="cannot write") as info:
            _quiet_prepare(shared_source(), out)
        assert str(out) in str(info.value) and "--out" in str(info.value)
        assert listing(out) == []
    finally:
        out.chmod(0o755)


@pytest.mark.parametrize("failure", [OSError("No space left on device"), KeyboardInterrupt()])
@pytest.mark.parametrize("existing", [False, True], ids=["empty-folder", "valid-cache"])
def test_failure_while_writing_leaves_the_folder_as_it_was(
    built, built_arrays, tmp_path, monkeypatch, failure, existing
):
    """The images are read and verified as always; their decoded pixels come from the session's
    build (decoding is the other tests' subject)."""
    monkeypatch.setattr(
        build,
        "decode_images",
        lambda images, data, images_dir, desc, progress: built_arrays[f"{desc}/{desc}_set_x"],
    )
    out = tmp_path / "signs"
    if existing:
        shutil.copytree(built, out)
    else:
        out.mkdir()
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_write_split = build._write_split

    def write_then_fail(path, name, *args):
        real_write_split(path, name, *args)
        if name == "test":
            raise failure

    monkeypatch.setattr(build, "_write_split", write_then_fail)
    expected = SignsDataError if isinstance(failure, OSError) else KeyboardInterrupt
    with pytest.raises(expected) as info:
        _quiet_prepare(shared_source(), out, force=True)
    if expected is SignsDataError:
        assert str(out) in str(info.value) and "Fix:" in str(info.value)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.name != ".prepare.lock"}
    assert after == {k: v for k, v in before.items() if k != ".prepare.lock"}
    assert cache_is_current(out) == existing
