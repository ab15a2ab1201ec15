"""The built book as learners see it: every page in headless Chromium with the network blocked.

The pages are those of ``_toc.yml`` (the introduction and every chapter) and the search page;
``rendered_book.check_book`` lists what it checks on each. The second half of this file breaks a
copy of the built book (an image, a widget-manager file, a page, a script, alt text, a heading,
a CDN instead of the local widget manager) and proves that the same check reports each break.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from rendered_book import BookReport, check_book, toc_pages

EVALUATION = "book/06_evaluation"
LOOKS_AT = "book/07_what_the_network_looks_at"
UNBROKEN = "book/04_resnet50"  # the first page the broken copy is checked from, left whole
CDN_MANAGER = "https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@1.0.15/dist/embed-amd.js"


@pytest.fixture(scope="session")
def book_report(built_html, chromium) -> BookReport:
    screenshots = built_html / "_screenshots"
    shutil.rmtree(screenshots, ignore_errors=True)
    return check_book(built_html, toc_pages(), screenshots, chromium)


def test_every_page_of_the_table_of_contents_and_the_search_page_are_checked(book_report):
    pages = toc_pages()
    assert pages[0] == "book/intro" and EVALUATION in pages and len(pages) >= 8
    assert list(book_report.pages) == [*pages, "search"]


def test_no_page_has_a_problem(book_report):
    """Console errors, failed loads, network attempts, images, headings, formulas, navigation,
    widgets: anything the browser found (see rendered_book.py) fails here, page by page."""
    assert book_report.problems() == []


def test_pages_never_try_the_network(book_report):
    for name, page in book_report.pages.items():
        assert page.blocked == [], name


def test_every_image_loads_and_has_alt_text(book_report):
    images = [image for page in book_report.pages.values() for image in page.images]
    figures = [image for image in images if not image["widget"]]
    # Plots, photos and the architecture diagrams (SVG) of the chapters.
    assert len(figures) >= 15
    assert any(image["src"].endswith(".svg") for image in figures)
    for image in images:
        assert image["complete"] and image["width"] > 0, image["src"]
    for image in figures:
        assert len(image["alt"]) > 40, image["src"]


def test_widget_images_have_alt_text(book_report):
    images = [image for image in book_report.pages[EVALUATION].images if image["widget"]]
    assert images
    assert all(image["alt"] for image in images)


def test_headings_open_with_one_h1_and_skip_no_level(book_report):
    for name in toc_pages():
        levels = [heading["level"] for heading in book_report.pages[name].headings]
        assert levels[0] == 1 and levels.count(1) == 1, name
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), name


def test_formulas_are_typeset_by_the_local_mathjax(book_report):
    with_math = [page.math for page in book_report.pages.values() if page.math.get("formulas")]
    assert len(with_math) >= 6
    for math in with_math:
        assert math["typeset"] >= math["formulas"] and math["errors"] == 0


def test_the_widgets_render_and_the_slider_changes_the_test_image_shown(book_report):
    widgets = book_report.pages[EVALUATION].widgets
    assert widgets["views"] == 1 and widgets["rendered"]
    assert widgets["sliders"] == 1
    (move,) = widgets["moved"]
    assert float(move["before"]["value"]) == 0 and float(move["after"]["value"]) == 1
    assert "test image 0" in move["before"]["shown"] and "test image 1" in move["after"]["shown"]
    assert "test image 0" not in move["after"]["shown"]
    assert widgets["clipped"] == []
    # The upload button of chapter 07 (it needs a kernel to classify; in the book it only has to
    # be there).
    widgets = book_report.pages[LOOKS_AT].widgets
    assert widgets["views"] == 1 and widgets["rendered"]
    (upload,) = widgets["uploads"]
    assert upload.startswith("Upload a photo")
    assert widgets["clipped"] == []
    # Pages without widgets have no widget summary.
    assert not book_report.pages["book/intro"].widgets


def test_the_search_box_finds_the_chapters_about_residual_blocks(book_report):
    results = book_report.pages["search"].search_results
    assert len(results) >= 3
    assert any("02_identity_block.html" in url for url in results)


def test_a_screenshot_of_every_page_is_in_the_build_folder(book_report, built_html):
    for name, page in book_report.pages.items():
        path = built_html / "_screenshots" / f"{Path(name).name}.jpg"
        assert page.screenshot == path
        data = path.read_bytes()
        assert data[:3] == b"\xff\xd8\xff" and len(data) > 20_000, name
        height, width = _jpeg_size(data)
        assert width == 1280 and height >= 900, name  # the viewport's width, the whole page


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """(height, width) from a JPEG's start-of-frame segment."""
    index = 2
    while index < len(data):
        marker, length = data[index + 1], int.from_bytes(data[index + 2 : index + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            frame = data[index + 5 : index + 9]
            return int.from_bytes(frame[:2], "big"), int.from_bytes(frame[2:], "big")
        index += 2 + length
    raise ValueError("no start-of-frame segment")


# --- The check catches breakage ------------------------------------------------------------------


def _copy(built_html: Path, folder: Path) -> Path:
    copy = folder / "html"
    shutil.copytree(built_html, copy, ignore=shutil.ignore_patterns("_screenshots"))
    return copy


def _edit(path: Path, old: str, new: str, after: str = "") -> None:
    """Replace the first ``old`` (the first after ``after``) in a page of the copy."""
    text = path.read_text()
    start = text.index(after) if after else 0
    assert old in text[start:], (path, old)
    path.write_text(text[:start] + text[start:].replace(old, new, 1))


def _first_image(page: Path) -> str:
    return re.search(r'<img alt="[^"]+" src="([^"]+)"', page.read_text()).group(1)


@pytest.fixture(scope="module")
def broken(built_html, chromium, tmp_path_factory):
    """A copy of the book with breaks in the last chapters, checked like the real one from
    chapter 04 (left whole) on: fewer pages to load than the whole book, every kind of break."""
    copy = _copy(built_html, tmp_path_factory.mktemp("broken"))
    book = copy / "book"
    _edit(book / "05_training.html", '<img alt="', '<img data-alt="')  # alt text
    _edit(book / "05_training.html", "</body>", "<script>brokenBook.run()</script></body>")
    (copy / "_static" / "jupyter-widgets" / "embed-amd.js").unlink()  # chapter 06's widgets
    missing_image = _first_image(book / "08_why_skip_connections.html")
    (book / missing_image).resolve().unlink()  # a plot
    article = '<article class="bd-article">'
    _edit(book / "08_why_skip_connections.html", "<h2>", "<h4>", after=article)  # a heading
    (book / "10_training_at_scale.html").unlink()  # a page
    pages = toc_pages()
    pages = pages[pages.index(UNBROKEN) :]
    report = check_book(copy, pages, None, chromium, search_word=None)
    return report, Path(missing_image).name


def _problems(report: BookReport, name: str) -> str:
    return "\n".join(report.pages[name].problems)


def test_a_missing_image_is_reported(broken):
    report, image = broken
    problems = _problems(report, "book/08_why_skip_connections")
    assert f"image did not load: ../_images/{image}" in problems
    assert f"HTTP 404 for _images/{image}" in problems


def test_a_script_error_is_reported(broken):
    report, _ = broken
    assert "uncaught exception: brokenBook is not defined" in _problems(report, "book/05_training")


def test_a_missing_page_is_reported(broken):
    report, _ = broken
    # Reached through the previous page's "next" link, as a reader would.
    assert "HTTP 404" in _problems(report, "book/10_training_at_scale")


def test_missing_alt_text_is_reported(broken):
    report, _ = broken
    assert "image without alt text" in _problems(report, "book/05_training")


def test_a_missing_widget_manager_is_reported(broken):
    report, _ = broken
    problems = _problems(report, EVALUATION)
    assert "HTTP 404 for _static/jupyter-widgets/embed-amd.js" in problems
    assert "widget views did not all render" in problems
    assert report.pages[EVALUATION].widgets["sliders"] == 0


def test_a_skipped_heading_level_is_reported(broken):
    report, _ = broken
    assert "heading level skipped: h1 then h4" in _problems(report, "book/08_why_skip_connections")


def test_the_page_left_whole_in_the_broken_copy_passes(broken):
    report, _ = broken
    assert list(report.pages) == toc_pages()[toc_pages().index(UNBROKEN) :]
    assert report.pages[UNBROKEN].problems == []


def test_a_widget_manager_from_a_cdn_is_blocked_and_the_widgets_do_not_render(
    built_html, chromium, tmp_path
):
    """Myst-NB's default (the manager from jsDelivr) fails offline: the network is really closed."""
    copy = _copy(built_html, tmp_path)
    page = copy / "book" / "06_evaluation.html"
    _edit(
        page,
        re.search(r"\.\./_static/jupyter-widgets/embed-amd\.js[^\"]*", page.read_text()).group(0),
        CDN_MANAGER,
    )
    report = check_book(copy, [EVALUATION], None, chromium, search_word=None)
    evaluation = report.pages[EVALUATION]
    assert evaluation.blocked == [CDN_MANAGER]
    assert f"tried to reach {CDN_MANAGER}" in evaluation.problems
    assert "widget views did not all render" in "\n".join(evaluation.problems)
