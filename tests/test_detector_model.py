"""slam.detection.model: shapes, gradient flow through attention and fusion, safetensors round trip."""

from __future__ import annotations

import json

import pytest
import torch

from slam.detection.config import ModelConfig, config_path
from slam.detection.model import build_model, fuse, load_model, save_model
from slam.errors import SlamError

TINY = ModelConfig(backbone="resnet18", num_slices=4, input_size=(64, 96), fpn_channels=32)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(TINY)


def _targets():
    return [
        {"boxes": torch.tensor([[10.0, 12.0, 30.0, 40.0]]), "labels": torch.tensor([1]), "slice": torch.tensor(2)},
        {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64), "slice": torch.tensor(-1)},
    ]


def test_backbone_shapes(model):
    features, logits = model.backbone(torch.rand(2, 4, 64, 96))
    assert logits.shape == (2, 4)
    assert [tuple(f.shape) for f in features.values()] == [(2, 32, 8, 12), (2, 32, 4, 6), (2, 32, 2, 3)]
    assert model.slice_logits(torch.rand(3, 4, 64, 96)).shape == (3, 4)


def test_training_losses_and_gradient_flow(model):
    model.train()
    losses = model(torch.rand(2, 4, 64, 96), _targets())
    assert set(losses) == {"loss_classifier", "loss_box_reg", "loss_objectness", "loss_rpn_box_reg", "loss_slice"}
    model.zero_grad()
    losses["loss_slice"].backward(retain_graph=True)
    attention = model.backbone.attention.mlp[1].weight.grad
    assert attention is not None and attention.abs().sum() > 0
    assert model.backbone.features.body.conv1.weight.grad.abs().sum() > 0
    assert model.backbone.fpn.layer_blocks[0][0].weight.grad is None  # the slice loss does not touch the FPN
    model.zero_grad()
    # The detection losses reach the attention through the softmax fusion, and the feature extractor.
    (losses["loss_classifier"] + losses["loss_objectness"]).backward()
    assert model.backbone.attention.mlp[4].weight.grad.abs().sum() > 0
    assert model.backbone.features.body.layer2.get_submodule("0.conv1").weight.grad.abs().sum() > 0
    assert model.rpn.head.conv[0][0].weight.grad.abs().sum() > 0


