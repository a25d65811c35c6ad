"""Token and key-server helpers for the authentication integration tests (stdlib only).

Pieces:
  KeyPair        a key made by the real CLI (`keys generate`), tokens minted with `token mint`
  EcSigner       pure-Python ES256 signing with a KeyPair's P-256 key, for tokens whose bytes
                 the CLI would not write (duplicate members, odd kids, ...)
  forge / b64u   building blocks for hand-made (forged) tokens
  JwksServer     a threaded HTTP server on 127.0.0.1 serving an OIDC discovery document and a
                 JWKS that tests change at runtime; counts requests per path and can fail,
                 hang, send garbage, send a huge body, close the connection
  metric helpers auth failure reasons, JWKS refresh results, token cache counts
"""

import atexit
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import HOST, HttpConn, binary_path, closed_port, metric_sum, slack, wait_until

# ----------------------------------------------------------------------------------------
# base64url and token pieces

def b64u(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text):
    text = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text.encode("ascii"))


def compact_json(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def split_token(token):
    """(header dict, payload dict, signature bytes, [segments])."""
    parts = token.split(".")
    return (json.loads(b64u_decode(parts[0])), json.loads(b64u_decode(parts[1])),
            b64u_decode(parts[2]), parts)


def forge(header, payload, signature=b""):
    """A compact token from a header and payload (dicts, or raw JSON bytes) and raw signature."""
    h = header if isinstance(header, (bytes, str)) else compact_json(header)
    p = payload if isinstance(payload, (bytes, str)) else compact_json(payload)
    return "%s.%s.%s" % (b64u(h), b64u(p), b64u(signature))


def hs256(header, payload, secret):
    """An HS256 token over header/payload (dicts or raw JSON bytes) with `secret` as the key."""
    h = header if isinstance(header, (bytes, str)) else compact_json(header)
    p = payload if isinstance(payload, (bytes, str)) else compact_json(payload)
    signing_input = ("%s.%s" % (b64u(h), b64u(p))).encode("ascii")
    return signing_input.decode() + "." + b64u(hmac.new(secret, signing_input, hashlib.sha256).digest())


def der_ecdsa(raw_sig):
    """Converts a JWS ECDSA signature (R||S) to ASN.1 DER, the form JWS forbids."""
    half = len(raw_sig) // 2

    def der_int(b):
        b = b.lstrip(b"\x00") or b"\x00"
        if b[0] & 0x80:
            b = b"\x00" + b
        return b"\x02" + bytes([len(b)]) + b
    body = der_int(raw_sig[:half]) + der_int(raw_sig[half:])
    return b"\x30" + bytes([len(body)]) + body


def now():
    return int(time.time())


# ----------------------------------------------------------------------------------------
# Keys from the real CLI

_TMP_DIRS = []


def _cleanup_tmp():
    for d in _TMP_DIRS:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup_tmp)


def temp_dir(prefix="portcullis-auth-"):
    d = tempfile.mkdtemp(prefix=prefix)
    _TMP_DIRS.append(d)
    return d


def run_cli(args, timeout=30):
    proc = subprocess.run([binary_path()] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout * slack())
    if proc.returncode != 0:
        raise AssertionError("portcullis %s exited %d: %s" % (" ".join(args), proc.returncode,
                                                              proc.stderr.decode(errors="replace")))
    return proc.stdout.decode().strip()


class KeyPair:
    """`portcullis keys generate --alg ALG` in a fresh directory."""

    def __init__(self, alg="ES256", kid=None):
        self.alg = alg
        self.dir = temp_dir("portcullis-key-")
        args = ["keys", "generate", "--alg", alg, "--out", self.dir, "--force"]
        if kid:
            args += ["--kid", kid]
        run_cli(args)
        self.private = os.path.join(self.dir, "private.pem")
        with open(os.path.join(self.dir, "public.pem"), "rb") as f:
            self.public_pem = f.read()
        with open(os.path.join(self.dir, "jwks.json")) as f:
            self.jwks = json.load(f)
        self.jwk = self.jwks["keys"][0]
        self.kid = self.jwk.get("kid")

    def mint(self, claims, ttl=None, alg=None, kid=None, header=None):
        """A token signed by this key with the real CLI (iat/exp added unless given)."""
        args = ["token", "mint", "--key", self.private, "--claims", json.dumps(claims)]
        if ttl is not None:
            args += ["--ttl", str(ttl)]
        if alg:
            args += ["--alg", alg]
        if kid:
            args += ["--kid", kid]
        if header is not None:
            args += ["--header", json.dumps(header)]
        return run_cli(args)

    def __repr__(self):
        return "<KeyPair %s kid=%s>" % (self.alg, self.kid)


