"""The local host: drives the FunctionApp's own registered functions on this machine,
with real azure.functions objects, so the bindings are exercised locally too."""
