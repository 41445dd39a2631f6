import numpy as np
import pytest

from slam.detection.sampling import representative_target, sample_indices, sampled_position, trim_range
from slam.errors import SlamError


def _check_even(indices: np.ndarray, first: int, last: int, n: int) -> None:
    assert indices.shape == (n,)
    assert indices.dtype == np.int64
    assert indices[0] == first and indices[-1] == last
    gaps = np.diff(indices)
    assert (gaps >= 0).all()
    # an even spread: consecutive gaps differ by at most one slice
    assert gaps.max() - gaps.min() <= 1


@pytest.mark.parametrize("depth", [1, 2, 10, 26])
def test_fewer_slices_than_n_repeats_every_slice(depth):
    idx = sample_indices(depth, 27)
    _check_even(idx, 0, depth - 1, 27)
    assert set(idx.tolist()) == set(range(depth))
    counts = np.bincount(idx)
    assert counts.max() - counts.min() <= 1


def test_depth_equal_to_n_gives_every_slice():
    np.testing.assert_array_equal(sample_indices(27, 27), np.arange(27))
    np.testing.assert_array_equal(sample_indices(27, 27, method="interleaved"), np.arange(27))


@pytest.mark.parametrize(("depth", "trim"), [(99, 0), (100, 3), (109, 3), (110, 6), (119, 6), (120, 0)])
def test_trimming_rule(depth, trim):
    assert trim_range(depth) == (trim, depth - 1 - trim)
    _check_even(sample_indices(depth), trim, depth - 1 - trim, 27)


@pytest.mark.parametrize("depth", [81, 90, 128])
def test_even_reaches_the_bottom_for_deep_volumes(depth):
    idx = sample_indices(depth)
    _check_even(idx, 0, depth - 1, 27)
    assert len(set(idx.tolist())) == 27


def test_interleaved_reproduces_original_for_deep_volume():
    # D >= 81: the original took i % 3 == 0 only and never reached the bottom slices
    idx = sample_indices(90, 27, method="interleaved")
    np.testing.assert_array_equal(idx, np.arange(0, 81, 3))
    assert idx.max() < 90 - 9


def test_interleaved_clusters_at_top_for_shallow_volume():
    idx = sample_indices(60, 27, method="interleaved")
    expected = np.sort(np.concatenate([np.arange(0, 60, 3), np.arange(1, 20, 3)]))
    np.testing.assert_array_equal(idx, expected)


def test_interleaved_trims_like_the_original():
    idx = sample_indices(105, 27, method="interleaved")
    np.testing.assert_array_equal(idx, np.arange(3, 3 + 81, 3))


def test_interleaved_falls_back_to_even_below_n():
    np.testing.assert_array_equal(sample_indices(12, 27, method="interleaved"), sample_indices(12, 27))


def test_representative_target_is_nearest_sampled_slice():
    idx = sample_indices(64)  # 0, 2, 5, 7, ...
    for gt in range(64):
        pos = representative_target(idx, gt)
        assert abs(idx[pos] - gt) == np.abs(idx - gt).min()
    assert representative_target(idx, 0) == 0
    assert representative_target(idx, 63) == 26
    assert sampled_position(idx, 40) == representative_target(idx, 40)


def test_representative_target_with_repeats_takes_first():
    idx = sample_indices(5, 27)
    pos = representative_target(idx, 2)
    assert idx[pos] == 2 and (pos == 0 or idx[pos - 1] != 2)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: sample_indices(0), "depth"),
        (lambda: sample_indices(10, 0), "number of sampled slices"),
        (lambda: sample_indices(10, method="random"), "even, interleaved"),
        (lambda: sample_indices(10.5), "depth"),
        (lambda: representative_target([], 3), "non-empty"),
        (lambda: representative_target([0, 1], -1), "non-negative"),
        (lambda: representative_target([0, 1], 1.5), "non-negative"),
    ],
)
def test_bad_parameters(call, match):
    with pytest.raises(SlamError, match=match):
        call()
