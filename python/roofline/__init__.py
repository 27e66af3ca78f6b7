"""Roofline estimates of LLM inference (TTFT, decode step, throughput, memory, bound) on the C++ core.

Units are in the names: _s seconds, _bytes bytes, _gb 1e9 bytes, _per_s per second. Everything is
the compiled module roofline._core (types and docstrings: _core.pyi); `python3 -m roofline` runs the
command-line tool.
"""
from . import _core
from ._core import *  # noqa: F401,F403 (the module's public names are the package's)

# The types print as roofline.Model, not roofline._core.Model.
for _name in dir(_core):
    _obj = getattr(_core, _name)
    if isinstance(_obj, type) and getattr(_obj, "__module__", "") == "roofline._core":
        try:
            _obj.__module__ = __name__
        except (AttributeError, TypeError):  # a type that does not allow it keeps its module
            pass
del _name, _obj
