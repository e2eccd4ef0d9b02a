"""A stand-in training script: the spec tests only need it to exist."""
