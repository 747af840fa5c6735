"""Adapters that keep things: Piccolo tables and repositories, object storage."""

import os

os.environ.setdefault("PICCOLO_CONF", "storage.piccolo_conf")
