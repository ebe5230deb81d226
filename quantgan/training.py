"""The WGAN training loop: one readable loop, everything else a callback.

:class:`WGANTrainer` runs ``n_critic`` critic updates per generator update
(Arjovsky et al. 2017; Gulrajani et al. 2017) until a time budget, a number of
epochs or of generator steps is reached, an early-stopping callback asks to stop,
or the user presses Ctrl-C. Every ``validation_every`` generator steps a cheap
stylized-fact score is computed on samples from fixed latents; the best-scoring
generator is kept and restored at the end (not the last step). A non-finite loss
restores the last good state, says so, and stops.

Each step is a method (:meth:`WGANTrainer.critic_step`,
:meth:`WGANTrainer.generator_step`, :meth:`WGANTrainer.validate`) so a subclass
can change one without copying the loop; progress, checkpoints, TensorBoard and
early stopping are :class:`Callback` objects (after skorch's design).
"""

from __future__ import annotations

import copy
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from quantgan._io import atomic_path
from quantgan._stack import _external_stacklevel
from quantgan.nn.lipschitz import clip_weights, gradient_penalty

__all__ = [
    "Callback",
    "Checkpoint",
    "CheckpointHistory",
    "EarlyStopping",
    "ProgressBar",
    "TensorBoard",
    "TrainingConfig",
    "WGANTrainer",
]

#: How ``WGANTrainer.stop_reason`` starts when the time budget stopped training.
STOPPED_BY_TIME = "time budget"


@dataclass
class TrainingConfig:
    """Hyper-parameters of the loop (the augmenter validates them)."""

    lipschitz: str = "sn+gp"
    gp_weight: float = 10.0
    clip_value: float = 0.01
    n_critic: int = 5
    optimizer: str = "rmsprop"
    lr: float = 2e-4
    batch_size: int = 16
    time_budget: float | None = 120.0
    max_epochs: float | None = None
    max_steps: int | None = None
    validation_every: int = 50
    n_validation: int = 256
    #: Checkpoints (the best by validation score) re-scored by ``final_score`` at the end.
    n_candidates: int = 1


class Callback:
    """Hooks called by :class:`WGANTrainer`; set ``trainer.stop_training = True`` to stop."""

    def on_train_begin(self, trainer: WGANTrainer) -> None: ...

    def on_step_end(self, trainer: WGANTrainer, record: dict) -> None: ...

    def on_validation_end(self, trainer: WGANTrainer, score: float, is_best: bool) -> None: ...

    def on_train_end(self, trainer: WGANTrainer) -> None: ...


class ProgressBar(Callback):
    """A tqdm bar over the time budget (seconds) or the step limit."""

    def on_train_begin(self, trainer):
        from tqdm.auto import tqdm

        cfg = trainer.config
        by_time = cfg.time_budget is not None and cfg.max_steps is None and cfg.max_epochs is None
        self._by_time = by_time
        total = cfg.time_budget if by_time else trainer.step_limit()
        unit = "s" if by_time else "step"
        self._bar = tqdm(total=total, unit=unit, desc="WGAN", leave=False, dynamic_ncols=True)
        self._last = 0.0

    def on_step_end(self, trainer, record):
        now = record["time"] if self._by_time else record["step"]
        if self._bar.total is not None:
            now = min(now, self._bar.total)
        self._bar.update(now - self._last)
        self._last = now
        if record["step"] % 10 == 0:
            self._bar.set_postfix(
                W=f"{record['wasserstein']:.3f}",
                best=f"{trainer.best_score:.3f}" if math.isfinite(trainer.best_score) else "-",
                refresh=False,
            )

    def on_train_end(self, trainer):
        self._bar.close()


class EarlyStopping(Callback):
    """Stop when the validation score has not improved for ``patience`` validations."""

    def __init__(self, patience: int = 20, min_delta: float = 0.0):
        self.patience, self.min_delta = patience, min_delta

    def on_train_begin(self, trainer):
        self._best, self._waited = math.inf, 0

    def on_validation_end(self, trainer, score, is_best):
        if score < self._best - self.min_delta:
            self._best, self._waited = score, 0
        else:
            self._waited += 1
            if self._waited >= self.patience:
                trainer.stop_reason = f"early stopping (no improvement in {self.patience} checks)"
                trainer.stop_training = True


