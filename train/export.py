"""Ship trained weights: ``.safetensors`` with floating tensors stored as float16, plus the JSON.

    python -m train.export runs/demo/stage2/best.safetensors slam/weights/slam_default.safetensors

Halving the file keeps the demo model under the repository's 10 MB limit; ``slam.detection.model.load_model``
copies the float16 values into the float32 parameters, so inference runs in float32 as trained
(the held-out metrics in the model card are measured on the exported file).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch

from slam.detection.config import config_path
from slam.errors import SlamError


def export_half(src: str | Path, dst: str | Path) -> Path:
    """Copy ``src`` (+ its JSON config) to ``dst`` with float32 tensors as float16; returns ``dst``."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    src, dst = Path(src), Path(dst)
    if src.suffix != ".safetensors" or dst.suffix != ".safetensors":
        raise SlamError("export reads and writes .safetensors files")
    with safe_open(str(src), framework="pt") as handle:
        metadata = handle.metadata()
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118  (safe_open has no iterator)
    half = {k: v.half() if v.dtype == torch.float32 else v for k, v in tensors.items()}
    dst.parent.mkdir(parents=True, exist_ok=True)
    save_file(half, str(dst), metadata={**(metadata or {}), "stored_dtype": "float16"})
    shutil.copyfile(config_path(src), config_path(dst))
    return dst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("src", help="trained weights (.safetensors with its .json beside it)")
    parser.add_argument("dst", help="where to write the float16 copy (.safetensors; its .json is copied too)")
    args = parser.parse_args(argv)
    dst = export_half(args.src, args.dst)
    print(f"wrote {dst} ({dst.stat().st_size / 2**20:.1f} MiB) and {config_path(dst)}")
    return 0


if __name__ == "__main__":
    from train.config import run_main

    raise SystemExit(run_main(main, "python -m train.export"))
