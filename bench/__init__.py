"""Benchmarks. Each compares a subject with a baseline measured in the same run and reports the ratio."""