class Checkpoint(Callback):
    """Write the best generator's weights to ``dirname/best_generator.safetensors``.

    Written at each new best validation score, and at the end of training (when the
    trainer's final re-scoring may have kept another candidate). The write is atomic
    (temporary file + rename), so an interrupted run never leaves a truncated
    checkpoint.
    """

    def __init__(self, dirname: str | os.PathLike):
        self.dirname = Path(dirname)

    def _write(self, trainer) -> None:
        from safetensors.torch import save_file

        state = {k: v.detach().cpu().contiguous() for k, v in trainer.best_state.items()}
        meta = {"step": str(trainer.best_step), "score": repr(trainer.best_score)}
        with atomic_path(self.dirname / "best_generator.safetensors") as tmp:
            save_file(state, str(tmp), metadata=meta)

    def on_validation_end(self, trainer, score, is_best):
        if is_best:
            self._write(trainer)

    def on_train_end(self, trainer):
        if trainer.final_scores:
            self._write(trainer)


class CheckpointHistory(Callback):
    """Keep the generator's weights (on the CPU) and score at every validation.

    ``states`` lists ``(step, score, state_dict)``; load one with
    ``generator.load_state_dict(state)`` to study the whole training trajectory,
    not only the kept checkpoint (``benchmarks/checkpoints.py``). Memory: one copy
    of the generator per validation (the default TCN: about 0.1 MB each).
    """

    def __init__(self):
        self.states: list[tuple[int, float, dict[str, torch.Tensor]]] = []

    def on_train_begin(self, trainer):
        self.states = []

    def on_validation_end(self, trainer, score, is_best):
        state = {k: v.detach().cpu().clone() for k, v in trainer.generator.state_dict().items()}
        self.states.append((trainer.step, float(score), state))


class TensorBoard(Callback):
    """Log the per-step record to TensorBoard (needs the ``tensorboard`` package)."""

    def __init__(self, log_dir: str | os.PathLike):
        self.log_dir = str(log_dir)
        self._writer = None

    def on_train_begin(self, trainer):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            warnings.warn(
                "log_dir was given but tensorboard is not installed; no TensorBoard logs "
                "are written (pip install tensorboard).",
                stacklevel=_external_stacklevel(),
            )
            return
        self._writer = SummaryWriter(self.log_dir)

    def on_step_end(self, trainer, record):
        if self._writer is None:
            return
        for key, value in record.items():
            if key != "step" and isinstance(value, float) and math.isfinite(value):
                self._writer.add_scalar(key, value, record["step"])

    def on_train_end(self, trainer):
        if self._writer is not None:
            self._writer.close()


def _state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


