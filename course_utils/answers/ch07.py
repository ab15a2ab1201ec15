"""Answer keys of chapter 7's end-of-chapter questions (see `course_utils.questions`)."""

from course_utils.questions import Answer

IMAGENET_SIZE = 224  # the input side in question 7.1


def stage4_grid(size: int = IMAGENET_SIZE) -> tuple[int, int]:
    """(cells, pixels): the side of stage 4's grid for (size, size, 3) inputs, and the width of
    the square each cell lies over. The stem pads by 3, convolves 7 x 7 with stride 2 and
    max-pools 3 x 3 with stride 2 (both 'valid'); stage 3's and stage 4's first blocks halve the
    grid with strided 1 x 1 convolutions (ceil, since a 1 x 1 window fits at every stride)."""
    side = (size + 2 * 3 - 7) // 2 + 1  # conv1
    side = (side - 3) // 2 + 1  # max pooling: stage 2's grid
    for _ in range(2):  # the strides of stages 3 and 4
        side = (side - 1) // 2 + 1
    return side, size // side


ANSWERS = {
    "7.1": Answer(
        expected=stage4_grid,
        hint="follow the side of the grid through the layers: (n + 2p - f) // s + 1 for the stem's "
        "convolution and pooling, then halve it (rounding up) at stages 3 and 4. Answer with a "
        "tuple (cells, pixels).",
    ),
}
