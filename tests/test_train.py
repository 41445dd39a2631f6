"""Training: config overrides, cache, augmentation, one optimisation step of each stage on CPU,
the stage-2 feature cache against the full model, and a short end-to-end run whose checkpoint
the Predictor loads. A tiny model (ResNet-18, 4 slices of 64 x 64) on a tiny phantom set."""

from __future__ import annotations

import csv
import dataclasses
import os

import numpy as np
import pytest
import torch

from slam.detection.config import ModelConfig
from slam.detection.model import build_model
from slam.errors import SlamError
from train import stage1, stage2
from train.augment import augment_volume
from train.config import Augment, Stage1Config, Stage2Config, apply_override, load_config
from train.data import Cache, VolumeDataset, build_cache, collate_padded, draw_order, to_targets
from train.runtime import make_runtime, resolve_device

TINY = dict(kind="slam", backbone="resnet18", num_slices=4, input_size=[64, 64], fpn_channels=16,
            anchor_sizes=[[4, 8, 16], [16, 24, 32], [32, 48, 64]], aspect_ratios=[0.5, 1.0, 1.5],
            attention_dropout=0.0, sampling="even")  # fmt: skip
PHANTOM_SEED = 7  # 6 studies: 4 with masses, 2 without


@pytest.fixture(scope="session")
def phantom_dir(tmp_path_factory):
    from slam.phantom.dataset import write_dataset

    return write_dataset(tmp_path_factory.mktemp("phantom"), 6, PHANTOM_SEED, "small")


@pytest.fixture(scope="session")
def tiny_cache(phantom_dir, tmp_path_factory):
    return build_cache(phantom_dir, tmp_path_factory.mktemp("cache") / "tiny.npz", 4, (64, 64), progress=False)


def tiny_config(cache_path, out, stage: int, **extra):
    cfg = load_config(f"train/configs/stage{stage}.yaml", Stage1Config if stage == 1 else Stage2Config)
    cfg = dataclasses.replace(cfg, device="cpu", precision="fp32", out=str(out), epochs=1, resume=False, **extra)
    if stage == 1:
        cfg.model = ModelConfig.from_dict(dict(TINY))
    cfg.data = dataclasses.replace(cfg.data, train=str(cache_path), val=str(cache_path), batch_size=2, num_workers=0)
    return cfg


def fixed_batch(cache: Cache, order, augment=None) -> dict:
    dataset = VolumeDataset(cache, order, augment)
    return collate_padded([dataset[i] for i in range(len(order))], cache.boxes.shape[1])


def test_config_overrides_are_typed_and_checked():
    cfg = load_config("train/configs/stage1.yaml", Stage1Config,
                      ["optim.lr_backbone=3e-4", "model.input_size=[224, 192]", "init=null"])  # fmt: skip
    assert cfg.optim.lr_backbone == pytest.approx(3e-4) and cfg.init is None
    assert cfg.model.input_size == (224, 192) and isinstance(cfg.model, ModelConfig)
    # keys the file leaves out are declared too: each can be set, and has its default
    cfg = load_config("train/configs/stage1.yaml", Stage1Config,
                      ["monitor=val_dbtex_mean_sens", "model.rpn_batch_per_image=32"])  # fmt: skip
    assert cfg.monitor == "val_dbtex_mean_sens" and cfg.model.rpn_batch_per_image == 32
    assert cfg.model.box_batch_per_image == 512 and cfg.resume is False
    raw = dataclasses.asdict(cfg)
    with pytest.raises(SlamError, match="unknown key"):
        apply_override(raw, "optim.lr_backbon=1.0")
    with pytest.raises(SlamError, match="dotted.key=value"):
        apply_override(raw, "epochs")
    for bad, message in (("epochs=1.5", "epochs=1.5 is not an integer"), ("monitor=val_lost", "accepted: val_loss"),
                         ("data.positives_only=3", "not true or false"), ("model.kind=2d", "accepted: slam"),
                         ("feature_cache.copies=2", "not a section")):  # fmt: skip
        with pytest.raises(SlamError, match=message) as err:
            load_config("train/configs/stage1.yaml", Stage1Config, [bad])
        assert "\n" not in str(err.value)


