"""Piccolo's configuration module (``PICCOLO_CONF=storage.piccolo_conf``): one engine, from settings."""

from piccolo.conf.apps import AppRegistry

from marketplace.settings import get_settings
from storage.engine import make_engine

DB = make_engine(get_settings())

APP_REGISTRY = AppRegistry(apps=["storage.piccolo_app"])
