"""Your functions, kept from chapter to chapter.

When an exercise's check passes, its check cell calls `save_my_function`, which writes the
function's source, with the imports it needs, into `my_resnet.py` in the notebooks' folder (in the
spirit of d2l.ai's saved functions). Later chapters take your functions from there with
`my_functions`, and fall back to the course's reference (`course_utils.resnet`), saying so, for a
function you have not saved yet.

Chapter 5 saves the weights of the model you trained into `my_resnet.weights.h5` beside it
(`save_my_weights`); chapter 6 evaluates that model (`my_trained_model`), or the course's shipped
weights, saying so, where you have none yet.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import os
import sys
import tempfile
import types
import warnings
from collections.abc import Callable
from pathlib import Path

from course_utils import resnet
from course_utils.atomic_files import write_text_atomic
from course_utils.weights import load_shipped_weights

MY_CODE_FILE = "my_resnet.py"
MY_WEIGHTS_FILE = "my_resnet.weights.h5"
MODULE_NAME = "my_resnet"
# The chapter whose check saves each function, to tell the learner where to go.
CHAPTER_OF = {"identity_block": 2, "convolutional_block": 3, "ResNet50": 4}
HEADER = '''"""Your ResNet-50 code, saved by the course's check cells when each function passed.

Later chapters import it with `course_utils.my_code.my_functions`. Edit your notebooks rather than
this file: the next passing check rewrites the function it saves.
"""
'''


class CannotSave(Exception):
    """The function cannot be written to a file of its own; the message says why."""


def my_code_path(folder: Path | str | None = None) -> Path:
    """`my_resnet.py` in `folder`, by default the current folder (the notebooks' folder)."""
    return Path(folder if folder is not None else Path.cwd()) / MY_CODE_FILE


def save_my_function(function: Callable, folder: Path | str | None = None) -> None:
    """Save `function`'s source, and the imports it needs, into `my_resnet.py`.

    A function of the same name saved before is replaced; the others are kept. Prints one line
    saying what happened. Never raises: a function that cannot be saved (it uses something defined
    only in the notebook, say) is reported and left out, and later chapters use the reference.

    Returns nothing, so that a check cell shows only the sentences; `saved_function_names` tells
    what the file holds.
    """
    name = getattr(function, "__name__", repr(function))
    path = my_code_path(folder)
    try:
        source = _function_source(function)
        imports = _imports_for(function, saved_names=_saved_names(path) | {name})
        write_text_atomic(_merged(path, name, source, imports), path)
    except CannotSave as reason:
        print(f"{name} was not saved for later chapters: {reason}")
        return
    except OSError as error:
        print(f"{name} was not saved for later chapters: cannot write {path} ({error.strerror}).")
        return
    print(f"Saved your {name} to {path.name}; the next chapters use it.")


def saved_function_names(folder: Path | str | None = None) -> set[str]:
    """The names of the functions saved in `my_resnet.py` (empty if there is none)."""
    return _saved_names(my_code_path(folder))


def my_functions(*names: str, folder: Path | str | None = None) -> tuple[Callable, ...]:
    """Your saved functions `names`, each falling back to the course's reference.

    Prints, for each name, whether it is yours (from `my_resnet.py`) or the reference's.

    Returns:
        The functions, in the order of `names`.
    """
    path = my_code_path(folder)
    module = _load(path)
    found = []
    for name in names:
        function = getattr(module, name, None) if module is not None else None
        if callable(function):
            print(f"{name}: yours, from {path.name}")
        else:
            function = getattr(resnet, name)
            chapter = CHAPTER_OF.get(name)
            where = f" (pass chapter {chapter}'s check to use yours)" if chapter else ""
            print(f"{name}: the course's reference, course_utils.resnet.{name}{where}")
        found.append(function)
    return tuple(found)


def my_weights_path(folder: Path | str | None = None) -> Path:
    """`my_resnet.weights.h5` in `folder`, by default the current folder (the notebooks')."""
    return my_code_path(folder).with_name(MY_WEIGHTS_FILE)


def save_my_weights(model, folder: Path | str | None = None) -> None:
    """Save the weights of `model`, your trained ResNet-50, into `my_resnet.weights.h5` in
    `folder` (by default the current one), replacing the file atomically. Prints one line."""
    path = my_weights_path(folder)
    with tempfile.TemporaryDirectory(prefix=".my-weights-", dir=path.parent) as staging:
        written = Path(staging) / MY_WEIGHTS_FILE
        model.save_weights(written)
        os.replace(written, path)
    print(f"Saved your trained weights to {path.name}; chapter 6 evaluates them.")


def my_trained_model(folder: Path | str | None = None):
    """Your `ResNet50` (`my_functions`) for (64, 64, 3) images and 6 classes, with your weights
    from `my_resnet.weights.h5` in `folder` (by default the current one).

    Where that file is missing, or its weights do not fit the model (a `ResNet50` changed since),
    the course's shipped weights are loaded instead (`course_utils.weights.load_shipped_weights`).
    Prints whose function and whose weights the model has.
    """
    (build,) = my_functions("ResNet50", folder=folder)
    model = build(input_shape=(64, 64, 3), classes=6)
    path = my_weights_path(folder)
    if not path.is_file():
        print(
            f"weights: the course's shipped weights, since there is no {path.name} yet "
            "(chapter 5 saves it after you train your model with your fix)"
        )
        return load_shipped_weights(model)
    problem = _weights_problem(model, path)
    if problem:
        print(
            f"weights: the course's shipped weights, since {path.name} does not fit this "
            f"ResNet50 ({problem}); train it again in chapter 5"
        )
        return load_shipped_weights(model)
    print(f"weights: yours, from {path.name}")
    return model


def _weights_problem(model, path: Path) -> str | None:
    """Load `path` into `model`; why it does not fit, or None. Keras loads a file whose layers
    only partly match with a warning per layer left as it was: that counts as not fitting."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(path)
        except (ValueError, OSError) as error:
            return f"{type(error).__name__}: {str(error).splitlines()[0]}"
    if caught:
        return str(caught[0].message).splitlines()[0]
    return None


def _load(path: Path) -> types.ModuleType | None:
    """The module in `path`, freshly executed, or None if there is none or it does not load."""
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(MODULE_NAME)
    sys.modules[MODULE_NAME] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        print(f"{path.name} could not be loaded ({type(error).__name__}: {error}); ignoring it.")
        if previous is not None:
            sys.modules[MODULE_NAME] = previous
        else:
            del sys.modules[MODULE_NAME]
        return None
    return module


def _function_source(function: Callable) -> str:
    if not inspect.isfunction(function):
        raise CannotSave(f"it is a {type(function).__name__}, not a function defined with def")
    if function.__name__ == "<lambda>":
        raise CannotSave("it is a lambda (an anonymous function); write it with def and a name")
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError) as error:
        raise CannotSave(f"its source is not available ({error})") from None
    source = inspect.cleandoc("\n" + source) if source.startswith((" ", "\t")) else source
    tree = ast.parse(source)
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        raise CannotSave("its source is not a single function definition")
    if tree.body[0].decorator_list:
        raise CannotSave("it has a decorator")
    return source.rstrip() + "\n"


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _global_names(constant)
    return names


def _imports_for(function: Callable, saved_names: set[str]) -> set[str]:
    """The import lines for every global name `function` uses, from where it got them."""
    namespace = function.__globals__
    lines = set()
    for name in sorted(_global_names(function.__code__)):
        if name in saved_names or name not in namespace:
            continue  # saved beside it, a builtin, or an attribute name
        lines.add(_import_line(name, namespace[name]))
    return lines


def _import_line(name: str, value) -> str:
    if isinstance(value, types.ModuleType):
        module = value.__name__
        parent, _, last = module.rpartition(".")
        if last == name and parent:
            return f"from {parent} import {name}"
        return (
            f"import {module}" if last == name or module == name else f"import {module} as {name}"
        )
    if getattr(value, "__module__", None) == MODULE_NAME:
        return f"from course_utils.resnet import {name}"  # replaced by the learner's when saved
    home = (getattr(value, "__module__", None) or "").partition(".")[0]

    def preference(module_name: str) -> tuple:
        # The object's own package first (keras.initializers for a Keras class), then the shortest.
        return (module_name.partition(".")[0] != home, module_name.count("."), len(module_name))

    for module_name in sorted(sys.modules, key=preference):
        if module_name in (MODULE_NAME, "__main__") or any(
            part.startswith("_") or part == "src" for part in module_name.split(".")
        ):
            continue
        module = sys.modules[module_name]
        try:
            if getattr(module, name, None) is value:
                return f"from {module_name} import {name}"
        except Exception:
            continue
    raise CannotSave(
        f"it uses {name}, which is defined in the notebook only; move it inside the function or "
        "import it from a module"
    )


def _saved_names(path: Path) -> set[str]:
    return set(_saved_functions(path)) if path.is_file() else set()


def _saved_functions(path: Path) -> dict[str, str]:
    try:
        text = path.read_text()
        tree = ast.parse(text)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    return {
        node.name: ast.get_source_segment(text, node) + "\n"
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


def _saved_imports(path: Path) -> set[str]:
    try:
        text = path.read_text()
        tree = ast.parse(text)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return set()
    return {
        ast.get_source_segment(text, node)
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
    }


def _merged(path: Path, name: str, source: str, imports: set[str]) -> str:
    functions = _saved_functions(path) if path.is_file() else {}
    functions[name] = source
    # An import of a name now saved in the file itself would shadow the learner's own function.
    wanted = (_saved_imports(path) | imports) if path.is_file() else imports
    wanted = {line for line in wanted if line.rsplit(" ", 1)[-1] not in functions}
    order = list(CHAPTER_OF) + sorted(set(functions) - set(CHAPTER_OF))
    body = "\n\n".join(functions[n] for n in order if n in functions)
    return HEADER + "\n" + "\n".join(sorted(wanted)) + "\n\n\n" + body
