"""A platform's callback server on localhost, in a thread: records what it
receives and answers with the status it is told to."""

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class CallbackServer:
    def __init__(self):
        self.received = []  # (headers dict, body bytes)
        self.statuses = []  # answers to give, in order; then 200
        self.lock = threading.Lock()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_port}/callback"

    def bodies(self):
        return [json.loads(body) for _headers, body in self.received]


@contextmanager
def callback_server():
    server = CallbackServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with server.lock:
                server.received.append((dict(self.headers), body))
                status = server.statuses.pop(0) if server.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
