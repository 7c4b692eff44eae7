"""Tests of server/api: each endpoint over real HTTP, the error shape, the access matrix."""
