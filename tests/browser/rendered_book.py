"""Open the built HTML book in headless Chromium, offline, and report what a learner would see.

``check_book(html_dir, pages)`` serves ``html_dir`` on 127.0.0.1, blocks every request to any other
host (a route that aborts it and records it, and a host resolver that resolves nothing but
127.0.0.1), then walks the pages in the order of the table of contents, from each to the next by
clicking its "next" link. On every page it records, as problems:

- the page's HTTP status when it is not 200, every JavaScript console error and uncaught
  exception, every local file that fails to load, and every request that tried to leave
  127.0.0.1 (the book must not even try to use the network);
- every ``<img>`` that did not load (``naturalWidth`` 0) or has no alt text;
- headings out of order: the article must open with its one ``h1`` and never skip a level;
- formulas that MathJax did not typeset;
- a "previous" or "next" link that does not lead to the neighbouring page of the table of
  contents, and a sidebar that does not link every page;
- widgets: every widget view stored in the page must render; moving a slider (the keyboard's
  right arrow on its handle) must change what the widget area shows; no widget box may hide
  part of its content behind a scroll bar.

Then it types a word into the search box of the first page and expects the search page to list
results. A full-page screenshot of each page goes into ``screenshots`` (``<page>.jpg``: JPEG
encodes a long page in a third of the time PNG takes).

The module only needs Playwright's Python package and an installed Chromium (Debian's
``chromium``); Playwright downloads nothing here. ``python tests/browser/rendered_book.py
[_build/html]`` runs the check by hand and prints the problems.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# The tests folder, for `local_server` when this file runs on its own.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from local_server import serve_folder

from course_tools.notebooks import toc_pages

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_HTML = PROJECT_ROOT / "_build" / "html"
SEARCH_WORD = "residual"

# Flags for a root user in a container with no network: no sandbox (root), no GPU, and none of
# Chromium's own background connections (they would only be refused).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Nothing but the local server resolves: a request the route below missed still fails.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
VIEWPORT = {"width": 1280, "height": 900}
JPEG_QUALITY = 85
TIMEOUT_MS = 20_000

# JavaScript run in the page. Each returns plain JSON.
JS_IMAGES = """async () => {
  const images = [...document.images];
  for (const image of images) image.loading = "eager";
  await Promise.all(images.map((image) => image.decode().catch(() => null)));
  return images.map((image) => ({
    src: image.getAttribute("src") || "",
    alt: (image.getAttribute("alt") || "").trim(),
    width: image.naturalWidth,
    complete: image.complete,
    widget: image.classList.contains("widget-image") || image.closest(".jupyter-widgets") !== null,
  }));
}"""
JS_HEADINGS = """() => {
  const article = document.querySelector("article.bd-article") || document.querySelector("main");
  if (!article) return [];
  return [...article.querySelectorAll("h1, h2, h3, h4, h5, h6")].map((h) => ({
    level: Number(h.tagName[1]),
    text: h.textContent.replace(/#$/, "").trim(),
  }));
}"""
JS_MATH = """async () => {
  const formulas = document.querySelectorAll("span.math, div.math").length;
  if (!formulas) return { formulas: 0, typeset: 0, errors: 0 };
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  return {
    formulas,
    typeset: document.querySelectorAll("mjx-container").length,
    errors: document.querySelectorAll("mjx-merror").length,
  };
}"""
JS_NAVIGATION = """() => ({
  previous: document.querySelector(".prev-next-area a.left-prev")?.href ?? null,
  next: document.querySelector(".prev-next-area a.right-next")?.href ?? null,
  sidebar: [...document.querySelectorAll("nav.bd-links a.reference")].map((a) => a.href),
  title: document.title,
})"""
JS_WIDGET_VIEWS = """() => document.querySelectorAll(
  'script[type="application/vnd.jupyter.widget-view+json"]').length"""
JS_WIDGETS_RENDERED = """() => {
  const outputs = [...document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]')];
  return outputs.filter((script) => script.parentElement.querySelector(".jupyter-widgets")).length;
}"""
# Done waiting: every view rendered, or the page has loaded without the widget manager's module
# (its script is missing or blocked), so nothing will ever render.
JS_WIDGETS_SETTLED = (
    """(views) => {
  const rendered = ("""
    + JS_WIDGETS_RENDERED
    + """)();
  if (rendered >= views) return true;
  const manager = "@jupyter-widgets/html-manager/dist/libembed-amd";
  return document.readyState === "complete" &&
    !(window.require && require.specified && require.specified(manager));
}"""
)
# What a slider's widget area shows: its text (the slider's own readout left out) and images.
JS_WIDGET_AREA = """(index) => {
  const slider = document.querySelectorAll(".widget-slider")[index];
  const area = slider.closest(".widget-vbox, .widget-box, .cell_output") || slider.parentElement;
  const parts = [];
  for (const node of area.querySelectorAll(".widget-html-content, .widget-label, img")) {
    if (slider.contains(node) || node.offsetParent === null) continue;
    parts.push(node.tagName === "IMG" ? node.src : node.textContent.trim());
  }
  return {
    value: slider.querySelector(".noUi-handle")?.getAttribute("aria-valuenow") ?? null,
    shown: parts.join(" | "),
  };
}"""
JS_WIDGET_SUMMARY = """() => ({
  sliders: document.querySelectorAll(".widget-slider .noUi-handle").length,
  uploads: [...document.querySelectorAll(".widget-upload")].map((b) => b.textContent.trim()),
  clipped: [...document.querySelectorAll(".cell_output .widget-box")]
    .filter((box) => box.offsetParent !== null && box.scrollHeight > box.clientHeight + 2)
    .map((box) => box.textContent.trim().slice(0, 60)),
  widgetImages: [...document.querySelectorAll(".jupyter-widgets img")].filter(
    (image) => image.offsetParent !== null).length,
})"""


@dataclass
class PageReport:
    """What the browser found on one page."""

    name: str
    url: str
    problems: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    headings: list[dict] = field(default_factory=list)
    math: dict = field(default_factory=dict)
    widgets: dict = field(default_factory=dict)
    search_results: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    seconds: float = 0.0


@dataclass
class BookReport:
    pages: dict[str, PageReport]

    def problems(self) -> list[str]:
        return [
            f"{name}: {problem}" for name, page in self.pages.items() for problem in page.problems
        ]


def find_chromium() -> str | None:
    """The Chromium to drive: $CHROMIUM, else Debian's /usr/bin/chromium, else one on PATH."""
    candidates = [os.environ.get("CHROMIUM"), "/usr/bin/chromium"]
    candidates += [shutil.which(name) for name in ("chromium", "chromium-browser")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


class _Recorder:
    """Collects a page's console errors, failed loads and blocked requests."""

    def __init__(self, origin: str):
        self.origin = origin
        self.errors: list[str] = []
        self.blocked: list[str] = []

    def reset(self) -> None:
        self.errors = []
        self.blocked = []

    def route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.origin):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    def console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text}")

    def page_error(self, error) -> None:
        self.errors.append(f"uncaught exception: {error}")

    def response(self, response) -> None:
        if response.status >= 400 and response.url.startswith(self.origin):
            self.errors.append(f"HTTP {response.status} for {response.url[len(self.origin) :]}")

    def request_failed(self, request) -> None:
        if request.url.startswith(self.origin):
            self.errors.append(f"failed to load {request.url[len(self.origin) :]}")


