"""The training loop: stopping rules, callbacks, divergence, interruption."""

import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from quantgan.nn import ConvCritic, ConvGenerator
from quantgan.training import (
    Callback,
    Checkpoint,
    CheckpointHistory,
    EarlyStopping,
    TensorBoard,
    TrainingConfig,
    WGANTrainer,
)

WINDOW = 16


def make_trainer(callbacks=(), score=None, **cfg):
    torch.manual_seed(0)
    g = ConvGenerator(latent_dim=4, window=WINDOW, hidden=4)
    c = ConvCritic(window=WINDOW, hidden=4, lipschitz=cfg.setdefault("lipschitz", "sn+gp"))
    windows = np.random.default_rng(0).standard_normal((64, 1, WINDOW))
    config = TrainingConfig(
        **{
            "time_budget": None,
            "max_steps": 12,
            "n_critic": 2,
            "validation_every": 3,
            "n_validation": 16,
            **cfg,
        }
    )
    score = score or (lambda x: float(np.abs(x.std() - 1.0)))
    return WGANTrainer(g, c, windows, config, score=score, callbacks=callbacks, seed=0)


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, trainer):
        self.events.append("begin")

    def on_step_end(self, trainer, record):
        self.events.append(("step", record["step"]))

    def on_validation_end(self, trainer, score, is_best):
        self.events.append(("val", trainer.step, is_best))

    def on_train_end(self, trainer):
        self.events.append("end")


def test_callbacks_are_called_in_order_and_best_state_is_restored():
    rec = Recorder()
    tr = make_trainer([rec]).fit()
    assert rec.events[0] == "begin" and rec.events[-1] == "end"
    assert [e[1] for e in rec.events if e[0] == "step"] == list(range(1, 13))
    assert [e[1] for e in rec.events if e[0] == "val"] == [3, 6, 9, 12]
    scores = {r["step"]: r["val_score"] for r in tr.history if not math.isnan(r["val_score"])}
    assert tr.best_step == min(scores, key=scores.get)
    # The generator holds the best state, not the last one.
    for k, v in tr.generator.state_dict().items():
        assert torch.equal(v, tr.best_state[k])


def test_max_epochs_converts_to_steps():
    tr = make_trainer(max_steps=None, max_epochs=1.0, batch_size=8)
    assert tr.step_limit() == 4  # 64 windows / (8 per batch * 2 critic steps)
    assert len(tr.fit().history) == 4


def test_time_budget_stops():
    tr = make_trainer(max_steps=None, time_budget=0.5).fit()
    assert tr.stop_reason == "time budget of 0.5s reached"
    assert tr.history[-1]["time"] < 5


def test_early_stopping():
    tr = make_trainer(
        [EarlyStopping(patience=2)], score=lambda x: 1.0, max_steps=100, validation_every=1
    ).fit()
    # First check sets the best; two more without improvement stop the run.
    assert tr.step == 3
    assert "early stopping" in tr.stop_reason


def test_divergence_restores_last_good_state_and_warns():
    class Poison(Callback):
        def on_step_end(self, trainer, record):
            if record["step"] == 7:
                with torch.no_grad():
                    for p in trainer.critic.parameters():
                        p.fill_(float("nan"))

    with pytest.warns(RuntimeWarning, match=r"diverged at step 8.*step 6"):
        tr = make_trainer([Poison()]).fit()
    assert tr.stop_reason.startswith("diverged at step 8")
    assert len(tr.history) == 7
    for p in tr.generator.parameters():
        assert torch.isfinite(p).all()
    for p in tr.critic.parameters():
        assert torch.isfinite(p).all()


def test_ctrl_c_keeps_best_model():
    class Interrupt(Callback):
        def on_step_end(self, trainer, record):
            if record["step"] == 5:
                raise KeyboardInterrupt

    with pytest.warns(UserWarning, match="interrupted at step 5"):
        tr = make_trainer([Interrupt()]).fit()
    assert tr.stop_reason == "interrupted by the user at step 5"
    assert tr.best_step in (3, 5)
    assert not math.isnan(tr.history[-1]["val_score"])  # the final check scored step 5


def test_checkpoint_writes_best_generator(tmp_path):
    tr = make_trainer([Checkpoint(tmp_path)]).fit()
    state = load_file(str(tmp_path / "best_generator.safetensors"))
    for k, v in tr.best_state.items():
        assert torch.equal(state[k], v)


