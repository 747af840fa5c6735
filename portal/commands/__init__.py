"""Command-line commands, one module per feature; each defines ``register(cli)``."""
