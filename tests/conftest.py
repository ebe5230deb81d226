import numpy as np
import pandas as pd
import pytest
import torch

import quantgan as qg


@pytest.fixture(autouse=True, scope="session")
def _small_torch():
    # Tests train tiny models; one thread avoids oversubscription on small CI machines.
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def sp500_returns() -> pd.Series:
    return qg.log_returns(qg.load_sp500())


@pytest.fixture
def garch_returns() -> pd.Series:
    """800 business days of a GARCH(1,1)-t process: heavy tails and clustering."""
    rng = np.random.default_rng(7)
    n, omega, alpha, beta = 800, 1e-6, 0.08, 0.9
    var = omega / (1 - alpha - beta)
    out = np.empty(n)
    for t in range(n):
        eps = rng.standard_t(5) * np.sqrt(3 / 5)
        out[t] = np.sqrt(var) * eps
        var = omega + alpha * out[t] ** 2 + beta * var
    return pd.Series(out, index=pd.bdate_range("2010-01-04", periods=n), name="garch")
