"""Tests of server/store: the hall file and numbered migrations."""
