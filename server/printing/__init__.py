"""Printing tickets (CONTRACT §8): printers, print jobs, the print worker, print agents.

Imports point one way, from the top of this list down, and out only to
server.domain, server.store and the printer library (`worker` still imports
server.keys for its aiohttp lifecycle functions, which belong in server/app.py):

    jobs.py        the use cases the ticket endpoints call: queue a ticket's job
                   in its transaction, 补打, cancel, a ticket's print status
    worker.py      `Printing`, one per process: print_now within the issue
                   budget, the worker loop, the state poller, finish
    agents.py      the connected print agents of agent:// printers (WebSocket)
    labels.py      a Ticket as a TicketPrint, category labels, what printing says
    print_jobs.py  the print_jobs rows: Job, claims and leases, one function per query
    one_slip.py    one slip per ticket: its jobs one at a time, a print or a 补打
                   cancels the waiting ones
    printers.py    the printers rows: Printer, lookups, state and printer.changed
    conf.py        the time limits (`PrintConf`)

Rendering (ESC/POS bytes) and delivery to a printer are the printer library's
(`clearhall.printer.render`, `clearhall.printer.transport.print_job`), the
same delivery the print agent uses.
"""
