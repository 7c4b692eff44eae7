"""Tests of server/printing: print jobs, the worker and print agents, against a fake printer."""
