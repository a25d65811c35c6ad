#!/usr/bin/env python3
"""RFC 7662 introspection endpoint for bench/run (python3 stdlib only).

    introspection_server.py --port PORT --client-id ID --secret-file FILE

Listens on 127.0.0.1:PORT. Every POST /introspect with the right client credentials
(client_secret_basic or client_secret_post) gets
{"active": true, "sub": "bench", "scope": "bench", "exp": <now + 1 year>}; wrong credentials
get 401. GET /calls answers {"calls": N, "bad_credentials": M} (introspection calls so far),
so bench/run can report how often the gateway asked. Runs until killed.
"""

import argparse
import base64
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--client-id", required=True)
    ap.add_argument("--secret-file", required=True)
    args = ap.parse_args()
    with open(args.secret_file) as f:
        secret = f.read().strip()
    lock = threading.Lock()
    counts = {"calls": 0, "bad_credentials": 0}

    def authorized(headers, form):
        auth = headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return False
            return (urllib.parse.unquote_plus(user) == args.client_id
                    and urllib.parse.unquote_plus(password) == secret)
        return form.get("client_id") == args.client_id and form.get("client_secret") == secret

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the gateway may reuse its connection

        def log_message(self, *a):
            pass

        def send_json(self, status, obj):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path != "/calls":
                return self.send_json(404, {"error": "not_found"})
            with lock:
                snapshot = dict(counts)
            self.send_json(200, snapshot)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("ascii", "replace")
            form = {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}
            ok = self.path == "/introspect" and authorized(self.headers, form)
            with lock:
                counts["calls" if ok else "bad_credentials"] += 1
            if not ok:
                return self.send_json(401, {"error": "invalid_client"})
            self.send_json(200, {"active": True, "sub": "bench", "scope": "bench",
                                 "exp": int(time.time()) + 365 * 86400})

    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    httpd.daemon_threads = True
    httpd.serve_forever()


if __name__ == "__main__":
    main()
