"""Two assets at once: the S&P 500 and the NASDAQ Composite (both bundled, offline).

    python examples/two_assets.py --time-budget 300

Fits one WGAN on the pair of daily log-return series and checks what a joint model
must keep: the correlation between the two assets (mean over synthetic paths of each
path's correlation, next to the historical one), each asset's volatility clustering
(ACF score of |r|) and the co-movement of their volatilities. GARCH(1,1)-t fitted per
asset is not a joint model, so the stationary block bootstrap (which resamples days
of both assets together) is the reference for the correlation.
"""

import argparse

import numpy as np
import pandas as pd

import quantgan as qg
from quantgan.metrics import acf_score, cross_correlation


def vol_comovement(frame: pd.DataFrame) -> float:
    """Correlation of the two assets' 20-day rolling volatilities."""
    vol = frame.rolling(20).std().dropna()
    return float(vol.corr().iloc[0, 1])


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-budget", type=float, default=300.0, help="training seconds")
    parser.add_argument("--n-paths", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    returns = pd.DataFrame(
        {"sp500": qg.log_returns(qg.load_sp500()), "nasdaq": qg.log_returns(qg.load_nasdaq())}
    )
    models = {
        "WGAN": qg.WGANAugmenter(time_budget=args.time_budget, random_state=args.seed),
        "bootstrap": qg.BootstrapAugmenter(),
    }
    rows = {"real": {
        "corr": float(returns.corr().iloc[0, 1]),
        "vol co-movement": vol_comovement(returns),
    }}  # fmt: skip
    for name, model in models.items():
        paths = model.fit(returns).sample(args.n_paths, random_state=args.seed)
        row = {"corr": float(np.asarray(cross_correlation(paths))[0, 1])}
        row["vol co-movement"] = float(
            np.mean([vol_comovement(paths[p]) for p in paths.columns.unique("path")])
        )
        for asset in returns:
            synthetic = paths.xs(asset, axis=1, level="asset")
            row[f"acf_abs {asset}"] = acf_score(returns[asset], synthetic, "abs")
        rows[name] = row
    table = pd.DataFrame(rows).T
    print(table.round(4).to_string())
    if isinstance(models["WGAN"], qg.WGANAugmenter):
        wgan = models["WGAN"]
        print(f"WGAN: {len(wgan.history_)} generator steps, kept step {wgan.best_step_}")
    return table


if __name__ == "__main__":
    main()
