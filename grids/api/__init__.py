"""What every app's REST API shares: the error format (``errors``) and the list
pagination (``pagination``). Apps keep their serializers and views in their own
``api.py``; ``governance/api_urls.py`` mounts them under ``/api/v1/``."""