def test_fusion_is_attention_weighted_sum(model):
    model.eval()
    torch.manual_seed(1)
    one = torch.rand(1, 1, 64, 96)
    with torch.no_grad():
        fused, _ = model.backbone(one.expand(1, 4, 64, 96).contiguous())
        # N identical slices: the softmax weights sum to 1, so the fused maps equal one slice's maps.
        single = [f for f in model.backbone.features(one)]
        expected = model.backbone.fpn({str(k): f for k, f in enumerate(single)})
        for a, b in zip(fused.values(), expected.values(), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
        # Permuting the slices permutes the logits: attention scores each slice on its own.
        vol = torch.rand(1, 4, 64, 96)
        perm = torch.tensor([2, 0, 3, 1])
        torch.testing.assert_close(model.slice_logits(vol)[:, perm], model.slice_logits(vol[:, perm]))


def test_eval_returns_detections_and_logits(model):
    model.eval()
    with torch.no_grad():
        detections, logits = model(torch.rand(2, 4, 64, 96))
    assert len(detections) == 2 and logits.shape == (2, 4)
    for det in detections:
        assert det["boxes"].shape[1] == 4 and det["scores"].shape == det["labels"].shape
        assert (det["boxes"][:, 2] <= 96).all() and (det["boxes"][:, 3] <= 64).all()


def test_detect_volume_is_the_forward_pass(model):
    model.eval()
    torch.manual_seed(2)
    volume = torch.rand(4, 64, 96)
    with torch.no_grad():
        (expected,), logits = model(volume[None])
        det, got_logits, levels, size = model.detect_volume(volume)
    assert size == (64, 96) and [f.shape[0] for f in levels] == [4, 4, 4]
    torch.testing.assert_close(got_logits, logits[0])
    torch.testing.assert_close(det["boxes"], expected["boxes"])
    torch.testing.assert_close(det["scores"], expected["scores"])


def test_fused_fpn_is_the_weighted_mean_of_the_per_slice_fpn(model):
    # What lets the RoI heads score single slices (box_slice_logits): the FPN is affine, the weights sum to 1.
    model.eval()
    torch.manual_seed(4)
    with torch.no_grad():
        levels, logits = model.backbone.slice_features(torch.rand(1, 4, 64, 96))
        fused = model.backbone.fpn({str(k): f for k, f in enumerate(fuse(levels, logits))})
        per_slice = model.backbone.fpn({str(k): f[0] for k, f in enumerate(levels)})
        weights = logits[0].softmax(0)
        for a, b in zip(fused.values(), per_slice.values(), strict=True):
            torch.testing.assert_close(a[0], torch.einsum("n,nchw->chw", weights, b), rtol=1e-4, atol=1e-5)


def _heads_on_each_slice_alone(model, volume: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """The straightforward way: the whole FPN and the RoI pooler on each slice as a volume of its own."""
    size = tuple(volume.shape[-2:])
    out = []
    for n in range(volume.shape[0]):
        alone = model.backbone.fpn({str(k): f for k, f in enumerate(model.backbone.features(volume[n][None, None]))})
        pooled = model.roi_heads.box_roi_pool(alone, [boxes], [size])
        logits, _ = model.roi_heads.box_predictor(model.roi_heads.box_head(pooled))
        out.append(logits.softmax(-1)[:, 1])
    return torch.stack(out, 1)


def test_box_slice_logits_are_the_heads_on_each_slice_alone(model):
    # A box's score on slice n is the score the RoI heads give it when the volume is slice n alone;
    # the FPN computed on the box's window only gives the same, at the map edges too.
    model.eval()
    torch.manual_seed(5)
    volume = torch.rand(4, 64, 96)
    volume[1, 20:40, 30:60] = 1.0
    boxes = torch.tensor([[28.0, 18.0, 62.0, 42.0], [0.0, 0.0, 20.0, 20.0], [50.0, 30.0, 96.0, 64.0],
                          [3.3, 40.7, 9.9, 47.1]])  # fmt: skip
    corner = torch.rand(12, 2) * torch.tensor([90.0, 60.0])  # and random boxes of 0.5 to 40 px
    boxes = torch.cat([boxes, torch.cat([corner, corner + 0.5 + torch.rand(12, 2) * 40], 1).clamp(max=96)])
    with torch.no_grad():
        _, _, levels, size = model.detect_volume(volume)
        scores = torch.sigmoid(model.box_slice_logits(levels, boxes, size))
        assert scores.shape == (16, 4) and ((scores >= 0) & (scores <= 1)).all()
        torch.testing.assert_close(scores, _heads_on_each_slice_alone(model, volume, boxes), rtol=1e-4, atol=1e-5)
        assert (scores[0] - scores[0, 0]).abs().max() > 1e-4  # different slices, different scores
        assert model.box_slice_logits(levels, torch.zeros(0, 4), size).shape == (0, 4)


def test_box_slice_logits_on_every_pyramid_level():
    # Boxes of >= 224 px go to the coarser FPN levels (torchvision's level mapper): same result there.
    torch.manual_seed(6)
    model = build_model(ModelConfig(backbone="resnet18", num_slices=2, input_size=(480, 480), fpn_channels=16)).eval()
    volume = torch.rand(2, 480, 480)
    boxes = torch.tensor([[0.0, 0.0, 480.0, 480.0], [100.0, 50.0, 400.0, 330.0], [200.0, 200.0, 230.0, 240.0],
                          [470.0, 480.0, 480.0, 480.0]])  # the last: a zero-height box on the bottom edge  # fmt: skip
    with torch.no_grad():
        _, _, levels, size = model.detect_volume(volume)
        scores = torch.sigmoid(model.box_slice_logits(levels, boxes, size))
        torch.testing.assert_close(scores, _heads_on_each_slice_alone(model, volume, boxes), rtol=1e-4, atol=1e-5)


def test_bad_calls_raise(model):
    model.train()
    with pytest.raises(SlamError, match="targets"):
        model(torch.rand(1, 4, 64, 96))
    model.eval()
    with pytest.raises(SlamError, match="4 slices"):
        model(torch.rand(1, 5, 64, 96))
    with pytest.raises(SlamError, match="backbone"):
        ModelConfig(backbone="vgg16")
    with pytest.raises(SlamError, match="anchor"):
        ModelConfig(anchor_sizes=((8,), (16,)))


def test_freeze_for_stage_two():
    model = build_model(TINY)
    model.freeze_slice_attention()
    model.train()
    assert not any(p.requires_grad for p in model.backbone.features.parameters())
    assert not any(p.requires_grad for p in model.backbone.attention.parameters())
    assert all(p.requires_grad for p in model.backbone.fpn.parameters())
    assert not model.backbone.features.training and model.rpn.training


def test_save_load_round_trip(model, tmp_path):
    model.eval()
    path = save_model(model, tmp_path / "slam.safetensors")
    raw = path.read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    assert raw[8:9] == b"{" and json.loads(raw[8 : 8 + header_len])  # a safetensors header, not a pickle
    assert ModelConfig.from_dict(json.loads(config_path(path).read_text())) == TINY
    loaded = load_model(path)
    volume = torch.rand(1, 4, 64, 96)
    with torch.no_grad():
        (d1,), l1 = model(volume)
        (d2,), l2 = loaded(volume)
    assert torch.equal(l1, l2)
    assert torch.equal(d1["boxes"], d2["boxes"]) and torch.equal(d1["scores"], d2["scores"])


def test_load_errors(model, tmp_path):
    path = save_model(model, tmp_path / "m.safetensors")
    cfg = json.loads(config_path(path).read_text())
    config_path(path).write_text(json.dumps({**cfg, "fpn_channels": 16}))
    with pytest.raises(SlamError, match="does not match"):
        load_model(path)
    config_path(path).unlink()
    with pytest.raises(SlamError, match="config"):
        load_model(path)
    with pytest.raises(SlamError, match="safetensors"):
        save_model(model, tmp_path / "m.pt")


@pytest.mark.parametrize("backbone", ["mobilenet_v3_large", "resnet34"])
def test_other_backbones_and_baseline(backbone):
    slam = build_model(ModelConfig(backbone=backbone, num_slices=2, input_size=(64, 64), fpn_channels=16)).eval()
    base = build_model(ModelConfig(kind="baseline", backbone=backbone, input_size=(64, 64), fpn_channels=16)).eval()
    with torch.no_grad():
        _, logits = slam(torch.rand(1, 2, 64, 64))
        per_slice = base(torch.rand(3, 1, 64, 64))
    assert logits.shape == (1, 2) and len(per_slice) == 3


def test_imagenet_init_from_local_safetensors(tmp_path):
    import torchvision
    from safetensors.torch import save_file

    torch.manual_seed(3)
    classifier = torchvision.models.resnet18(weights=None)
    save_file({k: v.contiguous() for k, v in classifier.state_dict().items()}, str(tmp_path / "r18.safetensors"))
    model = build_model(TINY, imagenet_weights=tmp_path / "r18.safetensors")
    assert torch.equal(model.backbone.features.body.conv1.weight, classifier.conv1.weight)
    with pytest.raises(SlamError, match="no pickle"):
        build_model(TINY, imagenet_weights=tmp_path / "r18.pth")
