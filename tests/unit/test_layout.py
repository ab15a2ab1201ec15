"""The layout's rules: the tools import the course's package, never the reverse, and no code of
the project uses a private attribute of the standard library or of TensorFlow."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON_FILES = sorted(
    path
    for folder in ("course_utils", "course_tools", "tests", "benchmarks", "scripts", "_ext")
    for path in (ROOT / folder).rglob("*.py")
)
# Spelt in pieces, so that a search of the project for these names does not find this file.
PRIVATE = re.compile(
    "|".join(
        [
            "_fork" + "server",
            "atexit" + r"\._",
            "_context" + r"\._context",
            "sys" + r"\.modules\[.__main__.\] =",
        ]
    )
)


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_course_utils_never_imports_the_tools():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] == "course_tools"
        )
        for path in (ROOT / "course_utils").rglob("*.py")
    }
    assert not {path: mods for path, mods in offenders.items() if mods}


def test_private_attributes_are_reached_only_through_keras_compat():
    this_file = Path(__file__).resolve()
    uses = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in PYTHON_FILES
        if path != this_file
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PRIVATE.search(line) or ("keras.src" in line and path.name != "keras_compat.py")
    ]
    assert not uses, "private attributes used:\n" + "\n".join(uses)
