import warnings

import numpy as np
import pandas as pd
import pytest

import quantgan as qg
from quantgan import cli


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "evaluate", "fit", "sample", "stress"):
        assert command in out


def test_fit_then_sample_to_csv(tmp_path, capsys):
    model = tmp_path / "m.safetensors"
    assert (
        cli.main(
            [
                "fit",
                "sp500",
                "--output",
                str(model),
                "--max-steps",
                "2",
                "--window",
                "20",
                "--quiet",
            ]
        )
        == 0
    )
    assert "model written to" in capsys.readouterr().out
    out = tmp_path / "paths.csv"
    assert (
        cli.main(
            [
                "sample",
                str(model),
                "--n-paths",
                "3",
                "--n-timesteps",
                "40",
                "--seed",
                "1",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    frame = pd.read_csv(out, index_col=0)
    assert frame.shape == (40, 3)
    expected = qg.WGANAugmenter.load(model).sample(3, 40, random_state=1)
    np.testing.assert_allclose(frame.to_numpy(), expected.to_numpy())


def test_fit_from_csv_with_column(tmp_path):
    prices = qg.load_sp500().iloc[:300]
    csv = tmp_path / "bars.csv"
    prices.to_csv(csv)
    model = tmp_path / "m.safetensors"
    assert (
        cli.main(
            [
                "fit",
                str(csv),
                "--column",
                "Close",
                "--output",
                str(model),
                "--max-steps",
                "1",
                "--window",
                "20",
                "--validation-fraction",
                "0.2",
                "--quiet",
            ]
        )
        == 0
    )
    loaded = qg.WGANAugmenter.load(model)
    assert loaded.n_timesteps_ == 299 and loaded.n_validation_ == 60


def test_errors_are_reported_not_raised(tmp_path, capsys):
    assert (
        cli.main(
            [
                "sample",
                str(tmp_path / "none.safetensors"),
                "--n-paths",
                "2",
                "--output",
                str(tmp_path / "x.csv"),
            ]
        )
        == 1
    )
    assert "no model file" in capsys.readouterr().err
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    assert (
        cli.main(["sample", str(bad), "--n-paths", "2", "--output", str(tmp_path / "x.csv")]) == 1
    )
    assert "corrupt" in capsys.readouterr().err
    assert cli.main(["demo", "--time-budget", "0"]) == 2


def test_demo_writes_a_self_contained_report(tmp_path, capsys):
    out = tmp_path / "report.html"
    with warnings.catch_warnings():
        warnings.simplefilter("error", qg.TrainingWarning)  # told in CLI terms instead
        code = cli.main(
            ["demo", "--time-budget", "3", "--n-paths", "20", "--output", str(out), "--quiet"]
        )
    assert code == 0
    html = out.read_text()
    # 3 seconds are far from the measured budgets: the report and stderr say so.
    assert "Warning: The time budget (3 s) stopped training after" in html
    assert "Give a larger --time-budget." in html and "(tcn generator)" in html
    assert html.count("<img") >= 4 and html.count("data:image/png;base64,") >= 4
    assert "GARCH(1,1)-t" in html and "Stationary bootstrap" in html and "emd_20" in html
    assert "Mode-collapse check" in html and "Training the WGAN" in html
    assert "http://" not in html and "https://" not in html  # nothing external
    captured = capsys.readouterr()
    assert "report written to" in captured.out
    assert captured.err.startswith("warning: The time budget (3 s) stopped training")


def test_evaluate_command_with_saved_paths_and_a_baseline(tmp_path, capsys):
    returns = qg.log_returns(qg.load_sp500()).loc["2015":"2018"]
    paths = qg.GaussianAugmenter().fit(returns).sample(20, random_state=0)
    csv = tmp_path / "gauss.csv"
    paths.to_csv(csv)
    out = tmp_path / "eval.html"
    code = cli.main(
        [
            "evaluate",
            "--start",
            "2015-01-01",
            "--end",
            "2018-12-31",
            "--paths",
            str(csv),
            "--baselines",
            "bootstrap",
            "--n-paths",
            "20",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    html = out.read_text()
    assert "gauss" in html and "bootstrap" in html
    assert f"wrote {out}" in capsys.readouterr().out
    assert cli.main(["evaluate", "--baselines", "none"]) == 2
    assert "nothing to evaluate" in capsys.readouterr().err
    assert cli.main(["evaluate", "--baselines", "arima"]) == 2
    assert "unknown baseline 'arima'" in capsys.readouterr().err


def test_stress_command_runs_a_backtrader_strategy(tmp_path, capsys):
    out = tmp_path / "s.html"
    metrics = tmp_path / "m.csv"
    code = cli.main(
        [
            "stress",
            "quantgan.adapters.backtrader:SmaCross",
            "--n-paths",
            "3",
            "--n-timesteps",
            "200",
            "--quiet",
            "--output",
            str(out),
            "--metrics-output",
            str(metrics),
        ]
    )
    assert code == 0
    assert out.is_file() and "<img" in out.read_text()
    assert len(pd.read_csv(metrics, index_col=0)) == 3
    with pytest.raises(SystemExit, match="--params must be a JSON object"):
        cli.main(["stress", "quantgan.adapters.backtrader:SmaCross", "--params", "{bad"])