def _page_url(base: str, name: str) -> str:
    return f"{base}{name}.html"


def _check_images(page, report: PageReport) -> None:
    report.images = page.evaluate(JS_IMAGES)
    for image in report.images:
        if not image["complete"] or image["width"] == 0:
            report.problems.append(f"image did not load: {image['src'][:120]}")
        if not image["alt"] and not image["widget"]:
            report.problems.append(f"image without alt text: {image['src'][:120]}")


def _check_headings(page, report: PageReport) -> None:
    report.headings = page.evaluate(JS_HEADINGS)
    levels = [heading["level"] for heading in report.headings]
    if not levels:
        report.problems.append("no headings in the article")
        return
    if levels[0] != 1 or levels.count(1) != 1:
        report.problems.append(f"the article must open with its only h1 (levels {levels})")
    for previous, heading in zip(report.headings, report.headings[1:], strict=False):
        if heading["level"] > previous["level"] + 1:
            report.problems.append(
                f"heading level skipped: h{previous['level']} then h{heading['level']} "
                f"({heading['text'][:60]!r})"
            )


def _check_math(page, report: PageReport) -> None:
    report.math = page.evaluate(JS_MATH)
    if report.math["formulas"] and report.math["typeset"] < report.math["formulas"]:
        report.problems.append(
            f"MathJax typeset {report.math['typeset']} of {report.math['formulas']} formulas"
        )
    if report.math.get("errors"):
        report.problems.append(f"{report.math['errors']} formulas with MathJax errors")


