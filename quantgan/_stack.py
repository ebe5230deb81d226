"""Where a warning raised inside quantgan should point: at the user's own code."""

from __future__ import annotations

import inspect


def _in_library(frame) -> bool:
    """Whether ``frame`` runs quantgan's code (``quantgan`` or any of its submodules,
    ``quantgan.adapters`` included wherever a checkout keeps its files)."""
    name = frame.f_globals.get("__name__", "")
    return name == "quantgan" or name.startswith("quantgan.")


def _external_stacklevel() -> int:
    """The ``stacklevel`` at which a warning raised by the caller of this function points
    at the first frame outside quantgan: the user's own call, however deep in the
    library the warning is raised (pandas' ``find_stack_level`` does the same).

    A fixed ``stacklevel`` is right for one call path only; the same check reached
    through ``fit``, a study or a stress test sits at different depths. Frames are
    told apart by their module's name, not their file's path: a source checkout keeps
    ``quantgan.adapters`` in ``adapters/``, outside ``quantgan/``.
    """
    frame = inspect.currentframe()
    if frame is None:  # an interpreter without frame support
        return 2
    frame, level = frame.f_back, 1
    while frame is not None and _in_library(frame):
        frame, level = frame.f_back, level + 1
    return level
