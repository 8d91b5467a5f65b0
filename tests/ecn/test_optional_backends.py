"""Optional backends are compared when installed, and say so when they are not (no silent skips).

``pytest -ra`` lists each skip below with its reason; CI installs torch-scatter so that none is skipped.
"""

import pytest
import torch

from ecn.nn import scatter as scatter_module


def test_torch_scatter_backend_equals_the_native_one():
    pytest.importorskip("torch_scatter", reason="torch_scatter is not installed: the torch-scatter backend is not "
                        "compared with the native one (pip install torch-scatter, built for this torch)")
    assert scatter_module.torch_scatter_available()
    src = torch.randn(200, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    index = torch.randint(0, 17, (200,), generator=torch.Generator().manual_seed(1))
    index[:3] = 16  # the last slot is used; slot 0..15 may be empty
    original = scatter_module.backend()
    try:
        results = {}
        for name in ("native", "torch_scatter"):
            scatter_module.set_backend(name)
            results[name] = (scatter_module.scatter_sum(src, index, 20), scatter_module.scatter_mean(src, index, 20))
    finally:
        scatter_module.set_backend(original)
    for a, b in zip(results["native"], results["torch_scatter"]):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    counts = torch.bincount(index, minlength=20).clamp(min=1).double()[:, None]
    sums = torch.zeros(20, 5, dtype=torch.float64).index_add_(0, index, src)
    torch.testing.assert_close(results["torch_scatter"][1], sums / counts, rtol=0, atol=1e-12)  # empty slots: 0
