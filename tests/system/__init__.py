"""Whole-tree and whole-process checks: import layers, the wheel's packages, restarts."""
