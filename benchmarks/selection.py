"""Checkpoint selection: in sample vs a held-out slice, on one training run.

Fits the default WGAN on the S&P 500 (1999-2018) with ``validation_fraction`` (the last
fifth held out by default), keeps the generator's weights at every validation, then
scores every checkpoint three ways and evaluates the checkpoint each rule picks:

- ``held-out``: the product's rule with ``validation_fraction``: the whole-path score
  against the held-out slice, generated paths scaled to its standard deviation;
- ``held-out, raw scale``: the same without the scaling (the slice's volatility level
  counts);
- ``in sample``: the score against the training slice, as with ``validation_fraction=None``.

Each pick is evaluated with ``quantgan.metrics`` on the whole history (paths as long as
it) and on the held-out slice alone (paths as long as the slice), after its own filter
(``match_acf``) and moments are fitted on the training slice, as ``fit`` fits them for
the checkpoint it keeps (``checkpoints.keep``).

    python benchmarks/selection.py --seed 0                 # 300 s, 300 paths
    python benchmarks/selection.py --seed 1 --time-budget 120 --n-paths 100
    python benchmarks/selection.py --seed 0 --max-steps 700  # same run at any speed
    python benchmarks/selection.py --quick                  # smoke run

The three rules see the same checkpoints, so the comparison is within one run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import quantgan as qg
from quantgan import metrics
from quantgan.training import CheckpointHistory

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkpoints import keep


def facts(real: np.ndarray, paths: np.ndarray) -> dict:
    e = metrics.emd(real, paths)
    return {
        **{f"emd_{lag}": v for lag, v in e.items()},
        "acf_abs": metrics.acf_score(real, paths, "abs"),
        "acf_sq": metrics.acf_score(real, paths, "square"),
        "leverage": metrics.leverage_score(real, paths),
        "std ratio": paths.std() / real.std(),
        "excess kurtosis": float(metrics.summary_statistics(paths)["excess_kurtosis"].mean()),
    }


def main(argv=None) -> dict[str, pd.DataFrame]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-budget", type=float, default=300.0)
    parser.add_argument("--max-steps", type=int, default=None,
                        help="a step budget instead of --time-budget (the same run whatever the speed)")  # fmt: skip
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    parser.add_argument("--n-paths", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 steps, 10 paths")
    args = parser.parse_args(argv)
    budget = {"time_budget": args.time_budget}
    if args.max_steps is not None:
        if args.max_steps < 1:
            parser.error("--max-steps must be >= 1")
        budget = {"time_budget": None, "max_steps": args.max_steps}
    if args.quick:
        budget = {"time_budget": None, "max_steps": 10, "validation_every": 5}
        args.n_paths = 10

    returns = qg.log_returns(qg.load_sp500())
    history = CheckpointHistory()
    aug = qg.WGANAugmenter(
        **budget,
        validation_fraction=args.validation_fraction,
        random_state=args.seed,
        n_threads=args.threads,
        verbose=False,
        callbacks=[history],
    ).fit(returns)
    if args.quick:
        aug._MEAN_STEPS = 1 << 16  # the moments of each pick from fewer steps
    values = returns.to_numpy()[:, None]
    n_train = len(values) - aug.n_validation_
    train, held = values[:n_train], values[n_train:]
    print(
        f"fitted on {returns.index[0]:%Y-%m-%d} .. {returns.index[n_train - 1]:%Y-%m-%d} "
        f"({n_train} days), held out {returns.index[n_train]:%Y-%m-%d} .. "
        f"{returns.index[-1]:%Y-%m-%d} ({aug.n_validation_} days): "
        f"{len(aug.history_)} generator steps, {len(history.states)} checkpoints"
    )
    rules = {
        name: aug._checkpoint_score(aug.generator_, ref, args.seed, args.seed, "cpu", rescale=r)
        for name, ref, r in (
            ("held-out", held, True),
            ("held-out, raw scale", held, False),
            ("in sample", train, False),
        )
    }
    z = torch.randn(256, aug.generator_.latent_dim, generator=torch.Generator().manual_seed(0))
    rows = []
    for step, _, state in history.states:
        aug.generator_.load_state_dict(state)
        with torch.no_grad():
            windows = aug.generator_(z).transpose(1, 2).numpy().astype(np.float64)
        rows.append({"step": step, **{name: rule(windows) for name, rule in rules.items()}})
    scores = pd.DataFrame(rows).set_index("step")
    print("\nscore of every checkpoint under each rule (lower is better)")
    print(scores.round(3).T.to_string())

    picks = {name: int(scores[name].idxmin()) for name in rules}
    states = {step: state for step, _, state in history.states}
    results = {}
    for step in sorted(set(picks.values())):
        keep(aug, states[step], train, args.seed)  # its own filter and moments
        whole = aug.sample(args.n_paths, len(values), random_state=0).to_numpy()
        part = aug.sample(args.n_paths, len(held), random_state=0).to_numpy()
        results[step] = (facts(values[:, 0], whole), facts(held[:, 0], part))
    tables = {"scores": scores}
    for k, label in enumerate(("the whole history", "the held-out slice")):
        table = pd.DataFrame(
            {f"{name} (step {step})": results[step][k] for name, step in picks.items()}
        )
        print(f"\nthe picked checkpoints against {label} ({args.n_paths} paths)")
        print(table.map(lambda v: f"{v:.4g}").to_string())
        tables[label] = table
    return tables


if __name__ == "__main__":
    main()
