"""Shared test settings: deterministic, single-threaded-noise-free torch."""

import os

# Triton kernels run on CPU tensors under its interpreter, which must be
# chosen before triton is first imported; a machine with a GPU may unset it.
os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
