"""The book's offline web assets: pinned npm tarballs, verified before use, and the configuration
that makes every page load them from the book itself. Nothing here uses the network."""

from __future__ import annotations

import base64
import fnmatch
import importlib.util
import io
import json
import re
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from course_utils.data.paths import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "fetch_web_assets.py"
_spec = importlib.util.spec_from_file_location("fetch_web_assets", SCRIPT)
fetch = importlib.util.module_from_spec(_spec)
sys.modules["fetch_web_assets"] = fetch  # dataclasses look their module up
_spec.loader.exec_module(fetch)

CONFIG = yaml.safe_load((PROJECT_ROOT / "_config.yml").read_text())
SPHINX = CONFIG["sphinx"]["config"]
OWN_STATIC = PROJECT_ROOT / "_ext" / "static"


def _tarball(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _asset(tarball: Path, **changes) -> fetch.Asset:
    fields = dict(
        name="@demo/widgets",
        version="1.2.3",
        integrity=fetch.integrity_of(tarball),
        folder="demo",
        include=("package.json", "dist/*.js"),
        strip="dist/",
    )
    fields.update(changes)
    return fetch.Asset(**fields)


@pytest.fixture
def demo(tmp_path):
    folder = tmp_path / "tarballs"
    folder.mkdir()
    tarball = _tarball(
        folder / "demo-widgets-1.2.3.tgz",
        {"package.json": b"{}", "dist/embed.js": b"embed()", "src/index.ts": b"source"},
    )
    return folder, tarball


def test_every_asset_is_an_exact_version_with_a_sha512():
    names = [asset.name for asset in fetch.ASSETS]
    assert names == ["@jupyter-widgets/html-manager", "requirejs", "mathjax"]
    for asset in fetch.ASSETS:
        assert re.fullmatch(r"\d+\.\d+\.\d+", asset.version), asset
        assert asset.integrity.startswith("sha512-")
        assert len(base64.b64decode(asset.integrity.removeprefix("sha512-"))) == 64
    assert fetch.ASSETS[0].tarball_name == "jupyter-widgets-html-manager-1.0.15.tgz"
    assert fetch.ASSETS[0].url.endswith("/@jupyter-widgets/html-manager/-/html-manager-1.0.15.tgz")


def _provided(path: str) -> bool:
    """Whether a path under _static/ is a file the fetch script unpacks or the book ships."""
    if (OWN_STATIC / path).is_file():
        return True
    for asset in fetch.ASSETS:
        if path.startswith(asset.folder + "/"):
            inner = asset.strip + path.removeprefix(asset.folder + "/")
            if any(fnmatch.fnmatch(inner, pattern) for pattern in asset.include):
                return True
    return False


def test_the_pages_load_mathjax_and_the_widget_manager_from_the_book_not_a_cdn():
    assert SPHINX["html_static_path"] == ["_vendor", "_ext/static"]
    assert "://" not in SPHINX["mathjax_path"] and _provided(SPHINX["mathjax_path"])
    scripts = list(SPHINX["nb_ipywidgets_js"])
    assert scripts == ["requirejs/require.js", "widgets-setup.js", "jupyter-widgets/embed-amd.js"]
    for path in scripts + SPHINX["html_css_files"]:
        assert "://" not in path and _provided(path), path
    # The fetched files stay out of git and out of the book's sources.
    assert "/_vendor/" in (PROJECT_ROOT / ".gitignore").read_text().splitlines()
    assert {"_vendor", "_ext"} <= set(CONFIG["exclude_patterns"])


def test_a_verified_tarball_is_unpacked_with_only_the_files_the_book_uses(demo, tmp_path):
    folder, tarball = demo
    asset = _asset(tarball)
    out = tmp_path / "vendor"
    assert fetch.fetch(out, folder, [asset]) == ["@demo/widgets@1.2.3"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "ASSETS.json",
        "demo/embed.js",
        "demo/package.json",
    ]
    assert json.loads((out / "ASSETS.json").read_text())["@demo/widgets"]["version"] == "1.2.3"
    # Up to date: nothing is fetched again, not even from the tarball folder.
    tarball.unlink()
    assert fetch.fetch(out, folder, [asset]) == []
    # A new pin replaces the files.
    newer = _tarball(folder / "demo-widgets-1.2.4.tgz", {"dist/manager.js": b"manager()"})
    assert fetch.fetch(out, folder, [_asset(newer, version="1.2.4")]) == ["@demo/widgets@1.2.4"]
    assert sorted(p.name for p in (out / "demo").iterdir()) == ["manager.js"]
    # A pinned tarball that is not there is an error, not a silent skip.
    with pytest.raises(fetch.AssetError, match="is missing"):
        fetch.fetch(out, folder, [_asset(newer, version="1.2.5")])


def test_a_tarball_that_is_not_the_pinned_one_is_refused(demo, tmp_path):
    folder, tarball = demo
    pinned = _asset(tarball)
    _tarball(tarball, {"package.json": b"{}", "dist/embed.js": b"steal()"})  # same name
    out = tmp_path / "vendor"
    with pytest.raises(fetch.AssetError, match="checksum mismatch"):
        fetch.fetch(out, folder, [pinned])
    assert not (out / "demo").exists() and fetch.installed(out) == {}
    assert fetch.main(["--out", str(out), "--tarballs", str(folder)]) == 1  # the real pins


def test_a_tarball_with_a_path_out_of_its_folder_is_refused(tmp_path):
    tarball = _tarball(tmp_path / "demo-widgets-1.2.3.tgz", {"dist/../../../escape.js": b"x"})
    with pytest.raises(fetch.AssetError, match="unsafe path"):
        fetch.fetch(tmp_path / "vendor", tmp_path, [_asset(tarball)])
    assert not list(tmp_path.rglob("escape.js"))


def test_the_installed_assets_are_the_pinned_ones():
    manifest = fetch.installed(fetch.DEFAULT_OUT)
    if not manifest:
        pytest.skip("the web assets are not fetched yet (make web-assets)")
    for asset in fetch.ASSETS:
        assert fetch.up_to_date(asset, fetch.DEFAULT_OUT), asset.name
        assert manifest[asset.name]["integrity"] == asset.integrity


# conf.py of a one-page Sphinx project whose extension adds its scripts as sphinx-thebe does: once
# the HTML builder exists (env-before-read-docs), an inline script with the file name None.
DEMO_CONF = """
extensions = EXTENSIONS


def add_scripts(app, env, docnames):
    app.add_js_file(None, body='const THEBE_JS_URL = "x"')
    app.add_js_file("a.js")
    app.add_js_file("a.js", loading_method="defer")


def setup(app):
    app.connect("env-before-read-docs", add_scripts)
"""


def _demo_page(folder: Path, extensions: list[str]) -> str:
    """The HTML page Sphinx builds from the demo project with ``extensions``."""
    from sphinx.application import Sphinx

    source = folder / "source"
    source.mkdir(parents=True)
    (source / "conf.py").write_text(DEMO_CONF.replace("EXTENSIONS", repr(extensions)))
    (source / "index.rst").write_text("Demo\n====\n\nA page.\n")
    out = folder / "html"
    warnings = io.StringIO()
    app = Sphinx(source, source, out, folder / "doctrees", "html", None, warnings, freshenv=True)
    app.build()
    assert app.statuscode == 0, warnings.getvalue()
    return (out / "index.html").read_text(encoding="utf-8")


def test_the_book_extension_drops_a_duplicated_inline_script(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "_ext"))
    thebe = '<script>const THEBE_JS_URL = "x"</script>'
    # Sphinx 7.4 writes the inline script twice: the bug book_html works around.
    assert _demo_page(tmp_path / "plain", []).count(thebe) == 2
    page = _demo_page(tmp_path / "book", ["book_html"])
    assert page.count(thebe) == 1
    # Scripts that differ in an attribute are not duplicates.
    assert len(re.findall(r'<script src="_static/a\.js[?"]', page)) == 1
    assert len(re.findall(r'<script defer="defer" src="_static/a\.js[?"]', page)) == 1
