"""Tests for core.jobs."""
