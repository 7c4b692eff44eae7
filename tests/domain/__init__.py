"""Tests of server/domain: the calling rule, ID numbers, call-next's plan, exactly-once calls."""
