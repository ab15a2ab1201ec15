"""The chapters speak to a learner only: no stored standard error, no word of the course's own
machinery (tests, quick modes, CI, file checks), solutions folded in the book, and every chapter
ends with questions to check one's understanding and further reading."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from course_tools.notebooks import (
    BOOK_DIR,
    cell_source,
    cell_tags,
    chapter_notebooks,
    exercise_cells,
    read_notebook,
)

# Words about the course's own machinery, which a learner has no use for. Case-insensitive unless
# the pattern says otherwise.
INFRASTRUCTURE_WORDS = {
    "quick mode": r"\bquick[\s-]+modes?\b",
    "COURSE_QUICK": r"COURSE_QUICK",
    "nbval": r"\bnbval\b",
    "pytest": r"\bpytest\b",
    "make test": r"\bmake\s+test\b",
    "fork server": r"\bfork[\s-]*servers?\b",
    "test suite": r"\btest[\s-]+suites?\b",
    "the course's tests": r"\bthe\s+course['’]s\s+(own\s+)?tests\b",
    "tests/": r"\btests/",
    "CI": r"(?-i:\bCI\b)",
    "SHA-256": r"\bsha-?256\b",
    ".partial": r"\.partial\b",
    "unpickl": r"unpickl",
    "2-core": r"\b(2|two)[\s-]+cores?\b",
    "slow machine": r"\bslow(er)?\s+machines?\b",
    "formatter directive": r"#\s*fmt:\s*(skip|off|on)\b",
    "injected parameters": r"injected[\s-]+parameters",
}
# A match right after what this matches is an ordinary word: "95% CI" is a confidence interval.
ORDINARY_AFTER = {"CI": r"\d%\s*$"}
SOLUTION_PROMPTS = {"code_prompt_show": "Show solution", "code_prompt_hide": "Hide solution"}
CHAPTERS_WITH_QUESTIONS = [path for path in chapter_notebooks() if path.name[:2] <= "07"]
CHECK_HEADING = "## Check your understanding"
READING_HEADING = "## Further reading"
QUESTION = re.compile(r"\*\*Question (\d+)\.(\d+)\.\*\*")
CHECK_ANSWER = re.compile(r'^check_answer\("(\d+\.\d+)", \.\.\.\);?$')  # ; hides the returned bool
OPEN_ANSWER = "<details><summary>A possible answer</summary>\n\n"


def book_notebooks() -> list[Path]:
    return sorted(BOOK_DIR.glob("*.ipynb"))


def chapter_number(path: Path) -> int:
    return int(path.name[:2])


def stream_text(cell, name: str) -> str:
    return "".join(
        output.text
        for output in cell.get("outputs", [])
        if output.output_type == "stream" and output.name == name
    )


@pytest.mark.parametrize("path", book_notebooks(), ids=lambda p: p.name)
def test_no_cell_keeps_standard_error_output(path):
    nb = read_notebook(path)
    stderr = {
        index: stream_text(cell, "stderr")[:200]
        for index, cell in enumerate(nb.cells)
        if stream_text(cell, "stderr")
    }
    assert not stderr, f"cells with stored stderr (index: text): {stderr}"


def page_texts() -> list[tuple[str, str]]:
    """(where, text) of every markdown and code cell of the book's notebooks, and of intro.md."""
    texts = [("intro.md", (BOOK_DIR / "intro.md").read_text(encoding="utf-8"))]
    for path in book_notebooks():
        for index, cell in enumerate(read_notebook(path).cells):
            if cell.cell_type in ("markdown", "code"):
                texts.append((f"{path.name} cell {index}", cell_source(cell)))
    return texts


def machinery_words(text: str) -> dict[str, list[re.Match]]:
    """{word of INFRASTRUCTURE_WORDS: where ``text`` says it}, ordinary uses left out."""
    found = {}
    for word, pattern in INFRASTRUCTURE_WORDS.items():
        ordinary = ORDINARY_AFTER.get(word)
        hits = [
            m
            for m in re.finditer(pattern, text, re.IGNORECASE)
            if not (ordinary and re.search(ordinary, text[: m.start()]))
        ]
        if hits:
            found[word] = hits
    return found


@pytest.mark.parametrize("word", sorted(INFRASTRUCTURE_WORDS))
def test_no_page_mentions_the_courses_own_machinery(word):
    found = [
        f"{where}: ...{text[max(0, m.start() - 40) : m.end() + 40]!r}..."
        for where, text in page_texts()
        for m in machinery_words(text).get(word, [])
    ]
    assert not found, f"{word!r} is for the course's authors, not its learners:\n" + "\n".join(
        found
    )


def test_the_word_list_finds_what_it_should_and_leaves_ordinary_words():
    def words(text: str) -> set[str]:
        return set(machinery_words(text))

    assert words("Under the course's\ntests (`COURSE_QUICK=1`), in quick mode") == {
        "the course's tests",
        "COURSE_QUICK",
        "quick mode",
    }
    assert words("x = 1  # fmt: skip") == {"formatter directive"}
    assert words("see tests/book and nbval, as CI does, on a 2-core slow machine") == {
        "tests/",
        "nbval",
        "CI",
        "2-core",
        "slow machine",
    }
    assert words("its SHA-256; nothing is unpickled; the .partial file") == {
        "SHA-256",
        "unpickl",
        ".partial",
    }
    ordinary = (
        "The test set tests the model; a circle of radius ci; a quick model; specific; "
        "99.2% (95% CI 95.4%-99.9%), or 95%\n  CI 55%-72%."
    )
    assert words(ordinary) == set()


