"""What the model sees of a study: sampled slices resized to the model's input, and boxes in input pixels.

Training (``train/``) and inference (``slam.detection.predictor``) both build their inputs here,
so the two never drift apart.

- Orientation: DISPLAY (``Study.display_slice``: the Duke BCS-DBT convention, so every breast has its
  chest wall on the side it had in training).
- Resize: the (H, W) slice is scaled to (h, w) = ``input_size`` with OpenCV's area filter, each axis
  on its own (no padding, no crop): the aspect ratio is NOT kept, every input pixel carries breast
  data, and boxes map back with separate factors W / w and H / h.
- Grey levels: without preprocessing, the study's own display window (centre/width, modality
  rescale, MONOCHROME1 inverted) gives 8-bit levels, divided by 255; with preprocessing, the 8-bit
  output of ``slam.imaging.preprocess.preprocess_slice`` (inverted for MONOCHROME1) divided by 255.
"""

from __future__ import annotations

import numpy as np

from slam.imaging.orientation import flip_image


def slice_to_input(study, index: int, input_size: tuple[int, int], preprocess: bool = False) -> np.ndarray:
    """Original slice ``index`` as the model sees it: (h, w) float32 in [0, 1], display orientation.

    Resized in stored orientation and flipped afterwards (the area filter is mirror
    symmetric), so a flipped study costs no full-size copy.
    """
    import cv2

    from slam.imaging.display import window_to_uint8

    h, w = input_size
    image = study.pixels[index]
    if preprocess:
        from slam.imaging.preprocess import preprocess_slice

        u8 = preprocess_slice(image, invert=study.invert)
        small = cv2.resize(u8, (w, h), interpolation=cv2.INTER_AREA)
    else:
        if image.dtype not in (np.uint8, np.uint16, np.int16, np.float32):
            image = image.astype(np.float32)
        small = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
        small = window_to_uint8(
            small, study.window_center, study.window_width, study.rescale_slope, study.rescale_intercept,
            invert=study.invert,
        )  # fmt: skip
    return flip_image(small, study.flip_rows, study.flip_cols).astype(np.float32) * np.float32(1.0 / 255.0)


def volume_to_input(study, indices, input_size: tuple[int, int], preprocess: bool = False) -> np.ndarray:
    """The model input for original slices ``indices``: (n, h, w) float32 in [0, 1] (repeats computed once)."""
    out = np.empty((len(indices), *input_size), dtype=np.float32)
    first: dict[int, int] = {}
    for p, k in enumerate(int(i) for i in indices):
        if k in first:
            out[p] = out[first[k]]
        else:
            out[p] = slice_to_input(study, k, input_size, preprocess)
            first[k] = p
    return out


def input_scale(study, input_size: tuple[int, int]) -> tuple[float, float]:
    """(sx, sy): original pixels per input pixel along x (width) and y (height)."""
    return study.width / input_size[1], study.height / input_size[0]


def box_to_input(study, x, y, width, height, input_size: tuple[int, int], coords: str = "stored"):
    """A box in original pixels (``coords`` frame) -> (x1, y1, x2, y2) in model input pixels (display)."""
    if coords == "stored":
        x, y, width, height = study.box_to_display(x, y, width, height)
    sx, sy = input_scale(study, input_size)
    return x / sx, y / sy, (x + width) / sx, (y + height) / sy
