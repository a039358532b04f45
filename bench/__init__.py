"""Benchmarks of kard-bff, run by `make bench` (never by `make test`)."""
