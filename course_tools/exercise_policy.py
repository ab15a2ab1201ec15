"""What an exercise cell may contain when it is graded outside the notebook
(`course_tools.regrade`), checked on its syntax tree.

An exercise cell may hold:

* imports from keras, tensorflow, numpy and math, at its top or in a function;
* function definitions;
* constants (names bound to values) and docstrings;
* calls of the objects the exercise is given (chapter 5's ``model.compile(...)``).

Nowhere in it, functions included, may it use a name or an attribute that starts with an underscore,
a builtin that reaches outside the cell (``open``, ``eval``, ``getattr``, ``globals``...), an
attribute that names a module of the system or a file operation (``.sys``, ``.os``, ``.save``...),
or a class definition.
The grading process enforces the same limits at run time: the cell runs with `SAFE_BUILTINS` only,
and its imports go through `restricted_import`.
"""

from __future__ import annotations

import ast
import builtins

ALLOWED_MODULES = ("keras", "tensorflow", "numpy", "math")

SAFE_BUILTINS = (
    "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "format",
    "frozenset", "int", "isinstance", "len", "list", "map", "max", "min", "pow", "print",
    "range", "repr", "reversed", "round", "set", "slice", "sorted", "str", "sum", "tuple", "zip",
    "Exception", "ArithmeticError", "AssertionError", "AttributeError",
    "IndexError", "KeyError", "NotImplementedError", "RuntimeError", "TypeError", "ValueError",
    "ZeroDivisionError",
)  # fmt: skip

# Attributes that lead out of the cell: modules of the system, files, the process.
DENIED_ATTRIBUTES = frozenset(
    {
        "sys", "os", "subprocess", "builtins", "importlib", "gc", "inspect", "ctypes",
        "ctypeslib", "shutil", "pathlib", "signal", "threading", "multiprocessing", "socket",
        "pickle", "marshal", "posix", "io", "gfile", "raw_ops", "compat", "src", "f2py",
        "testing", "lib", "distutils", "summary", "debugging", "print", "system", "popen",
        "open", "save", "savez", "savez_compressed", "savetxt", "tofile", "fromfile", "load",
        "loadtxt", "write", "writelines", "write_file", "read_file", "memmap",
    }
)  # fmt: skip

TOP_LEVEL_KINDS = "imports, function definitions and constants"


def policy_problems(source: str, cell: str, given: tuple[str, ...] = ()) -> list[str]:
    """Why ``source``, the exercise cell ``cell``, may not be graded outside the notebook: one
    sentence per problem, each naming its line and what to remove; empty when it may.

    Args:
        given: the names of the objects the exercise is given, whose methods the cell may call
            at its top level (chapter 5: ``("model",)``).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return [f"the exercise cell {cell} is not valid Python (line {error.lineno}): {error.msg}"]
    problems = []
    for statement in tree.body:
        problem = _top_level_problem(statement, given)
        if problem:
            problems.append(f"line {statement.lineno}: {problem}")
    for node in ast.walk(tree):
        problem = _node_problem(node)
        if problem:
            problems.append(f"line {node.lineno}: {problem}")
    return [f"the exercise cell {cell}, {problem}" for problem in problems]


# Statements allowed at the top of an exercise cell, besides expressions (see below).
TOP_LEVEL_ALLOWED = (
    ast.Import,
    ast.ImportFrom,
    ast.FunctionDef,
    ast.Pass,
    ast.Assign,
    ast.AnnAssign,
    ast.AugAssign,
)
TOP_LEVEL_REFUSED = {
    ast.ClassDef: "a class definition",
    ast.For: "a for loop",
    ast.While: "a while loop",
    ast.If: "an if statement",
    ast.With: "a with statement",
    ast.Try: "a try statement",
    ast.Delete: "a del statement",
    ast.Raise: "a raise statement",
    ast.AsyncFunctionDef: "an async function",
    ast.Global: "a global statement",
}


def _top_level_problem(statement: ast.stmt, given: tuple[str, ...]) -> str | None:
    if isinstance(statement, TOP_LEVEL_ALLOWED):
        return None
    if isinstance(statement, ast.Expr):
        value = statement.value
        if isinstance(value, ast.Constant):
            return None
        if isinstance(value, ast.Call) and _root_name(value.func) in given:
            return None
        return (
            "a statement that runs when the cell runs: an exercise cell holds "
            f"{TOP_LEVEL_KINDS}; remove it or move it into your function"
        )
    kind = type(statement)
    what = TOP_LEVEL_REFUSED.get(kind, f"a {kind.__name__} statement")
    return f"{what}: an exercise cell holds {TOP_LEVEL_KINDS}; remove it or move it into a function"


def _node_problem(node: ast.AST) -> str | None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            problem = _module_problem(alias.name)
            if problem:
                return problem
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            return "a relative import: import only from " + ", ".join(ALLOWED_MODULES)
        problem = _module_problem(node.module or "")
        if problem:
            return problem
        for alias in node.names:
            if alias.name == "*":
                return f"`from {node.module} import *`: import the names you use by name"
            if alias.name.startswith("_") or alias.name in DENIED_ATTRIBUTES:
                return f"`from {node.module} import {alias.name}`: remove it"
    elif isinstance(node, ast.Name):
        if node.id.startswith("__"):
            return f"`{node.id}` reaches outside the cell: remove it"
        if hasattr(builtins, node.id) and node.id not in SAFE_BUILTINS:
            return f"`{node.id}` reaches outside the cell: remove it"
    elif isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            return f"`.{node.attr}`: an exercise cell uses no name that starts with _; remove it"
        if node.attr in DENIED_ATTRIBUTES:
            return f"`.{node.attr}` reaches outside the cell: remove it"
    elif isinstance(node, ast.Global | ast.Nonlocal):
        return "a global or nonlocal statement: remove it"
    elif isinstance(node, ast.ClassDef):
        return "a class definition: an exercise needs none; remove it"
    return None


def _module_problem(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] not in ALLOWED_MODULES:
        return (
            f"`import {module}`: an exercise cell imports only from "
            f"{', '.join(ALLOWED_MODULES)}; remove it"
        )
    bad = [part for part in parts[1:] if part.startswith("_") or part in DENIED_ATTRIBUTES]
    if bad:
        return f"`import {module}`: remove it"
    return None


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def restricted_import(name, globals=None, locals=None, fromlist=(), level=0):
    """``__import__`` for an exercise cell: the allowed modules only."""
    if level or name.split(".")[0] not in ALLOWED_MODULES:
        raise ImportError(f"an exercise cell imports only from {', '.join(ALLOWED_MODULES)}")
    return __import__(name, globals, locals, fromlist, level)


def safe_builtins() -> dict:
    """The builtins an exercise cell runs with: SAFE_BUILTINS and the restricted import."""
    names = {name: getattr(builtins, name) for name in SAFE_BUILTINS}
    names["__import__"] = restricted_import
    return names
