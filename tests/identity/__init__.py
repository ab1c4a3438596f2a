"""Tests for core.identity."""
