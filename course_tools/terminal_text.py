"""Stored stream outputs as a terminal shows them at the end.

Progress bars (Keras's `fit` and `evaluate` among them) redraw their line with backspaces and
carriage returns. JupyterLab applies these as it receives them, so the learner sees one line per
epoch; stored as received, the output would hold every redraw, and the rendered book would show
the control characters. `settle_streams` merges each cell's consecutive stream outputs of one
name and applies the control characters, leaving what the screen showed when the cell finished.
"""

from __future__ import annotations

from nbformat import NotebookNode


def settle(text: str) -> str:
    """`text` after applying backspaces (one column back) and carriage returns (line start)."""
    lines: list[str] = []
    line: list[str] = []
    column = 0
    for char in text:
        if char == "\n":
            lines.append("".join(line))
            line, column = [], 0
        elif char == "\r":
            column = 0
        elif char == "\b":
            column = max(column - 1, 0)
        else:
            if column < len(line):
                line[column] = char
            else:
                line.append(char)
            column += 1
    tail = "".join(line)
    return "\n".join(lines) + ("\n" + tail if lines and tail else "\n" if lines else tail)


def settle_streams(nb: NotebookNode) -> None:
    """Merge consecutive stream outputs of the same name in every code cell and settle them."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged: list[NotebookNode] = []
        for output in cell.get("outputs", []):
            if (
                output.output_type == "stream"
                and merged
                and merged[-1].output_type == "stream"
                and merged[-1].name == output.name
            ):
                merged[-1].text += output.text
            else:
                merged.append(output)
        for output in merged:
            if output.output_type == "stream" and ("\r" in output.text or "\b" in output.text):
                output.text = settle(output.text)
        cell.outputs = merged
