"""The learner's path through the book, in one folder, as a learner works: chapters 02 to 04 save
the learner's functions, chapter 05 builds that ResNet50, trains it briefly (papermill's
parameters, `course_tools.brief_chapters`), fixes it with the learner's `fix_and_train` and saves
its weights, and chapter 06 evaluates that very model and fine-tunes copies of it with the
learner's `random_mirror`. Each step says whose code and weights it
uses; neither the course's reference nor its shipped weights stand in."""

from __future__ import annotations

import pytest

from course_tools.brief_chapters import write_brief_book
from course_tools.execute_book import execute_notebook
from course_tools.notebooks import BOOK_DIR, SAVED_CODE_FILE, SAVED_WEIGHTS_FILE, read_notebook

PATH = [
    "02_identity_block.ipynb",
    "03_convolutional_block.ipynb",
    "04_resnet50.ipynb",
    "05_training.ipynb",
    "06_evaluation.ipynb",
]

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def learner_folder(tmp_path_factory):
    """The chapters of PATH run in order in one folder, their outputs stored; the folder."""
    folder = tmp_path_factory.mktemp("learner") / "book"
    write_brief_book(BOOK_DIR, folder)
    for name in PATH:
        execute_notebook(folder / name)  # raises where a cell raises
    return folder


def printed(folder, chapter: str, source_start: str) -> str:
    """What the code cell of ``chapter`` whose source starts with ``source_start`` printed."""
    (cell,) = [
        cell
        for cell in read_notebook(folder / chapter).cells
        if cell.cell_type == "code" and cell.source.startswith(source_start)
    ]
    return "".join(o.text for o in cell.outputs if o.output_type == "stream")


@pytest.mark.parametrize(
    ("chapter", "function"),
    [
        ("02_identity_block.ipynb", "identity_block"),
        ("03_convolutional_block.ipynb", "convolutional_block"),
        ("04_resnet50.ipynb", "ResNet50"),
    ],
)
def test_each_passing_check_saves_the_learner_s_function(learner_folder, chapter, function):
    out = printed(learner_folder, chapter, "from course_utils.grading import check_")
    saved = f"Saved your {function} to {SAVED_CODE_FILE}; the next chapters use it.\n"
    assert out == "All tests passed.\n" + saved


def test_chapter_5_trains_the_learner_s_resnet50_fixes_it_and_keeps_its_weights(learner_folder):
    chapter = "05_training.ipynb"
    assert printed(learner_folder, chapter, '(ResNet50,) = my_functions("ResNet50")') == (
        f"ResNet50: yours, from {SAVED_CODE_FILE}\n"
    )
    check = printed(learner_folder, chapter, "from course_utils.grading import check_fix_and_train")
    assert check == "All tests passed.\n"
    assert printed(learner_folder, chapter, "save_my_weights(model)").startswith(
        f"Saved your trained weights to {SAVED_WEIGHTS_FILE}"
    )
    assert (learner_folder / SAVED_WEIGHTS_FILE).is_file()


def test_chapter_6_evaluates_the_model_the_learner_trained(learner_folder):
    out = printed(learner_folder, "06_evaluation.ipynb", "_, _, X_val_orig, Y_val_orig")
    assert out.startswith(
        f"ResNet50: yours, from {SAVED_CODE_FILE}\nweights: yours, from {SAVED_WEIGHTS_FILE}\n"
    )
    assert "your model, validation: " in out and "your model,       test: " in out


def test_chapter_6_fine_tunes_copies_of_the_learner_s_model_with_the_learner_s_mirror(
    learner_folder,
):
    chapter = "06_evaluation.ipynb"
    check = printed(learner_folder, chapter, "from course_utils.grading import check_random_mirror")
    assert check == "All tests passed.\n"
    out = printed(learner_folder, chapter, "data = load_split_arrays()")
    assert out.count(f"weights: yours, from {SAVED_WEIGHTS_FILE}") == 2
    assert "--- fine-tuning a copy of your model, your random_mirror" in out
    table = printed(learner_folder, chapter, "print(f\"{'validation':<18}")
    assert "mirrored" in table and "only the mirrored copy right on" in table
