"""The kiosk's ID card bridge, `clearhall kiosk-bridge` (docs/card-reader.md).

A small program on the kiosk PC: it reads the second-generation resident ID card
(二代身份证) through a driver (`readers.py`: the interface, the simulated reader,
the registry; `sdt.py`: the vendors' common SDT library, through ctypes) and hands
the name and number to the kiosk page over a WebSocket on the loopback address
(`server.py`), to the hall server's own pages only. `cli.py` is its command line.
"""
