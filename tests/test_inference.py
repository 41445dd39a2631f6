"""slam.detection.predictor and slam.detection.baseline: coordinates back to original pixels/slices on flipped, non-square studies."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import breast_volume

from slam.detection.baseline import merge_slices
from slam.detection.config import ModelConfig
from slam.detection.inputs import box_to_input, volume_to_input
from slam.detection.model import build_model
from slam.detection.postprocess import (
    PostProcess,
    attention_depth,
    filter_boxes,
    keep_best,
    on_background,
    peak_slice,
    rescore_by_slices,
    slice_run,
    slice_weights_over_volume,
    suppress_overlaps,
)
from slam.detection.predictor import Predictor
from slam.detection.sampling import sample_indices
from slam.errors import SlamError
from slam.io import load_study, write_volume_dicom

INPUT = (64, 96)  # (h, w): the 150 x 100 study is scaled by 100/96 in x and 150/64 in y
MARKER = (10, 20, 20, 30)  # stored x, y, width, height of a bright block on slice 5


@pytest.fixture(scope="module")
def flipped_study(tmp_path_factory):
    volume = breast_volume(depth=11, rows=150, cols=100, chest_wall="L")
    x, y, w, h = MARKER
    volume[5, y : y + h, x : x + w] = 4000
    path = write_volume_dicom(tmp_path_factory.mktemp("s") / "v.dcm", volume, laterality="R", view="CC",
                              bits_stored=12, window_center=2000, window_width=4000)  # fmt: skip
    study = load_study(path)
    assert study.flip_rows and study.flip_cols and study.laterality == "R"
    return study


@pytest.fixture(scope="module")
def slam_model():
    torch.manual_seed(0)
    return build_model(ModelConfig(backbone="resnet18", num_slices=4, input_size=INPUT, fpn_channels=32))


def test_input_is_display_oriented_and_boxes_map_both_ways(flipped_study, slam_model):
    study = flipped_study
    image = volume_to_input(study, [5], INPUT)[0]
    assert image.shape == INPUT and image.dtype == np.float32 and image.min() >= 0 and image.max() <= 1
    x1, y1, x2, y2 = box_to_input(study, *MARKER, INPUT)
    # The marker sits in the lower right of the display (rotated 180 degrees) and is bright there only.
    assert x1 > INPUT[1] / 2 and y1 > INPUT[0] / 2
    assert image[int(y1) + 2 : int(y2) - 2, int(x1) + 2 : int(x2) - 2].min() > 0.95
    sx, sy = study.width / INPUT[1], study.height / INPUT[0]
    x, y, w, h = MARKER  # where the marker would be had the slice not been flipped: no marker there
    assert image[int(y / sy) : int((y + h) / sy), int(x / sx) : int((x + w) / sx)].max() < 0.9
    for coords, expected in (("stored", MARKER), ("display", study.box_to_display(*MARKER))):
        predictor = Predictor(slam_model, device="cpu", coords=coords)
        (det,) = predictor.to_original(study, np.array([[x1, y1, x2, y2]]), np.array([0.7]), [3], [2], [4])
        np.testing.assert_allclose((det.x, det.y, det.width, det.height), expected, atol=1e-3)
        assert (det.z, det.depth, det.score, det.slice) == (3, 2, pytest.approx(0.7), 4)


def test_depth_from_attention_maps_to_original_slices():
    indices = sample_indices(60, 27)
    weights = np.full(27, 0.01)
    weights[[8, 9, 10, 11, 12, 13]] = [0.4, 0.6, 1.0, 0.5, 0.55, 0.3]
    z, depth = attention_depth(weights, indices)
    assert z == indices[9] and depth == indices[12] - indices[9] + 1
    assert attention_depth(np.eye(27)[0], indices) == (int(indices[0]), 1)


def test_slice_weights_over_original_slices():
    indices = sample_indices(5, 9)  # D < N: repeated slices
    weights = np.full(9, 1 / 9)
    full = slice_weights_over_volume(weights, indices, 5)
    assert full.shape == (5,) and full.sum() == pytest.approx(1)
    counts = np.bincount(indices, minlength=5)
    np.testing.assert_allclose(full, counts / counts.sum(), rtol=1e-6)  # repeats add up
    sparse = slice_weights_over_volume(np.array([0.0, 1.0, 0.0]), np.array([0, 10, 20]), 21)
    assert sparse.argmax() == 10 and sparse[5] == pytest.approx(sparse[10] / 2)  # linear in between


def test_background_rule_edge():
    image = np.ones((20, 20), np.float32)
    image[0:10, 0:9] = 0.05  # 90 of the 100 pixels of the box below are background
    assert on_background(np.array([0, 0, 10, 10]), image)
    image[0, 0] = 0.5  # 89 %: kept
    assert not on_background(np.array([0, 0, 10, 10]), image)


def test_predict_flipped_study(flipped_study, slam_model):
    study = flipped_study
    result = Predictor(slam_model, device="cpu", score_threshold=0.0).predict(study)
    assert result.slice_weights.shape == (study.depth,) and result.slice_weights.sum() == pytest.approx(1, abs=1e-5)
    assert result.representative_slice in set(result.sampled_indices.tolist())
    assert result.slice_logits.shape == (4,) and len(result.detections) > 0
    for d in result.detections:
        assert d.x >= 0 and d.x + d.width <= study.width + 1e-3 and d.y >= 0 and d.y + d.height <= study.height + 1e-3
        assert d.z >= 0 and d.depth >= 1 and d.z + d.depth <= study.depth
    assert [d.score for d in result.detections] == sorted((d.score for d in result.detections), reverse=True)


def test_baseline_predict(flipped_study):
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="baseline", backbone="resnet18", input_size=INPUT, fpn_channels=32))
    result = Predictor(model, device="cpu", score_threshold=0.0, baseline_chunk=4).predict(flipped_study)
    assert result.sampled_indices.tolist() == list(range(11)) and result.slice_logits is None
    assert result.slice_weights.shape == (11,) and len(result.detections) > 0
    assert all(d.z >= 0 and d.z + d.depth <= 11 for d in result.detections)


def test_merge_slices_rule():
    box = np.array([[10.0, 10, 30, 30]])
    shifted = box + 2  # IoU ~0.68 with ``box``
    far = np.array([[60.0, 60, 80, 80]])
    boxes = [box, shifted, np.zeros((0, 4)), box, np.concatenate([box, far]), np.zeros((0, 4)), np.zeros((0, 4)), box]
    scores = [np.array([0.5]), np.array([0.9]), np.zeros(0), np.array([0.4]), np.array([0.3, 0.8]), np.zeros(0),
              np.zeros(0), np.array([0.6])]  # fmt: skip
    out_boxes, out_scores, z, depth, best = merge_slices(boxes, scores, np.arange(8))
    # Slices 0,1,3,4 chain (gaps <= 2); slice 7 is 3 away -> its own finding; ``far`` is its own finding.
    assert out_scores.tolist() == pytest.approx([0.9, 0.8, 0.6])
    np.testing.assert_allclose(out_boxes[0], shifted[0])
    # Z, Depth centred on the best box's slice (DBTex's Z + Depth/2 is that slice), within the volume
    assert z.tolist() == [0, 4, 7] and depth.tolist() == [3, 1, 1]
    assert best.tolist() == [1, 4, 7]  # the slice of each finding's best box
    empty = merge_slices([np.zeros((0, 4))], [np.zeros(0)], np.array([3]))
    assert all(len(a) == 0 for a in empty)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cuda_without_gpu_is_a_clear_error(slam_model):
    from slam.errors import SlamError

    with pytest.raises(SlamError, match="no CUDA GPU"):
        Predictor(slam_model, device="cuda")
    with pytest.raises(SlamError, match="coords"):
        Predictor(slam_model, device="cpu", coords="screen")


def test_dbtex_rows_keep_every_field_and_the_order():
    from slam.detection.findings import Detection, dbtex_rows

    dets = [Detection(1.5, 2.5, 10.0, 20.0, 3, 4, 0.9), Detection(7.0, 8.0, 5.0, 6.0, 0, 1, 0.2)]
    rows = dbtex_rows("P1", "1.2.3", "rmlo", dets)
    assert [(r.patient_id, r.study_uid, r.view) for r in rows] == [("P1", "1.2.3", "rmlo")] * 2
    assert [(r.x, r.y, r.width, r.height, r.z, r.depth, r.score) for r in rows] == [
        (1.5, 2.5, 10.0, 20.0, 3, 4, 0.9), (7.0, 8.0, 5.0, 6.0, 0, 1, 0.2)]
    assert dbtex_rows("P1", "1.2.3", "rmlo", []) == []


def test_predictor_feeds_the_model_as_it_was_trained(flipped_study, tmp_path):
    import json

    from slam.detection.config import config_path
    from slam.detection.model import load_model, save_model
    from slam.errors import SlamError

    torch.manual_seed(0)
    config = ModelConfig(backbone="resnet18", num_slices=4, input_size=INPUT, fpn_channels=32, preprocess=True)
    path = save_model(build_model(config), tmp_path / "pre.safetensors")
    predictor = Predictor.from_weights(path, device="cpu", score_threshold=0.0)
    assert predictor.preprocess is True  # the config's, without the caller having to remember it
    result = predictor.predict(flipped_study)
    idx = result.sampled_indices
    raw = torch.from_numpy(volume_to_input(flipped_study, idx, INPUT, False))
    pre = torch.from_numpy(volume_to_input(flipped_study, idx, INPUT, True))
    model = predictor.model
    with torch.inference_mode():
        assert torch.allclose(model(pre[None])[1][0], torch.from_numpy(result.slice_logits), atol=1e-5)
        assert not torch.allclose(model(raw[None])[1][0], torch.from_numpy(result.slice_logits), atol=1e-5)
    with pytest.raises(SlamError, match="trained on preprocessed slices.*preprocess false"):
        Predictor(load_model(path), device="cpu", preprocess=False)
    assert Predictor(load_model(path), device="cpu", preprocess=True).preprocess is True
    # a config written before the key existed loads as "not preprocessed"
    old = {k: v for k, v in json.loads(config_path(path).read_text()).items()
           if k not in ("preprocess", "grey_levels", "rpn_batch_per_image", "box_batch_per_image")}  # fmt: skip
    config_path(path).write_text(json.dumps(old))
    assert ModelConfig.from_dict(old).preprocess is False
    with pytest.raises(SlamError, match="trained on raw"):
        Predictor.from_weights(path, device="cpu", preprocess=True)


def test_nms_across_overlapping_and_nested_boxes():
    boxes = np.array([
        [10, 10, 50, 50],    # 0: best
        [14, 12, 54, 52],    # 1: IoU ~0.75 with 0 -> dropped
        [20, 20, 30, 30],    # 2: inside 0 (IoU 0.06) -> dropped as the same finding
        [45, 45, 80, 80],    # 3: touches 0 (IoU ~0.01, 4 % of it inside 0) -> kept
        [100, 100, 100, 120],  # 4: zero area: never "inside" anything -> kept
        [0, 0, 200, 200],    # 5: holds box 3 entirely (the smaller one inside) -> dropped
    ], np.float32)  # fmt: skip
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    assert suppress_overlaps(boxes, scores, 0.3, 0.7).tolist() == [0, 3, 4]
    assert suppress_overlaps(boxes, scores, 0.3, 1.01).tolist() == [0, 2, 3, 4, 5]  # IoU alone: nested boxes stay
    # by score, not by position: the big box, now the best, takes every box inside it
    assert suppress_overlaps(boxes[::-1], scores, 0.3, 0.7).tolist() == [0, 1]
    assert keep_best(boxes, scores, PostProcess(max_detections=2)).tolist() == [0, 3]
    assert suppress_overlaps(np.zeros((0, 4)), np.zeros(0), 0.3, 0.7).tolist() == []


def test_filter_boxes_floor_nms_and_background():
    image = torch.ones(100, 100)
    image[:, 80:] = 0.0  # background on the right
    det = {"boxes": torch.tensor([[10.0, 10, 40, 40], [12, 12, 42, 42], [82, 10, 98, 30], [50, 50, 70, 70]]),
           "scores": torch.tensor([0.9, 0.85, 0.8, 0.04])}  # fmt: skip
    boxes, scores = filter_boxes(det, image, PostProcess())
    # 1 overlaps 0, 2 sits on the background, 3 is under the 0.05 candidate floor
    assert scores.tolist() == pytest.approx([0.9]) and boxes.tolist() == [[10, 10, 40, 40]]


def test_slice_run_gives_each_finding_its_own_slices():
    indices = sample_indices(60, 27)  # 0, 2, 4 ... ~2.3 slices apart
    positions = np.arange(27)
    # Two masses in one volume: one around slice 10, one around slice 40; the box's floor differs.
    shallow = 0.2 + 0.6 * np.exp(-0.5 * ((indices - 10) / 3.0) ** 2)
    deep = 0.05 + 0.3 * np.exp(-0.5 * ((indices - 40) / 3.0) ** 2)
    (s1, z1, d1), (s2, z2, d2) = slice_run(shallow, indices), slice_run(deep, indices)
    assert abs(s1 - 10) <= 1 and abs(s2 - 40) <= 1 and s1 != s2
    for s, z, d, centre in ((s1, z1, d1, 10), (s2, z2, d2, 40)):
        assert z <= s < z + d and abs(z + d / 2 - centre) <= 2  # DBTex's centre Z + Depth/2 is near the mass
        assert abs(z + (d - 1) / 2 - s) <= 0.5  # ... and is the finding's own slice: the run is centred on it
        assert 4 <= d <= 12  # half-maximum width of a sigma-3 profile (~7) on a 2.3-slice grid
    # the run is contiguous around the peak: a second, weaker bump far away is not joined
    two = shallow + 0.5 * np.exp(-0.5 * ((indices - 45) / 2.0) ** 2)
    s, z, d = slice_run(two, indices)
    assert abs(s - 10) <= 1 and z + d - 1 < 30
    # a lopsided run (a shoulder on one side) is centred on the peak all the same
    lopsided = shallow + 0.45 * np.exp(-0.5 * ((indices - 16) / 2.0) ** 2)
    s, z, d = slice_run(lopsided, indices)
    assert abs(s - 10) <= 1 and abs(z + (d - 1) / 2 - s) <= 0.5 and z + d - 1 >= 16
    # flat scores: no depth evidence -> every sampled slice, the middle one shown
    assert slice_run(np.full(27, 0.3), indices) == (int(indices[13]), 0, int(indices[-1]) + 1)
    # the floor is subtracted: a high but flat floor does not widen the run to the whole volume
    s, z, d = slice_run(0.9 + 0.01 * (positions == 5), indices)
    assert indices[4] < z <= s < z + d <= indices[6]


def test_peak_slice_between_sampled_slices():
    indices = np.array([0, 5, 10, 15, 20])
    values = -((indices - 7.0) ** 2)  # a parabola peaking at slice 7, sampled every 5
    assert peak_slice(values, indices, 1) == 7
    assert peak_slice(values, indices, 0) == 0  # at an end: the sampled slice
    assert peak_slice(np.array([0.0, 1, 1, 1, 0]), indices, 2) == 10  # a plateau: no refinement
    assert peak_slice(np.array([0.0, 1, 0.9]), np.array([3, 3, 4]), 1) == 3  # repeated indices (D < N)
    assert peak_slice(np.array([0.0, 1.0, 0.0]), np.array([0, 5, 10]), 1) == 5


def test_slam_findings_have_their_own_slices_from_the_heads(flipped_study, slam_model):
    # Through the Predictor: every finding's slice/Z/Depth is slice_run of that box's per-slice scores.
    from slam.detection.inputs import box_to_input

    predictor = Predictor(slam_model, device="cpu", score_threshold=0.0, max_detections=3, coords="display")
    result = predictor.predict(flipped_study)
    assert 1 <= len(result.detections) <= 3
    volume = torch.from_numpy(predictor.prepare(flipped_study))
    with torch.inference_mode():
        _, _, levels, size = slam_model.detect_volume(volume)
        boxes = torch.tensor([box_to_input(flipped_study, d.x, d.y, d.width, d.height, INPUT, "display")
                              for d in result.detections], dtype=torch.float32)  # fmt: skip
        per_slice = slam_model.box_slice_logits(levels, boxes, size).numpy()
    for d, s in zip(result.detections, per_slice, strict=True):
        assert (d.slice, d.z, d.depth) == slice_run(s, result.sampled_indices)
        assert d.z <= d.slice < d.z + d.depth
    boxes_np = boxes.numpy()
    assert len(suppress_overlaps(boxes_np, np.arange(len(boxes_np))[::-1], 0.3, 0.7)) == len(boxes_np)  # no overlaps left


def test_rescore_by_slices_lifts_a_box_sharp_on_one_slice():
    boxes = np.array([[10, 10, 40, 40], [12, 12, 42, 42], [60, 60, 80, 80], [90, 0, 99, 9]], np.float32)
    fused = np.array([0.6, 0.5, 0.02, 0.01], np.float32)
    per_slice = np.array([[0.1, 0.3, 0.2], [0.1, 0.2, 0.1], [0.05, 0.95, 0.1], [0.01, 0.03, 0.02]], np.float32)
    out_boxes, scores, kept = rescore_by_slices(boxes, fused, per_slice, PostProcess(max_detections=3))
    # box 2 was diluted in the fused map (0.02) but is clear on its slice: it now leads; box 1 overlaps
    # box 0 and goes; box 3 stays under the 0.05 floor, which applies to the rescored score
    assert scores.tolist() == pytest.approx([0.95, 0.6])
    assert out_boxes.tolist() == [[60, 60, 80, 80], [10, 10, 40, 40]]
    assert kept.tolist() == [2, 0]
    empty = rescore_by_slices(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 3), np.float32),
                              PostProcess())  # fmt: skip
    assert [a.shape for a in empty] == [(0, 4), (0,), (0,)]


def test_slice_candidates_score_each_box_by_its_best_slice(flipped_study, slam_model):
    import dataclasses

    from slam.detection.inputs import box_to_input

    rescoring = build_model(dataclasses.replace(slam_model.config, slice_candidates=20, detections_per_image=20))
    rescoring.load_state_dict(slam_model.state_dict())
    predictor = Predictor(rescoring, device="cpu", score_threshold=0.0, max_detections=3, coords="display")
    result = predictor.predict(flipped_study)
    plain = Predictor(slam_model, device="cpu", score_threshold=0.0, max_detections=3, coords="display")
    assert result.detections and result.detections[0].score >= plain.predict(flipped_study).detections[0].score
    volume = torch.from_numpy(predictor.prepare(flipped_study))
    with torch.inference_mode():
        det, _, levels, size = rescoring.detect_volume(volume)
        boxes = torch.tensor([box_to_input(flipped_study, d.x, d.y, d.width, d.height, INPUT, "display")
                              for d in result.detections], dtype=torch.float32)  # fmt: skip
        per_slice = torch.sigmoid(rescoring.box_slice_logits(levels, boxes, size).double()).numpy()
    fused_scores = det["scores"].numpy()
    for d, s in zip(result.detections, per_slice, strict=True):
        # the higher of its fused score (one of the heads' raw scores) and its best slice score
        assert d.score >= s.max() - 1e-5
        assert d.score == pytest.approx(s.max(), abs=1e-5) or np.isclose(fused_scores, d.score, atol=1e-5).any()
    with pytest.raises(SlamError, match="slice_candidates"):
        dataclasses.replace(slam_model.config, slice_candidates=200, detections_per_image=100)


def test_operating_point_volume_score_and_verdict(flipped_study, slam_model, tmp_path):
    import dataclasses

    from slam.detection.findings import Detection, StudyPrediction, verdict
    from slam.detection.model import load_model, save_model

    config = dataclasses.replace(slam_model.config, score_threshold=0.35, max_findings=2)
    model = build_model(config)
    model.load_state_dict(slam_model.state_dict())
    path = save_model(model, tmp_path / "op.safetensors")
    predictor = Predictor(load_model(path), device="cpu", score_threshold=0.0)
    assert predictor.threshold == 0.35 and predictor.post.max_detections == 2  # the weights' config
    result = predictor.predict(flipped_study)
    assert len(result.detections) == 2 and result.threshold == 0.35
    assert result.volume_score == max(d.score for d in result.detections)
    assert Predictor(load_model(path), device="cpu", threshold=0.9, max_detections=5).threshold == 0.9

    def made(*scores):
        return StudyPrediction([Detection(0, 0, 1, 1, 2, 3, s) for s in scores], 0, np.ones(1), np.zeros(1), None,
                               threshold=0.5)  # fmt: skip

    assert verdict(made(0.8, 0.6, 0.2)) == "2 findings ≥ 0.5; best score 0.80"
    assert verdict(made(0.2)) == "no finding above the threshold (0.5); best score 0.20"
    assert verdict(made()) == "no finding above the threshold (0.5); best score 0.00"
    assert "normal" not in (verdict(made(0.2)) + verdict(made())).lower()
    assert made(0.2).findings() == [] and Detection(0, 0, 1, 1, 2, 3, 0.1).slice == 3  # middle of 2..4
    from slam.errors import SlamError

    with pytest.raises(SlamError, match="accepted"):
        Predictor(slam_model, device="cpu", max_detections=0)