class WGANTrainer:
    """Trains ``generator`` against ``critic`` on real windows.

    Parameters
    ----------
    generator, critic : nn.Module
        Latent ``(batch, latent_dim)`` -> ``(batch, n_assets, window)``, and windows ->
        ``(batch,)`` scores.
    windows : ndarray of shape (n_windows, n_assets, window)
        Real training windows in model space.
    config : TrainingConfig
    score : callable, optional
        Maps generated windows (ndarray, model space) to a validation score (lower is
        better). Without it, the last state is kept.
    final_score : callable, optional
        No arguments; scores the generator as it is (lower is better), more
        accurately and more slowly than ``score``. At the end of training the
        ``config.n_candidates`` checkpoints with the best validation scores are
        re-scored with it, each loaded into the generator in turn, and the best is
        kept: a cheap score is noisy, and the minimum over many noisy checks favours
        a lucky one (``final_scores`` records the re-scores).
    callbacks : sequence of Callback
    seed : int
        Seeds the batch order, latents and gradient-penalty interpolation.
    device : torch.device

    Attributes
    ----------
    history : list of dict
        One record per generator step: ``step, time, epoch, loss_critic,
        loss_generator, wasserstein, gradient_penalty, grad_norm_input,
        grad_norm_critic, grad_norm_generator, val_score``.
    snapshots : list of (step, fixed, fresh)
        Samples from fixed latents and from fresh latents at each validation: if
        fresh latents give the same series as each other, the generator collapsed.
    best_score, best_step : float, int
        The kept checkpoint's validation score and step.
    candidates : list of (score, step, state)
        With ``config.n_candidates > 1``: the checkpoints with the best validation
        scores, best first.
    final_scores : dict of int -> float
        ``final_score`` of each candidate, by step (empty without re-scoring).
    stop_reason : str
    """

    def __init__(
        self,
        generator: nn.Module,
        critic: nn.Module,
        windows: np.ndarray,
        config: TrainingConfig,
        *,
        score: Callable[[np.ndarray], float] | None = None,
        final_score: Callable[[], float] | None = None,
        callbacks: Sequence[Callback] = (),
        seed: int = 0,
        device: torch.device | str = "cpu",
    ):
        self.device = torch.device(device)
        self.generator = generator.to(self.device)
        self.critic = critic.to(self.device)
        self.windows = torch.as_tensor(windows, dtype=torch.float32, device=self.device)
        self.config = config
        self.score = score
        self.final_score = final_score
        self.candidates: list[tuple[float, int, dict[str, torch.Tensor]]] = []
        self.final_scores: dict[int, float] = {}
        self.callbacks = list(callbacks)
        self.rng = np.random.default_rng(seed)
        self.torch_rng = torch.Generator(device=self.device).manual_seed(seed)
        self.g_opt = self._optimizer(self.generator)
        self.c_opt = self._optimizer(self.critic)
        self.history: list[dict] = []
        self.snapshots: list[tuple[int, np.ndarray, np.ndarray]] = []
        self.step = 0
        self.best_score = math.inf
        self.best_step = 0
        self.best_state = _state(self.generator)
        self.stop_training = False
        self.stop_reason = ""
        latent_dim = generator.latent_dim
        self.validation_latents = self.latent(config.n_validation)
        self.fixed_latents = self.validation_latents[:4]
        self._latent_dim = latent_dim

    # -- building blocks -------------------------------------------------------------
    def _optimizer(self, module: nn.Module) -> torch.optim.Optimizer:
        if self.config.optimizer == "adam":
            # Betas of Gulrajani et al. (2017) for WGAN-GP.
            return torch.optim.Adam(module.parameters(), lr=self.config.lr, betas=(0.0, 0.9))
        return torch.optim.RMSprop(module.parameters(), lr=self.config.lr)

    def latent(self, n: int) -> torch.Tensor:
        """``n`` standard normal latent vectors from the trainer's generator."""
        return torch.randn(
            n, self.generator.latent_dim, generator=self.torch_rng, device=self.device
        )

    def real_batch(self) -> torch.Tensor:
        idx = self.rng.integers(0, self.windows.shape[0], size=self.config.batch_size)
        return self.windows[torch.as_tensor(idx, device=self.device)]

    def step_limit(self) -> int | None:
        """Generator steps allowed by ``max_steps`` and ``max_epochs`` (None: no limit)."""
        cfg, limits = self.config, []
        if cfg.max_steps is not None:
            limits.append(int(cfg.max_steps))
        if cfg.max_epochs is not None:
            per_epoch = self.windows.shape[0] / (cfg.batch_size * cfg.n_critic)
            limits.append(max(1, math.ceil(cfg.max_epochs * per_epoch)))
        return min(limits) if limits else None

    @staticmethod
    def _grad_norm(module: nn.Module) -> float:
        sq = [p.grad.pow(2).sum() for p in module.parameters() if p.grad is not None]
        return float(torch.sqrt(torch.stack(sq).sum())) if sq else 0.0

    # -- one update each -------------------------------------------------------------
    def critic_step(self) -> dict:
        """One critic update: maximise E[C(real)] - E[C(fake)] (minus the penalty)."""
        cfg = self.config
        real = self.real_batch()
        with torch.no_grad():
            fake = self.generator(self.latent(real.shape[0]))
        c_real, c_fake = self.critic(real).mean(), self.critic(fake).mean()
        wasserstein = c_real - c_fake
        loss = -wasserstein
        gp = grad_input = torch.tensor(float("nan"))
        if "gp" in cfg.lipschitz:
            gp, grad_input = gradient_penalty(self.critic, real, fake, generator=self.torch_rng)
            loss = loss + cfg.gp_weight * gp
        self.c_opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_critic = self._grad_norm(self.critic)
        self.c_opt.step()
        if cfg.lipschitz == "clip":
            clip_weights(self.critic, cfg.clip_value)
        return {
            "loss_critic": loss.item(),
            "wasserstein": wasserstein.item(),
            "gradient_penalty": gp.item(),
            "grad_norm_input": grad_input.item(),
            "grad_norm_critic": grad_critic,
        }

    def generator_step(self) -> dict:
        """One generator update: maximise E[C(G(z))]."""
        for p in self.critic.parameters():
            p.requires_grad_(False)
        try:
            fake = self.generator(self.latent(self.config.batch_size))
            loss = -self.critic(fake).mean()
            self.g_opt.zero_grad(set_to_none=True)
            loss.backward()
            grad_gen = self._grad_norm(self.generator)
            self.g_opt.step()
        finally:
            for p in self.critic.parameters():
                p.requires_grad_(True)
        return {"loss_generator": loss.item(), "grad_norm_generator": grad_gen}

    @torch.no_grad()
    def generate(self, z: torch.Tensor) -> np.ndarray:
        """Generator output for ``z`` in eval mode, as ``(n, window, n_assets)`` numpy."""
        was_training = self.generator.training
        self.generator.eval()
        try:
            out = self.generator(z)
        finally:
            self.generator.train(was_training)
        return out.transpose(1, 2).cpu().numpy().astype(np.float64)

    def validate(self) -> float:
        """Score the generator on fixed latents; keep its state if it is the best so far."""
        fake = self.generate(self.validation_latents)
        score = float(self.score(fake)) if self.score is not None else -float(self.step)
        fresh = self.generate(self.latent(4))
        self.snapshots.append((self.step, fake[:4].copy(), fresh))
        is_best = math.isfinite(score) and score < self.best_score
        # One copy of the weights serves as best, candidate and last good state: they
        # are only ever loaded from (load_state_dict copies), never changed in place.
        state = _state(self.generator)
        if is_best:
            self.best_score, self.best_step = score, self.step
            self.best_state = state
        if math.isfinite(score) and self.config.n_candidates > 1:
            self.candidates.append((score, self.step, state))
            self.candidates.sort(key=lambda c: c[0])
            del self.candidates[self.config.n_candidates :]
        self._last_good = (state, _state(self.critic), self.step)
        for cb in self.callbacks:
            cb.on_validation_end(self, score, is_best)
        return score

    # -- the loop --------------------------------------------------------------------
    def fit(self) -> WGANTrainer:
        cfg = self.config
        limit = self.step_limit()
        start = time.perf_counter()
        self._last_good = (_state(self.generator), _state(self.critic), 0)
        self.generator.train()
        self.critic.train()
        for cb in self.callbacks:
            cb.on_train_begin(self)
        n_windows = self.windows.shape[0]
        try:
            while not self.stop_training:
                if limit is not None and self.step >= limit:
                    self.stop_reason = self.stop_reason or "step limit reached"
                    break
                elapsed = time.perf_counter() - start
                if cfg.time_budget is not None and elapsed >= cfg.time_budget:
                    self.stop_reason = f"{STOPPED_BY_TIME} of {cfg.time_budget:g}s reached"
                    break
                critic_logs = [self.critic_step() for _ in range(cfg.n_critic)]
                record = {k: float(np.mean([c[k] for c in critic_logs])) for k in critic_logs[0]}
                record.update(self.generator_step())
                self.step += 1
                record["step"] = self.step
                record["epoch"] = self.step * cfg.n_critic * cfg.batch_size / n_windows
                losses = (record["loss_critic"], record["loss_generator"])
                if not all(math.isfinite(v) for v in losses):
                    self._restore_last_good()
                    break
                record["val_score"] = float("nan")
                if self.step % cfg.validation_every == 0:
                    record["val_score"] = self.validate()
                record["time"] = time.perf_counter() - start
                self.history.append(record)
                for cb in self.callbacks:
                    cb.on_step_end(self, record)
        except KeyboardInterrupt:
            self.stop_reason = f"interrupted by the user at step {self.step}"
            warnings.warn(
                f"training interrupted at step {self.step}; keeping the best model so far",
                stacklevel=_external_stacklevel(),
            )
        # A final check so that short runs are scored too.
        if not self.history or math.isnan(self.history[-1]["val_score"]):
            if not self.stop_reason.startswith("diverged"):
                score = self.validate()
                if self.history:
                    self.history[-1]["val_score"] = score
        self._confirm_best()
        self.generator.load_state_dict(self.best_state)
        for cb in self.callbacks:
            cb.on_train_end(self)
        self.elapsed = time.perf_counter() - start
        return self

    def _confirm_best(self) -> None:
        """Re-score the candidate checkpoints with ``final_score``; keep the best one."""
        if self.final_score is None or len(self.candidates) < 2:
            return
        results = []
        try:
            for score, step, state in self.candidates:
                self.generator.load_state_dict(state)
                results.append((float(self.final_score()), step, state, score))
        except (Exception, KeyboardInterrupt) as exc:
            # Training is done: a failing or interrupted re-score must not lose it.
            warnings.warn(
                f"re-scoring the best checkpoints failed or was interrupted ({exc!r}); "
                f"keeping the best validation score's checkpoint (step {self.best_step})",
                RuntimeWarning,
                stacklevel=_external_stacklevel(),
            )
            return
        self.final_scores = {step: final for final, step, _, _ in results}
        finite = [r for r in results if math.isfinite(r[0])]
        if finite:
            _, self.best_step, self.best_state, self.best_score = min(finite, key=lambda r: r[0])

    def _restore_last_good(self) -> None:
        gen_state, critic_state, good_step = self._last_good
        self.generator.load_state_dict(gen_state)
        self.critic.load_state_dict(critic_state)
        self.stop_reason = (
            f"diverged at step {self.step} (non-finite loss); restored the state of step "
            f"{good_step}"
        )
        if self.best_step == 0 and not math.isfinite(self.best_score):
            self.best_state = copy.deepcopy(gen_state)
        warnings.warn(
            f"training diverged at step {self.step} (non-finite loss); restored the last "
            f"good checkpoint (step {good_step}) and stopped. Try a lower lr or "
            "lipschitz='sn+gp'.",
            RuntimeWarning,
            stacklevel=_external_stacklevel(),
        )
