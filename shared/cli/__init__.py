"""`mlcycle`: a client of the mlcycle HTTP API with the commands and flags of `az ml`."""
