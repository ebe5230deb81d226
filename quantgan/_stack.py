"""Where a warning raised inside quantgan should point: at the user's own code."""

from __future__ import annotations

import inspect
import os
import sys

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _library_dirs() -> tuple[str, ...]:
    """quantgan's folder and, once imported, ``quantgan.adapters``' (which a source
    checkout keeps outside it, in ``adapters/``; pyproject.toml maps it in)."""
    adapters = sys.modules.get("quantgan.adapters")
    extra = () if adapters is None else tuple(getattr(adapters, "__path__", ()))
    return (_PACKAGE, *(os.path.abspath(p) + os.sep for p in extra))


def _external_stacklevel() -> int:
    """The ``stacklevel`` at which a warning raised by the caller of this function points
    at the first frame outside quantgan: the user's own call, however deep in the
    library the warning is raised (pandas' ``find_stack_level`` does the same).

    A fixed ``stacklevel`` is right for one call path only; the same check reached
    through ``fit``, a study or a stress test sits at different depths.
    """
    inside = _library_dirs()
    frame, level = inspect.currentframe().f_back, 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(inside):
        frame, level = frame.f_back, level + 1
    return level
