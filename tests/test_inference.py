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
from slam.detection.postprocess import attention_depth, on_background, slice_weights_over_volume
from slam.detection.predictor import Predictor
from slam.detection.sampling import sample_indices
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
        (det,) = predictor.to_original(study, np.array([[x1, y1, x2, y2]]), np.array([0.7]), [3], [2])
        np.testing.assert_allclose((det.x, det.y, det.width, det.height), expected, atol=1e-3)
        assert (det.z, det.depth, det.score) == (3, 2, pytest.approx(0.7))


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
    out_boxes, out_scores, z, depth = merge_slices(boxes, scores, np.arange(8))
    # Slices 0,1,3,4 chain (gaps <= 2); slice 7 is 3 away -> its own finding; ``far`` is its own finding.
    assert out_scores.tolist() == pytest.approx([0.9, 0.8, 0.6])
    np.testing.assert_allclose(out_boxes[0], shifted[0])
    assert z.tolist() == [0, 4, 7] and depth.tolist() == [5, 1, 1]
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
    from slam.detection.predictor import Detection, dbtex_rows

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
