"""The built HTML book's internal links: every local page, file and #anchor they point to exists.

``check_links(html_dir)`` reads every page of the build (not ``_static/``, ``_sources/`` or
``_screenshots/``) and returns one line per problem:

- a link (``<a href>``, ``<link href>``) or a loaded file (``<img src>``, ``<script src>``, ...)
  that points to a file missing from the build;
- a ``#anchor`` that names no ``id`` in the page it points to;
- a file the page loads from another host (a CDN): the book must work offline. Links a reader
  follows to other sites (``<a href="https://...">``) are allowed.

The nitpicky build (``jupyter-book build -n -W``) already fails on broken cross-references in
the sources; this checks what ended up in the HTML, theme and extensions included.
"""

from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

SKIPPED_FOLDERS = {"_static", "_sources", "_screenshots", "_images"}
# tag -> attributes that load a file into the page (as opposed to links a reader follows)
LOADS = {"img": "src", "script": "src", "iframe": "src", "source": "src", "object": "data"}
EXTERNAL_SCHEMES = {"http", "https", "mailto", "tel", "data", "javascript", "ftp"}


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str, bool]] = []  # (tag, url, loads the file into the page)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("id", "name") if tag == "a" else ("id",):
            if attributes.get(name):
                self.ids.add(attributes[name])
        if tag == "a" and attributes.get("href"):
            self.links.append((tag, attributes["href"], False))
        elif tag == "link" and attributes.get("href"):
            rel = set((attributes.get("rel") or "").split())
            loads = bool(rel & {"stylesheet", "preload", "icon", "modulepreload"})
            self.links.append((tag, attributes["href"], loads))
        elif tag in LOADS and attributes.get(LOADS[tag]):
            self.links.append((tag, attributes[LOADS[tag]], True))
        elif tag == "meta" and (attributes.get("http-equiv") or "").lower() == "refresh":
            # <meta http-equiv="refresh" content="0; url=book/intro.html"> (the book's index.html)
            content = attributes.get("content") or ""
            url = content.partition("url=")[2].strip().strip("'\"")
            if url:
                self.links.append((tag, url, False))


def _pages(html_dir: Path) -> list[Path]:
    return sorted(
        path
        for path in html_dir.rglob("*.html")
        if not SKIPPED_FOLDERS & set(path.relative_to(html_dir).parts[:-1])
    )


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def check_links(html_dir: Path) -> list[str]:
    """Every broken internal link or anchor, and every file loaded from another host."""
    html_dir = Path(html_dir)
    parsed: dict[Path, _Page] = {}

    def page_at(path: Path) -> _Page:
        if path not in parsed:
            parsed[path] = _parse(path)
        return parsed[path]

    problems = []
    for path in _pages(html_dir):
        name = path.relative_to(html_dir).as_posix()
        for tag, url, loads in page_at(path).links:
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//"):
                if loads and (parts.scheme in {"http", "https"} or url.startswith("//")):
                    problems.append(f"{name}: <{tag}> loads a file from another host: {url}")
                elif parts.scheme not in EXTERNAL_SCHEMES:
                    problems.append(f"{name}: <{tag}> has an unexpected URL: {url}")
                continue
            if parts.path:
                target_name = posixpath.normpath(
                    posixpath.join(posixpath.dirname(name), unquote(parts.path))
                )
                if target_name.startswith("../"):
                    problems.append(f"{name}: <{tag}> points outside the book: {url}")
                    continue
                target = html_dir / target_name
                if target.is_dir():
                    target = target / "index.html"
            else:
                target = path
            if not target.is_file():
                problems.append(f"{name}: <{tag}> points to a missing file: {url}")
                continue
            anchor = unquote(parts.fragment)
            if anchor and target.suffix == ".html" and anchor not in page_at(target).ids:
                problems.append(f"{name}: <{tag}> points to a missing anchor: {url}")
    return problems


def count_links(html_dir: Path) -> int:
    """How many links and loaded files the checked pages hold (to show the check is not empty)."""
    return sum(len(_parse(path).links) for path in _pages(Path(html_dir)))
