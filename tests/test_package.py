import subprocess
import sys

import pytest

import quantgan as qg


def test_every_public_name_resolves():
    for name in qg.__all__:
        assert getattr(qg, name) is not None
    assert set(qg._LAZY) <= set(qg.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        qg.nope  # noqa: B018


def test_import_is_light():
    # Parallel stress-test workers import quantgan: torch and sklearn load only on use.
    code = "import sys, quantgan; print('torch' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
