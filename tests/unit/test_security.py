"""Nothing the course loads can run code: no pickle, no pickled NumPy arrays, no full-model loading
of files from elsewhere (weights only), and archive extraction that stays inside its folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from course_tools.notebooks import BOOK_DIR, cell_source, read_notebook
from course_utils.data.paths import PROJECT_ROOT

FORBIDDEN = {
    r"\bimport pickle\b|\bfrom pickle\b|\bpickle\.loads?\(": "pickle runs code from the file",
    r"\bcloudpickle\b|\bdill\b|\bjoblib\.load\(": "a pickle-based loader",
    r"allow_pickle\s*=\s*True": "np.load with allow_pickle=True unpickles objects",
    r"\bload_model\(": "full-model loading can deserialise code; load weights instead",
    r"safe_mode\s*=\s*False": "Keras safe mode must stay on",
    r"\btorch\.load\(": "torch.load unpickles",
    r"\.extractall\(": "extract member by member after checking each path",
}


def _sources() -> list[tuple[str, str]]:
    files = [
        *sorted((PROJECT_ROOT / "course_utils").rglob("*.py")),
        *sorted((PROJECT_ROOT / "course_tools").rglob("*.py")),
        *sorted((PROJECT_ROOT / "benchmarks").rglob("*.py")),
    ]
    sources = [(str(p.relative_to(PROJECT_ROOT)), p.read_text()) for p in files]
    for notebook in sorted(Path(BOOK_DIR).glob("*.ipynb")):
        nb = read_notebook(notebook)
        code = "\n".join(cell_source(c) for c in nb.cells if c.cell_type == "code")
        sources.append((str(notebook.relative_to(PROJECT_ROOT)), code))
    return sources


@pytest.mark.parametrize("pattern", sorted(FORBIDDEN))
def test_no_unsafe_loading_in_the_package_benchmarks_or_chapters(pattern):
    offenders = [name for name, text in _sources() if re.search(pattern, text)]
    assert offenders == [], f"{FORBIDDEN[pattern]}: {offenders}"


def test_every_np_load_refuses_pickles_explicitly():
    for name, text in _sources():
        for call in re.findall(r"np\.load\([^)]*\)", text):
            assert "allow_pickle=False" in call, f"{name}: {call}"
