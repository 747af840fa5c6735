"""The ASGI entry point for servers: ``uvicorn portal.asgi:app``."""

import gc

from portal import accesslog
from portal.app import create_app


async def freeze_startup_heap() -> None:
    """What a server process holds once started (modules, routes, the app, its pool) is kept for its whole
    life: frozen out of the cyclic garbage collector, which otherwise walks all of it on every full
    collection. Under city load each full collection held the event loop, and every request in flight, for
    150-190 ms, a few times in 15 s; frozen, 10-20 ms (CPython's ``gc.freeze`` advice for long-lived
    processes). Here, not in ``create_app``: tests build many apps in one process, and frozen objects are
    never freed."""
    gc.freeze()


accesslog.install()
app = create_app()
app.on_startup.append(freeze_startup_heap)
