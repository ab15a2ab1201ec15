"""The six handshapes of the course's digits, as a chart: one photo of each digit as the course's
photos show it (a right hand, palm towards the camera), and its mirror image (the left hand).
"""

from __future__ import annotations

import textwrap

import numpy as np

HANDSHAPES = {
    0: "fingertips touch the thumb: an O",
    1: "index finger up",
    2: "index and middle fingers up",
    3: "thumb, index and middle fingers up",
    4: "four fingers up, thumb folded",
    5: "all five fingers spread",
}


def handshape_examples(images: np.ndarray, labels: np.ndarray, signer: int = 0) -> np.ndarray:
    """One image of each digit 0-5, taken from the `signer`-th run of six consecutive digits.

    Args:
        images: uint8 (m, 64, 64, 3).
        labels: the digit of each image, any shape with m elements.
        signer: which example of each digit to take (0: the first).

    Returns:
        uint8 (6, 64, 64, 3), digits 0 to 5 in order.

    Raises:
        ValueError: fewer than `signer + 1` images of some digit.
    """
    labels = np.asarray(labels).ravel()
    examples = []
    for digit in sorted(HANDSHAPES):
        positions = np.flatnonzero(labels == digit)
        if len(positions) <= signer:
            raise ValueError(
                f"{len(positions)} image(s) of digit {digit}, so no example number {signer}: "
                "pass images of all six digits, or a smaller signer."
            )
        examples.append(images[positions[signer]])
    return np.stack(examples)


def plot_handshapes(examples: np.ndarray, hand_labels=("right hand", "left hand")):
    """A 2 x 6 chart: each digit's photo with its handshape, and the photo's mirror image below.

    Args:
        examples: uint8 (6, 64, 64, 3), digits 0 to 5 (`handshape_examples`).
        hand_labels: the titles of the two rows.

    Returns:
        The matplotlib figure.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 6, figsize=(10, 4.1))
    for digit, image in enumerate(examples):
        for row, shown in enumerate((image, image[:, ::-1])):
            ax = axes[row, digit]
            ax.imshow(shown)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0, digit].set_title(f"{digit}\n{textwrap.fill(HANDSHAPES[digit], 18)}", fontsize=8.5)
    for row, label in enumerate(hand_labels):
        axes[row, 0].set_ylabel(label, fontsize=10)
    fig.tight_layout()
    return fig
