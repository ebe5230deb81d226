import os

import numpy as np
import pandas as pd
import pytest

from quantgan.report import HTMLPage, plot_training_history, plot_training_samples, write_atomic


def test_page_renders_escaped_text_tables_and_figures(tmp_path):
    from matplotlib.figure import Figure

    page = HTMLPage("A <report>")
    page.add_heading("Results & more")
    page.add_text("x < y", note=True)
    page.add_table(pd.DataFrame({"a": [1.23456789]}, index=["row"]))
    fig = Figure()
    fig.subplots().plot([1, 2, 3])
    page.add_figure(fig, "line")
    path = page.write(tmp_path / "r.html")
    html = path.read_text()
    assert "<title>A &lt;report&gt;</title>" in html
    assert "<h2>Results &amp; more</h2>" in html
    assert '<p class="note">x &lt; y</p>' in html
    assert "1.235" in html
    page.add_table(pd.DataFrame({"meaning": ["words"]}), text=True)
    assert '<table class="dataframe text">' in page.render()
    assert "table.text td { text-align: left; }" in page.render()
    assert html.count('src="data:image/png;base64,') == 1


def test_write_atomic_leaves_no_temp_files(tmp_path):
    write_atomic(tmp_path / "a.txt", "hello")
    write_atomic(tmp_path / "a.txt", "again")
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    assert (tmp_path / "a.txt").read_text() == "again"
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~umask  # not owner-only


def test_training_figures():
    steps = pd.Index(range(1, 101), name="step")
    history = pd.DataFrame(
        {
            "loss_critic": np.linspace(5, 1, 100),
            "loss_generator": np.linspace(-1, 0, 100),
            "wasserstein": np.linspace(1, 0.1, 100),
            "gradient_penalty": np.full(100, 0.1),
            "grad_norm_input": np.ones(100),
            "val_score": [np.nan] * 49 + [2.0] + [np.nan] * 49 + [1.0],
        },
        index=steps,
    )
    fig = plot_training_history(history)
    axes = fig.get_axes()
    assert len(axes) == 4
    assert "kept: step 100" in [t.get_text() for t in axes[3].get_legend().get_texts()]
    samples = [(s, np.zeros((4, 10, 1)), np.ones((4, 10, 1))) for s in (10, 20, 30, 40, 50, 60)]
    fig = plot_training_samples(samples, n_rows=3)
    assert len(fig.get_axes()) == 6
    assert fig.get_axes()[0].get_ylabel() == "step 10"
    with pytest.raises(ValueError, match="no training samples"):
        plot_training_samples([])
