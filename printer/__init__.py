"""Ticket printers: ESC/POS rendering, status probing, transports and previews.

`render` turns a ticket into bytes, `transport` (one module per kind of
address) sends bytes and probes status, and its `print_job` is the one way a
job reaches paper, for the server's print worker and the print `agent` alike.
`status` reads the printer's status bytes, `decode` and `preview` turn bytes
back into something a person (or a test) can read. Nothing here touches the
database.
"""