def jwks_of(*keys):
    """A JWKS document (dict) holding the public JWKs of these KeyPairs."""
    return {"keys": [k.jwk for k in keys]}


def write_json_atomic(path, obj):
    """Replaces a file atomically (new inode), as a deploy tool would."""
    tmp = path + ".tmp%d" % secrets.randbits(32)
    with open(tmp, "w") as f:
        f.write(json.dumps(obj) if not isinstance(obj, (bytes, str)) else
                (obj.decode() if isinstance(obj, bytes) else obj))
    os.replace(tmp, path)


# ----------------------------------------------------------------------------------------
# Pure-Python ES256 (P-256) signing, so any header/payload bytes can carry a real signature

_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff
_A = _P - 3
_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
_G = (0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
      0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5)


def _ec_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % _P == 0:
        return None
    if p1 == p2:
        lam = (3 * x1 * x1 + _A) * pow(2 * y1, -1, _P) % _P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, _P) % _P
    x3 = (lam * lam - x1 - x2) % _P
    return (x3, (lam * (x1 - x3) - y1) % _P)


def _ec_mul(k, point):
    out = None
    while k:
        if k & 1:
            out = _ec_add(out, point)
        point = _ec_add(point, point)
        k >>= 1
    return out


class EcSigner:
    """Signs arbitrary header/payload bytes with an ES256 KeyPair's private key."""

    def __init__(self, keypair):
        if keypair.alg != "ES256":
            raise ValueError("EcSigner needs an ES256 key")
        with open(keypair.private) as f:
            body = "".join(line for line in f.read().splitlines() if "-----" not in line)
        der = base64.b64decode(body)
        at = der.find(b"\x02\x01\x01\x04\x20")  # ECPrivateKey: version 1, OCTET STRING(32)
        if at < 0:
            raise ValueError("no P-256 private scalar in %s" % keypair.private)
        self.d = int.from_bytes(der[at + 5:at + 37], "big")
        x, y = _ec_mul(self.d, _G)
        want = (int.from_bytes(b64u_decode(keypair.jwk["x"]), "big"),
                int.from_bytes(b64u_decode(keypair.jwk["y"]), "big"))
        if (x, y) != want:
            raise ValueError("private scalar does not match the JWK")
        self.kid = keypair.kid

    def sign_input(self, signing_input):
        z = int.from_bytes(hashlib.sha256(signing_input).digest(), "big")
        while True:
            k = secrets.randbelow(_N - 1) + 1
            r = _ec_mul(k, _G)[0] % _N
            s = pow(k, -1, _N) * (z + r * self.d) % _N
            if r and s:
                return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def token(self, header, payload):
        """header/payload: dicts or raw JSON bytes/str (exactly what gets encoded)."""
        h = header if isinstance(header, (bytes, str)) else compact_json(header)
        p = payload if isinstance(payload, (bytes, str)) else compact_json(payload)
        signing_input = ("%s.%s" % (b64u(h), b64u(p))).encode("ascii")
        return signing_input.decode() + "." + b64u(self.sign_input(signing_input))


# ----------------------------------------------------------------------------------------
# A JWKS / OIDC discovery server

