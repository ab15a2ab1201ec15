"""Stored progress bars are kept as the screen showed them at the end, not as every redraw."""

from __future__ import annotations

import nbformat

from course_tools.terminal_text import settle, settle_streams


def test_carriage_returns_and_backspaces_redraw_the_line():
    assert settle("1/3 ...\r2/3 ...\r3/3 done\n") == "3/3 done\n"
    assert settle("abc\b\bXY\n") == "aXY\n"
    assert settle("\b\b\rok") == "ok"


def test_lines_ended_by_newlines_are_kept():
    assert settle("Epoch 1/2\n1/1 step\r1/1 done - loss 0.5\nEpoch 2/2\n") == (
        "Epoch 1/2\n1/1 done - loss 0.5\nEpoch 2/2\n"
    )
    assert settle("plain text\nno control characters") == "plain text\nno control characters"


def test_a_keras_progress_bar_settles_to_its_last_state():
    redraws = "\r 1/29 ━ loss: 3.3\b\b\b\b\r29/29 ━━━━ loss: 1.98"
    assert settle("Epoch 1/5\n" + redraws + " - val_loss: 10.6\n") == (
        "Epoch 1/5\n29/29 ━━━━ loss: 1.98 - val_loss: 10.6\n"
    )


def test_streams_of_a_cell_are_merged_by_name_and_settled():
    cell = nbformat.v4.new_code_cell("fit()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="Epoch 1/1\n"),
        nbformat.v4.new_output("stream", name="stdout", text="\r1/2 loss 2"),
        nbformat.v4.new_output("stream", name="stdout", text="\b\b\b\r2/2 loss 1\n"),
        nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"}),
        nbformat.v4.new_output("stream", name="stdout", text="after\n"),
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    settle_streams(nb)
    assert [o.output_type for o in cell.outputs] == ["stream", "display_data", "stream"]
    assert cell.outputs[0].text == "Epoch 1/1\n2/2 loss 1\n"
    assert cell.outputs[2].text == "after\n"