def test_config_files_and_fields_are_declared(tmp_path):
    for name, kind in (("stage1", Stage1Config), ("stage2", Stage2Config), ("demo_stage1", Stage1Config),
                       ("demo_stage1b", Stage1Config)):  # fmt: skip
        cfg = load_config(f"train/configs/{name}.yaml", kind)
        assert isinstance(cfg.data.batch_size, int) and isinstance(cfg.optim.weight_decay, float)
    assert load_config("train/configs/demo_stage1b.yaml", Stage1Config).model.rpn_batch_per_image == 32

    def sections(cls):
        for f in dataclasses.fields(cls):
            assert f.metadata.get("help") or cls is ModelConfig, f"{cls.__name__}.{f.name} has no meaning"
            if isinstance(f.default_factory, type) and dataclasses.is_dataclass(f.default_factory):
                sections(f.default_factory)

    sections(Stage1Config)
    sections(Stage2Config)
    (tmp_path / "typo.yaml").write_text("epochs: 3\noptim:\n  lr_backbon: 1.0\n")
    with pytest.raises(SlamError, match="unknown key.*lr_backbon"):
        load_config(tmp_path / "typo.yaml", Stage1Config)


def test_cache_matches_ground_truth(phantom_dir, tiny_cache):
    from slam.detection.sampling import representative_target
    from slam.io.csv_formats import read_boxes_csv

    cache = Cache(tiny_cache)
    assert cache.volumes.shape == (6, 4, 64, 64) and cache.volumes.dtype == np.uint8
    assert cache.volumes.max() > 100  # windowed breast tissue, not an empty array
    gt = read_boxes_csv(phantom_dir / "boxes.csv")
    assert int(cache.n_boxes.sum()) == len(gt)
    for box in gt:
        i = int(np.flatnonzero(cache.ids[:, 1] == box.study_uid)[0])
        # phantom studies are 384 x 320 -> 64 x 64: x / 5, y / 6
        x1, y1, x2, y2 = cache.boxes[i, list(cache.box_slices[i]).index(box.slice)]
        assert (x1, y1) == pytest.approx((box.x / 5, box.y / 6), abs=1e-3)
        assert (x2 - x1, y2 - y1) == pytest.approx((box.width / 5, box.height / 6), abs=1e-3)
    for i in range(6):
        rows = [b for b in gt if b.study_uid == cache.ids[i, 1]]
        if rows:
            largest = max(rows, key=lambda b: b.width * b.height)
            assert cache.slice_target[i] == representative_target(cache.indices[i], largest.slice)
        else:
            assert cache.slice_target[i] == -1
    with pytest.raises(SlamError, match="rebuild"):
        cache.check_model(ModelConfig(**{**TINY, "num_slices": 5, "input_size": (64, 64),
                                         "anchor_sizes": ((4, 8, 16), (16, 24, 32), (32, 48, 64))}))


def test_oversampling_and_padding(tiny_cache):
    cache = Cache(tiny_cache)
    order = draw_order(cache, positives_only=False, oversample_positives=2)
    assert sorted(np.bincount(order, minlength=6)) == [1, 1, 2, 2, 2, 2]
    assert set(draw_order(cache, True, 2)) == set(cache.positives)
    batch = fixed_batch(cache, order[:6])
    assert batch["volumes"].shape == (6, 4, 64, 64) and batch["boxes"].shape == (6, cache.boxes.shape[1], 4)
    targets = to_targets(batch)
    assert [len(t["boxes"]) for t in targets] == list(batch["n_boxes"]) == [int(cache.n_boxes[i]) for i in order[:6]]


def test_augmentation_moves_every_slice_and_the_box_together():
    rng = np.random.default_rng(3)
    volume = torch.zeros(5, 96, 80, dtype=torch.uint8)
    volume[:, 30:50, 20:36] = 200  # the same bright block on every slice, boxed exactly
    box = torch.tensor([[20.0, 30.0, 36.0, 50.0]])
    params = Augment(rotate_deg=10, scale=0.15, translate=0.1, brightness=0.0, contrast=0.0, blur_p=0.0, noise_p=0.0)
    moved_any = False
    for _ in range(5):
        out, boxes = augment_volume(volume, box, rng, params)
        assert out.dtype == torch.uint8 and out.shape == volume.shape
        assert all(torch.equal(out[0], out[k]) for k in range(1, 5))  # one transform for all slices
        ys, xs = np.nonzero(out[0].numpy() > 100)
        x1, y1, x2, y2 = boxes[0].tolist()
        assert xs.min() >= x1 - 1 and xs.max() <= x2 + 1 and ys.min() >= y1 - 1 and ys.max() <= y2 + 1
        # the box hugs the moved block (a rotated box is its enclosing box: at most ~40 % larger)
        assert (x2 - x1) * (y2 - y1) <= 1.45 * (np.ptp(xs) + 1) * (np.ptp(ys) + 1)
        moved_any |= abs(x1 - 20) > 1 or abs(y1 - 30) > 1
    assert moved_any


