"""guardsh's tests (a package, so `tests.servers` can be loaded as a pytest plugin)."""