def _check_navigation(page, report: PageReport, base: str, pages: list[str], index: int) -> None:
    nav = page.evaluate(JS_NAVIGATION)
    expected_previous = _page_url(base, pages[index - 1]) if index > 0 else None
    expected_next = _page_url(base, pages[index + 1]) if index + 1 < len(pages) else None
    if expected_previous and nav["previous"] != expected_previous:
        report.problems.append(f"'previous' link goes to {nav['previous']}, not {pages[index - 1]}")
    if expected_next and nav["next"] != expected_next:
        report.problems.append(f"'next' link goes to {nav['next']}, not {pages[index + 1]}")
    sidebar = {href.split("#")[0] for href in nav["sidebar"]} | {page.url.split("#")[0]}
    missing = [name for name in pages if _page_url(base, name) not in sidebar]
    if missing:
        report.problems.append(f"the sidebar does not link {missing}")


def _check_widgets(page, report: PageReport) -> None:
    views = page.evaluate(JS_WIDGET_VIEWS)
    if not views:
        return
    try:
        page.wait_for_function(JS_WIDGETS_SETTLED, arg=views, timeout=TIMEOUT_MS)
    except Exception:
        pass
    rendered = page.evaluate(JS_WIDGETS_RENDERED) >= views
    if not rendered:
        report.problems.append(f"the page's {views} widget views did not all render")
    summary = page.evaluate(JS_WIDGET_SUMMARY)
    summary.update(views=views, rendered=rendered, moved=[])
    for index in range(summary["sliders"]):
        handle = page.locator(".widget-slider .noUi-handle").nth(index)
        before = page.evaluate(JS_WIDGET_AREA, index)
        handle.focus()
        handle.press("ArrowRight")
        try:
            page.wait_for_function(
                f"(shown) => ({JS_WIDGET_AREA})({index}).shown !== shown",
                arg=before["shown"],
                timeout=5_000,
            )
        except Exception:
            pass
        after = page.evaluate(JS_WIDGET_AREA, index)
        summary["moved"].append({"before": before, "after": after})
        if after["value"] == before["value"]:
            report.problems.append(f"slider {index} did not move (value {before['value']})")
        elif after["shown"] == before["shown"]:
            report.problems.append(f"moving slider {index} did not change the widget area")
    for text in summary["clipped"]:
        report.problems.append(f"a widget box hides part of its content: {text!r}")
    report.widgets = summary


def _screenshot(page, report: PageReport, screenshots: Path | None) -> None:
    if screenshots is None:
        return
    screenshots.mkdir(parents=True, exist_ok=True)
    path = screenshots / f"{Path(report.name).name}.jpg"
    # From the top, as a reader arrives: the sticky header and sidebar then sit where they belong.
    page.evaluate("() => window.scrollTo(0, 0)")
    page.wait_for_timeout(200)
    page.screenshot(path=str(path), full_page=True, type="jpeg", quality=JPEG_QUALITY)
    report.screenshot = path


