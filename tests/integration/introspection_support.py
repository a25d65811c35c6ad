"""A test RFC 7662 introspection endpoint on 127.0.0.1 (stdlib only).

IntrospectionServer answers POST /introspect from a table the test controls (token -> the
JSON answer; unknown tokens are {"active": false}), checks the client's credentials
(client_secret_basic or client_secret_post) against the secret it currently expects, counts
calls per token, and can be told to revoke a token, slow down, fail (HTTP 500), answer
garbage, or hang up.
"""

import base64
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import HOST, slack, wait_until


class IntrospectionServer:
    def __init__(self, client_id="portcullis", secret="s3cret"):
        self.client_id = client_id
        self.secret = secret
        self.answers = {}
        self.mode = "normal"   # normal | slow | fail | garbage | close
        self.delay = 0.0
        self._lock = threading.Lock()
        self._calls = {}
        self.requests = []     # (headers dict, form dict) per call
        self.bad_credentials = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("ascii", "replace")
                form = {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}
                headers = {k.lower(): v for k, v in self.headers.items()}
                token = form.get("token", "")
                with owner._lock:
                    owner._calls[token] = owner._calls.get(token, 0) + 1
                    owner.requests.append((headers, form))
                    mode, delay = owner.mode, owner.delay
                    answer = owner.answers.get(token, {"active": False})
                    secret = owner.secret
                if mode == "close":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if delay:
                    time.sleep(delay)
                if not owner._authorized(headers, form, secret):
                    with owner._lock:
                        owner.bad_credentials += 1
                    return self._send(401, b'{"error":"invalid_client"}')
                if mode == "fail":
                    return self._send(500, b'{"error":"server_error"}')
                if mode == "garbage":
                    return self._send(200, b"<html>surprise</html>")
                self._send(200, json.dumps(answer).encode())

            def _send(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass  # the gateway gave up waiting (timeout tests)

        self.httpd = ThreadingHTTPServer((HOST, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = "http://%s:%d/introspect" % (HOST, self.port)
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def _authorized(self, headers, form, secret):
        auth = headers.get("authorization", "")
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            return (urllib.parse.unquote_plus(user) == self.client_id
                    and urllib.parse.unquote_plus(password) == secret)
        return form.get("client_id") == self.client_id and form.get("client_secret") == secret

    # -- control --------------------------------------------------------------------------
    def activate(self, token, **claims):
        answer = {"active": True}
        answer.update(claims)
        with self._lock:
            self.answers[token] = answer

    def revoke(self, token):
        with self._lock:
            self.answers[token] = {"active": False}

    def set_mode(self, mode, delay=0.0):
        with self._lock:
            self.mode, self.delay = mode, delay

    def set_secret(self, secret):
        with self._lock:
            self.secret = secret

    def calls(self, token=None):
        with self._lock:
            return sum(self._calls.values()) if token is None else self._calls.get(token, 0)

    def wait_calls(self, count, token=None, timeout=5.0):
        return wait_until(lambda: self.calls(token) >= count, timeout * slack(),
                          what="%d introspection call(s)" % count)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
