"""Accessibility basics of the chapters' sources (the built pages are checked in tests/browser).

- Headings in order: each page opens with its one ``#`` heading and never skips a level.
- Plots readable in greyscale and by colour-blind readers: a chart with several lines gives each
  a colour of the Okabe-Ito palette (or grey) and a line style or marker of its own, so the
  lines differ in more than hue; colour maps are perceptually uniform ones (no rainbow ``jet``).
(Alt text on every figure is checked in test_structure.py and, built, in tests/browser.)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from course_tools.notebooks import cell_source, read_notebook, toc_pages
from course_utils.data.paths import PROJECT_ROOT

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency. Greys and black carry no hue.
OKABE_ITO = {
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#000000",  # black
}
NEUTRAL = {"black", "grey", "gray", "white", "#999999", "#666666", "#333333", "k"}
SAFE_COLOUR_MAPS = {"cividis", "viridis", "gray", "grey", "Greys", "binary", "magma", "inferno"}
SAFE_COLOUR_MAPS |= {name + "_r" for name in SAFE_COLOUR_MAPS}
LINE_CALLS = {"plot", "semilogy", "semilogx", "loglog", "errorbar", "step"}
# Chapters whose plots are known to need a fix (in the chapter, not here); see the reason.
KNOWN_PALETTE_GAPS: dict[str, str] = {}


def _toc_sources() -> list[Path]:
    names = toc_pages()
    sources = []
    for name in names:
        for suffix in (".ipynb", ".md"):
            if (PROJECT_ROOT / f"{name}{suffix}").is_file():
                sources.append(PROJECT_ROOT / f"{name}{suffix}")
    return sources


SOURCES = _toc_sources()
NOTEBOOKS = [path for path in SOURCES if path.suffix == ".ipynb"]


def _markdown(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text()
    nb = read_notebook(path)
    return "\n\n".join(cell_source(c) for c in nb.cells if c.cell_type == "markdown")


def _heading_levels(markdown: str) -> list[int]:
    levels, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and (match := re.match(r"(#{1,6}) \S", line)):
            levels.append(len(match.group(1)))
    return levels


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.stem)
def test_headings_open_with_one_title_and_skip_no_level(path):
    levels = _heading_levels(_markdown(path))
    assert levels and levels[0] == 1 and levels.count(1) == 1, levels
    for previous, level in zip(levels, levels[1:], strict=False):
        assert level <= previous + 1, f"{path.name}: heading level {previous} then {level}"


def _keyword(call: ast.Call, *names: str):
    return next((kw.value for kw in call.keywords if kw.arg in names), None)


def _literal(node):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return None


def _style_dicts(tree: ast.AST) -> list[dict]:
    """Dict literals (and dict(...) calls) with a colour: the chapters' style tables."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "dict":
            style = {kw.arg: _literal(kw.value) for kw in node.keywords if kw.arg}
        elif isinstance(node, ast.Dict):
            style = {_literal(k): _literal(v) for k, v in zip(node.keys, node.values, strict=True)}
        else:
            continue
        if "color" in style:
            found.append(style)
    return found


def _safe_colour(colour) -> bool:
    return str(colour).upper() in OKABE_ITO or colour in NEUTRAL


def palette_problems(source: str) -> list[str]:
    """Why the plots drawn by this code would be hard to read in greyscale or for colour-blind
    readers (empty when they are fine)."""
    problems = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        cmap = _keyword(node, "cmap")
        if cmap is not None and _literal(cmap) not in SAFE_COLOUR_MAPS:
            problems.append(f"colour map {ast.unparse(cmap)} (use cividis, viridis or grey)")
    styles = _style_dicts(tree)
    for style in styles:
        if not _safe_colour(style["color"]):
            problems.append(f"colour {style['color']} is not in the Okabe-Ito palette")
    # Lines drawn by one cell in a loop or by several calls are series to tell apart.
    lines = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in LINE_CALLS
    ]
    in_loop = {
        id(call)
        for loop in ast.walk(tree)
        if isinstance(loop, ast.For)
        for call in ast.walk(loop)
        if call in lines
    }
    series = [call for call in lines if len(lines) > 1 or id(call) in in_loop]
    looks = []
    for call in series:
        if any(kw.arg is None for kw in call.keywords):
            continue  # **STYLE[name]: a style table, checked above
        text = ast.unparse(call)[:70]
        colour = _keyword(call, "color", "c")
        if colour is None:
            problems.append(f"{text}: no colour (matplotlib's default colour cycle)")
        elif _literal(colour) is not None and not _safe_colour(_literal(colour)):
            problems.append(f"{text}: colour {_literal(colour)} is not in the Okabe-Ito palette")
        look = (_keyword(call, "linestyle", "ls"), _keyword(call, "marker"))
        constant = all(value is None or _literal(value) is not None for value in look)
        if id(call) in in_loop and constant or all(value is None for value in look):
            problems.append(
                f"{text}: the lines differ only in colour (vary the line style or marker)"
            )
        elif constant:
            looks.append(tuple(_literal(value) for value in look))
    if len(looks) != len(set(looks)):
        problems.append(f"two lines share a line style and marker: {looks}")
    tables = [(s.get("linestyle"), s.get("marker")) for s in styles if len(styles) > 1]
    if len(tables) != len(set(tables)):
        problems.append(f"two styles share a line style and marker: {tables}")
    return problems


def test_the_palette_check_accepts_okabe_ito_styles_and_rejects_default_colours():
    good = """
STYLE = {"a": dict(color="#0072B2", linestyle="-", marker="^"),
         "b": dict(color="#D55E00", linestyle="--", marker="o")}
for name in STYLE:
    ax.plot(x, y, **STYLE[name])
ax.imshow(m, cmap="cividis")
"""
    assert palette_problems(good) == []
    bad = """
for residual in (False, True):
    ax.semilogy(x, y, marker="o")
ax.imshow(m, cmap="jet")
"""
    problems = "\n".join(palette_problems(bad))
    assert "no colour" in problems and "differ only in colour" in problems
    assert "colour map 'jet'" in problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_plots_are_readable_in_greyscale_and_for_colour_blind_readers(path, request):
    if path.stem in KNOWN_PALETTE_GAPS:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_PALETTE_GAPS[path.stem]))
    nb = read_notebook(path)
    problems = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            source = cell_source(cell)
            try:
                problems += palette_problems(source)
            except SyntaxError:  # IPython magics: not plots
                continue
    assert problems == []
