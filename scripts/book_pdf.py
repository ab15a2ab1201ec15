"""Build the printable PDF of the book: Jupyter Book's ``pdfhtml`` route, offline.

    python scripts/book_pdf.py            # writes _build/pdf/book.pdf (make pdf)

``jupyter-book build . --builder pdfhtml`` builds the whole book as one HTML page
(``_build/singlehtml``) and prints it to PDF with Playwright's Chromium, which
``playwright install`` downloads from Playwright's own servers: not possible offline. This script
builds the same page (``--builder singlehtml``) and prints it as Jupyter Book's
``jupyter_book.pdf.html_to_pdf`` does (same page load, style and margins), with Playwright's
public API and Debian's Chromium (``apt-get install chromium``; ``$CHROMIUM`` to use another)
started with the flags of the browser test, so nothing is downloaded and nothing but local files
is loaded (MathJax and the widget manager come from the book's ``_static/``).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# The one-page HTML gets a build folder of its own: `--builder pdfhtml` would write it over the
# HTML book's root page (_build/html/book/intro.html).
WORK = ROOT / "_build" / "pdf-work"
PDF = ROOT / "_build" / "pdf" / "book.pdf"
# The browser test's Chromium (Debian's, started with the flags offline Chromium needs here).
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from rendered_book import browser, find_chromium  # noqa: E402

# What jupyter_book.pdf.html_to_pdf (Jupyter Book 1.0) gives the printed page: margins, and cells
# kept whole on a page.
MARGINS = {"left": "0in", "right": "0in", "top": ".5in", "bottom": ".5in"}
CELLS_WHOLE = """
div.cell_input, div.cell_output {
    -webkit-column-break-inside: avoid;
    page-break-inside: avoid;
    break-inside: avoid;
}
"""


def print_pdf(html_file: Path, pdf_file: Path, chromium: str) -> None:
    """Print the local page ``html_file`` to ``pdf_file`` with the Chromium ``chromium``."""
    from playwright.sync_api import expect

    with browser(chromium) as instance:
        page = instance.new_page()
        page.goto(html_file.resolve().as_uri(), wait_until="networkidle")
        expect(page.locator("body")).to_be_attached()  # a redirect may still be on its way
        page.add_style_tag(content=CELLS_WHOLE)
        page.pdf(path=pdf_file, margin=MARGINS)


def main() -> int:
    executable = find_chromium()
    if executable is None:
        print("book_pdf: no Chromium (apt-get install chromium, or set CHROMIUM)", file=sys.stderr)
        return 1
    from jupyter_book.cli.main import main as jupyter_book

    os.chdir(ROOT)
    command = ["build", ".", "--builder", "singlehtml", "--path-output", str(WORK), "--keep-going"]
    try:
        jupyter_book(command, standalone_mode=False)
    except SystemExit as exit:  # the CLI's errors
        if exit.code:
            return int(exit.code) if isinstance(exit.code, int) else 1
    # Sphinx writes the one page as <root page>.html (book/intro.html) with every link relative
    # to the output folder: from there the page would find no style sheet, script or image.
    html = WORK / "_build" / "singlehtml"
    root = yaml.safe_load((ROOT / "_toc.yml").read_text())["root"]
    page = html / "book.html"
    shutil.copyfile(html / f"{root}.html", page)
    PDF.parent.mkdir(parents=True, exist_ok=True)
    print_pdf(page, PDF, executable)
    print(f"The PDF is built: {PDF.relative_to(ROOT)} ({PDF.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
