"""One training code path for three kinds of device.

- ``xla``: torch_xla through PJRT (TPU; ``PJRT_DEVICE=CPU`` runs the same graphs on the CPU).
  One process per TPU core, started by ``torch_xla.launch``; the ``MpDeviceLoader`` feeds
  each core and cuts the graph after every step; ``xm.optimizer_step`` all-reduces the
  gradients over the cores before the update; bf16 autocast.
- ``cuda``: one process per GPU under ``torchrun`` (DistributedDataParallel, NCCL), or a
  single GPU without it; bf16 autocast.
- ``cpu``: one process, float32.

``auto`` picks xla when torch_xla is importable and a TPU (or ``PJRT_DEVICE``) is configured,
else cuda when a GPU is visible, else cpu.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from slam.errors import SlamError

DEVICES = ("auto", "xla", "cuda", "cpu")


def xla_available() -> bool:
    return importlib.util.find_spec("torch_xla") is not None


def resolve_device(name: str) -> str:
    """``auto`` -> the device kind to use; other names are checked and returned."""
    if name not in DEVICES:
        raise SlamError(f"device {name!r} is unknown; accepted: {', '.join(DEVICES)}")
    if name == "auto":
        tpu = os.environ.get("PJRT_DEVICE") or os.environ.get("TPU_NAME") or os.path.exists("/dev/accel0")
        if tpu and xla_available():
            return "xla"
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "xla" and not xla_available():
        raise SlamError("device xla needs torch_xla: pip install -r requirements-tpu.txt (own venv)")
    if name == "cuda" and not torch.cuda.is_available():
        raise SlamError("device cuda was asked for but no CUDA GPU is visible; use --device cpu or auto")
    return name


def launch(kind: str, precision: str, fn: Callable, *args) -> None:
    """Run ``fn(runtime, *args)`` once per device: per TPU core (xla), per torchrun process (cuda)."""
    if kind == "xla":
        import torch_xla

        torch_xla.launch(_xla_entry, args=(precision, fn, *args))
    else:
        fn(make_runtime(kind, precision), *args)


def _xla_entry(index: int, precision: str, fn: Callable, *args) -> None:
    fn(make_runtime("xla", precision), *args)


@dataclass
class Runtime:
    """Where this process trains: device, data-parallel rank and world size, precision."""

    kind: str
    device: torch.device
    rank: int = 0
    world_size: int = 1
    precision: str = "fp32"

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def autocast(self):
        """bf16 autocast on xla/cuda when precision is bf16; a no-op context otherwise."""
        if self.precision != "bf16":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def wrap(self, module: nn.Module) -> nn.Module:
        """DistributedDataParallel on CUDA with several processes; the module itself otherwise
        (XLA all-reduces in :meth:`optimizer_step`)."""
        if self.kind == "cuda" and self.world_size > 1:
            from torch.nn.parallel import DistributedDataParallel

            return DistributedDataParallel(module, device_ids=[self.device.index])
        return module

    def batches(self, loader: Iterable) -> Iterator[dict]:
        """The loader's batches on this device (XLA: the parallel device loader)."""
        if self.kind == "xla":
            import torch_xla.distributed.parallel_loader as pl

            yield from pl.MpDeviceLoader(loader, self.device)
            return
        for batch in loader:
            yield {k: v.to(self.device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}

    def optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        if self.kind == "xla":
            import torch_xla.core.xla_model as xm

            xm.optimizer_step(optimizer)
        else:
            optimizer.step()

    def sync(self) -> None:
        """Cut and run the pending XLA graph (no-op elsewhere)."""
        if self.kind == "xla":
            import torch_xla

            torch_xla.sync()

    def mean_over_ranks(self, values: dict[str, float]) -> dict[str, float]:
        """Average scalars over the data-parallel processes (for logging)."""
        if self.world_size == 1 or not values:
            return values
        keys = sorted(values)
        t = torch.tensor([values[k] for k in keys], dtype=torch.float32, device=self.device)
        if self.kind == "xla":
            import torch_xla.core.xla_model as xm

            t = xm.all_reduce(xm.REDUCE_SUM, t)
        else:
            torch.distributed.all_reduce(t)
        return dict(zip(keys, (t / self.world_size).tolist(), strict=True))

    def barrier(self, tag: str = "barrier") -> None:
        if self.world_size == 1:
            return
        if self.kind == "xla":
            import torch_xla.core.xla_model as xm

            xm.rendezvous(tag)
        else:
            torch.distributed.barrier()


_XLA_AUTOCAST_LIBRARY = None


def register_xla_autocast_ops() -> None:
    """Run torchvision's NMS and RoIAlign in float32 under XLA autocast.

    torchvision registers these casts for the CUDA and CPU autocast keys only; on an XLA
    device bf16 boxes reach an NMS kernel that has no bf16 version. Same rule as torchvision's
    own autocast kernels: inputs to float32, RoIAlign's output back to the input's dtype.
    """
    global _XLA_AUTOCAST_LIBRARY
    if _XLA_AUTOCAST_LIBRARY is not None:
        return
    import torchvision  # noqa: F401  (loads the torchvision ops)

    def nms(dets, scores, iou_threshold):
        with torch.autocast("xla", enabled=False):  # so the call below skips this kernel
            return torch.ops.torchvision.nms(dets.float(), scores.float(), iou_threshold)

    def roi_align(inputs, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned):
        with torch.autocast("xla", enabled=False):
            out = torch.ops.torchvision.roi_align(inputs.float(), rois.float(), spatial_scale, pooled_height,
                                                  pooled_width, sampling_ratio, aligned)  # fmt: skip
        return out.to(inputs.dtype)

    library = torch.library.Library("torchvision", "IMPL")
    library.impl("nms", nms, "AutocastXLA")
    library.impl("roi_align", roi_align, "AutocastXLA")
    _XLA_AUTOCAST_LIBRARY = library


def make_runtime(kind: str, precision: str = "auto") -> Runtime:
    """The runtime of this process (call inside the launched function for xla)."""
    if kind == "xla":
        import torch_xla
        import torch_xla.runtime as xr

        register_xla_autocast_ops()

        rt = Runtime("xla", torch_xla.device(), xr.global_ordinal(), xr.world_size())
    elif kind == "cuda":
        world = int(os.environ.get("WORLD_SIZE", "1"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        if world > 1 and not torch.distributed.is_initialized():
            torch.distributed.init_process_group("nccl")
        rank = torch.distributed.get_rank() if world > 1 else 0
        rt = Runtime("cuda", torch.device("cuda", local), rank, world)
    else:
        rt = Runtime("cpu", torch.device("cpu"))
    rt.precision = set_precision(rt.kind, precision)
    return rt


def set_precision(kind: str, precision: str) -> str:
    if precision not in ("auto", "bf16", "fp32"):
        raise SlamError(f"precision {precision!r} is unknown; accepted: auto, bf16, fp32")
    if precision == "auto":
        return "bf16" if kind in ("xla", "cuda") else "fp32"
    return precision
