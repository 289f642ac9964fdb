"""Benchmarks: `make bench` runs join_storm (not part of `make test`)."""
