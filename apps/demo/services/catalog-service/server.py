#!/usr/bin/env python3
"""catalog-service: the demo shop's product catalog, in Python with only the standard library.

It exists to show that any language joins the mesh unchanged: plain HTTP/1.1 on 127.0.0.1:$PORT, no mesh code.
It calls no upstream, so it has no trace headers to forward.
"""

import json
import os
import random
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICE = "catalog-service"
VERSION = os.environ.get("SERVICE_VERSION") or "v1"

PRODUCTS = [
    {"sku": "TRL-MUG-01", "name": "Trellis enamel mug", "priceCents": 1200, "currency": "EUR", "stock": 140},
    {"sku": "TRL-TEE-02", "name": "Sidecar T-shirt", "priceCents": 2400, "currency": "EUR", "stock": 62},
    {"sku": "TRL-CAP-03", "name": "Control-plane cap", "priceCents": 1800, "currency": "EUR", "stock": 35},
    {"sku": "TRL-STK-04", "name": "mTLS sticker pack", "priceCents": 300, "currency": "EUR", "stock": 900},
]


class CatalogHandler(BaseHTTPRequestHandler):
    # Keep-alive, like the other apps: every response carries Content-Length.
    protocol_version = "HTTP/1.1"
    server_version = "catalog-service"

    def do_GET(self):
        self._drain_body()
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            return self._send(200, {"status": "ok"})
        if path in ("/products", "/"):
            time.sleep(random.uniform(0.002, 0.008))
            return self._send(200, {"language": "python", "products": PRODUCTS})
        return self._send(404, {"error": "no route for GET %s; catalog-service serves GET /healthz, GET /products" % path})

    def do_POST(self):
        self._method_not_allowed()

    do_PUT = do_POST
    do_DELETE = do_POST
    do_PATCH = do_POST

    def _method_not_allowed(self):
        self._drain_body()
        self._send(405, {"error": "catalog-service is read-only; use GET /products"})

    def _drain_body(self):
        # An unread request body would be parsed as the next request on this keep-alive connection.
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(length)

    def _send(self, status, body):
        payload = json.dumps({"service": SERVICE, "version": VERSION, **body}).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_request(self, code="-", size="-"):
        # Per-request logs are the sidecar's job (access logs); only errors are printed here.
        pass


def watch_parent():
    """Stop when the launcher disappears (re-parented), even if it was killed without stopping us."""
    parent = os.getppid()
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)
            return


def main():
    try:
        port = int(os.environ.get("PORT", ""))
        if not 0 <= port <= 65535:
            raise ValueError
    except ValueError:
        print("catalog-service: set PORT to the port to listen on (0-65535), e.g. PORT=9103", file=sys.stderr, flush=True)
        return 1

    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), CatalogHandler)
    except OSError as error:
        print("catalog-service: cannot listen on 127.0.0.1:%d (%s); set PORT to a free port" % (port, error.strerror), file=sys.stderr, flush=True)
        return 1
    server.daemon_threads = True

    def stop(_signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=watch_parent, daemon=True).start()

    print("%s %s listening on 127.0.0.1:%d" % (SERVICE, VERSION, server.server_address[1]), flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
