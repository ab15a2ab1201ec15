"""Fetch the book's JavaScript assets from the npm registry, so the HTML book works offline.

The rendered book needs three pieces of JavaScript that Jupyter Book would otherwise load from a
CDN on every visit: the ipywidgets HTML manager (draws the widgets of the evaluation chapter from
their stored state), RequireJS (which the manager's AMD bundle needs) and MathJax (draws the
formulas). This script fetches pinned versions of them as npm tarballs, checks each tarball
against a pinned SHA-512 (the same value as the registry's ``dist.integrity``; see
``npm view NAME@VERSION dist.integrity``), and unpacks the files the book uses into ``_vendor/``
(git-ignored). ``_config.yml`` makes ``_vendor/`` a Sphinx static folder, so the files end up in
``_build/html/_static/`` and every page loads them from the book itself.

    python scripts/fetch_web_assets.py [--out _vendor] [--tarballs DIR]

The tarballs come from ``npm pack`` (the registry npm is configured with, and npm's cache, so a
second fetch works offline), or, where npm is not installed, straight from the registry over
HTTPS. ``--tarballs DIR`` uses tarballs already in DIR instead (a machine without the registry).
When ``_vendor/`` already holds the pinned versions the script does nothing, so ``make book``
stays fast and works offline after the first build.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "_vendor"
MANIFEST = "ASSETS.json"
REGISTRY = "https://registry.npmjs.org/"


@dataclass(frozen=True)
class Asset:
    """One npm package: the pinned version, its tarball's SHA-512 and the files the book uses."""

    name: str
    version: str
    integrity: str  # "sha512-" + base64 of the tarball's SHA-512, as npm writes it
    folder: str  # where the files go, under the output folder (and _build/html/_static/)
    include: tuple[str, ...]  # glob patterns, relative to the package root
    strip: str  # path prefix (inside the package) removed from the files' names

    @property
    def tarball_name(self) -> str:
        """The file name npm pack gives the tarball (a scope "@a/b" becomes "a-b")."""
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}.tgz"

    @property
    def url(self) -> str:
        registry = os.environ.get("npm_config_registry") or REGISTRY
        return f"{registry.rstrip('/')}/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"


ASSETS = (
    # The ipywidgets 8 HTML manager (widget state 2.0, @jupyter-widgets/controls 5): the AMD
    # bundle and the Font Awesome fonts its CSS points to, beside it.
    Asset(
        name="@jupyter-widgets/html-manager",
        version="1.0.15",
        integrity="sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        folder="jupyter-widgets",
        include=(
            "package.json",  # name, version and licence (BSD-3-Clause)
            "dist/embed-amd.js",
            "dist/*.woff2",
            "dist/*.woff",
            "dist/*.ttf",
            "dist/*.eot",
            "dist/*.svg",
        ),
        strip="dist/",
    ),
    Asset(
        name="requirejs",
        version="2.3.8",
        integrity="sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        folder="requirejs",
        include=("require.js", "package.json"),  # MIT
        strip="",
    ),
    # MathJax 3 (Sphinx's default major version): the TeX/MathML to HTML bundle and the
    # components and fonts it loads at run time (extensions, menu, accessibility, fonts); and
    # the one-file TeX to SVG bundle that class feedback pages inline
    # (course_tools/feedback_page.py).
    Asset(
        name="mathjax",
        version="3.2.2",
        integrity="sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        folder="mathjax",
        include=(
            "LICENSE",  # Apache-2.0
            "es5/tex-mml-chtml.js",
            "es5/tex-svg-full.js",
            "es5/core.js",
            "es5/loader.js",
            "es5/startup.js",
            "es5/a11y/*",
            "es5/adaptors/*",
            "es5/input/*",
            "es5/output/*",
            "es5/sre/*",
            "es5/ui/*",
        ),
        strip="es5/",
    ),
)


class AssetError(RuntimeError):
    """A tarball could not be fetched, or is not the pinned one."""


def integrity_of(path: Path) -> str:
    """npm's integrity string of a file: "sha512-" and the base64 of its SHA-512."""
    digest = hashlib.sha512()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def verify(asset: Asset, tarball: Path) -> None:
    """Raise AssetError unless the tarball is byte for byte the pinned one."""
    found = integrity_of(tarball)
    if found != asset.integrity:
        raise AssetError(
            f"{tarball.name}: checksum mismatch for {asset.name}@{asset.version}\n"
            f"  expected {asset.integrity}\n  found    {found}"
        )


