"""The parts of ``bench_training.py``, which alone is meant to be run.

``models`` holds the reference model three ways (regressor, hand-written
loop, Keras) and the data, ``sections`` sections (a) to (c) and (e), and
``scaling`` section (d) with its child process. ``bench_training.py`` puts
``benchmarks/`` first on ``sys.path`` by being run from it, so both
``training`` and ``_common`` import from there.
"""
