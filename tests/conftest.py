"""Shared test settings: deterministic, single-threaded-noise-free torch."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
