"""Ticket printers: ESC/POS rendering, status probing, transports and previews.

`render` turns a ticket into bytes, `transport` sends bytes and probes status,
`status` reads the printer's status bytes, `decode` and `preview` turn bytes back
into something a person (or a test) can read. Nothing here touches the database.
"""
