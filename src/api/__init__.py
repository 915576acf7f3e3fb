"""The HTTP API (``kit serve``): ``create_app(config, data_dir, token)`` over the service layer."""

from src.api.app import create_app

__all__ = ["create_app"]