class JwksServer:
    """Threaded HTTP server on 127.0.0.1 (port 0, or a given port) serving
         /.well-known/openid-configuration  -> {"issuer": self.issuer, "jwks_uri": self.jwks_url}
         /jwks.json                         -> the current JWKS
       and anything set with set_document(path, ...). Counts requests per path.

    mode (set_mode, optionally for one path only): "ok", "fail" (500), "hang" (no answer
    until released or closed), "garbage" (200 with non-JSON), "huge" (200 with 20 MB),
    "close" (connection closed without an answer).
    start=False reserves a port but does not listen yet (a server that is down); start()
    brings it up on that same port; stop() takes it down again (connection refused).
    tls=(cert_file, key_file) serves HTTPS with that certificate (urls become https://); a
    client that refuses the certificate never gets as far as a counted request.
    """

    JWKS_PATH = "/jwks.json"
    DISCOVERY_PATH = "/.well-known/openid-configuration"
    HUGE_BYTES = 20 * 1024 * 1024

    def __init__(self, keys=(), start=True, port=None, tls=None):
        self.port = port or closed_port()
        self.tls = tls
        self.url = "%s://%s:%d" % ("https" if tls else "http", HOST, self.port)
        self.issuer = self.url
        self.jwks_url = self.url + self.JWKS_PATH
        self._lock = threading.Lock()
        self._counts = {}
        self._log = []  # (monotonic time, path)
        self._modes = {}  # path or None -> mode
        self._release = threading.Event()
        self._docs = {}
        self.set_jwks(jwks_of(*keys))
        self.set_discovery({"issuer": self.issuer, "jwks_uri": self.jwks_url})
        self.server = None
        self._thread = None
        if start:
            self.start()

    # -- content -------------------------------------------------------------------------
    def set_document(self, path, obj, content_type="application/json"):
        body = obj if isinstance(obj, bytes) else (obj.encode() if isinstance(obj, str)
                                                   else json.dumps(obj).encode())
        with self._lock:
            self._docs[path] = (body, content_type)

    def set_jwks(self, obj):
        self.set_document(self.JWKS_PATH, obj)

    def set_keys(self, *keys):
        self.set_jwks(jwks_of(*keys))

    def jwks(self):
        with self._lock:
            return json.loads(self._docs[self.JWKS_PATH][0])

    def add_key(self, keypair):
        doc = self.jwks()
        doc["keys"].append(keypair.jwk)
        self.set_jwks(doc)

    def drop_kid(self, kid):
        doc = self.jwks()
        doc["keys"] = [k for k in doc["keys"] if k.get("kid") != kid]
        self.set_jwks(doc)

    def set_discovery(self, obj):
        self.set_document(self.DISCOVERY_PATH, obj)

    def set_mode(self, mode, path=None):
        """mode for every path (path=None) or for one path; "ok" restores normal answers."""
        assert mode in ("ok", "fail", "hang", "garbage", "huge", "close"), mode
        with self._lock:
            if path is None:
                self._modes = {}
            self._modes[path] = mode
            if mode != "hang":
                self._release.set()
                self._release = threading.Event()

    def _mode_for(self, path):
        with self._lock:
            return self._modes.get(path, self._modes.get(None, "ok"))

    # -- observation ---------------------------------------------------------------------
    def hits(self, path=None):
        with self._lock:
            if path is None:
                return sum(self._counts.values())
            return self._counts.get(path, 0)

    def jwks_hits(self):
        return self.hits(self.JWKS_PATH)

    def discovery_hits(self):
        return self.hits(self.DISCOVERY_PATH)

    def request_log(self):
        with self._lock:
            return list(self._log)

    def wait_hits(self, count, path=None, timeout=5.0):
        """Waits until `path` (or any path) was requested at least `count` times in total."""
        return wait_until(lambda: self.hits(path) >= count, timeout * slack(),
                          what="%d request(s) to %s (have %d)" % (count, path or "the key server",
                                                                 self.hits(path)))

    # -- lifecycle -----------------------------------------------------------------------
    def start(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: stop() really stops

            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                with owner._lock:
                    owner._counts[path] = owner._counts.get(path, 0) + 1
                    owner._log.append((time.monotonic(), path))
                    release = owner._release
                mode = owner._mode_for(path)
                try:
                    owner._answer(self, path, mode, release)
                except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
                    self.close_connection = True

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server((HOST, self.port), Handler)
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            # The handshake runs in accept(); a failed one (the client refused our certificate)
            # is an OSError there, which socketserver drops.
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def _answer(self, handler, path, mode, release):
        if mode == "hang":
            release.wait(60)
            handler.close_connection = True
            return
        if mode == "close":
            handler.close_connection = True
            return
        if mode == "fail":
            self._send(handler, 500, b'{"error":"boom"}', "application/json")
            return
        if mode == "garbage":
            self._send(handler, 200, b"\x00\xffthis is {not json at all", "application/json")
            return
        if mode == "huge":
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(self.HUGE_BYTES))
            handler.end_headers()
            block = b'{"keys":[' + b" " * 65527
            sent = 0
            while sent < self.HUGE_BYTES:
                piece = block[:min(len(block), self.HUGE_BYTES - sent)]
                handler.wfile.write(piece)
                sent += len(piece)
            handler.close_connection = True
            return
        with self._lock:
            doc = self._docs.get(path)
        if doc is None:
            self._send(handler, 404, b'{"error":"not found"}', "application/json")
        else:
            self._send(handler, 200, doc[0], doc[1])

    @staticmethod
    def _send(handler, status, body, content_type):
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def stop(self):
        """Stops listening (connection refused from now on); hanging answers are released."""
        if self.server is None:
            return
        with self._lock:
            self._release.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)
        self.server = None

    close = stop

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


