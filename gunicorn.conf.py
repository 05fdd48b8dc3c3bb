"""gunicorn settings, read by gunicorn from the working directory (the project
root, also in docker-compose.yml) or with ``-c gunicorn.conf.py``.

gunicorn writes ``Server: gunicorn`` on every response and has no setting to
turn it off: the response class below leaves that line out, so the server does
not name itself (the front proxy should hide its own version too, e.g. nginx
``server_tokens off``)."""

from gunicorn.http import wsgi


class _Response(wsgi.Response):
    def default_headers(self):
        return [
            line
            for line in super().default_headers()
            if not line.lower().startswith("server:")
        ]


wsgi.Response = _Response
