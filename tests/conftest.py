"""Fixtures shared by the unit tests."""

import pytest
import torch


@pytest.fixture
def float64():
    """Compute in double precision, and leave the default as it was for other tests."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)