def _selected(asset: Asset, member: tarfile.TarInfo) -> str | None:
    """The file's path under the asset's folder, or None when the book does not use it."""
    if not member.isfile() or not member.name.startswith("package/"):
        return None
    inner = member.name.removeprefix("package/")
    if not any(fnmatch.fnmatch(inner, pattern) for pattern in asset.include):
        return None
    relative = inner.removeprefix(asset.strip) if inner.startswith(asset.strip) else inner
    parts = Path(relative).parts
    if not parts or Path(relative).is_absolute() or ".." in parts:
        raise AssetError(f"{asset.name}: unsafe path in the tarball: {member.name}")
    return relative


def unpack(asset: Asset, tarball: Path, destination: Path) -> int:
    """Unpack the used files of a verified tarball into destination; return how many."""
    count = 0
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive:
            relative = _selected(asset, member)
            if relative is None:
                continue
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None
            with source, target.open("wb") as out:
                shutil.copyfileobj(source, out)
            count += 1
    if count == 0:
        raise AssetError(f"{asset.name}: no file of the tarball matches {asset.include}")
    return count


def _download(asset: Asset, folder: Path) -> Path:
    """Fetch the tarball into folder with npm pack, or over HTTPS where npm is missing."""
    npm = shutil.which("npm")
    if npm:
        result = subprocess.run(
            [
                npm,
                "pack",
                "--prefer-offline",
                f"{asset.name}@{asset.version}",
                "--pack-destination",
                str(folder),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        tarball = folder / asset.tarball_name
        if result.returncode == 0 and tarball.is_file():
            return tarball
        raise AssetError(
            f"npm pack {asset.name}@{asset.version} failed ({result.returncode}):\n"
            + result.stderr[-2000:]
        )
    tarball = folder / asset.tarball_name
    try:
        with urllib.request.urlopen(asset.url, timeout=120) as response, tarball.open("wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as error:
        raise AssetError(f"could not download {asset.url}: {error}") from error
    return tarball


def installed(out: Path) -> dict:
    """The manifest of what out holds (empty when nothing was installed)."""
    try:
        return json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def _entry(asset: Asset) -> dict:
    return {
        "version": asset.version,
        "integrity": asset.integrity,
        "folder": asset.folder,
        "include": list(asset.include),
    }


def up_to_date(asset: Asset, out: Path) -> bool:
    return installed(out).get(asset.name) == _entry(asset) and (out / asset.folder).is_dir()


def fetch(out: Path = DEFAULT_OUT, tarballs: Path | None = None, assets=ASSETS) -> list[str]:
    """Install every asset that out lacks; return the names of those installed now."""
    out.mkdir(parents=True, exist_ok=True)
    done = []
    for asset in assets:
        if up_to_date(asset, out):
            continue
        with tempfile.TemporaryDirectory(prefix=".fetch-", dir=out) as temporary:
            temporary = Path(temporary)
            if tarballs is not None:
                tarball = tarballs / asset.tarball_name
                if not tarball.is_file():
                    raise AssetError(f"{tarball} is missing")
            else:
                tarball = _download(asset, temporary)
            verify(asset, tarball)
            staged = temporary / "files"
            unpack(asset, tarball, staged)
            target = out / asset.folder
            if target.exists():
                shutil.rmtree(target)
            staged.rename(target)
        manifest = installed(out)
        manifest[asset.name] = _entry(asset)
        manifest_tmp = out / f".{MANIFEST}.tmp"
        manifest_tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        manifest_tmp.replace(out / MANIFEST)
        done.append(f"{asset.name}@{asset.version}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="default: _vendor/")
    parser.add_argument("--tarballs", type=Path, help="use the tarballs in this folder")
    args = parser.parse_args(argv)
    try:
        done = fetch(args.out, args.tarballs)
    except AssetError as error:
        print(f"fetch_web_assets: {error}", file=sys.stderr)
        return 1
    for name in done:
        print(f"fetch_web_assets: {name} verified and unpacked into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
