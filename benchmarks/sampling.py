"""Sampling throughput of WGANAugmenter, as a ratio to arch's GARCH(1,1) simulation.

    python benchmarks/sampling.py [--n-paths 1000] [--n-timesteps 5030] [--threads 2]

Both are measured in the same run on the same machine; only the ratio is meaningful
(absolute timings on shared machines are noisy). arch simulates one path per call,
so it is timed on `--arch-paths` paths and scaled per return step. The sampling cost
does not depend on how long the WGAN was trained, so it is fitted for a few steps.
Our own vectorised GARCHAugmenter is shown for context.
"""

import argparse
import time

import numpy as np
import torch
from arch import arch_model

import quantgan as qg


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-paths", type=int, default=1000)
    parser.add_argument("--n-timesteps", type=int, default=5030)
    parser.add_argument("--arch-paths", type=int, default=50)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)

    returns = qg.log_returns(qg.load_sp500())
    steps = args.n_paths * args.n_timesteps

    res = arch_model(returns * 100, vol="GARCH", p=1, q=1, dist="normal").fit(disp="off")
    sim = arch_model(None, vol="GARCH", p=1, q=1, dist="normal")
    sim.simulate(res.params, 10)  # warm-up
    t_arch = best_of(
        lambda: [sim.simulate(res.params, args.n_timesteps) for _ in range(args.arch_paths)],
        args.repeat,
    )
    arch_rate = args.arch_paths * args.n_timesteps / t_arch

    wgan_rates = {}
    for generator, label in (("tcn", "TCN + memory, default"), ("conv", "conv, window 100")):
        wgan = qg.WGANAugmenter(
            generator=generator, max_steps=2, time_budget=None, verbose=False,
            random_state=0, n_threads=args.threads,
        ).fit(returns)  # fmt: skip
        assert np.isfinite(wgan.sample(2, 10).to_numpy()).all()
        t_wgan = best_of(
            lambda w=wgan: w.sample(args.n_paths, args.n_timesteps, random_state=1), args.repeat
        )
        wgan_rates[f"quantgan WGANAugmenter ({label})"] = steps / t_wgan

    garch = qg.GARCHAugmenter(dist="normal").fit(returns)
    t_garch = best_of(
        lambda: garch.sample(args.n_paths, args.n_timesteps, random_state=1), args.repeat
    )
    garch_rate = steps / t_garch

    print(
        f"volume: {args.n_paths} paths x {args.n_timesteps} steps = {steps:,} return steps; "
        f"torch threads {args.threads}"
    )
    print(f"{'sampler':48s}{'steps/s':>14s}{'ratio to arch':>16s}")
    rows = [
        ("arch GARCH(1,1).simulate (per path)", arch_rate),
        *wgan_rates.items(),
        ("quantgan GARCHAugmenter (vectorised)", garch_rate),
    ]
    for name, rate in rows:
        print(f"{name:48s}{rate:14,.0f}{rate / arch_rate:16.1f}x")
    return {name: rate / arch_rate for name, rate in rows}


if __name__ == "__main__":
    main()
