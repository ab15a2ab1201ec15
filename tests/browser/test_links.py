"""The built book's internal links and anchors exist, and no page loads a file from a CDN."""

from __future__ import annotations

import shutil

from links import check_links, count_links


def test_every_internal_link_and_anchor_of_the_built_book_exists(built_html):
    assert count_links(built_html) > 500  # the check is not empty
    assert check_links(built_html) == []


def test_broken_links_missing_anchors_and_cdn_files_are_reported(built_html, tmp_path):
    copy = tmp_path / "html"
    shutil.copytree(built_html, copy, ignore=shutil.ignore_patterns("_screenshots", "_static"))
    (copy / "book" / "03_convolutional_block.html").unlink()
    page = copy / "book" / "08_why_skip_connections.html"
    page.write_text(
        page.read_text().replace(
            "</body>",
            '<a href="01_data.html#no-such-section">x</a>'
            '<script src="https://cdn.example.org/lib.js"></script></body>',
        )
    )
    problems = "\n".join(check_links(copy))
    assert (
        "book/02_identity_block.html: <a> points to a missing file: 03_convolutional_block.html"
        in (problems)
    )
    assert "<a> points to a missing anchor: 01_data.html#no-such-section" in problems
    assert "<script> loads a file from another host: https://cdn.example.org/lib.js" in problems
    # Without _static/, every page's scripts and styles are missing too.
    assert "points to a missing file: ../_static/" in problems
