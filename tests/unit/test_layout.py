"""The layout's rules: the tools import the course's package, never the reverse; no module of
either package imports itself back through others (no import cycle); model code imports neither
graders nor training; and no code of the project uses a private attribute of another package or
patches one, except course_utils/keras_compat.py (the rule's check: tests/private_uses.py)."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from private_uses import private_uses, project_private_uses, python_files

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def _write_tree(root, files: dict[str, str]) -> None:
    """Write each source of ``files`` (relative path -> text) under ``root``."""
    for name, source in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(source)


def test_course_utils_never_imports_the_tools():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] == "course_tools"
        )
        for path in (ROOT / "course_utils").rglob("*.py")
    }
    assert not {path: mods for path, mods in offenders.items() if mods}


PACKAGES = ("course_utils", "course_tools")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_time_imports(body):
    """The import statements that run when a module is imported: at module level and in class
    bodies, including under `if` and `try`, not in functions nor under `if TYPE_CHECKING:`."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _import_time_imports(node.orelse)
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                for child in getattr(node, field, []):
                    yield from _import_time_imports([child])


def import_graph(root: Path = ROOT, packages=PACKAGES) -> dict[str, set[str]]:
    """Each module of `packages` -> the modules of `packages` that importing it imports.

    Importing ``a.b.c`` (or ``from a.b import c``) runs the packages ``a`` and ``a.b`` first, so
    they count too, except those the importer belongs to: their ``__init__`` has started before
    any of their modules runs."""
    paths = {
        _module_name(path, root): path
        for package in packages
        for path in (root / package).rglob("*.py")
    }
    graph = {}
    for module, path in paths.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        imported = set()
        for node in _import_time_imports(ast.parse(path.read_text(encoding="utf-8")).body):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                names = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for name in names:
                parts = name.split(".")
                for i in range(1, len(parts) + 1):
                    target = ".".join(parts[:i])
                    if target in paths and not (module + ".").startswith(target + "."):
                        imported.add(target)
        graph[module] = imported
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import one another, directly or through others."""
    reaches = {module: set() for module in graph}
    for module in graph:
        stack = list(graph[module])
        while stack:
            target = stack.pop()
            if target not in reaches[module]:
                reaches[module].add(target)
                stack.extend(graph.get(target, ()))
    cycles = {
        tuple(sorted({module} | {m for m in reaches[module] if module in reaches[m]}))
        for module in graph
        if module in reaches[module]
    }
    return sorted(list(cycle) for cycle in cycles)


def test_no_module_imports_itself_through_others():
    assert import_cycles(import_graph()) == []


def test_the_cycle_rule_finds_an_import_through_a_package(tmp_path):
    files = {
        # The cycle that course_utils.variants once had: model code importing a grader's harness,
        # whose package imports the grader, which imports the model code.
        "pkg/__init__.py": "",
        "pkg/model.py": "from pkg.grading.harness import compare\n",
        "pkg/grading/__init__.py": "from pkg.grading.check import check\n",
        "pkg/grading/harness.py": "import numpy\n",
        "pkg/grading/check.py": "from pkg import model\nfrom pkg.grading.harness import compare\n",
        # Not cycles: an import inside a function, one for type checkers only, and a module
        # importing a sibling through the package it belongs to.
        "pkg/late.py": "def f():\n    from pkg import later\n",
        "pkg/later.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.late\n"
        "from pkg import late\n",
        "other/__init__.py": "from other.a import x\n",
        "other/a.py": "from other.b import y\n",
        "other/b.py": "import os\n",
    }
    _write_tree(tmp_path, files)
    graph = import_graph(tmp_path, ("pkg", "other"))
    assert graph["pkg.model"] == {"pkg.grading", "pkg.grading.harness"}
    assert graph["pkg.later"] == {"pkg.late"}
    assert import_cycles(graph) == [["pkg.grading", "pkg.grading.check", "pkg.model"]]


# Each module imported first in a fresh interpreter, and the packages it must not load.
FIRST_IMPORTS = {
    "course_utils.variants": ("course_utils.grading", "course_utils.training"),
    "course_utils.grading": (),
    "course_utils.training.brief_runs": ("course_utils.grading",),
}


@pytest.mark.parametrize("module", sorted(FIRST_IMPORTS))
def test_a_module_imports_first_in_a_fresh_interpreter(module):
    code = (
        f"import sys\nimport {module}\n"
        "print('\\n'.join(sorted(name for name in sys.modules if name.startswith('course_'))))"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert module in loaded
    assert not [name for name in loaded if name.startswith(FIRST_IMPORTS[module])]


@pytest.mark.parametrize(
    "module", ["course_tools.grade_class", "course_tools.regrade", "course_tools.brief_chapters"]
)
def test_an_instructors_command_starts_without_keras(module):
    """Grading a class and writing the brief chapters import neither Keras nor TensorFlow: their
    kernels and grading processes do, each in its own process."""
    code = f"import sys, {module}\nprint('keras' in sys.modules, 'tensorflow' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]


def test_private_attributes_are_reached_only_through_keras_compat():
    uses = [f"{path}:{line}: {what}" for path, line, what in project_private_uses()]
    assert not uses, (
        "private attributes of other packages used, or a library or the import system patched "
        "(use a public API; where Keras has none, course_utils/keras_compat.py):\n"
        + "\n".join(uses)
    )


def test_the_project_has_python_files_to_check():
    files = {path.relative_to(ROOT).as_posix() for path in python_files()}
    assert {
        "course_utils/keras_compat.py",
        "course_utils/data/paths.py",
        "course_tools/brief_chapters.py",
        "tests/unit/test_layout.py",
        "benchmarks/bench_resnet.py",
        "scripts/book_pdf.py",
        "_ext/book_html.py",
    } <= files
    assert not [name for name in files if name.startswith((".venv", "_build", "student", "data/"))]


OWN = {"course_utils", "course_tools", "data_helpers"}
PLANTED = [
    (
        "import tensorflow as tf\ntf._private_thing\n",
        2,
        "uses the private tensorflow._private_thing",
    ),
    (
        "from sphinx.builders.html._assets import _JavaScript\n",
        1,
        "imports from the private module sphinx.builders.html._assets",
    ),
    (
        "from sphinx.builders.html import _assets\n",
        1,
        "imports the private name sphinx.builders.html._assets",
    ),
    (
        "import sphinx.builders.html._assets\n",
        1,
        "imports the private module sphinx.builders.html._assets",
    ),
    (
        "import sphinx\nsphinx.builders.html._assets._JavaScript(None)\n",
        2,
        "uses the private sphinx.builders.html._assets",
    ),
    (
        "import playwright.sync_api as p\np.something = 1\n",
        2,
        "patches playwright.sync_api.something",
    ),
    (
        "from playwright.async_api import BrowserType\n\nBrowserType.launch = print\n",
        3,
        "patches playwright.async_api.BrowserType.launch",
    ),
    ("import keras\nsetattr(keras.Model, 'fit', print)\n", 2, "patches keras.Model.fit (setattr)"),
    ("import keras\ndel keras.Model.fit\n", 2, "patches keras.Model.fit"),
    ("import keras\nkeras.config.x += 1\n", 2, "patches keras.config.x"),
    (
        "import keras.src.trainers.trainer\n",
        1,
        "imports the private module keras.src.trainers.trainer",
    ),
    ("from keras.src import backend\n", 1, "imports from the private module keras.src"),
    ("from keras import src\n", 1, "imports the private name keras.src"),
    ("import keras\nkeras.src.backend\n", 2, "uses the private keras.src"),
    (
        "import importlib\nimportlib.import_module('keras.src.backend')\n",
        2,
        "imports the private module keras.src.backend (importlib.import_module)",
    ),
    (
        "from tensorflow.python.eager import context\n\n\ndef f():\n    return context._context\n",
        5,
        "uses the private tensorflow.python.eager.context._context",
    ),
    (
        "def f():\n    import atexit\n    atexit._run_exitfuncs()\n",
        3,
        "uses the private atexit._run_exitfuncs",
    ),
    (
        "import tensorflow as tf\ngetattr(tf, '_thing')\n",
        2,
        "uses the private tensorflow._thing (getattr)",
    ),
    (
        "import sys\nsys.meta_path.insert(0, None)\n",
        2,
        "changes the import system (sys.meta_path.insert)",
    ),
    ("import sys\nsys.modules['__main__'] = None\n", 2, "replaces sys.modules['__main__']"),
    (
        "from multiprocessing.forkserver import _forkserver\n",
        1,
        "imports the private name multiprocessing.forkserver._forkserver",
    ),
]


@pytest.mark.parametrize(("source", "line", "what"), PLANTED)
def test_the_rule_reports_a_planted_private_use(source, line, what):
    assert (line, what) in private_uses(source, OWN)


def test_public_and_own_private_names_pass():
    source = """
