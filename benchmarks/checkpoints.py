"""Checkpoint selection along one training run: what the score picks, what it could pick.

Fits the default WGAN on the S&P 500 daily log returns (or the NASDAQ Composite,
``--series nasdaq``) with a time budget and keeps the generator at every validation
(:class:`quantgan.training.CheckpointHistory`).
Then, for every checkpoint (or every ``--every``-th):

- its benchmark rows, from ``--n-paths`` paths as long as the history, after the
  filter (``match_acf``) and ``match_mean`` / ``match_std`` are fitted for that
  checkpoint as ``fit`` fits them for the kept one (:func:`keep`): EMD at lags
  1/5/20/100, the ACF scores of ``|r|`` and ``r^2``, the leverage score, excess
  kurtosis, the 1% expected shortfall of each tail against the history's; and how
  many of the seven distance rows beat both GARCH(1,1) fits (normal and Student-t,
  fitted in the same run);
- its validation score under the product's rule (the score ``fit`` recorded: whole
  paths from the training seed's noise, ``_VALIDATION_PATHS`` of them) and under
  variants: the same number of paths from other noise, 4 times as many, and
  ``fit``'s final score (``_FINAL_PATHS`` paths, the ACF r^2 term doubled, the
  kurtosis term added), which ``fit`` computed only for its ``_CANDIDATES`` best
  checkpoints by validation score; and that final score without its extra weights,
  over every checkpoint and over ``fit``'s candidates.

It prints the trajectory, the step each rule picks and the picks' rows, so the
question "would a better-measured score have kept a better generator?" is answered
within one run (every rule sees the same checkpoints). With ``--budgets`` it also
prints the step ``fit`` keeps had the run stopped at each shorter step budget, for
each kurtosis weight of ``--kurtosis-weights`` (one long run answers for every
shorter one: training is deterministic for a seed).

    python benchmarks/checkpoints.py --seed 0                    # 300 s, 200 paths
    python benchmarks/checkpoints.py --seed 1 --time-budget 900 --every 2
    python benchmarks/checkpoints.py --seed 3 --max-steps 700   # same run at any speed
    python benchmarks/checkpoints.py --seed 3 --max-steps 1100 --n-paths 500 \
        --budgets 600,700,800,900,1000,1100 --kurtosis-weights 1,0.5
    python benchmarks/checkpoints.py --quick                     # smoke run

A checkpoint costs about 15-20 s on one CPU thread (2^20 generated steps for its
filter and moments, the paths, the metrics), so a 5-minute run takes about 10
minutes in all (1100 steps with 500 paths per checkpoint: about 20 minutes).
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
from quality import PERIODS, SERIES, markdown

#: The distance rows counted as won or lost against both GARCH fits.
ROWS = ("emd_1", "emd_5", "emd_20", "emd_100", "acf_abs", "acf_sq", "leverage")


def expected_shortfall(x: np.ndarray, q: float = 0.01) -> tuple[float, float]:
    """Mean of the lowest and of the highest ``q`` of all values of ``x``, standardised
    (pooled over paths: one number per tail), the lower one as a positive number."""
    z = np.sort((x - x.mean()) / x.std(), axis=None)
    k = max(1, round(q * z.size))
    return float(-z[:k].mean()), float(z[-k:].mean())


def rows_of(real: np.ndarray, paths: np.ndarray) -> dict[str, float]:
    """The benchmark's rows (``quantgan.evaluate``'s conventions) of ``paths`` (T, n),
    and tail rows: the mean excess kurtosis of the paths, and the expected shortfall at
    1% of their pooled standardised days over the history's, per tail (``es_left``,
    ``es_right``; 1 is the history's, above 1 heavier)."""
    facts = metrics.stylized_facts(real, paths)
    out = {row: float(facts[row]) for row in ROWS}
    out["kurtosis"] = float(metrics.summary_statistics(paths)["excess_kurtosis"].mean())
    tails = zip(expected_shortfall(paths), expected_shortfall(real), strict=True)
    out["es_left"], out["es_right"] = (generated / history for generated, history in tails)
    return out


def keep(aug: qg.WGANAugmenter, state: dict, values: np.ndarray, seed: int) -> None:
    """Make the fitted ``aug`` sample what ``fit`` would have, had it kept ``state``.

    Loads the generator state, then fits its own filter (``match_acf``) and moments
    (``match_mean`` / ``match_std``) against the training ``values`` with ``fit``'s
    own last step and seed (``_fit_output``).
    """
    aug.generator_.load_state_dict(state)
    aug._fit_output(values, seed)