# ----------------------------------------------------------------------------------------
# Gateway config pieces

def issuer_config(name="main", issuer="https://issuer.test", audiences=("api",),
                  algorithms=("ES256",), **extra):
    """One entry of `issuers:`; extra keys (jwks_file, jwks_uri, discovery, leeway...) as given."""
    cfg = {"name": name, "issuer": issuer, "audiences": list(audiences),
           "algorithms": list(algorithms)}
    cfg.update(extra)
    return cfg


def claims_for(issuer="https://issuer.test", aud="api", sub="user-1", **extra):
    out = {"iss": issuer, "aud": aud, "sub": sub}
    out.update(extra)
    return out


# ----------------------------------------------------------------------------------------
# Answers and metrics

_CHALLENGE = re.compile(r'^Bearer realm="portcullis", error="invalid_token", error_description="([^"]*)"$')


def challenge_description(resp):
    """error_description of an invalid_token WWW-Authenticate, or None."""
    values = resp.header_values("WWW-Authenticate")
    if len(values) != 1:
        return None
    m = _CHALLENGE.match(values[0])
    return m.group(1) if m else None


def auth_failure_pattern(reason, issuer=None):
    label = r'reason="%s"' % re.escape(reason)
    if issuer is not None:
        return r'^portcullis_auth_failures_total\{(?=[^}]*issuer="%s")(?=[^}]*%s)' % (re.escape(issuer), label)
    return r'^portcullis_auth_failures_total\{[^}]*%s' % label


def refresh_pattern(result, issuer="main"):
    return (r'^portcullis_jwks_refresh_total\{(?=[^}]*issuer="%s")(?=[^}]*result="%s")'
            % (re.escape(issuer), re.escape(result)))


def keys_pattern(issuer="main"):
    return r'^portcullis_jwks_keys\{[^}]*issuer="%s"' % re.escape(issuer)


CACHE_HIT = r'^portcullis_token_cache_total\{[^}]*result="hit"'
CACHE_MISS = r'^portcullis_token_cache_total\{[^}]*result="miss"'


def metric_value(gw, pattern):
    return metric_sum(gw.metrics(), re.compile(pattern)) or 0.0


def metric_values(gw, patterns):
    text = gw.metrics()
    return {p: metric_sum(text, re.compile(p)) or 0.0 for p in patterns}


def wait_metrics_at_least(gw, minimums, timeout=5.0):
    """Polls /metrics until every pattern's sum is >= its minimum ({pattern: minimum})."""
    last = {}

    def check():
        last.update(metric_values(gw, minimums))
        return all(last[p] >= v for p, v in minimums.items())
    try:
        wait_until(check, timeout * slack(), interval=0.1, what="metrics")
    except AssertionError:
        missing = {p: (last.get(p), v) for p, v in minimums.items() if last.get(p, 0) < v}
        raise AssertionError("metrics never reached their minimums (pattern: (have, want)): %r\n%s"
                             % (missing, gw.metrics()))
    return last


def wait_ready(gw, want=200, timeout=5.0):
    def check():
        return gw.admin_get("/readyz").status == want
    wait_until(check, timeout * slack(), interval=0.05, what="/readyz %d" % want)


def request(gw, path="/", token=None, headers=(), scheme="Bearer", method="GET", timeout=5.0):
    """One request on a fresh connection to the gateway's public port; returns the Response."""
    hs = [("Host", "%s:%d" % (HOST, gw.port))]
    if token is not None:
        hs.append(("Authorization", "%s %s" % (scheme, token)))
    hs += list(headers)
    with HttpConn(gw.port, timeout * slack()) as c:
        return c.request(method, path, hs)