from __future__ import annotations

import keras
import tensorflow as tf
from data_helpers import _helper
from course_utils.training import _internal


class Model(keras.Model):
    def __init__(self):
        self._x = 1
        self.__dict__.update({})


def f(model, layer=keras.layers.Dense(2)):
    model._private = layer._kernel  # objects of unknown origin: not followed
    _helper._x = tf.__version__
    _internal._y = keras.ops.add(1, 2)
    from course_utils import data
    data._cache = {}
"""
    assert private_uses(source, OWN) == []


def test_the_project_rule_reports_files_and_lines_and_leaves_keras_compat_alone(tmp_path):
    files = {
        "course_utils/keras_compat.py": "import keras\nkeras.src.trainers\n",
        "course_utils/tidy.py": "from course_utils import keras_compat\nkeras_compat._X = 1\n",
        "tests/helpers.py": "_SECRET = 1\n",
        "tests/unit/test_web.py": "import helpers\nimport keras\nhelpers._SECRET\nkeras._x\n",
        "scripts/pdf.py": "import playwright.sync_api as p\np.something = 1\n",
        "tests/.venv/lib/site.py": "import tensorflow as tf\ntf._x\n",
        "_ext/_build/page.py": "import tensorflow as tf\ntf._x\n",
    }
    _write_tree(tmp_path, files)
    assert project_private_uses(tmp_path) == [
        ("scripts/pdf.py", 2, "patches playwright.sync_api.something"),
        ("tests/unit/test_web.py", 4, "uses the private keras._x"),
    ]


def test_no_two_test_modules_share_a_file_name():
    # pytest imports test modules by their file name (the folders are not packages): two modules
    # of one name stop the whole run with "import file mismatch".
    names = [path.name for path in (ROOT / "tests").rglob("test_*.py")]
    assert sorted(name for name in set(names) if names.count(name) > 1) == []
