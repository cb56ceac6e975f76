"""The array helpers the fast layers share: transposed_copy against NumPy's own transpose."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinyconv._backend import transposed_copy

from .helpers import DTYPES


@given(
    rows=st.integers(1, 600),
    # Row lengths that are multiples of 128 elements give row strides that are multiples of 512 bytes, which
    # take the staged path; the others take the direct one. Both cross block edges at these sizes.
    cols=st.one_of(st.integers(1, 600), st.integers(1, 5).map(lambda k: 128 * k)),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
)
def test_transposed_copy_is_the_transpose(rows, cols, dtype, seed):
    src = np.random.default_rng(seed).standard_normal((rows, cols)).astype(dtype)
    before = src.copy()
    dst = np.full((cols, rows), np.nan, dtype=dtype)
    assert transposed_copy(src, dst) is dst
    np.testing.assert_array_equal(dst, src.T)
    np.testing.assert_array_equal(src, before)


def test_transposed_copy_of_a_strided_view():
    # A row stride of 2048 bytes (staged) on a view whose rows are not contiguous with each other.
    base = np.arange(300 * 512, dtype=np.float32).reshape(300, 512)
    src = base[::2, 3:260]
    dst = np.empty(src.shape[::-1], dtype=np.float32)
    np.testing.assert_array_equal(transposed_copy(src, dst), src.T)
