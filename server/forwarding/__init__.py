"""Forwarding every rating and every closed follow-up to the provincial 好差评
platform (CONTRACT §7): `outbox` (the rows and their SQL), `payload` (what is
sent, in the provincial fields), `sender` (the per-process worker that sends)."""
