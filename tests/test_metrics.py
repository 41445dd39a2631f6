"""slam.detection.metrics on hand-built cases: each edge of the DBTex TP rule, duplicates, several boxes, FROC values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from slam.detection.metrics import evaluate, is_true_positive, match_predictions, save_froc_png
from slam.errors import SlamError
from slam.io.csv_formats import GroundTruthBox, Label, Prediction


def gt(x, y, w, h, slice_, uid="S1", view="lcc", depth=40):
    return GroundTruthBox("P", uid, view, "s", slice_, x, y, w, h, "cancer", 0, depth)


def pred(cx, cy, zc, score=0.5, uid="S1", view="lcc", w=20.0, h=20.0, depth=2):
    """A prediction centred at (cx, cy) in pixels and zc in slices (Z + Depth / 2 = zc)."""
    return Prediction("P", uid, view, cx - w / 2, w, cy - h / 2, h, zc - depth / 2, depth, score)


def label(uid="S1", view="lcc"):
    return Label("P", uid, view, 0, 0, 0, 1)


def test_distance_edge_large_box():
    box = gt(1000, 1000, 600, 800, 20)  # centre (1300, 1400), half diagonal 500 > 100
    assert is_true_positive(pred(1300 + 300, 1400 + 400, 20), box)  # exactly 500 px away
    assert not is_true_positive(pred(1300 + 300.01, 1400 + 400, 20), box)


def test_distance_floor_small_box():
    box = gt(500, 500, 20, 20, 20)  # half diagonal 14 px -> the 100 px floor applies
    assert is_true_positive(pred(510 + 100, 510, 20), box)
    assert not is_true_positive(pred(510 + 100.5, 510, 20), box)
    assert not is_true_positive(pred(510 + 30, 510, 20), box, min_dist=17)  # downscaled studies: 10 mm = 17 px
    assert is_true_positive(pred(510 + 17, 510, 20), box, min_dist=17)


def test_slice_edge():
    box = gt(500, 500, 20, 20, 20, depth=40)  # tolerance 40 / 4 = 10 slices
    assert is_true_positive(pred(510, 510, 30), box) and is_true_positive(pred(510, 510, 10), box)
    assert not is_true_positive(pred(510, 510, 30.5), box)
    # Z + Depth / 2 is the centre: Z = 29, Depth = 3 -> 30.5, outside.
    assert not is_true_positive(Prediction("P", "S1", "lcc", 500, 20, 500, 20, 29, 3, 0.5), box)


def test_nearest_box_wins_and_other_volumes_never_match():
    boxes = [gt(0, 0, 100, 100, 20), gt(150, 0, 100, 100, 20), gt(0, 0, 100, 100, 20, view="rcc")]
    preds = [pred(140, 50, 20), pred(60, 50, 21), pred(50, 50, 20, uid="S2"), pred(50, 50, 20, view="rmlo")]
    assert match_predictions(preds, boxes).tolist() == [1, 0, -1, -1]


def test_froc_hand_computed():
    # S1 has two lesions, S2 none. Scores: FP 0.95 on S2, TP1 0.9, FP 0.8 and 0.7 on S1, TP2 0.6,
    # a duplicate hit on TP1's box at 0.5 (neither a new TP nor a FP).
    boxes = [gt(100, 100, 50, 50, 20), gt(1000, 1000, 50, 50, 20)]
    preds = [
        pred(125, 125, 20, 0.9), pred(1025, 1025, 20, 0.6), pred(125, 130, 21, 0.5),
        pred(600, 600, 20, 0.8), pred(125, 125, 2, 0.7), pred(125, 125, 20, 0.95, uid="S2"),
    ]  # fmt: skip
    result = evaluate(preds, boxes, [label("S1"), label("S2")])
    # All volumes (2): points (0, 0), (0.5, 0.5) at 0.9, (1.5, 1.0) at 0.6, then flat.
    assert result.sensitivity_at_2_fps_all == 1.0
    assert result.curve_all.sensitivity_at([1.0])[0] == pytest.approx(0.75)
    # Lesion volumes (S1 only): (0, 0.5) at 0.9, (2, 1.0) at 0.6 -> 0.75, 1, 1, 1.
    assert [result.sensitivity_at_fps_positive[k] for k in (1.0, 2.0, 3.0, 4.0)] == pytest.approx([0.75, 1, 1, 1])
    assert result.mean_sensitivity_positive == pytest.approx(0.9375)
    assert result.n_true_positive_predictions == 3
    assert (result.n_volumes, result.n_positive_volumes, result.n_boxes) == (2, 1, 2)


def test_duplicate_hits_count_once():
    boxes = [gt(100, 100, 50, 50, 20)]
    preds = [pred(125, 125, 20, s) for s in (0.9, 0.8, 0.7)]
    result = evaluate(preds, boxes, [label()])
    assert result.curve_all.sensitivity.max() == 1.0
    assert result.curve_all.fps_per_volume.max() == 0.0


def test_volumes_without_predictions():
    boxes = [gt(100, 100, 50, 50, 20, uid="S1"), gt(100, 100, 50, 50, 20, uid="S2")]
    result = evaluate([pred(125, 125, 20, 0.9, uid="S1")], boxes, [label("S1"), label("S2"), label("S3")])
    assert result.sensitivity_at_2_fps_all == 0.5 and result.mean_sensitivity_positive == 0.5
    empty = evaluate([], boxes, [label("S1"), label("S2")])
    assert empty.sensitivity_at_2_fps_all == 0.0 and empty.mean_sensitivity_positive == 0.0


def test_mismatched_inputs_raise():
    boxes = [gt(100, 100, 50, 50, 20)]
    with pytest.raises(SlamError, match="no row in the labels"):
        evaluate([pred(1, 1, 1, uid="S9")], boxes, [label()])
    with pytest.raises(SlamError, match="no row in the labels"):
        evaluate([], boxes, [label("S2")])
    with pytest.raises(SlamError, match="twice"):
        evaluate([], boxes, [label(), label()])
    with pytest.raises(SlamError, match="no GT boxes"):
        evaluate([], [], [label()])
    with pytest.raises(SlamError, match="VolumeSlices"):
        evaluate([], [boxes[0], gt(0, 0, 5, 5, 3, depth=50)], [label()])


def test_froc_plots(tmp_path):
    rng = np.random.default_rng(0)
    boxes = [gt(100 * i, 100, 50, 50, 20, uid=f"S{i}") for i in range(5)]
    preds = [pred(100 * i + 25 + rng.normal(0, 80), 125, 20, float(rng.random()), uid=f"S{i}") for i in range(5) for _ in range(4)]
    result = evaluate(preds, boxes, [label(f"S{i}") for i in range(6)])
    png = save_froc_png(result, tmp_path / "froc.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.all(np.diff(result.curve_all.fps_per_volume) >= 0)
    assert math.isclose(result.to_dict()["mean_sensitivity_positive"], result.mean_sensitivity_positive)


def test_ground_truth_as_predictions_is_perfect():
    boxes = [gt(100, 100, 50, 50, 20), gt(900, 400, 80, 60, 33), gt(10, 10, 30, 30, 5, uid="S2")]
    preds = [Prediction(b.patient_id, b.study_uid, b.view, b.x, b.width, b.y, b.height, b.slice, 1, 0.9) for b in boxes]
    result = evaluate(preds, boxes, [label("S1"), label("S2"), label("S3")])
    assert result.sensitivity_at_2_fps_all == 1.0 and result.mean_sensitivity_positive == 1.0
    assert result.curve_all.fps_per_volume.max() == 0.0


def test_best_hits_pick_the_highest_scoring_hit():
    from slam.detection.metrics import best_hits

    boxes = [gt(100, 100, 50, 50, 20), gt(900, 400, 80, 60, 33), gt(10, 10, 30, 30, 5, uid="S2")]
    preds = [pred(125, 125, 22, 0.4), pred(130, 120, 17, 0.7), pred(940, 430, 33, 0.2), pred(500, 500, 20, 0.99),
             pred(25, 25, 30, 0.9, uid="S2")]  # fmt: skip
    # box 0: two hits, the 0.7 one is the best; box 1: one hit; box 2: slice 30 vs 5 (> 40/4) -> missed
    assert best_hits(preds, boxes) == {0: 1, 1: 2}
    assert best_hits([], boxes) == {}


def test_froc_curves_of_two_models_in_one_png(tmp_path):
    from slam.detection.metrics import froc_curve, save_froc_curves_png

    a = froc_curve(np.array([0.9, 0.5, 0.3]), np.array([0, -1, 1]), 2, 2)
    b = froc_curve(np.array([0.8, 0.4]), np.array([-1, -1]), 2, 2)
    png = save_froc_curves_png({"SLAM": a, "baseline": b}, tmp_path / "two.png", "two models")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    assert a.sensitivity_at([1.0]) == [1.0] and b.sensitivity_at([1.0]) == [0.0]
