"""A local Sphinx extension for the book's HTML (Jupyter Book 1.x loads it through ``_config.yml``,
``sphinx: local_extensions``).

It warns when the web assets the pages load (``_vendor/``, see ``scripts/fetch_web_assets.py``)
are missing, and keeps the pages free of a JavaScript console error. Inline scripts
added while the documents are read (sphinx-thebe's ``const THEBE_JS_URL = ...``,
sphinx-togglebutton's selector) reach Sphinx 7.4's HTML builder twice: once directly, with the file
name ``None``, and once through the registry, with ``""``. The builder sees two different scripts
and writes both, and the second ``const`` declaration is a SyntaxError on every page.
``dedupe_scripts`` drops the second copy from each page's list of scripts.

(``_ext/static/`` holds the book's own static files; ``_config.yml`` lists it in
``html_static_path``.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _key(script: Any) -> tuple:
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return (str(filename), getattr(script, "priority", 500), tuple(sorted(attributes.items())))


def dedupe_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Keep the first of several identical scripts in the page's list of scripts."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def check_web_assets(app: Sphinx) -> None:
    """Warn (an error with -W) when the MathJax and widget files the pages load are missing."""
    if (
        app.builder.format == "html"
        and not (Path(app.srcdir) / "_vendor" / "ASSETS.json").is_file()
    ):
        logger.warning(
            "the book's web assets (MathJax, the widget manager) are missing from _vendor/: "
            "run `make web-assets` (python scripts/fetch_web_assets.py) before building"
        )


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", check_web_assets)
    # After the other extensions have added their per-page scripts.
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