def _loss(net, batch, step):
    torch.manual_seed(0)  # the RPN / RoI heads sample proposals at random
    return float(step(net, batch)[0].detach())


def test_stage1_step_lowers_the_loss(tiny_cache, tmp_path):
    torch.manual_seed(0)
    cache = Cache(tiny_cache)
    batch = fixed_batch(cache, cache.positives[:2])
    for weight in (0.0, 1.0):
        cfg = tiny_config(tiny_cache, tmp_path, 1, detection_loss_weight=weight)
        cfg.optim = dataclasses.replace(cfg.optim, lr_backbone=1e-3, lr_attention=1e-3, lr_heads=1e-3)
        model = stage1.build_stage1_model(cfg).train()
        net = stage1.Stage1Net(model, weight)
        optimizer = torch.optim.AdamW(stage1.param_groups(model, cfg.optim), weight_decay=0.0)
        heads_before = model.rpn.head.conv[0][0].weight.clone()
        step = lambda n, b, w=weight: stage1.train_step(n, b, w)  # noqa: E731
        before = _loss(net, batch, step)
        optimizer.zero_grad()
        torch.manual_seed(0)
        step(net, batch)[0].backward()
        optimizer.step()
        assert _loss(net, batch, step) < before
        # the heads train only when their losses count
        assert torch.equal(heads_before, model.rpn.head.conv[0][0].weight) == (weight == 0.0)


def test_stage2_feature_cache_equals_the_full_model_and_a_step_lowers_the_loss(tiny_cache, tmp_path):
    from slam.detection.model import save_model

    torch.manual_seed(0)
    model = build_model(ModelConfig.from_dict(dict(TINY)))
    save_model(model, tmp_path / "s1.safetensors")
    cfg = tiny_config(tiny_cache, tmp_path, 2, init=str(tmp_path / "s1.safetensors"))
    model = stage2.build_stage2_model(cfg)
    frozen = {k: v.clone() for k, v in model.backbone.features.state_dict().items()}
    cache = Cache(tiny_cache)
    batch = fixed_batch(cache, np.arange(4))
    volumes = batch["volumes"].float() / 255.0
    with torch.no_grad():
        levels, _ = model.backbone.fused_levels(volumes)
    feature_batch = {**batch, **{name: f.half() for name, f in zip(stage2.LEVELS, levels, strict=True)}}
    heads = stage2.HeadNet(model).train()
    full, cached = _loss(model, batch, stage2.full_step), _loss(heads, feature_batch, stage2.feature_step)
    assert cached == pytest.approx(full, rel=2e-2)  # float16 storage of the fused maps
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    torch.manual_seed(0)
    stage2.feature_step(heads, feature_batch)[0].backward()
    optimizer.step()
    assert _loss(heads, feature_batch, stage2.feature_step) < cached
    assert all(torch.equal(v, model.backbone.features.state_dict()[k]) for k, v in frozen.items())


@pytest.mark.slow
def test_end_to_end_run_writes_a_checkpoint_the_predictor_runs(phantom_dir, tiny_cache, tmp_path):
    from slam.detection.predictor import Predictor
    from slam.io import load_study
    from train.loop import fit  # noqa: F401  (the loop both stages share)
    from train.runtime import Runtime

    rt = Runtime("cpu", torch.device("cpu"))
    cfg1 = tiny_config(tiny_cache, tmp_path / "s1", 1, detection_loss_weight=1.0)
    best1 = stage1.run(rt, cfg1)
    assert set(best1) >= {"epoch", "train_loss", "val_loss", "val_attention_acc", "val_dbtex_mean_sens"}
    cfg1 = dataclasses.replace(cfg1, resume=True, epochs=2)
    stage1.run(rt, cfg1)  # continues at epoch 2 from last.*
    with open(tmp_path / "s1" / "metrics.csv") as handle:
        assert [int(r["epoch"]) for r in csv.DictReader(handle)] == [1, 2]

    cfg2 = tiny_config(tiny_cache, tmp_path / "s2", 2, init=str(tmp_path / "s1" / "best.safetensors"))
    cfg2.feature_cache = dataclasses.replace(cfg2.feature_cache, enabled=True, copies=2)
    best2 = stage2.run(rt, cfg2)
    assert "val_dbtex_mean_sens" in best2 and (tmp_path / "s2" / "best.state.pt").is_file()

    predictor = Predictor.from_weights(tmp_path / "s2" / "best.safetensors", device="cpu", score_threshold=0.0)
    assert predictor.config.num_slices == 4 and predictor.config.extra["stage"] == 1
    study = load_study(next(phantom_dir.rglob("*.dcm")))
    result = predictor.predict(study)
    assert result.slice_logits.shape == (4,) and 0 <= result.representative_slice < study.depth
    assert all(0 <= d.x <= study.width and 0 <= d.y <= study.height for d in result.detections)


