"""Skip the doctests of modules whose optional dependencies are not installed."""

import importlib.util

_OPTIONAL = {
    "sklearn_slstm/_display.py": ("matplotlib",),
}

collect_ignore = [
    path
    for path, modules in _OPTIONAL.items()
    if any(importlib.util.find_spec(module) is None for module in modules)
]
