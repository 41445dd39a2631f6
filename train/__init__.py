"""SLAM training (design.md §6): the offline cache, the two stages, devices (XLA / CUDA / CPU), evaluation.

One command per step, run from the repository root::

    python -m train.cache DATA_DIR cache/train.npz --config train/configs/stage1.yaml
    python -m train.stage1 --config train/configs/stage1.yaml [--set key=value ...]
    python -m train.stage2 --config train/configs/stage2.yaml [--set key=value ...]
    python -m train.evaluate --weights runs/stage2/best.safetensors --data DATA_DIR
"""
