"""Self-contained HTML reports and the training figures.

Figures are drawn on :class:`matplotlib.figure.Figure` objects (no pyplot state,
no GUI backend) and embedded in the page as base64 PNGs, so one ``.html`` file
holds everything and can be mailed or archived.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from quantgan._io import atomic_path

__all__ = [
    "HTMLPage",
    "figure_to_html",
    "plot_training_history",
    "plot_training_samples",
    "write_atomic",
]

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.8em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f6f6f6; } table.text td { text-align: left; } td.best { font-weight: bold; background: #eaf5ea; }
img { max-width: 100%; } p.note { color: #555; font-size: 0.9em; }
code { background: #f4f4f4; padding: 0 0.2em; }
"""


def figure_to_html(fig: Figure, alt: str = "") -> str:
    """An ``<img>`` tag holding ``fig`` as an embedded PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def write_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


@dataclass
class HTMLPage:
    """A page built from sections of text, tables and figures.

    Examples
    --------
    >>> page = HTMLPage("My report")
    >>> page.add_heading("Results")
    >>> page.add_text("Everything is fine.")
    >>> "<h2>Results</h2>" in page.render()
    True
    """

    title: str
    parts: list[str] = field(default_factory=list)

    def add_heading(self, text: str) -> None:
        self.parts.append(f"<h2>{html.escape(text)}</h2>")

    def add_text(self, text: str, *, note: bool = False) -> None:
        cls = ' class="note"' if note else ""
        self.parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def add_html(self, fragment: str) -> None:
        self.parts.append(fragment)

    def add_table(
        self, frame: pd.DataFrame, *, float_format: str = "{:.4g}", text: bool = False
    ) -> None:
        """Add ``frame`` as a table; ``text=True`` left-aligns cells (prose, not numbers)."""
        classes = ["text"] if text else None
        self.parts.append(
            frame.to_html(float_format=float_format.format, border=0, classes=classes)
        )

    def add_figure(self, fig: Figure, alt: str = "") -> None:
        self.parts.append(figure_to_html(fig, alt))

    def render(self) -> str:
        body = "\n".join(self.parts)
        title = html.escape(self.title)
        return (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{title}</title><style>{_CSS}</style></head>\n"
            f"<body><h1>{title}</h1>\n{body}\n</body></html>\n"
        )

    def write(self, path: str | os.PathLike) -> Path:
        return write_atomic(path, self.render())


def plot_training_history(history: pd.DataFrame) -> Figure:
    """Loss curves, the Wasserstein estimate, the gradient penalty and the validation score.

    The seed's advice: a healthy run's losses, unstable at first, settle to lower
    values; a critic loss stuck near zero or a Wasserstein estimate that explodes is
    a sign of trouble.
    """
    fig = Figure(figsize=(11, 6.5))
    axes = fig.subplots(2, 2)
    steps = history.index.to_numpy()

    def smooth(y: pd.Series) -> np.ndarray:
        span = max(1, len(y) // 50)
        return y.rolling(span, min_periods=1).mean().to_numpy()

    panels: Sequence[tuple[str, Iterable[str]]] = (
        ("Losses", ("loss_critic", "loss_generator")),
        ("Wasserstein estimate  E[C(real)] - E[C(fake)]", ("wasserstein",)),
        ("Gradient penalty and gradient norms", ("gradient_penalty", "grad_norm_input")),
    )
    for ax, (title, cols) in zip(axes.flat[:3], panels, strict=True):
        for col in cols:
            if col in history and history[col].notna().any():
                ax.plot(steps, history[col].to_numpy(), alpha=0.25, lw=0.8)
                ax.plot(steps, smooth(history[col]), label=col, lw=1.5)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("generator step")
        ax.legend(fontsize=8)
    ax = axes.flat[3]
    val = history["val_score"].dropna() if "val_score" in history else pd.Series(dtype=float)
    if len(val):
        ax.plot(val.index, val.to_numpy(), marker="o", ms=3)
        best = val.idxmin()
        ax.axvline(best, color="g", ls="--", lw=1, label=f"kept: step {best}")
        ax.legend(fontsize=8)
    ax.set_title("Validation score (stylized facts; lower is better)", fontsize=10)
    ax.set_xlabel("generator step")
    fig.tight_layout()
    return fig


def plot_training_samples(
    samples: Sequence[tuple[int, np.ndarray, np.ndarray]], n_rows: int = 4
) -> Figure:
    """The seed's mode-collapse check: fixed latents over training vs fresh latents.

    Each row is one validation step. Left: the same 4 latents through training
    (the series should change smoothly and end up realistic). Right: 4 fresh
    latents at that step (they should look different from each other; identical
    curves mean the generator has collapsed onto one mode).
    """
    if not samples:
        raise ValueError("no training samples were recorded; fit the model first")
    rows = [samples[i] for i in np.unique(np.linspace(0, len(samples) - 1, n_rows).astype(int))]
    fig = Figure(figsize=(11, 2.1 * len(rows)))
    axes = np.atleast_2d(fig.subplots(len(rows), 2, sharex=True))
    for (step, fixed, fresh), (ax_fixed, ax_fresh) in zip(rows, axes, strict=True):
        for series in fixed[..., 0]:
            ax_fixed.plot(series, lw=0.8)
        for series in fresh[..., 0]:
            ax_fresh.plot(series, lw=0.8)
        ax_fixed.set_ylabel(f"step {step}", fontsize=9)
    axes[0, 0].set_title("fixed latents (same noise every time)", fontsize=10)
    axes[0, 1].set_title("fresh latents (new noise each time)", fontsize=10)
    fig.tight_layout()
    return fig
