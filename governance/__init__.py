"""Gridwork project package: settings, URLs, the Celery app, cross-app pages."""

from .celery import app as celery_app

__all__ = ("celery_app",)
