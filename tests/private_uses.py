"""The no-private-internals rule, checked on the syntax tree of the project's Python files.

The rule: no code of the project uses a private attribute of another package (the standard
library, TensorFlow, Keras, Sphinx, Playwright...) or patches one, and nothing changes the import
system; where Keras leaves no public way, the call lives in `course_utils/keras_compat.py` alone,
with a test (tests/unit/test_keras_compat.py) that fails clearly when Keras changes it.

`private_uses(source)` reports, with its line (`project_private_uses` runs it on every file but
keras_compat.py):

- an import of a private module or name of another package: ``from X import _name``,
  ``import X._y``, ``from X._y import name``, anything under ``keras.src``, and the same through
  ``importlib.import_module("X._y")``, ``importlib.util.find_spec`` or ``__import__``;
- a private attribute (one leading underscore, or two without trailing ones) of a name that an
  import of another package bound, at any depth: ``tf._thing``, ``context._context``,
  ``sphinx.builders.html._assets``, ``keras.src``; also ``getattr(tf, "_thing")`` and
  ``hasattr``;
- monkeypatching: an assignment to (or ``del`` of) an attribute of such a name
  (``some_module.function = ...``, ``SomeLibraryClass.method = ...``), or ``setattr`` and
  ``delattr`` on one;
- changes to the import system: a call on ``sys.meta_path`` or ``sys.path_hooks`` (``insert``,
  ``append``...), and replacing ``sys.modules["__main__"]``.

Names are followed through one file's imports only (``obj`` in ``obj._x`` must be an imported
name, or the root of an attribute chain that is one), so ``self._x`` and a private name of the
project's own modules (`course_utils`, `course_tools`, the helper modules of tests/, benchmarks/,
scripts/ and _ext/) are fine.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("course_utils", "course_tools", "tests", "benchmarks", "scripts", "_ext")
SKIPPED_FOLDERS = {".venv", "_build", "student", "checkpoints", "__pycache__"}
COMPAT = Path("course_utils", "keras_compat.py")  # relative to the project's root
# Packages that are private although no part of their name starts with an underscore.
PRIVATE_PACKAGES = ("keras.src",)
IMPORT_HOOKS = ("sys.meta_path", "sys.path_hooks")
DYNAMIC_IMPORTS = ("__import__", "importlib.import_module", "importlib.util.find_spec")


def python_files(root: Path = ROOT) -> list[Path]:
    """Every Python file of the project's code, tests, benchmarks, scripts and extensions."""
    return sorted(
        path
        for folder in FOLDERS
        for path in (root / folder).rglob("*.py")
        if not SKIPPED_FOLDERS & set(path.relative_to(root).parts)
    )


def own_modules(files: list[Path], root: Path = ROOT) -> set[str]:
    """The top-level names of the project's own modules: its two packages, and every module of
    the other folders (their helpers are imported by file name, e.g. ``data_helpers``)."""
    names = {"course_utils", "course_tools"}
    names.update(path.stem for path in files if path.relative_to(root).parts[0] in FOLDERS[2:])
    return names


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_module(dotted: str) -> bool:
    return any(map(is_private, dotted.split("."))) or any(
        dotted == package or dotted.startswith(package + ".") for package in PRIVATE_PACKAGES
    )


class _Checker(ast.NodeVisitor):
    """Collects the private uses of one file (see the module's docstring)."""

    def __init__(self, own: set[str]):
        self.own = own
        self.imported: dict[str, str] = {}  # local name -> what another package's import bound
        self.found: dict[tuple[int, str], None] = {}  # (line, message), in order, once each

    def report(self, node: ast.AST, message: str) -> None:
        self.found[(node.lineno, message)] = None

    def foreign(self, module: str) -> bool:
        return module.split(".")[0] not in self.own

    # What an import binds, and the private modules and names it reaches.
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not self.foreign(alias.name):
                continue
            if private_module(alias.name):
                self.report(node, f"imports the private module {alias.name}")
            if alias.asname:
                self.imported[alias.asname] = alias.name
            else:
                root = alias.name.split(".")[0]
                self.imported[root] = root

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or not self.foreign(module):
            return
        for alias in node.names:
            name = f"{module}.{alias.name}"
            if private_module(module):
                self.report(node, f"imports from the private module {module}")
            elif alias.name != "*" and private_module(name):
                self.report(node, f"imports the private name {name}")
            if alias.name != "*":
                self.imported[alias.asname or alias.name] = name

    def origin(self, node: ast.AST) -> str | None:
        """``node`` as the dotted path of another package's object (``tf.x`` -> ``tensorflow.x``)
        when it is an imported name or an attribute chain rooted at one; None otherwise."""
        if isinstance(node, ast.Name):
            return self.imported.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.origin(node.value)
            return None if base is None else f"{base}.{node.attr}"
        return None

    def visit_Attribute(self, node: ast.Attribute) -> None:
        base = self.origin(node.value)
        if base is not None:
            path = f"{base}.{node.attr}"
            if private_module(path) and not private_module(base):
                self.report(node, f"uses the private {path}")
        self.generic_visit(node)

    def patched(self, target: ast.AST) -> None:
        if isinstance(target, ast.Attribute) and (base := self.origin(target.value)):
            self.report(target, f"patches {base}.{target.attr}")
        elif isinstance(target, ast.Subscript) and self.origin(target.value) == "sys.modules":
            key = target.slice
            if isinstance(key, ast.Constant) and key.value == "__main__":
                self.report(target, "replaces sys.modules['__main__']")
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self.patched(element)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.patched(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign | ast.AnnAssign) -> None:
        self.patched(node.target)
        self.generic_visit(node)

    visit_AnnAssign = visit_AugAssign

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self.patched(target)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        function = self.origin(node.func) or getattr(node.func, "id", None)
        first = self.origin(node.args[0]) if node.args else None
        second = node.args[1] if len(node.args) > 1 else None
        name = second.value if isinstance(second, ast.Constant) else "<attribute>"
        if function in {"setattr", "delattr"} and first:
            self.report(node, f"patches {first}.{name} ({function})")
        elif function in {"getattr", "hasattr"} and first and is_private(str(name)):
            self.report(node, f"uses the private {first}.{name} ({function})")
        elif function in DYNAMIC_IMPORTS and node.args:
            module = node.args[0]
            if isinstance(module, ast.Constant) and isinstance(module.value, str):
                if self.foreign(module.value) and private_module(module.value):
                    self.report(node, f"imports the private module {module.value} ({function})")
        elif isinstance(node.func, ast.Attribute) and self.origin(node.func.value) in IMPORT_HOOKS:
            self.report(node, f"changes the import system ({function})")
        self.generic_visit(node)


def private_uses(source: str, own: set[str] = frozenset()) -> list[tuple[int, str]]:
    """(line, what) of every private use in the Python ``source``; ``own``: the top-level names
    of the project's own modules, whose private names are allowed."""
    tree = ast.parse(source)
    checker = _Checker(set(own))
    # Imports first, wherever they are (a function's own ``import keras`` too): a name an import
    # binds anywhere in the file counts as that import's everywhere in it.
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            checker.visit(node)
    checker.visit(tree)
    return list(checker.found)


def project_private_uses(root: Path = ROOT) -> list[tuple[str, int, str]]:
    """(file, line, what) of every private use in the project, keras_compat.py left out."""
    files = python_files(root)
    own = own_modules(files, root)
    return [
        (path.relative_to(root).as_posix(), line, what)
        for path in files
        if path.relative_to(root) != COMPAT
        for line, what in private_uses(path.read_text(encoding="utf-8"), own)
    ]
