"""mlcycle's core: domain, handlers, ports, adapters, local host and CLI."""
