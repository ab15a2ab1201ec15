"""Draw a Keras model in a notebook, or show a stored drawing where Graphviz is missing.

``keras.utils.plot_model`` needs pydot and Graphviz's ``dot`` program. Without them it prints
an installation hint (in IPython) or raises; a chapter should instead explain and still show the
architecture. :func:`show_model_diagram` does that.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from IPython.display import Image, Markdown, display


def graphviz_available() -> bool:
    """True when pydot can be imported and Graphviz's ``dot`` program is on the PATH."""
    try:
        import pydot  # noqa: F401
    except ImportError:
        return False
    return shutil.which("dot") is not None


def show_model_diagram(
    model, stored_image: str | Path, *, width: int | None = None, **plot_kwargs
) -> Image | None:
    """Display ``keras.utils.plot_model(model)``, or ``stored_image`` with a note explaining why.

    Args:
        model: a built Keras model.
        stored_image: a PNG of the same diagram, shown when Graphviz is not installed.
        width: display width in pixels (None: the image's own width).
        **plot_kwargs: passed to ``keras.utils.plot_model`` (``show_shapes=True``, ``dpi`` ...).

    Returns:
        The image displayed (its PNG bytes in ``.data``), or None when neither could be displayed
        (a note says why; this function never raises for a missing Graphviz or image).
    """
    if graphviz_available():
        import keras

        # A folder of its own, removed once the drawing is read: two notebooks drawing the same
        # model must not share a file, and no drawing is left behind.
        with tempfile.TemporaryDirectory(prefix="course-diagram-") as folder:
            target = Path(folder) / f"{model.name}.png"
            try:
                keras.utils.plot_model(model, to_file=str(target), **plot_kwargs)
            except (ImportError, OSError) as error:  # dot is present but failed
                display(Markdown(f"*Graphviz could not draw the model ({error}).*"))
            else:
                image = Image(filename=str(target), width=width)  # reads the PNG now
                display(image)
                return image

    stored = Path(stored_image)
    if stored.is_file():
        display(
            Markdown(
                "**Note:** Graphviz's `dot` program is not installed here, so "
                "`keras.utils.plot_model` cannot draw the model. Below is the same diagram, drawn "
                "when the book was built. To draw it yourself, install Graphviz "
                "(`sudo apt-get install graphviz` or `conda install graphviz`) and run this "
                "cell again."
            )
        )
        image = Image(filename=str(stored), width=width)
        display(image)
        return image
    display(
        Markdown(
            "**Note:** Graphviz's `dot` program is not installed here and the stored diagram "
            f"`{stored}` was not found, so the model cannot be drawn."
        )
    )
    return None
