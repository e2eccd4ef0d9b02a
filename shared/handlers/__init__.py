"""One handler per message. Each is a plain function: the envelope first, then the ports
it needs as keyword arguments. `HANDLERS` maps a message type to its handler."""
