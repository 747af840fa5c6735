"""The ASGI entry point for servers: ``uvicorn portal.asgi:app``."""

from portal import accesslog
from portal.app import create_app

accesslog.install()
app = create_app()
