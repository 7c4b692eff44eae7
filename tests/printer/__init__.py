"""Tests of the printer library (printer/): rendering, decoding, status and transports."""