def test_checkpoint_history_keeps_every_validation_as_it_was():
    history = CheckpointHistory()
    tr = make_trainer([history]).fit()
    steps = [step for step, _, _ in history.states]
    assert steps == [3, 6, 9, 12]
    scores = [r["val_score"] for r in tr.history if not math.isnan(r["val_score"])]
    assert [score for _, score, _ in history.states] == scores
    # the kept generator is the best one, and its weights are the ones recorded then
    best = next(state for step, _, state in history.states if step == tr.best_step)
    for k, v in tr.generator.state_dict().items():
        assert torch.equal(best[k], v)
    # copies, not views: later steps did not change the first checkpoint
    first, last = history.states[0][2], history.states[-1][2]
    assert any(not torch.equal(first[k], last[k]) for k in first)
    # a second fit starts a new history
    tr.config.max_steps = 15
    tr.fit()
    assert [step for step, _, _ in history.states] == [15]


def test_final_score_rescores_the_best_candidates_and_keeps_its_pick(tmp_path):
    # The validation score prefers later steps; the final score prefers step 12 (it
    # finds which candidate's weights are loaded): the kept one is the final pick.
    holder = {}

    def final():
        tr = holder["tr"]
        now = tr.generator.state_dict()
        (step,) = [s for _, s, st in tr.candidates if all(torch.equal(now[k], st[k]) for k in st)]
        return abs(step - 12.0)

    tr = make_trainer(
        [Checkpoint(tmp_path)],
        score=lambda x: -float(holder["tr"].step),
        n_candidates=3,
        max_steps=15,
    )
    holder["tr"] = tr
    tr.final_score = final
    tr.fit()
    # candidates: the three best validation scores (steps 15, 12, 9), best first
    assert [step for _, step, _ in tr.candidates] == [15, 12, 9]
    assert set(tr.final_scores) == {15, 12, 9}
    assert tr.final_scores == {15: 3.0, 12: 0.0, 9: 3.0}
    pick = 12
    assert tr.best_step == pick and tr.best_score == -pick
    state = dict((step, st) for _, step, st in tr.candidates)[pick]
    for k, v in tr.generator.state_dict().items():
        assert torch.equal(v, state[k])
    # the checkpoint file holds the pick, not the last best validation score
    saved = load_file(str(tmp_path / "best_generator.safetensors"))
    assert all(torch.equal(saved[k], state[k]) for k in state)
    # one candidate (the default): no re-scoring, the best validation score is kept
    tr = make_trainer(score=lambda x: -float(holder["tr"].step), max_steps=15)
    holder["tr"] = tr
    tr.final_score = lambda: pytest.fail("final_score called with one candidate")
    tr.fit()
    assert tr.best_step == 15 and tr.final_scores == {} and tr.candidates == []


@pytest.mark.parametrize("error", [RuntimeError("out of memory"), KeyboardInterrupt()])
def test_failed_final_score_keeps_the_best_validation_checkpoint(error):
    holder = {}

    def final():
        raise error

    tr = make_trainer(score=lambda x: -float(holder["tr"].step), n_candidates=3, max_steps=15)
    holder["tr"] = tr
    tr.final_score = final
    with pytest.warns(RuntimeWarning, match="keeping the best validation score's checkpoint"):
        tr.fit()
    assert tr.best_step == 15 and tr.final_scores == {}
    for k, v in tr.generator.state_dict().items():
        assert torch.equal(v, tr.best_state[k])


def test_tensorboard_logs_or_warns_without_tensorboard(tmp_path):
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        with pytest.warns(UserWarning, match="tensorboard is not installed"):
            make_trainer([TensorBoard(tmp_path)]).fit()
    else:
        make_trainer([TensorBoard(tmp_path)]).fit()
        assert any(p.name.startswith("events.out") for p in tmp_path.rglob("*"))


def test_adam_and_clip_paths():
    tr = make_trainer(optimizer="adam", lipschitz="clip", lr=1e-3).fit()
    assert isinstance(tr.g_opt, torch.optim.Adam)
    assert max(p.abs().max().item() for p in tr.critic.parameters()) <= 0.01 + 1e-12
