#!/usr/bin/env python3
"""The soak test's upstream (python3 stdlib): HTTP/1.1 keep-alive on 127.0.0.1, port chosen
by the OS and written to the file given as argv[1].

Every answer is 200 with the body "ok <X-Auth-Subject or -> <request body length>", so the
load generator can check that an allowed request carried the identity it expects and that a
public one carried none. Runs until SIGTERM."""

import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        subject = self.headers.get("X-Auth-Subject", "-")
        payload = ("ok %s %d" % (subject, len(body))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = answer


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main():
    server = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
