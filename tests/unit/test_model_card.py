"""The model card is written from measurements: every figure it states comes from its inputs."""

from __future__ import annotations

from course_tools.model_card import DESCRIPTIONS, ablation_table, card_text
from course_utils.training.recipes import COURSE

COUNTS = {key: [100 + i, 120 + i] for i, key in enumerate(DESCRIPTIONS)}
HISTORY = {
    "val_accuracy": [0.5] * (COURSE.epochs - 10) + [0.97, 0.98] * 5,
    "val_mirrored_accuracy": [0.5] * (COURSE.epochs - 10) + [0.96, 0.99] * 5,
}
ABLATION = {
    "start": {"val_accuracy": 0.99, "val_mirrored_accuracy": 0.6},
    "runs": [
        {
            "mirror_probability": 0.0,
            "val_accuracy": [0.98, 0.99],
            "val_mirrored_accuracy": [0.6, 0.62],
        },
        {
            "mirror_probability": 0.5,
            "val_accuracy": [0.97, 0.99],
            "val_mirrored_accuracy": [0.9, 0.97],
        },
    ],
}


def test_the_card_states_each_measurement_with_its_interval_and_the_recipe():
    card = card_text(COURSE, COUNTS, HISTORY, ABLATION, "ab" * 32, 5400, "Some CPU")
    for key, (right, n) in COUNTS.items():
        assert f"| {DESCRIPTIONS[key]} | {right} of {n}, {right / n:.1%} (" in card
    assert f"`{'ab' * 32}`" in card
    assert f"{COURSE.epochs} epochs, 90 minutes on a 2-core Some CPU" in card
    assert "| `mirror_probability` | 0.5 |" in card
    assert "validation accuracy stayed between\n97.0% and 98.0%" in card
    assert "between\n96.0% and 99.0%" in card
    assert ablation_table(ABLATION) in card


def test_the_ablation_table_gives_the_start_and_the_last_epoch_of_each_run():
    table = ablation_table(ABLATION).splitlines()
    assert table[2] == "| start (never mirrored) | 0 | 99.0% | 60.0% |"
    assert table[3] == "| fine-tuned, 0% mirrored | 2 | 99.0% | 62.0% |"
    assert table[4] == "| fine-tuned, 50% mirrored | 2 | 99.0% | 97.0% |"
