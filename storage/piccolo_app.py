"""Piccolo's app configuration: the tables and migrations of jitu."""

import os

from piccolo.conf.apps import AppConfig

from storage.tables import ALL_TABLES

APP_CONFIG = AppConfig(
    app_name="storage",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(ALL_TABLES),
    migration_dependencies=[],
    commands=[],
)
