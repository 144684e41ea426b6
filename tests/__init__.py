"""The test suite. A regular package, so that ``tests.conftest`` is this one: color-matcher (a benchmark extra)
installs a top-level ``tests`` package of its own, which would shadow a namespace package."""
