"""Piccolo's configuration module (``PICCOLO_CONF``); ``DB`` is bound at start by ``use_database``."""

from piccolo.conf.apps import AppRegistry

DB = None  # set by core.db.engine.use_database

APP_REGISTRY = AppRegistry(apps=["core.piccolo_app"])