def _search(page, recorder: _Recorder, base: str, word: str, screenshots) -> PageReport:
    """Search from the page shown, with the search box a reader uses."""
    report = PageReport(name="search", url=f"{base}search.html?q={word}")
    start = time.monotonic()
    recorder.reset()
    try:
        page.locator(".search-button-field:visible").first.click(timeout=TIMEOUT_MS)
        box = page.locator("input[name=q]:visible").first
        box.fill(word)
        box.press("Enter")
        page.wait_for_url(f"**/search.html?q={word}*", timeout=TIMEOUT_MS)
        page.wait_for_selector("#search-results li", timeout=TIMEOUT_MS)
    except Exception as error:
        report.problems.append(f"searching for {word!r} failed: {str(error).splitlines()[0]}")
    report.search_results = page.evaluate(
        "() => [...document.querySelectorAll('#search-results li a')].map((a) => a.href)"
    )
    if not report.search_results:
        report.problems.append(f"the search for {word!r} found nothing")
    _screenshot(page, report, screenshots)
    report.problems[:0] = recorder.errors + [f"tried to reach {url}" for url in recorder.blocked]
    report.blocked = list(recorder.blocked)
    report.seconds = time.monotonic() - start
    return report


@contextmanager
def browser(chromium: str | None = None):
    """A headless Chromium driven by Playwright (its own browsers are never downloaded)."""
    from playwright.sync_api import sync_playwright

    executable = chromium or find_chromium()
    if executable is None:
        raise FileNotFoundError("no Chromium found (apt-get install chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def check_book(
    html_dir: Path,
    pages: list[str] | None = None,
    screenshots: Path | None = None,
    chromium=None,
    search_word: str | None = SEARCH_WORD,
) -> BookReport:
    """Check ``pages`` (default: every page of the table of contents) of the built book.

    ``chromium``: a browser from ``browser()`` to reuse, else one is started for this call.
    """
    pages = pages or toc_pages()
    if chromium is None:
        with browser() as instance:
            return check_book(html_dir, pages, screenshots, instance, search_word)
    reports: dict[str, PageReport] = {}
    with serve_folder(Path(html_dir)) as server:
        base = server + "/"
        recorder = _Recorder(base)
        context = chromium.new_context(viewport=VIEWPORT, service_workers="block")
        context.set_default_timeout(TIMEOUT_MS)
        context.route("**/*", recorder.route)
        page = context.new_page()
        page.on("console", recorder.console)
        page.on("pageerror", recorder.page_error)
        page.on("response", recorder.response)
        page.on("requestfailed", recorder.request_failed)
        try:
            for index, name in enumerate(pages):
                report = PageReport(name=name, url=_page_url(base, name))
                start = time.monotonic()
                recorder.reset()
                next_link = page.locator(".prev-next-area a.right-next") if index else None
                response = None
                if next_link is not None and next_link.count():
                    # Arrive the way a reader does: the previous page's "next" link.
                    with page.expect_navigation(wait_until="load") as navigation:
                        next_link.first.click()
                    response = navigation.value
                    if page.url.split("#")[0] != report.url:
                        report.problems.append(f"the 'next' link led to {page.url}")
                        response = page.goto(report.url, wait_until="load")
                else:
                    response = page.goto(report.url, wait_until="load")
                if response is not None and response.status != 200:
                    report.problems.append(f"HTTP {response.status}")
                try:
                    _check_math(page, report)
                    _check_widgets(page, report)
                    _check_images(page, report)
                    _check_headings(page, report)
                    _check_navigation(page, report, base, pages, index)
                except Exception as error:
                    report.problems.append(f"could not check the page: {error}")
                _screenshot(page, report, screenshots)
                page.wait_for_timeout(100)  # late console messages
                report.problems[:0] = recorder.errors + [
                    f"tried to reach {url}" for url in recorder.blocked
                ]
                report.blocked = list(recorder.blocked)
                report.seconds = time.monotonic() - start
                reports[name] = report
            if search_word:
                if page.url == "about:blank":
                    page.goto(_page_url(base, pages[0]), wait_until="load")
                reports["search"] = _search(page, recorder, base, search_word, screenshots)
        finally:
            context.close()
    return BookReport(reports)


def main(argv: list[str]) -> int:
    html_dir = Path(argv[0]) if argv else DEFAULT_HTML
    report = check_book(html_dir, screenshots=html_dir / "_screenshots")
    for name, page in report.pages.items():
        status = "ok" if not page.problems else f"{len(page.problems)} problem(s)"
        print(f"{name:40} {page.seconds:5.1f} s  {status}")
    for problem in report.problems():
        print(f"  {problem}")
    return 1 if report.problems() else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
