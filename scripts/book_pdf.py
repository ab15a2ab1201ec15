"""Build the printable PDF of the book: Jupyter Book's ``pdfhtml`` route, offline.

    python scripts/book_pdf.py            # writes _build/pdf/book.pdf (make pdf)

``jupyter-book build . --builder pdfhtml`` builds the whole book as one HTML page
(``_build/singlehtml``) and prints it to PDF with Playwright's Chromium, which
``playwright install`` downloads from Playwright's own servers: not possible offline. This script
runs the same command with one change: Playwright launches Debian's Chromium (``apt-get install
chromium``; ``$CHROMIUM`` to use another) with the flags of the browser test, so nothing is
downloaded and nothing but local files is loaded (MathJax and the widget manager come from the
book's ``_static/``).
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
# The browser test's Chromium flags and finder: one list of what offline Chromium needs here.
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from rendered_book import CHROMIUM_ARGS, find_chromium  # noqa: E402


def use_system_chromium(executable: str) -> None:
    """Make Playwright's async ``chromium.launch()`` (what Jupyter Book calls) start Debian's."""
    from playwright.async_api import BrowserType

    launch = BrowserType.launch

    async def launch_system_chromium(self, **options):
        options.setdefault("executable_path", executable)
        options["args"] = [*CHROMIUM_ARGS, *(options.get("args") or [])]
        return await launch(self, **options)

    BrowserType.launch = launch_system_chromium


def main() -> int:
    executable = find_chromium()
    if executable is None:
        print("book_pdf: no Chromium (apt-get install chromium, or set CHROMIUM)", file=sys.stderr)
        return 1
    use_system_chromium(executable)
    from jupyter_book.cli.main import main as jupyter_book
    from jupyter_book.pdf import html_to_pdf

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
    html_to_pdf(page, PDF)
    print(f"The PDF is built: {PDF.relative_to(ROOT)} ({PDF.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
