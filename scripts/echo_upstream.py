#!/usr/bin/env python3
"""A tiny echo API for demos: answers every request with JSON describing what it received
(method, path, and the headers the gateway forwarded). Python stdlib only; 127.0.0.1 only.

Usage: scripts/echo_upstream.py PORT
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        doc = {"method": self.command, "path": self.path,
               "headers": {k: v for k, v in self.headers.items()}, "body_bytes": len(body)}
        out = (json.dumps(doc, indent=2) + "\n").encode()
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(out)).encode() + b"\r\n\r\n" + out)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