@pytest.mark.parametrize("path", chapter_notebooks(), ids=lambda p: p.name)
def test_every_exercise_is_folded_in_the_book_behind_show_solution(path):
    for index, cell in exercise_cells(read_notebook(path)):
        assert "hide-input" in cell_tags(cell), f"exercise cell {index} needs the tag hide-input"
        prompts = {key: cell.metadata.get("mystnb", {}).get(key) for key in SOLUTION_PROMPTS}
        assert prompts == SOLUTION_PROMPTS, f"exercise cell {index}: metadata mystnb {prompts}"


def end_of_chapter(path: Path):
    """(cells from the check-your-understanding heading on, their first index); fails if the
    headings are missing or out of order."""
    cells = read_notebook(path).cells
    markdown = {i: cell_source(c) for i, c in enumerate(cells) if c.cell_type == "markdown"}

    def heading(title: str) -> int:
        found = [i for i, text in markdown.items() if re.search(f"^{title}$", text, re.M)]
        assert len(found) == 1, f"{path.name}: {title!r} once, found in cells {found}"
        return found[0]

    summary, check, reading = (
        heading("## Summary"),
        heading(CHECK_HEADING),
        heading(READING_HEADING),
    )
    assert summary <= check < reading, f"{path.name}: Summary, then questions, then reading"
    return cells[check:reading], check


@pytest.mark.parametrize("path", CHAPTERS_WITH_QUESTIONS, ids=lambda p: p.name)
def test_each_chapter_ends_with_at_least_three_numbered_questions(path):
    cells, _ = end_of_chapter(path)
    numbers = [
        (int(chapter), int(k))
        for cell in cells
        if cell.cell_type == "markdown"
        for chapter, k in QUESTION.findall(cell_source(cell))
    ]
    n = chapter_number(path)
    assert len(numbers) >= 3, f"{path.name}: {len(numbers)} questions, 3 or more needed"
    assert numbers == [(n, k) for k in range(1, len(numbers) + 1)], numbers


def questions_and_their_cells(path: Path) -> list[tuple[str, list]]:
    """(label "N.k", the cells after the question up to the next one) of every question."""
    cells, _ = end_of_chapter(path)
    found: list[tuple[str, list]] = []
    for cell in cells:
        labels = QUESTION.findall(cell_source(cell)) if cell.cell_type == "markdown" else []
        if labels:
            found.append((".".join(labels[-1]), []))
        elif found:
            found[-1][1].append(cell)
    return found


@pytest.mark.parametrize("path", CHAPTERS_WITH_QUESTIONS, ids=lambda p: p.name)
def test_each_question_has_its_check_or_a_folded_answer(path):
    """A question with one answer has its check_answer cell, the learner's answer still to give; an
    open one has a model answer folded in <details>. Cells to modify and rerun may come between."""
    for label, cells in questions_and_their_cells(path):
        where = f"{path.name}, question {label}"
        checks = [
            (match.group(1), cell)
            for cell in cells
            if cell.cell_type == "code"
            for match in [CHECK_ANSWER.match(cell_source(cell).strip())]
            if match
        ]
        folded = [
            text
            for cell in cells
            if cell.cell_type == "markdown"
            for text in [cell_source(cell).strip()]
            if text.startswith(OPEN_ANSWER) and text.endswith("</details>")
        ]
        assert checks or folded, f"{where}: neither check_answer({label!r}, ...) nor an answer"
        for checked, cell in checks:
            assert checked == label, f"{where}: its cell checks question {checked}"
            placeholder = f"Question {label}: replace ... with your answer, then run this cell"
            assert stream_text(cell, "stdout").strip() == f"{placeholder} again.", where


@pytest.mark.parametrize("path", CHAPTERS_WITH_QUESTIONS, ids=lambda p: p.name)
def test_the_answer_key_holds_exactly_the_questions_checked_in_the_chapter(path):
    asked = {
        match.group(1)
        for cell in read_notebook(path).cells
        if cell.cell_type == "code"
        for match in [CHECK_ANSWER.match(cell_source(cell).strip())]
        if match
    }
    if not asked:
        return  # no question with a single answer in this chapter
    key = importlib.import_module(f"course_utils.answers.ch{chapter_number(path):02d}")
    assert set(key.ANSWERS) == asked


@pytest.mark.parametrize("path", CHAPTERS_WITH_QUESTIONS, ids=lambda p: p.name)
def test_each_chapter_ends_with_three_or_more_linked_references(path):
    nb = read_notebook(path)
    _, start = end_of_chapter(path)
    reading = "\n".join(
        cell_source(cell) for cell in nb.cells[start:] if cell.cell_type == "markdown"
    ).split(READING_HEADING, 1)[1]
    items = [item for item in re.split(r"^\* ", reading, flags=re.M)[1:] if item.strip()]
    linked = [item for item in items if re.search(r"\]\(https?://", item)]
    assert len(linked) >= 3, f"{path.name}: {len(linked)} linked references under Further reading"
