"""Stress-test throughput: backtrader per process, n_jobs=2 over n_jobs=1, numpy engine over backtrader.

    python benchmarks/stress.py [--bt-paths 100] [--n-paths 1000] [--n-bars 2520]

Everything is measured in one run on one machine; on a shared machine only the
ratios mean something, so the CPU load around each phase is printed too.

1. backtrader: ``stress_test(SmaCross, ...)`` over ``--bt-paths`` paths with n_jobs=1;
   bars per second = paths x bars / seconds (per-path overheads included).
2. the same with n_jobs=2 (loky). Worker start-up (each loky worker imports quantgan,
   hence torch and scikit-learn) is timed apart, then the pool is reused (joblib keeps
   it alive), which is what a session running several stress tests sees.
3. the numpy engine (``backtest(sma_crossover(...))``) on ``--n-paths`` paths, given the
   same OHLC bars as backtrader (as {field: time x paths} panels), then from the returns
   frame with the OHLC rebuild included; backtrader's time is scaled per path from
   step 1 (it is timed on the first ``--bt-paths`` of the same paths, not on all of
   them), and the final values of the two engines are compared on those paths.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
import psutil

import quantgan as qg
from quantgan.adapters.backtrader import SmaCross, stress_test
from quantgan.backtest import backtest, sma_crossover
from quantgan.stress import ohlcv_from_returns


def _cpu_seconds() -> dict[int, float]:
    """CPU seconds used so far by this process and each of its children (loky workers)."""
    out = {}
    me = psutil.Process()
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
            out[proc.pid] = t.user + t.system
        except psutil.Error:
            pass
    return out


class Phase:
    """Wall time, the whole machine's CPU use, and the cores this benchmark got, over a block."""

    def __enter__(self):
        psutil.cpu_percent(interval=None)
        self.load_before = os.getloadavg()[0]
        self.cpu_before = _cpu_seconds()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.cpu = psutil.cpu_percent(interval=None)
        self.load_after = os.getloadavg()[0]
        after = _cpu_seconds()
        used = sum(t - self.cpu_before.get(pid, 0.0) for pid, t in after.items())
        self.our_cores = used / self.seconds

    def load(self) -> str:
        return (
            f"machine CPU {self.cpu:.0f}% of {psutil.cpu_count()} cores, load avg "
            f"{self.load_before:.1f} -> {self.load_after:.1f}; this benchmark got "
            f"{self.our_cores:.2f} cores"
        )


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bt-paths", type=int, default=100, help="paths run by backtrader")
    parser.add_argument("--n-paths", type=int, default=1000, help="paths run by the numpy engine")
    parser.add_argument("--n-bars", type=int, default=2520)
    parser.add_argument("--fast", type=int, default=10)
    parser.add_argument("--slow", type=int, default=30)
    parser.add_argument("--stake", type=int, default=10)
    parser.add_argument("--commission", type=float, default=0.001)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.bt_paths > args.n_paths:
        parser.error("--bt-paths must not exceed --n-paths")

    prices = qg.load_sp500()
    returns = qg.log_returns(prices)
    paths = (
        qg.BootstrapAugmenter()
        .fit(returns)
        .sample(args.n_paths, args.n_bars, random_state=args.seed)
    )
    # the same bars for both engines: ohlcv_from_returns and backtest's rebuild share the seed
    bars = ohlcv_from_returns(paths, prices, random_state=args.seed + 1)
    bt_frames = {k: bars[k] for k in list(bars)[: args.bt_paths]}
    params = {"fast": args.fast, "slow": args.slow, "stake": args.stake}
    common = dict(strategy_params=params, commission=args.commission, progress=False)
    n_bt_bars = args.bt_paths * args.n_bars
    print(
        f"SMA crossover ({args.fast}/{args.slow}, {args.stake} units, commission "
        f"{args.commission:g}) on bootstrap paths of {args.n_bars} bars; "
        f"{os.cpu_count()} CPU cores"
    )

    with Phase() as seq:
        r1 = stress_test(SmaCross, bt_frames, n_jobs=1, **common)
    rate = n_bt_bars / seq.seconds
    print(
        f"backtrader, n_jobs=1: {args.bt_paths} paths in {seq.seconds:.1f}s = {rate:,.0f} "
        f"bars/s  [{seq.load()}]"
    )

    warm_frames = {k: bt_frames[k] for k in list(bt_frames)[:2]}
    with Phase() as startup:
        stress_test(SmaCross, warm_frames, n_jobs=2, **common)
    print(f"loky pool start-up (2 workers, 2 paths): {startup.seconds:.1f}s  [{startup.load()}]")
    with Phase() as par:
        r2 = stress_test(SmaCross, bt_frames, n_jobs=2, **common)
    speedup = seq.seconds / par.seconds
    print(
        f"backtrader, n_jobs=2 (warm pool): {par.seconds:.1f}s -> speedup {speedup:.2f}x over "
        f"n_jobs=1 (target >= 1.8x)  [{par.load()}]"
    )
    efficiency = (seq.seconds * seq.our_cores) / (par.seconds * par.our_cores)
    print(
        f"  CPU seconds used: n_jobs=1 {seq.seconds * seq.our_cores:.1f}, n_jobs=2 "
        f"{par.seconds * par.our_cores:.1f} (pool efficiency {efficiency:.0%}); with 2 idle "
        f"cores that would be about {2 * efficiency:.2f}x (an estimate, not a measurement)"
    )
    cold = seq.seconds / (par.seconds + startup.seconds)
    print(f"  counting the pool start-up once: {cold:.2f}x")
    same = r1.metrics.drop(columns="error").equals(r2.metrics.drop(columns="error"))
    print(f"  n_jobs=2 metrics identical to n_jobs=1: {same}")

    signal = sma_crossover(args.fast, args.slow, size=args.stake)
    # the bars backtrader ran on, as {field: time x paths} panels (no per-path frames)
    panels = {
        field: pd.DataFrame(
            {k: frame[field].to_numpy() for k, frame in bars.items()}, index=paths.index
        )
        for field in ("Open", "High", "Low", "Close", "Volume")
    }

    def best_of_3(fn) -> tuple[float, Phase, object]:
        times = []
        for _ in range(3):
            with Phase() as phase:
                out = fn()
            times.append(phase.seconds)
        return min(times), phase, out

    t_vec, vec, nb = best_of_3(lambda: backtest(signal, panels, commission=args.commission))
    t_bt_scaled = seq.seconds / args.bt_paths * args.n_paths
    print(
        f"numpy engine: {args.n_paths} paths in {t_vec:.3f}s (best of 3, OHLC panels given); "
        f"backtrader scaled from {args.bt_paths} paths: {t_bt_scaled:.0f}s -> speedup "
        f"{t_bt_scaled / t_vec:,.0f}x (target >= 1000x)  [{vec.load()}]"
    )
    t_ret, vec_r, nb_r = best_of_3(
        lambda: backtest(signal, paths, commission=args.commission, random_state=args.seed + 1)
    )
    same_bars = np.array_equal(nb.metrics["final_value"], nb_r.metrics["final_value"])
    print(
        f"  from the returns frame, OHLC rebuild included: {t_ret:.3f}s -> speedup "
        f"{t_bt_scaled / t_ret:,.0f}x; same bars and results as above: {same_bars}  "
        f"[{vec_r.load()}]"
    )
    names = list(bt_frames)
    diff = np.abs(
        r1.metrics["final_value"].to_numpy() - nb.metrics.loc[names, "final_value"].to_numpy()
    )
    trades_equal = bool((r1.metrics["n_trades"] == nb.metrics.loc[names, "n_trades"]).all())
    rejected = int(r1.metrics["n_rejected"].sum())
    print(
        f"final values, numpy engine vs backtrader on {len(names)} paths: max |diff| = "
        f"{diff.max():.3g} (largest value {r1.metrics['final_value'].max():,.0f}); same trade "
        f"counts: {trades_equal}; backtrader rejected orders: {rejected}"
    )
    return {
        "bars_per_second": rate,
        "speedup_n_jobs_2": speedup,
        "pool_efficiency": efficiency,
        "speedup_vectorised": t_bt_scaled / t_vec,
        "speedup_vectorised_with_rebuild": t_bt_scaled / t_ret,
        "max_final_value_diff": float(diff.max()),
    }


if __name__ == "__main__":
    main()
