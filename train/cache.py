"""The offline cache step: decode, sample and resize every study of a BCS-DBT folder once.

    python -m train.cache DATA_DIR cache/train.npz --config train/configs/stage1.yaml

The slice count, input size, sampling and preprocessing come from the config's ``model`` section
(the cache must match the model it trains: ``--set model.preprocess=true`` for preprocessed
slices, in both this step and the training); epochs then read the array file and never decode DICOM.
"""

from __future__ import annotations

import argparse

from train.config import Stage1Config, load_config
from train.data import build_cache


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.cache", description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", help="folder with file-paths.csv, boxes.csv (optional) and the studies")
    parser.add_argument("out", help="cache file to write (.npz)")
    parser.add_argument("--config", default="train/configs/stage1.yaml", help="training config (its model section)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="config override, e.g. --set model.num_slices=16")  # fmt: skip
    parser.add_argument("--box-coords", choices=("stored", "display"), default="stored",
                        help="frame of boxes.csv: stored (as in the files, the phantom's) or display (Duke reader)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    model = load_config(args.config, Stage1Config, args.overrides).model
    out = build_cache(args.data_dir, args.out, model.num_slices, model.input_size, model.sampling,
                      model.preprocess, args.box_coords, progress=not args.quiet)  # fmt: skip
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    from train.config import run_main

    raise SystemExit(run_main(main, "python -m train.cache"))