def test_device_resolution():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") in ("cpu", "cuda", "xla")
    with pytest.raises(SlamError, match="accepted"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(SlamError, match="no CUDA GPU"):
            resolve_device("cuda")
    assert make_runtime("cpu").precision == "fp32" and make_runtime("cpu", "bf16").precision == "bf16"


@pytest.mark.xla
@pytest.mark.parametrize("stage", [1, 2])
def test_xla_training_step(stage, tiny_cache, tmp_path, monkeypatch):
    """One optimisation step of each stage on an XLA device (PJRT on the CPU here, a TPU core on a
    TPU VM): parallel device loader, bf16 autocast, xm.optimizer_step. Runs in the torch_xla venv."""
    monkeypatch.setenv("PJRT_DEVICE", os.environ.get("PJRT_DEVICE", "CPU"))
    pytest.importorskip("torch_xla")
    from slam.detection.model import save_model
    from train.loop import volume_loader

    rt = make_runtime(resolve_device("xla"))
    assert rt.kind == "xla" and rt.precision == "bf16"
    torch.manual_seed(0)
    if stage == 1:
        cfg = tiny_config(tiny_cache, tmp_path, 1, detection_loss_weight=1.0)
        model = stage1.build_stage1_model(cfg).to(rt.device).train()
        net = stage1.Stage1Net(model, 1.0)
        optimizer = torch.optim.AdamW(stage1.param_groups(model, cfg.optim))
        step = lambda n, b: stage1.train_step(n, b, 1.0)  # noqa: E731
        order = draw_order(Cache(tiny_cache), True, 1)
    else:
        save_model(build_model(ModelConfig.from_dict(dict(TINY))), tmp_path / "s1.safetensors")
        cfg = tiny_config(tiny_cache, tmp_path, 2, init=str(tmp_path / "s1.safetensors"))
        model = stage2.build_stage2_model(cfg).to(rt.device)
        net, step = model, stage2.full_step
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        order = draw_order(Cache(tiny_cache), False, 2)
    trained = [p for g in optimizer.param_groups for p in g["params"]]
    before = [p.detach().cpu().clone() for p in trained]
    loader = volume_loader(rt, Cache(tiny_cache), order, cfg, augment=True)
    batch = next(iter(rt.batches(loader)))
    assert batch["volumes"].device.type == "xla"
    assert all(isinstance(k, int) for k in batch["n_boxes"])  # box counts stay on the host
    with rt.autocast():
        loss, parts = step(net, batch)
    loss.backward()
    rt.optimizer_step(optimizer)
    rt.sync()
    assert np.isfinite(float(loss.detach().cpu()))
    assert any(not torch.equal(b, p.detach().cpu()) for b, p in zip(before, trained, strict=True))


def test_slam_predict_defaults_to_the_shipped_slam_weights_and_names_the_baseline(tmp_path):
    """`slam predict` without --weights runs the shipped SLAM model, `--weights baseline` the shipped
    baseline; each <= 10 MB with a model card and an operating point chosen on validation."""
    from slam.cli import main
    from slam.detection.model import load_model
    from slam.detection.weights import BASELINE_WEIGHTS, DEFAULT_WEIGHTS, resolve_weights
    from slam.io.csv_formats import read_predictions_csv

    assert resolve_weights("baseline") == BASELINE_WEIGHTS and resolve_weights() == DEFAULT_WEIGHTS
    for weights, kind, recipe in ((DEFAULT_WEIGHTS, "slam", "python -m train.slam_init"),
                                  (BASELINE_WEIGHTS, "baseline", "python -m train.baseline")):
        assert weights.is_file() and weights.stat().st_size <= 10 * 2**20
        card = weights.with_suffix(".md").read_text()
        assert "not for clinical use" in card.lower() and recipe in card
        config = load_model(weights).config
        assert config.kind == kind and config.grey_levels == "tissue" and "FP/volume on val" in config.operating_point
    out = tmp_path / "predictions.csv"
    assert main(["predict", "--file-paths", "examples/file-paths.csv", "-o", str(out), "--quiet",
                 "--score-threshold", "0"]) == 0  # fmt: skip
    assert {r.view for r in read_predictions_csv(out)} <= {"lcc", "rcc", "lmlo", "rmlo"}


def test_mobilenet_v3_small_backbone_gives_c3_c4_c5():
    """The demo model's backbone (added to slam.detection.config.BACKBONES): strides 8/16/32 and the declared channels."""
    from slam.detection.config import BACKBONES

    config = ModelConfig.from_dict({**TINY, "backbone": "mobilenet_v3_small"})
    model = build_model(config).eval()
    with torch.no_grad():
        levels = model.backbone.features(torch.rand(2, 1, 64, 96))
    assert [tuple(f.shape) for f in levels] == [(2, c, 64 // s, 96 // s) for c, s in
                                                 zip(BACKBONES["mobilenet_v3_small"][2], (8, 16, 32), strict=True)]


def test_stage1_detection_monitor_needs_the_detection_losses(tiny_cache, tmp_path):
    from train.runtime import Runtime

    cfg = dataclasses.replace(tiny_config(tiny_cache, tmp_path, 1), monitor="val_dbtex_mean_sens")
    with pytest.raises(SlamError, match="needs detection_loss_weight > 0"):
        stage1.run(Runtime("cpu", torch.device("cpu")), cfg)


def test_stage1_from_init_takes_the_sections_sample_sizes(tiny_cache, tmp_path):
    """The demo stage 1b: init weights into the config's model, whose RPN/RoI sample sizes reach
    torchvision's samplers and the saved JSON."""
    from slam.detection.model import save_model

    save_model(build_model(ModelConfig.from_dict(dict(TINY))), tmp_path / "s1.safetensors")
    cfg = tiny_config(tiny_cache, tmp_path, 1, init=str(tmp_path / "s1.safetensors"), detection_loss_weight=1.0)
    cfg.model = dataclasses.replace(cfg.model, rpn_batch_per_image=32, box_batch_per_image=16)
    model = stage1.build_stage1_model(cfg)
    assert model.rpn.fg_bg_sampler.batch_size_per_image == 32
    assert model.roi_heads.fg_bg_sampler.batch_size_per_image == 16
    assert model.config.box_batch_per_image == 16 and model.config.extra["stage"] == 1
    cfg.model = dataclasses.replace(cfg.model, fpn_channels=8)
    with pytest.raises(SlamError, match="does not match"):
        stage1.build_stage1_model(cfg)


def test_train_commands_report_a_bad_config_in_one_line(capsys):
    from train.config import run_main

    assert run_main(lambda argv: stage1.main(["--set", "monitor=foo"]), "python -m train.stage1") == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m train.stage1: error: ") and "accepted: val_loss" in err and err.count("\n") == 1


# --- tissue grey levels, slice cache, per-slice baseline, SLAM from the baseline -------------------


def _written(tmp_path, name, volume, **tags):
    from slam.io import load_study
    from slam.io.write import write_volume_dicom

    return load_study(write_volume_dicom(tmp_path / f"{name}.dcm", volume, pixel_spacing=(0.64, 0.64), **tags))


def test_tissue_grey_levels_ignore_window_tags_stored_range_and_photometric(tmp_path):
    from slam.detection.inputs import volume_to_input
    from slam.phantom.study import generate_study

    phantom = generate_study(5001, "small", style="fatty-powerlaw", n_lesions=1)
    vol = phantom.volume.astype(np.int64)
    assert phantom.photometric == "MONOCHROME2" and vol.max() < 2**14
    a = _written(tmp_path, "a", vol.astype(np.uint16), window_center=float(np.median(vol)), window_width=800.0,
                 bits_stored=14)
    b = _written(tmp_path, "b", (vol * 3 + 500).astype(np.uint16), window_center=20000.0, window_width=30000.0,
                 bits_stored=16)  # another writer: other stored range and window
    c = _written(tmp_path, "c", (2**14 - 1 - vol).astype(np.uint16), window_center=5000.0, window_width=9000.0,
                 bits_stored=14, photometric="MONOCHROME1")
    idx = [0, phantom.lesions[0].slice, phantom.volume.shape[0] - 1]
    ins = [volume_to_input(s, idx, (384, 320), grey_levels="tissue") * 255 for s in (a, b, c)]
    for other in ins[1:]:
        assert np.abs(other - ins[0]).max() <= 1.0
    window = [volume_to_input(s, idx, (384, 320)) * 255 for s in (a, b)]
    assert np.abs(window[1] - window[0]).max() > 50  # the window path does depend on the tags (test can fail)
    breast = ins[0][1] > 0
    assert 0.2 < breast.mean() < 0.98 and np.percentile(ins[0][1][breast], 50) > 0.15 * 255


def test_tissue_grey_levels_refuse_preprocess_and_unknown_names():
    from slam.detection.inputs import slice_to_input
    from slam.io.study import Study
    from slam.phantom.study import generate_study

    p = generate_study(3, "small", style="fibrous", n_lesions=0)
    study = Study(p.volume, 2000.0, 4000.0)
    with pytest.raises(SlamError, match="does not combine"):
        slice_to_input(study, 0, (64, 64), preprocess=True, grey_levels="tissue")
    with pytest.raises(SlamError, match="accepted: uint8, tissue"):
        slice_to_input(study, 0, (64, 64), grey_levels="film")


@pytest.fixture(scope="session")
def slice_cache(tmp_path_factory):
    from train.slices import SliceCacheSpec, build_shard

    out = tmp_path_factory.mktemp("slices")
    spec = SliceCacheSpec(n=4, seed=5, input_size=(96, 80), num_slices=6, shard=2)
    return out, spec, [build_shard(spec, s, out) for s in range(2)]


def test_slice_cache_holds_central_slices_with_boxes_and_far_negatives(slice_cache):
    from slam.phantom.dataset import dataset_seed
    from slam.phantom.study import generate_study
    from train.slices import LESION_COUNTS_P, build_shard, load_shards

    out, spec, paths = slice_cache
    data = load_shards(out)
    assert data["volumes"].shape == (4, 6, 96, 80) and data["slices"].shape[1:] == (96, 80)
    assert build_shard(spec, 0, out) == paths[0]  # an existing shard is kept, not remade
    for i in range(spec.n):
        rng = np.random.default_rng(dataset_seed(spec.seed, i))
        n = int(rng.choice(len(LESION_COUNTS_P), p=LESION_COUNTS_P))
        phantom = generate_study(dataset_seed(spec.seed, i), "small", style=str(data["style"][i]), n_lesions=n)
        mine = data["study"] == i
        central = mine & (data["slice_offset"] == 0)
        assert central.sum() == len({les.slice for les in phantom.lesions})
        assert data["vol_n_boxes"][i] == len(phantom.lesions)
        assert (data["slice_target"][i] >= 0) == bool(phantom.lesions)
        # negatives carry no box; positives carry one box per mass covering the slice, inside the image
        assert (data["n_boxes"][mine & (data["slice_offset"] < 0)] == 0).all()
        for j in np.flatnonzero(central):
            b = data["boxes"][j, : data["n_boxes"][j]]
            assert len(b) >= 1 and (b[:, 2] > b[:, 0]).all() and (b[:, :2] >= 0).all() and (b[:, 2] <= 80).all()
            x1, y1, x2, y2 = b[0].astype(int)
            inside = data["slices"][j, y1:y2, x1:x2].astype(float)
            assert inside.mean() > 0  # the box lies on the breast, not on air


def test_baseline_trains_resumes_and_slam_inherits_it(slice_cache, tmp_path):
    from slam.detection.model import load_model
    from slam.detection.predictor import Predictor
    from slam.io import load_study
    from slam.phantom.dataset import write_study
    from slam.phantom.study import generate_study
    from train import baseline, slam_init
    from train.config import BaselineConfig, load_config

    out_cache, spec, _ = slice_cache
    model = ModelConfig.from_dict(dict(TINY, kind="baseline", backbone="mobilenet_v3_small", input_size=[96, 80],
                                       num_slices=6, grey_levels="tissue"))
    cfg = load_config("train/configs/baseline.yaml", BaselineConfig)
    cfg = dataclasses.replace(cfg, out=str(tmp_path / "bl"), epochs=2, model=model)
    cfg.data = dataclasses.replace(cfg.data, train=str(out_cache), val=str(out_cache), batch_size=4, crop=(64, 64),
                                   steps_per_epoch=2)
    row = baseline.run(dataclasses.replace(cfg, epochs=1))
    assert row["epoch"] == 1 and np.isfinite(row["loss"]) and 0 <= row["val_mean_sens_2d"] <= 1
    row = baseline.run(dataclasses.replace(cfg, resume=True))  # continues at epoch 2, same schedule
    assert row["epoch"] == 2 and row["step"] == 4
    with open(tmp_path / "bl" / "metrics.csv") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [1, 2]
    trained = load_model(tmp_path / "bl" / "best.safetensors")
    slam = slam_init.slam_from_baseline(tmp_path / "bl" / "best.safetensors", 6)
    assert slam.config.kind == "slam" and slam.config.grey_levels == "tissue"
    for name, value in trained.state_dict().items():
        assert torch.equal(slam.state_dict()[name], value), name
    heads_before = slam.roi_heads.box_predictor.cls_score.weight.clone()
    assert slam_init.main(["--baseline", str(tmp_path / "bl" / "best.safetensors"), "--train", str(out_cache),
                           "--val", str(out_cache), "--out", str(tmp_path / "slam"), "--epochs", "5",
                           "--head-steps", "3"]) == 0
    tuned = load_model(tmp_path / "slam" / "best.safetensors")  # the heads moved on the fused maps; not the extractor
    assert not torch.equal(tuned.roi_heads.box_predictor.cls_score.weight, heads_before)
    assert all(torch.equal(tuned.state_dict()[k], v) for k, v in trained.state_dict().items() if ".features." in k)
    phantom = generate_study(11, "small", style="dense-powerlaw", n_lesions=1)
    paths, _, _ = write_study(tmp_path / "study", phantom, 1)
    study = load_study(tmp_path / "study" / paths.descriptive_path)
    for weights in (tmp_path / "bl" / "best.safetensors", tmp_path / "slam" / "best.safetensors"):
        result = Predictor.from_weights(weights, device="cpu").predict(study)
        assert result.slice_weights.shape == (study.depth,) and abs(result.slice_weights.sum() - 1) < 1e-4


def test_validation_proxy_scores_the_ground_truth_as_found(slice_cache):
    """The proxy's one-slice volumes: a prediction on the GT box is a hit (a volume of VolumeSlices 1 would make
    Z + Depth / 2 = 0.5 miss the quarter-volume slice rule, and every prediction a false positive)."""
    from slam.detection.metrics import evaluate
    from slam.io.csv_formats import Prediction
    from train.baseline import one_slice_volumes
    from train.slices import load_shards

    val = load_shards(slice_cache[0])
    chosen = np.flatnonzero(val["slice_offset"] <= 0)
    labels, gt = one_slice_volumes(val, chosen)
    hits = [Prediction(b.patient_id, b.study_uid, b.view, x=b.x + 2, width=b.width, y=b.y, height=b.height, z=0,
                       depth=1, score=0.9) for b in gt]
    misses = [Prediction("P", lab.study_uid, lab.view, x=0, width=8, y=0, height=8, z=0, depth=1, score=0.5)
              for lab in labels]
    assert gt and evaluate(hits + misses, gt, labels, min_dist=15).mean_sensitivity_positive == 1.0
    assert evaluate(misses, gt, labels, min_dist=15).mean_sensitivity_positive == 0.0


@pytest.mark.slow
def test_gpu_recipe_runs_tiny_on_the_cpu(tmp_path):
    """train/gpu.sh end to end (data, baseline, SLAM from it, export, operating point, evaluation) at TINY size."""
    import json
    import subprocess
    import sys

    from slam.detection.model import load_model

    env = dict(os.environ, TINY="1", DEVICE="cpu", WORKERS="2", OUT=str(tmp_path / "gpu"), PYTHON=sys.executable,
               PYTHONPATH=os.getcwd())
    run = subprocess.run(["bash", "train/gpu.sh"], env=env, capture_output=True, text=True, timeout=1500)
    assert run.returncode == 0, run.stderr[-2000:]
    for name in ("baseline", "slam"):
        weights = tmp_path / "gpu" / "export" / f"{name}.safetensors"
        model = load_model(weights)
        assert model.config.kind == name and model.config.num_slices == 6
        assert "FP/volume on val" in model.config.operating_point  # written from the validation set
        for split in ("test", "heldout"):
            metrics = json.loads((tmp_path / "gpu" / "eval" / f"{name}-{split}" / "metrics.json").read_text())
            assert 0.0 <= metrics["mean_sensitivity_positive"] <= 1.0 and metrics["n_volumes"] == 4


def test_operating_point_lies_between_false_positive_scores():
    # 2 volumes, one mass; at 1 FP/volume two false positives may score above the threshold. The
    # only true positive ranks below every false positive, so a FROC point (at TP scores) would
    # give no threshold at all; the operating point sits just above the third false positive.
    from slam.io.csv_formats import GroundTruthBox, Prediction
    from train.evaluate import operating_threshold

    mass = GroundTruthBox("P1", "S1", "rcc", "1", 10, 40, 40, 20, 20, "cancer", 0, 40)
    def at(x, score, study="S1"):
        return Prediction("P1", study, "rcc", x=x, width=20, y=40, height=20, z=8, depth=4, score=score)
    predictions = [at(200, 0.99), at(300, 0.98, "S2"), at(400, 0.97), at(40, 0.5), at(500, 0.2, "S2")]
    t = operating_threshold(predictions, [mass], 15.6, 2, 1.0)
    assert 0.97 < t <= 0.97 + 1e-9
    assert operating_threshold(predictions, [mass], 15.6, 2, 2.0) == pytest.approx(0.2)  # every FP fits
    assert operating_threshold([], [mass], 15.6, 2, 1.0) == 0.0


def test_correlated_noise_keeps_its_std_and_is_correlated():
    from train.baseline import correlated_noise

    rng = np.random.default_rng(0)
    white, blurred = correlated_noise((256, 256), 0.02, 0.0, rng), correlated_noise((256, 256), 0.02, 1.5, rng)
    def neighbour_corr(a):
        return float(np.corrcoef(a[:, :-1].ravel(), a[:, 1:].ravel())[0, 1])
    assert white.std() == pytest.approx(0.02, rel=0.05) and blurred.std() == pytest.approx(0.02, rel=0.05)
    assert abs(neighbour_corr(white)) < 0.05 and neighbour_corr(blurred) > 0.6


def test_mined_places_lie_away_from_every_mass(slice_cache):
    from slam.detection.model import build_model
    from train.baseline import away_from, mine_hard_negatives
    from train.slices import load_shards

    masses = np.array([[10, 10, 30, 30]], np.float32)
    boxes = np.array([[15, 15, 35, 35], [60, 60, 70, 70], [20, 34, 30, 44]], np.float32)  # centres 5, 57 and 14 px off
    assert away_from(boxes, masses, 10.0).tolist() == [False, True, True]
    assert away_from(boxes, masses, 20.0).tolist() == [False, True, False]
    assert away_from(boxes, masses[:0], 1e6).all()  # a slice without a mass: every box is a place
    data = load_shards(slice_cache[0])
    model = build_model(ModelConfig.from_dict(dict(TINY, kind="baseline", backbone="mobilenet_v3_small",
                                                   input_size=[96, 80], num_slices=6, grey_levels="tissue")))
    model.train()
    rows = mine_hard_negatives(model, data, 6, 0.0, np.random.default_rng(0))  # an untrained model fires anywhere
    assert model.training and rows.shape[1] == 5 and len(rows)  # the training mode comes back
    for i, *box in rows:
        assert away_from(np.array([box], np.float32), data["boxes"][int(i), : data["n_boxes"][int(i)]], 10 / 0.68)[0]


def test_hard_negative_draws_are_crops_around_the_mined_place(slice_cache):
    from train.baseline import crop_around, draw_batch
    from train.config import BaselineConfig, SliceAugment, load_config
    from train.slices import load_shards

    data = load_shards(slice_cache[0])
    data["slices"] = np.minimum(data["slices"], 200)
    i = int(np.flatnonzero(data["n_boxes"] == 0)[0])
    data["slices"][i, 50:56, 40:46] = 255  # the mined place: the only 255 in the cache
    cfg = load_config("train/configs/baseline.yaml", BaselineConfig)
    still = SliceAugment(flip=False, scale=(1.0, 1.0), contrast=0.0, brightness=0.0, gamma=0.0, noise_p=0.0, blur_p=0.0)
    cfg = dataclasses.replace(cfg, augment=still)
    hard = np.array([[i, 40, 50, 46, 56]], np.float32)
    cfg.data = dataclasses.replace(cfg.data, batch_size=6, positive_fraction=0.5, crop=(32, 32), hard_fraction=1.0)
    images, targets = draw_batch(data, cfg, np.random.default_rng(1), hard)
    assert (images[3:].amax((1, 2, 3)) == 1.0).all()  # every draw without a mass holds the place
    assert all(len(t["boxes"]) == 0 for t in targets[3:])  # which is a negative: no box
    cfg.data = dataclasses.replace(cfg.data, hard_fraction=0.0)
    images, _ = draw_batch(data, cfg, np.random.default_rng(1), hard)
    assert images[:3].amax() < 1.0  # positives never come from the place's slice
    # a place at the image's edge (as detections are) or wider than the crop still gets a crop
    for place in ([60, 80, 80.4, 96.3], [0, 0, 70, 90]):
        crop, _ = crop_around(np.ones((96, 80), np.float32), np.zeros((0, 4), np.float32), (32, 32),
                              np.random.default_rng(0), focus=np.array(place, np.float32))
        assert crop.shape == (32, 32)