def replay(
    table: pd.DataFrame, budgets: list[int], weights: list[float], fit_weight: float, n: int
) -> pd.DataFrame:
    """The step ``fit`` keeps when stopped at each step budget, for each kurtosis weight.

    Training is deterministic for a seed, and a step budget does not change the steps
    before it, so a run stopped at ``B`` has exactly this run's checkpoints up to ``B``
    (plus step ``B`` itself when it is not a validation step: use multiples of
    ``validation_every``). ``fit`` re-scores the ``n`` best of them by the recorded
    validation score; the final score is recomputed from ``table``'s per-term columns
    with the kurtosis term at each weight (``fit_weight``: the weight they were
    computed with). Each cell: ``step (rows won)``. Needs every checkpoint in
    ``table`` (``--every 1``).
    """
    final = next(c for c in table.columns if c.startswith("final") and ":" not in c)
    kurtosis = table[f"{final}: kurtosis"] / fit_weight if fit_weight else None
    recorded = next(c for c in table.columns if c.endswith("(fit)"))
    out = {}
    for b in budgets:
        seen = table[table.index <= b]
        if seen.empty or table.index.max() < b:
            continue  # the run stopped before this budget
        top = seen[recorded].nsmallest(n).index
        row = {}
        for w in weights:
            if kurtosis is None and w:
                raise ValueError("fit's kurtosis weight is 0: its term cannot be re-weighted")
            score = seen.loc[top, final]
            if kurtosis is not None:
                score = score + (w - fit_weight) * kurtosis[top]
            step = score.idxmin()
            row[f"kurtosis weight {w:g}"] = f"{step} ({int(table.loc[step, 'wins'])})"
        out[b] = row
    return pd.DataFrame.from_dict(out, orient="index").rename_axis("budget")


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-budget", type=float, default=300.0)
    parser.add_argument("--max-steps", type=int, default=None,
                        help="a step budget instead of --time-budget (the same run whatever the speed)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--period", choices=list(PERIODS), default="1999-2018")
    parser.add_argument("--series", choices=list(SERIES), default="sp500",
                        help="the bundled daily closes (default sp500)")  # fmt: skip
    parser.add_argument("--n-paths", type=int, default=200, help="paths per checkpoint")
    parser.add_argument("--every", type=int, default=1, help="evaluate every k-th checkpoint")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--output", type=Path, default=None, help="CSV of the trajectory")
    parser.add_argument(
        "--states", type=Path, default=None, help="torch.save the checkpoints (step, score, state)"
    )
    parser.add_argument(
        "--budgets", default=None, metavar="B1,B2,...",
        help="also print the step fit keeps when stopped at each of these step budgets "
        "(the same training, cut short), for each --kurtosis-weights",
    )  # fmt: skip
    parser.add_argument(
        "--kurtosis-weights", default=None, metavar="W1,W2,...",
        help="weights of the final score's kurtosis term for --budgets (default: fit's)",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 steps, 20 paths")
    args = parser.parse_args(argv)
    if args.every < 1 or args.n_paths < 2:
        parser.error("--every must be >= 1 and --n-paths >= 2")
    if args.max_steps is not None and args.max_steps < 1:
        parser.error("--max-steps must be >= 1")
    try:
        budgets = [int(b) for b in args.budgets.split(",")] if args.budgets else []
        weights = (
            [float(w) for w in args.kurtosis_weights.split(",")] if args.kurtosis_weights else []
        )
    except ValueError:
        parser.error("--budgets takes integers and --kurtosis-weights numbers, comma-separated")
    if any(b < 1 for b in budgets) or any(not w >= 0 for w in weights):
        parser.error("--budgets must be >= 1 and --kurtosis-weights >= 0")
    if budgets and args.every != 1:
        parser.error("--budgets needs every checkpoint's rows (--every 1)")

    name, load = SERIES[args.series]
    returns = qg.log_returns(load())
    first, last = PERIODS[args.period]
    returns = returns.loc[first:last]
    real = returns.to_numpy()
    budget = dict(max_steps=10, time_budget=None, validation_every=5) if args.quick else {}
    if args.max_steps is not None and not args.quick:
        budget = dict(max_steps=args.max_steps, time_budget=None)
    n_paths = 20 if args.quick else args.n_paths
    history = CheckpointHistory()
    aug = qg.WGANAugmenter(
        **(budget or {"time_budget": args.time_budget}),
        random_state=args.seed,
        n_threads=args.threads,
        verbose=False,
        callbacks=[history],
    ).fit(returns)
    fit_pick = aug.best_step_
    if args.states is not None:
        torch.save(history.states, args.states)
    if args.quick:
        aug._MEAN_STEPS = 1 << 16  # the moments of each checkpoint from fewer steps
    print(
        f"{name} {args.period}: {real.size} days; {len(aug.history_)} generator steps in "
        f"{aug.fit_time_:.0f} s, {len(history.states)} checkpoints, fit kept step "
        f"{aug.best_step_}",
        flush=True,
    )

    garch = {}
    for name, dist in (("GARCH-n", "normal"), ("GARCH-t", "t")):
        paths = qg.GARCHAugmenter(dist=dist).fit(returns).sample(n_paths, random_state=0)
        garch[name] = rows_of(real, paths.to_numpy())
    bar = pd.DataFrame(garch).loc[list(ROWS)].min(axis=1)

    n, n_final = aug._VALIDATION_PATHS, aug._FINAL_PATHS
    final_weights = {
        "sq_weight": aug._FINAL_SQ_WEIGHT,
        "kurtosis_weight": aug._FINAL_KURTOSIS_WEIGHT,
        "skew_weight": aug._FINAL_SKEW_WEIGHT,
    }
    variants = {
        f"score {n}b": (args.seed + 100, n, {}),
        f"score {n}c": (args.seed + 200, n, {}),
        f"score {4 * n}": (args.seed + 300, 4 * n, {}),
        # fit's final score (noise seed + 2, more terms), here on every checkpoint
        f"final {n_final}": (args.seed + 1, n_final, final_weights),
    }
    values = real[:, None]
    # Each variant is fit's checkpoint score with its own noise, paths and weights.
    scores = {
        name: aug._checkpoint_score(aug.generator_, values, args.seed, noise, "cpu", n_paths=k, **w)
        for name, (noise, k, w) in variants.items()
    }
    records = []
    for k, (step, recorded, state) in enumerate(history.states):
        if k % args.every and k != len(history.states) - 1 and step != aug.best_step_:
            continue
        keep(aug, state, values, args.seed)
        paths = aug.sample(n_paths, real.size, random_state=0).to_numpy()
        row = {"step": step, f"score {n} (fit)": recorded}
        for name, score in scores.items():
            terms = score.long_path_breakdown()
            row[name] = sum(terms.values())
            if name.startswith("final"):
                row.update({f"{name}: {term}": v for term, v in terms.items() if term != "cross"})
        row.update(rows_of(real, paths))
        row["wins"] = int(sum(row[r] < bar[r] for r in ROWS))
        records.append(row)
        print(
            f"step {step}: score {recorded:.3f}, ACF |r| {row['acf_abs']:.4f}, r^2 "
            f"{row['acf_sq']:.4f}, leverage {row['leverage']:.3f}, wins {row['wins']}/7",
            flush=True,
        )
    table = pd.DataFrame(records).set_index("step")

    print(f"\nGARCH(1,1) fits, {n_paths} paths (a row is won below both):\n")
    print(markdown(pd.DataFrame(garch).rename_axis("metric")))
    print(f"\nevery evaluated checkpoint ({n_paths} paths each):\n")
    print(markdown(table, fmt="{:.4g}"))

    rules = [c for c in table.columns if c.startswith(("score", "final")) and ":" not in c]
    picks = {rule: int(table[rule].idxmin()) for rule in rules}
    # The final score without its extra weights (r^2 x1, no kurtosis term), on every
    # checkpoint and on fit's candidates: what the weights change.
    final = f"final {n_final}"
    plain = (
        table[final]
        - table[f"{final}: acf_sq"] * (1 - 1 / aug._FINAL_SQ_WEIGHT)
        - table[f"{final}: kurtosis"]
    )
    top = table[f"score {n} (fit)"].nsmallest(aug._CANDIDATES).index
    picks[f"{final}, plain terms"] = int(plain.idxmin())
    picks[f"{final}, plain terms, best {aug._CANDIDATES} by score {n}"] = int(plain[top].idxmin())
    picks[f"fit: best {aug._CANDIDATES} by score {n}, re-scored"] = fit_pick
    most = int(table["wins"].max())
    picks["most wins (hindsight)"] = int(
        table.index[table["wins"] == most][np.argmin(table.loc[table["wins"] == most, "acf_sq"])]
    )
    chosen = pd.DataFrame({f"{rule}: step {s}": table.loc[s] for rule, s in picks.items()})
    print("\nthe step each rule keeps:\n")
    print(markdown(chosen.rename_axis("metric"), fmt="{:.4g}"))
    for row in ("acf_sq", "wins"):
        ranks = table[rules].rank().corrwith(table[row].rank())
        print(f"\nrank correlation of each score with {row} over checkpoints:")
        print(", ".join(f"{r} {v:.2f}" for r, v in ranks.items()))
    if budgets:
        print("\n" + markdown(replay(table, budgets, weights or [aug._FINAL_KURTOSIS_WEIGHT],
                                      aug._FINAL_KURTOSIS_WEIGHT, aug._CANDIDATES)))  # fmt: skip
    if args.output is not None:
        table.to_csv(args.output)
        print(f"wrote {args.output}")
    return table


if __name__ == "__main__":
    main()
