"""Command line: ``quantgan demo | evaluate | fit | sample | stress``.

Run ``quantgan <command> --help`` for the options of each command.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import pandas as pd

__all__ = ["main"]


def _fit_wgan(aug, returns) -> str:
    """``aug.fit(returns)``; a fit cut short by the time budget is told on stderr in the
    command line's terms (not as a Python warning), and the text returned ("" if none)."""
    from quantgan.base import TrainingWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)
        aug.fit(returns)
    short = aug._short_training(cli=True)
    if short:
        print(f"warning: {short}", file=sys.stderr)
    return short


def _load_returns(source: str, column: str | None) -> pd.Series | pd.DataFrame:
    import quantgan as qg

    if source == "sp500":
        prices = qg.load_sp500()
    else:
        prices = qg.read_csv(source)
    if column is not None:
        if column not in prices.columns:
            raise SystemExit(f"error: --column {column!r} is not in {list(prices.columns)}")
        prices = prices[column]
    return qg.log_returns(prices)


def _write_frame(frame: pd.DataFrame, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            frame.columns = [str(c) for c in frame.columns]
            frame.to_parquet(path)
        except ImportError as exc:
            raise SystemExit(
                "error: writing Parquet needs pyarrow (pip install pyarrow); or use .csv"
            ) from exc
    elif suffix in (".csv", ".gz"):
        frame.to_csv(path)
    else:
        raise SystemExit(f"error: --output must end in .csv, .csv.gz or .parquet, got {path}")


# -- commands ---------------------------------------------------------------------------
def cmd_fit(args: argparse.Namespace) -> int:
    import quantgan as qg

    returns = _load_returns(args.data, args.column)
    aug = qg.WGANAugmenter(
        window=args.window,
        generator=args.generator,
        time_budget=args.time_budget,
        max_steps=args.max_steps,
        validation_fraction=args.validation_fraction,
        random_state=args.seed,
        verbose=not args.quiet,
    )
    _fit_wgan(aug, returns)
    path = aug.save(args.output)
    print(
        f"fitted on {len(returns)} returns in {aug.fit_time_:.0f}s "
        f"({len(aug.history_)} generator steps, kept step {aug.best_step_}; "
        f"stopped: {aug.stop_reason_}); model written to {path}"
    )
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    import quantgan as qg

    aug = qg.WGANAugmenter.load(args.model)
    paths = aug.sample(args.n_paths, args.n_timesteps, random_state=args.seed)
    _write_frame(paths, Path(args.output))
    print(f"wrote {paths.shape[1]} paths x {paths.shape[0]} steps to {args.output}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import quantgan as qg
    from quantgan import report

    returns = qg.log_returns(qg.load_sp500())
    print(
        f"S&P 500: {len(returns)} daily log returns, {returns.index[0].date()} to "
        f"{returns.index[-1].date()}; training the WGAN for {args.time_budget:g}s"
    )
    wgan = qg.WGANAugmenter(
        time_budget=args.time_budget, random_state=args.seed, verbose=not args.quiet
    )
    short = _fit_wgan(wgan, returns)
    print(
        f"WGAN: {len(wgan.history_)} generator steps in {wgan.fit_time_:.0f}s, kept step "
        f"{wgan.best_step_} ({wgan.stop_reason_})"
    )
    if args.model_output:
        wgan.save(args.model_output)
    evaluation = qg.evaluate(
        returns,
        wgan,
        qg.GARCHAugmenter(dist="t"),
        qg.BootstrapAugmenter(),
        names=["WGAN", "GARCH(1,1)-t", "Stationary bootstrap"],
        n_paths=args.n_paths,
        random_state=args.seed + 1,
    )
    page = evaluation.to_page("quantgan demo: synthetic S&P 500 histories")
    page.add_heading("Training the WGAN")
    page.add_text(
        f"The default WGAN-GP ({wgan.generator} generator), trained for "
        f"{wgan.fit_time_:.0f}s on {wgan.device_} ({len(wgan.history_)} generator "
        f"steps); stopped: {wgan.stop_reason_}. The kept generator is step "
        f"{wgan.best_step_}, the best validation score on stylized facts (not the last step)."
    )
    if short:
        page.add_text(f"Warning: {short}", note=True)
    page.add_figure(report.plot_training_history(wgan.history_), "training curves")
    page.add_heading("Mode-collapse check (fixed vs fresh latents)")
    page.add_text(
        "Left: the same four latent vectors through training. Right: four fresh latents at "
        "each step. Fresh latents that all give the same series would mean mode collapse.",
        note=True,
    )
    page.add_figure(report.plot_training_samples(wgan.training_samples_), "training samples")
    out = page.write(args.output)
    print(evaluation.summary())
    print(f"report written to {out.resolve()}")
    return 0


_BASELINES = {
    "garch-t": ("GARCH-t", lambda qg: qg.GARCHAugmenter(dist="t")),
    "garch-normal": ("GARCH-normal", lambda qg: qg.GARCHAugmenter(dist="normal")),
    "bootstrap": ("bootstrap", lambda qg: qg.BootstrapAugmenter()),
    "gaussian": ("Gaussian", lambda qg: qg.GaussianAugmenter()),
}


def cmd_evaluate(args: argparse.Namespace) -> int:
    import quantgan as qg

    source = args.returns if args.returns is not None else "sp500"
    returns = _load_returns(source, args.column)
    if args.start or args.end:
        returns = returns.loc[args.start : args.end]
    items, names = [], []
    for path in args.model or []:
        items.append(qg.WGANAugmenter.load(path))
        names.append(Path(path).stem)
    for path in args.paths or []:
        items.append(pd.read_csv(path, index_col=0, parse_dates=True))
        names.append(Path(path).stem)
    chosen = [] if args.baselines == "none" else args.baselines.split(",")
    for key in chosen:
        if key not in _BASELINES:
            print(
                f"error: unknown baseline {key!r}; choose from {sorted(_BASELINES)} or 'none'",
                file=sys.stderr,
            )
            return 2
        name, make = _BASELINES[key]
        items.append(make(qg))
        names.append(name)
    if not items:
        print("error: nothing to evaluate: give --model, --paths or --baselines", file=sys.stderr)
        return 2
    try:
        evaluation = qg.evaluate(
            returns,
            *items,
            names=names,
            n_paths=args.n_paths,
            random_state=args.random_state,
            classifier_scores=args.classifier_scores,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(evaluation.summary())
    print(f"wrote {evaluation.to_html(args.output)}")
    return 0


def cmd_stress(args: argparse.Namespace) -> int:
    import json

    import quantgan as qg
    from quantgan.adapters.backtrader import load_strategy, stress_test

    try:
        strategy = load_strategy(args.strategy)
    except (TypeError, ValueError, ImportError, AttributeError) as exc:
        raise SystemExit(f"error: {exc}") from exc
    try:
        params = json.loads(args.params) if args.params else {}
    except json.JSONDecodeError as exc:
        raise SystemExit(
            f"error: --params must be a JSON object, e.g. '{{\"fast\": 10}}' ({exc})"
        ) from exc
    prices = qg.load_sp500() if args.data == "sp500" else qg.read_csv(args.data)
    if args.paths:
        p = Path(args.paths)
        paths = (
            pd.read_parquet(p)
            if p.suffix.lower() == ".parquet"
            else pd.read_csv(p, index_col=0, parse_dates=True)
        )
        source = args.paths
    else:
        aug = (
            qg.WGANAugmenter.load(args.model)
            if args.model
            else qg.GARCHAugmenter(dist="t").fit(qg.log_returns(prices))
        )
        source = args.model or "GARCH(1,1)-t fitted on the data"
        paths = aug.sample(args.n_paths, args.n_timesteps, random_state=args.seed)
    backend = args.backend
    if args.scheduler:  # a Dask cluster: its scheduler address
        from dask.distributed import Client

        backend = Client(args.scheduler)
    print(f"{paths.shape[1]} paths x {len(paths)} bars from {source}; {strategy.__name__} {params}")
    result = stress_test(
        strategy,
        paths,
        strategy_params=params,
        cash=args.cash,
        commission=args.commission,
        n_jobs=args.n_jobs,
        backend=backend,
        historical=prices.iloc[-len(paths) :],
        random_state=args.seed,
        progress=not args.quiet,
    )
    print(result.summary())
    result.to_html(args.output)
    print(f"report written to {Path(args.output).resolve()}")
    if args.metrics_output:
        result.metrics.to_csv(args.metrics_output)
    return 0


# -- parser -----------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quantgan",
        description="Synthetic markets for backtesting: fit a WGAN on returns, sample "
        "alternative histories, compare them with real data.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="fit on the bundled S&P 500 and write an HTML report")
    demo.add_argument(
        "--time-budget",
        type=float,
        default=300.0,
        help="WGAN training time in seconds (default 300)",
    )
    demo.add_argument("--n-paths", type=int, default=200, help="paths per model (default 200)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--output", default="report.html", help="HTML report path")
    demo.add_argument("--model-output", default=None, help="also save the WGAN to this file")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=cmd_demo)

    ev = sub.add_parser("evaluate", help="compare models or sampled paths with history (HTML)")
    ev.add_argument(
        "--returns", default=None, help="CSV of daily bars (default: the bundled S&P 500)"
    )
    ev.add_argument("--column", default=None, help="price column of the CSV")
    ev.add_argument("--start", default=None, help="first date, e.g. 2009-05-01")
    ev.add_argument("--end", default=None, help="last date")
    ev.add_argument("--model", action="append", help="a saved WGAN model (repeatable)")
    ev.add_argument(
        "--paths", action="append", help="a CSV written by `quantgan sample` (repeatable)"
    )
    ev.add_argument(
        "--baselines",
        default="garch-t,bootstrap",
        help="comma list of garch-t, garch-normal, bootstrap, gaussian, or none",
    )
    ev.add_argument("--n-paths", type=int, default=500)
    ev.add_argument("--random-state", type=int, default=0)
    ev.add_argument(
        "--classifier-scores",
        action="store_true",
        help="add the discriminative and predictive scores (slower)",
    )
    ev.add_argument("--output", default="evaluation.html")
    ev.set_defaults(func=cmd_evaluate)

    stress = sub.add_parser(
        "stress", help="run a backtrader strategy over synthetic paths; HTML report"
    )
    stress.add_argument("strategy", help="'package.module:Class' or 'path/file.py:Class'")
    stress.add_argument("--params", default=None, help="strategy params as JSON")
    stress.add_argument("--data", default="sp500", help="'sp500' (bundled) or a CSV of OHLCV")
    src = stress.add_mutually_exclusive_group()
    src.add_argument("--paths", default=None, help="returns from `quantgan sample` (.csv/.parquet)")
    src.add_argument("--model", default=None, help="a model from `quantgan fit` to sample from")
    stress.add_argument("--n-paths", type=int, default=200)
    stress.add_argument("--n-timesteps", type=int, default=504)
    stress.add_argument("--cash", type=float, default=100_000.0)
    stress.add_argument("--commission", type=float, default=0.0, help="e.g. 0.001 = 0.1%%")
    stress.add_argument("--n-jobs", type=int, default=1)
    stress.add_argument(
        "--backend", default="loky", choices=["loky", "multiprocessing", "sequential", "dask"]
    )
    stress.add_argument("--scheduler", default=None, help="Dask scheduler address")
    stress.add_argument("--seed", type=int, default=0)
    stress.add_argument("--output", default="stress.html")
    stress.add_argument("--metrics-output", default=None, help="per-path metrics (CSV)")
    stress.add_argument("--quiet", action="store_true")
    stress.set_defaults(func=cmd_stress)

    fit = sub.add_parser("fit", help="fit a WGANAugmenter and save it (.safetensors)")
    fit.add_argument("data", help="'sp500' (bundled, offline) or a CSV file of daily bars")
    fit.add_argument(
        "--column", default=None, help="price column of the CSV (default Adj Close, else Close)"
    )
    fit.add_argument("--output", required=True, help="model file, e.g. model.safetensors")
    fit.add_argument("--time-budget", type=float, default=300.0, help="seconds (default 300)")
    fit.add_argument(
        "--generator", default="tcn", choices=["tcn", "conv"], help="the model (default tcn)"
    )
    fit.add_argument(
        "--max-steps",
        type=int,
        default=None,
        help="generator steps (a reproducible alternative to the time budget)",
    )
    fit.add_argument(
        "--window",
        type=int,
        default=None,
        help="training window (default 2 x receptive field = 254 for tcn, 100 for conv)",
    )
    fit.add_argument(
        "--validation-fraction",
        type=float,
        default=None,
        help="hold out this last share of the history to pick the checkpoint (e.g. 0.2)",
    )
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    fit.set_defaults(func=cmd_fit)

    sample = sub.add_parser("sample", help="sample paths from a saved model to CSV / Parquet")
    sample.add_argument("model", help="a model written by `quantgan fit`")
    sample.add_argument("--n-paths", type=int, required=True)
    sample.add_argument(
        "--n-timesteps", type=int, default=None, help="default: the training length"
    )
    sample.add_argument("--seed", type=int, default=None)
    sample.add_argument("--output", required=True, help="paths.csv, paths.csv.gz or .parquet")
    sample.set_defaults(func=cmd_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "time_budget", 1) is not None and getattr(args, "time_budget", 1) <= 0:
        print("error: --time-budget must be positive", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, ConnectionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
