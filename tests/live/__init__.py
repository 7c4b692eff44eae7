"""Tests of server/live: the WebSocket hub, the LISTEN connection and the event catalogue."""
