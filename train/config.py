"""Training configs: a YAML file plus ``--set dotted.key=value`` overrides.

Every key an override names must already exist in the file (a typo fails loudly instead of
being ignored); values are parsed as YAML, so ``--set optim.lr=3e-4`` gives a float and
``--set model.input_size=[224,192]`` a list.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
from pathlib import Path

import yaml

from slam.detection.config import ModelConfig
from slam.errors import SlamError


def load_config(path: str | Path, overrides: list[str] | None = None) -> dict:
    """The YAML mapping at ``path`` with ``overrides`` ("a.b=value") applied; a new dict."""
    path = Path(path)
    if not path.is_file():
        raise SlamError(f"training config {path} does not exist")
    config = yaml.safe_load(path.read_text()) or {}
    if not isinstance(config, dict):
        raise SlamError(f"training config {path} must be a YAML mapping")
    for item in overrides or []:
        apply_override(config, item)
    return config


def apply_override(config: dict, item: str) -> None:
    """Set ``config[a][b] = value`` in place for ``item`` "a.b=value" (the key must exist)."""
    key, sep, raw = item.partition("=")
    if not sep or not key:
        raise SlamError(f"override {item!r} is not of the form dotted.key=value")
    *parents, leaf = key.split(".")
    node = config
    for part in parents:
        if not isinstance(node.get(part), dict):
            raise SlamError(f"override {item!r}: {part!r} is not a section of the config")
        node = node[part]
    if leaf not in node:
        raise SlamError(f"override {item!r}: unknown key {key!r}; accepted here: {', '.join(sorted(node))}")
    value = yaml.safe_load(raw)
    if isinstance(value, str):  # YAML 1.1 reads "1e-3" (no dot) as a string
        with contextlib.suppress(ValueError):
            value = float(value)
    node[leaf] = value


def model_config(config: dict, notes: dict | None = None) -> ModelConfig:
    """The ``model`` section as a :class:`slam.detection.config.ModelConfig` (``notes`` go to its ``extra``)."""
    fields = copy.deepcopy(config["model"])
    fields["extra"] = {**fields.get("extra", {}), **(notes or {})}
    return ModelConfig.from_dict(fields)


def add_common_args(parser: argparse.ArgumentParser, default_config: str) -> None:
    parser.add_argument("--config", default=default_config, help=f"YAML config (default {default_config})")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config entry, e.g. --set optim.lr=3e-4 (repeatable)")  # fmt: skip
    parser.add_argument("--device", choices=("auto", "xla", "cuda", "cpu"), help="overrides the config's device")
    parser.add_argument("--out", help="output folder (overrides the config's out)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.* (weights, optimizer, epoch)")


def resolve_args(args: argparse.Namespace) -> dict:
    config = load_config(args.config, args.overrides)
    if args.device:
        config["device"] = args.device
    if args.out:
        config["out"] = args.out
    config["resume"] = bool(args.resume)
    return config
