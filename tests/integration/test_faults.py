"""Fault injection through the real binary (issue 7, part 3): the faults that the other
modules do not cover on every axis. Each test states and checks
  - the answers clients get,
  - that no request is wrongly allowed (missing, forged, expired, unknown-kid and unsecured
    tokens are refused and never reach the upstream),
  - that the process stays up and recovers (for JWKS: within one refresh interval),
  - what the metrics show.
FAULTS.md maps every fault of the issue to the test that covers it (here or elsewhere).
Timings are short on purpose (fetch_timeout 1s, jwks_refresh 1-2s, client_timeout 2s)."""

import os
import select
import socket
import struct
import threading
import time
import unittest

from auth_support import (EcSigner, JwksServer, KeyPair, challenge_description, claims_for,
                          forge, issuer_config, jwks_of, keys_pattern, metric_value, now,
                          refresh_pattern, request, temp_dir, wait_metrics_at_least, wait_ready,
                          write_json_atomic)
from harness import (Gateway, HttpConn, RecordingUpstream, binary_path, closed_port, connect,
                     parse_responses, recv_until_close, respond, respond_raw, slack, wait_until)

ISSUER = "https://issuer.test"
REFRESH = 2.0  # jwks_refresh of the JWKS fault gateways, in seconds
UPSTREAM_ERRORS = r'^portcullis_upstream_errors_total\{[^}]*kind="%s"'
REQUESTS_WITH_CODE = r'^portcullis_requests_total\{[^}]*code="%d"'
REJECTED = r"^portcullis_connections_rejected_total\b"
ACTIVE = r"^portcullis_connections_active\b"
KID_NOT_FOUND = r'^portcullis_auth_failures_total\{[^}]*reason="jwks_kid_not_found"'

_KEYS = {}


def key(name):
    """ES256 test keys made once per run by the real CLI: "good" (in use), "next" (rotated
    in), "stranger" (never published)."""
    if name not in _KEYS:
        _KEYS[name] = KeyPair("ES256")
    return _KEYS[name]


_serial = [0]


def fresh_token(k, **claims):
    """A valid token of key k with a unique sub, so it is never a verified-token cache hit."""
    _serial[0] += 1
    claims.setdefault("sub", "user-%d" % _serial[0])
    return k.mint(claims_for(issuer=ISSUER, **claims))


def bad_tokens(good):
    """Tokens that must never be allowed while `good` is the issuer's key, by name."""
    claims = claims_for(issuer=ISSUER, exp=now() + 600)
    return {
        "forged (right kid, wrong key)": EcSigner(key("stranger")).token(
            {"alg": "ES256", "typ": "JWT", "kid": good.kid}, claims),
        "unknown kid": key("stranger").mint(claims),
        "expired": good.mint(claims_for(issuer=ISSUER, iat=now() - 7200, exp=now() - 3600)),
        "alg none": forge({"alg": "none", "kid": good.kid}, claims),
    }


def require_binary():
    if not os.path.exists(binary_path()):
        raise unittest.SkipTest("portcullis binary not found at %s" % binary_path())


class FaultTestCase(unittest.TestCase):
    def setUp(self):
        require_binary()
        self.upstream = RecordingUpstream()
        self.addCleanup(self.upstream.close)

    def start_gateway(self, config, workers=1, upstream_port=None):
        upstream = None if upstream_port else self.upstream
        gw = Gateway(config, upstream, workers=workers, upstream_port=upstream_port).start()
        self.addCleanup(gw.stop)  # exits 0 on SIGTERM, no sanitizer report: checked there
        return gw

    # -- answers ---------------------------------------------------------------------------
    def assert_allowed(self, gw, tok, what):
        self.upstream.clear()
        resp = request(gw, "/api", tok)
        self.assertEqual(resp.status, 200, "%s: %r" % (what, resp))
        self.assertEqual(self.upstream.last().header_values("Authorization"), ["Bearer " + tok])

    def assert_never_allowed(self, gw, good, keys_loaded=True):
        """No token, forged, unknown-kid, expired and alg-none tokens: refused, never forwarded.
        Without keys the issuer's tokens may get 503 (keys_not_loaded) instead of 401."""
        self.upstream.clear()
        resp = request(gw, "/api", None)
        self.assertEqual(resp.status, 401, resp)
        self.assertEqual(resp.json().get("error"), "missing_token")
        for what, tok in bad_tokens(good).items():
            resp = request(gw, "/api", tok, timeout=10.0)
            allowed = (401,) if keys_loaded else (401, 503)
            self.assertIn(resp.status, allowed, "%s: %r" % (what, resp))
            self.assertIn(resp.json().get("error"), ("invalid_token", "keys_not_loaded"), what)
        self.upstream.assert_nothing()
        gw.assert_alive()

    def assert_keys_not_loaded(self, gw, tok):
        self.upstream.clear()
        t0 = time.monotonic()
        resp = request(gw, "/api", tok)
        self.assertEqual(resp.status, 503, resp)
        self.assertEqual(resp.json().get("error"), "keys_not_loaded")
        self.assertEqual(resp.header("Retry-After"), "5")
        self.assertLess(time.monotonic() - t0, 1.0 * slack(), "a request waited on the fetch")
        self.upstream.assert_nothing()
        self.assertEqual(gw.admin_get("/readyz").status, 503)


# ----------------------------------------------------------------------------------------
# JWKS endpoint faults

class JwksFaultTest(FaultTestCase):
    """One gateway per test with a jwks_uri issuer: jwks_refresh 2s, fetch_timeout 1s,
    jwks_min_refetch 1s, jwks_max_bytes 1MiB."""

    def jwks_gateway(self, srv):
        return self.start_gateway({"issuers": [issuer_config(
            issuer=ISSUER, jwks_uri=srv.jwks_url, jwks_refresh="%ds" % REFRESH,
            fetch_timeout="1s", jwks_min_refetch="1s", jwks_max_bytes="1MiB")]})

    def server(self, *keys, start=True):
        srv = JwksServer(keys=keys, start=start)
        self.addCleanup(srv.close)
        return srv

    def refreshes(self, gw, result):
        return metric_value(gw, refresh_pattern(result))

    def wait_refresh(self, gw, result, at_least, timeout):
        wait_metrics_at_least(gw, {refresh_pattern(result): at_least}, timeout)

    def assert_recovers(self, gw, srv, fix):
        """fix() repairs the server and publishes key "next" next to "good": a successful
        refresh follows within one refresh interval (jitter and a fetch included), after
        which "next"'s tokens are accepted and bad tokens still refused."""
        ok_before = self.refreshes(gw, "success")
        srv.set_keys(key("good"), key("next"))  # served only once fix() has run
        fixed_at = time.monotonic()
        fix()
        self.wait_refresh(gw, "success", ok_before + 1, timeout=REFRESH * 1.1 + 1.0)
        self.assertLess(time.monotonic() - fixed_at, (REFRESH * 1.1 + 1.0) * slack())
        wait_ready(gw)
        self.assert_allowed(gw, fresh_token(key("next")), "key published after the fault")
        self.assert_allowed(gw, fresh_token(key("good")), "key in use before the fault")
        self.assertEqual(metric_value(gw, keys_pattern()), 2)
        self.assert_never_allowed(gw, key("good"))

    # -- at start --------------------------------------------------------------------------
    def fault_at_start(self, breakage, result, fix=lambda srv: srv.set_mode("ok")):
        srv = self.server(key("good"))
        breakage(srv)
        gw = self.jwks_gateway(srv)
        self.wait_refresh(gw, result, 1, timeout=4.0)
        self.assert_keys_not_loaded(gw, fresh_token(key("good")))
        self.assert_never_allowed(gw, key("good"), keys_loaded=False)
        self.assertEqual(self.refreshes(gw, "success"), 0)
        wait_metrics_at_least(gw, {r'^portcullis_auth_failures_total\{[^}]*reason="keys_not_loaded"': 1})
        self.assertEqual(gw.admin_get("/healthz").status, 200)
        self.assert_recovers(gw, srv, lambda: fix(srv))

    def test_jwks_down_at_start(self):
        """JWKS endpoint refuses connections at start: 503 keys_not_loaded at once (valid and
        forged tokens alike; no token 401), /readyz 503 while /healthz 200, nothing forwarded,
        refresh result "error"; once it is up, keys load within one refresh interval (the
        retry backoff never exceeds jwks_refresh)."""
        self.fault_at_start(lambda srv: srv.stop(), "error", lambda srv: srv.start())

    def test_jwks_slow_at_start(self):
        """JWKS endpoint slower than fetch_timeout at start: requests are not held up (503
        keys_not_loaded at once, Retry-After), /readyz 503, nothing is forwarded, refresh
        result "timeout"; once it answers, keys load within one refresh interval."""
        self.fault_at_start(lambda srv: srv.set_mode("hang"), "timeout")

    def test_jwks_garbage_at_start(self):
        """JWKS endpoint returns non-JSON at start: 503 keys_not_loaded, nothing forwarded,
        refresh result "invalid"; recovery within one refresh interval."""
        self.fault_at_start(lambda srv: srv.set_mode("garbage"), "invalid")

    def test_jwks_huge_at_start(self):
        """JWKS endpoint sends 20 MB at start (jwks_max_bytes 1MiB): the fetch is cut,
        503 keys_not_loaded, nothing forwarded, refresh result "too_large"; recovery within
        one refresh interval."""
        self.fault_at_start(lambda srv: srv.set_mode("huge"), "too_large")

    # -- later, with keys loaded ----------------------------------------------------------
    def fault_later(self, breakage, result, fix):
        srv = self.server(key("good"))
        gw = self.jwks_gateway(srv)
        wait_ready(gw)
        self.assert_allowed(gw, fresh_token(key("good")), "before the fault")
        before = self.refreshes(gw, result)
        breakage(srv)
        self.wait_refresh(gw, result, before + 1, timeout=REFRESH * 1.1 + 3.0)
        # The last good keys stay in use; requests do not wait on the failing fetches.
        t0 = time.monotonic()
        self.assert_allowed(gw, fresh_token(key("good")), "during the fault")
        self.assertLess(time.monotonic() - t0, 0.5 * slack())
        self.assert_never_allowed(gw, key("good"))
        self.assertEqual(gw.admin_get("/readyz").status, 200)
        self.assertEqual(metric_value(gw, keys_pattern()), 1)
        wait_metrics_at_least(gw, {KID_NOT_FOUND: 1})
        self.assert_recovers(gw, srv, lambda: fix(srv))

    def test_jwks_down_later(self):
        """JWKS endpoint goes down (connection refused) after keys loaded: valid tokens still
        200 with the last good keys, bad tokens 401 (the unknown-kid refetch fails and does
        not let anything through), /readyz 200, refresh result "error"; when it comes back
        (with a new key) it is fetched within one refresh interval."""
        self.fault_later(lambda srv: srv.stop(), "error", lambda srv: srv.start())

    def test_jwks_slow_later(self):
        """JWKS endpoint stops answering (longer than fetch_timeout) after keys loaded:
        requests are not held up, last good keys used, bad tokens 401, refresh result
        "timeout"; recovery within one refresh interval."""
        self.fault_later(lambda srv: srv.set_mode("hang"), "timeout", lambda srv: srv.set_mode("ok"))

    def test_jwks_garbage_later(self):
        """JWKS endpoint returns garbage after keys loaded: last good keys used, bad tokens
        401, refresh result "invalid", /readyz 200; recovery within one refresh interval."""
        self.fault_later(lambda srv: srv.set_mode("garbage"), "invalid", lambda srv: srv.set_mode("ok"))

    def test_jwks_huge_later(self):
        """JWKS endpoint sends 20 MB after keys loaded: cut at jwks_max_bytes, last good keys
        used, bad tokens 401, refresh result "too_large"; recovery within one refresh
        interval."""
        self.fault_later(lambda srv: srv.set_mode("huge"), "too_large", lambda srv: srv.set_mode("ok"))

    def test_jwks_without_the_kid_in_use(self):
        """The key set stops holding the kid in use (a botched rotation): within one refresh
        interval every token of that kid, cached ones included, is 401 "unknown signing key"
        and never forwarded; metrics show jwks_kid_not_found and 1 key. When the kid comes
        back, its tokens are accepted again within one refresh interval."""
        srv = self.server(key("good"), key("next"))
        gw = self.jwks_gateway(srv)
        wait_ready(gw)
        wait_metrics_at_least(gw, {keys_pattern(): 2})
        cached = fresh_token(key("good"))
        self.assert_allowed(gw, cached, "before")
        self.assert_allowed(gw, cached, "cached")
        srv.set_keys(key("next"))
        dropped_at = time.monotonic()
        wait_until(lambda: request(gw, "/api", cached).status == 401, (REFRESH * 1.1 + 1.0) * slack(),
                   interval=0.1, what="the dropped kid's cached token to be refused")
        self.assertLess(time.monotonic() - dropped_at, (REFRESH * 1.1 + 1.0) * slack())
        self.upstream.clear()
        for what, tok in (("cached", cached), ("fresh", fresh_token(key("good")))):
            resp = request(gw, "/api", tok)
            self.assertEqual(resp.status, 401, "%s: %r" % (what, resp))
            self.assertEqual(challenge_description(resp), "unknown signing key", what)
        self.upstream.assert_nothing()
        self.assert_never_allowed(gw, key("next"))
        self.assert_allowed(gw, fresh_token(key("next")), "the key still published")
        self.assertEqual(gw.admin_get("/readyz").status, 200)
        wait_metrics_at_least(gw, {KID_NOT_FOUND: 2})
        self.assertEqual(metric_value(gw, keys_pattern()), 1)
        srv.set_keys(key("good"), key("next"))
        restored_at = time.monotonic()
        wait_until(lambda: request(gw, "/api", fresh_token(key("good"))).status == 200,
                   (REFRESH * 1.1 + 1.0) * slack(), interval=0.2, what="the restored kid")
        self.assertLess(time.monotonic() - restored_at, (REFRESH * 1.1 + 1.0) * slack())
        wait_metrics_at_least(gw, {keys_pattern(): 2})


# ----------------------------------------------------------------------------------------
# Upstream faults (with token checks in front)

class TokenGatewayCase(FaultTestCase):
    """self.config: a jwks_file issuer holding key "good" in front of the upstream; upstream
    timeout and connect_timeout 1s, client_timeout 2s (times slack() under sanitizers or
    valgrind, where a 1s upstream timeout can expire on a head that was sent at once)."""

    UPSTREAM_TIMEOUT = 1.0
    CLIENT_TIMEOUT = 2.0

    def setUp(self):
        super().setUp()
        path = os.path.join(temp_dir(), "jwks.json")
        write_json_atomic(path, jwks_of(key("good")))
        self.upstream_timeout = self.UPSTREAM_TIMEOUT * slack()
        self.client_timeout = self.CLIENT_TIMEOUT * slack()
        self.config = {"issuers": [issuer_config(issuer=ISSUER, jwks_file=path)],
                       "upstreams": {"default": {"timeout": "%dms" % (1000 * self.upstream_timeout),
                                                 "connect_timeout": "1s"}},
                       "limits": {"client_timeout": "%dms" % (1000 * self.client_timeout)}}


class UpstreamFaultTest(TokenGatewayCase):

    def assert_unavailable(self, resp, status):
        self.assertEqual(resp.status, status, resp)
        self.assertEqual(resp.json().get("error"), "upstream_unavailable")
        self.assertEqual(resp.json().get("request_id"), resp.header("X-Request-Id"))

    def assert_refusals_first(self, gw, conn):
        """On a keep-alive connection that just saw an upstream failure: a request without
        a token is 401 (the token check comes before the upstream, nothing is carried over
        from the failed exchange), and bad tokens are refused on fresh connections."""
        resp = conn.request("GET", "/api", [("Host", conn.host)])
        self.assertEqual(resp.status, 401, resp)
        self.assert_never_allowed(gw, key("good"))

    def test_upstream_refusing_then_back(self):
        """Upstream refuses connections: a valid token gets 502 upstream_unavailable, the
        client connection stays usable, refused tokens are still 401 (not 502); metrics
        show connect_failed and code 502. When the upstream comes up, the next request
        is forwarded (no restart, no stale state)."""
        port = closed_port()
        gw = self.start_gateway(self.config, upstream_port=port)
        with HttpConn(gw.port, 5 * slack()) as c:
            tok = fresh_token(key("good"))
            resp = c.request("GET", "/api", [("Host", c.host), ("Authorization", "Bearer " + tok)])
            self.assert_unavailable(resp, 502)
            self.assert_refusals_first(gw, c)
        gw.wait_metric(UPSTREAM_ERRORS % "connect_failed")
        gw.wait_metric(REQUESTS_WITH_CODE % 502)
        late = RecordingUpstream(port=port)
        self.addCleanup(late.close)
        self.upstream = late
        self.assert_allowed(gw, fresh_token(key("good")), "upstream back")
        self.assert_never_allowed(gw, key("good"))

    def test_upstream_reset_mid_response(self):
        """Upstream sends a head and part of the body, then resets: the client never gets
        a short body presented as complete (its connection ends), metrics show kind="reset",
        refused tokens stay 401, and the next request is served on a new upstream
        connection."""
        gw = self.start_gateway(self.config)

        def reset_mid_body(req, conn):
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
            time.sleep(0.1)
            conn.reset()
        self.upstream.set_behaviour(reset_mid_body)
        tok = fresh_token(key("good"))
        sock = connect(gw.port, 5 * slack())
        try:
            sock.sendall(("GET /api HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer %s\r\n\r\n"
                          % tok).encode())
            data, closed = recv_until_close(sock, 5 * slack())
        finally:
            sock.close()
        self.assertTrue(closed, "client connection kept after the upstream reset")
        self.assertEqual(parse_responses(data)[0], [], "a truncated body was delivered as complete")
        self.assertIn(b"HTTP/1.1 200", data[:12])
        gw.wait_metric(UPSTREAM_ERRORS % "reset")
        self.upstream.set_behaviour(respond())
        conns_before = self.upstream.connections
        self.assert_allowed(gw, fresh_token(key("good")), "after the reset")
        self.assertEqual(self.upstream.connections, conns_before + 1, "reset connection reused")
        self.assert_never_allowed(gw, key("good"))

    def test_upstream_hanging(self):
        """Upstream accepts the request and never answers: 504 upstream_unavailable after
        upstreams.timeout (1s), the hung upstream connection is closed (not pooled), refused
        tokens get 401 at once even while it hangs; metrics show kind="timeout" and code 504;
        the next request is served once the upstream answers again."""
        gw = self.start_gateway(self.config)
        hung_closed = []

        def hang_until_gateway_closes(req, conn):
            hung_closed.append(conn.wait_peer_close(10 * slack()))
            conn.close()
        self.upstream.set_behaviour(hang_until_gateway_closes)
        results = {}

        def hung():
            t0 = time.monotonic()
            results["resp"] = request(gw, "/api", fresh_token(key("good")), timeout=10.0)
            results["elapsed"] = time.monotonic() - t0
        t = threading.Thread(target=hung)
        t.start()
        self.upstream.wait_requests(1)
        t0 = time.monotonic()
        resp = request(gw, "/api", None)
        self.assertEqual(resp.status, 401)
        self.assertLess(time.monotonic() - t0, 0.5 * slack())
        t.join(10 * slack())
        self.assert_unavailable(results["resp"], 504)
        self.assertGreater(results["elapsed"], self.upstream_timeout - 0.2)
        self.assertLess(results["elapsed"], self.upstream_timeout + 2.0 * slack())
        wait_until(lambda: hung_closed, 3 * slack(), what="the hung upstream connection's fate")
        self.assertEqual(hung_closed, [True], "hung upstream connection kept open")
        gw.wait_metric(UPSTREAM_ERRORS % "timeout")
        gw.wait_metric(REQUESTS_WITH_CODE % 504)
        self.upstream.set_behaviour(respond())
        self.assert_never_allowed(gw, key("good"))
        self.assert_allowed(gw, fresh_token(key("good")), "after the hang")

    def test_upstream_malformed_framing(self):
        """Upstream answers with conflicting or broken framing (Content-Length with
        Transfer-Encoding, two Content-Lengths, a bad chunk size): 502 (or, once the head went
        out, the client connection ends without a complete response), the upstream connection
        is closed, metrics show kind="malformed", refused tokens stay 401 on the same client
        connection, and the next request is served."""
        gw = self.start_gateway(self.config)
        bad = {
            "cl_and_te": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "two_content_lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                                   b"Content-Length: 6\r\n\r\nhello!",
        }
        for name, data in bad.items():
            with self.subTest(name):
                self.upstream.clear()
                self.upstream.set_behaviour(respond_raw(data, wait_close=3 * slack()))
                with HttpConn(gw.port, 5 * slack()) as c:
                    resp = c.request("GET", "/" + name, [("Host", c.host),
                                     ("Authorization", "Bearer " + fresh_token(key("good")))])
                    self.assert_unavailable(resp, 502)
                    self.upstream.set_behaviour(respond())
                    self.upstream.clear()
                    self.assert_refusals_first(gw, c)
        gw.wait_metric(UPSTREAM_ERRORS % "malformed", lambda v: v >= len(bad))
        # A broken chunk after the head has gone out: the client connection just ends.
        self.upstream.set_behaviour(respond_raw(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n",
            wait_close=3 * slack()))
        sock = connect(gw.port, 5 * slack())
        try:
            sock.sendall(("GET /bad-chunk HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer %s\r\n\r\n"
                          % fresh_token(key("good"))).encode())
            data, closed = recv_until_close(sock, 5 * slack())
        finally:
            sock.close()
        self.assertTrue(closed)
        self.assertEqual(parse_responses(data)[0], [])
        outcomes = wait_until(lambda: [c for (_, c, t) in self.upstream.peer_closed],
                              4 * slack(), what="upstream connection outcomes")
        self.assertTrue(all(outcomes), "upstream connection kept after malformed framing")
        self.upstream.set_behaviour(respond())
        self.assert_allowed(gw, fresh_token(key("good")), "after malformed answers")


# ----------------------------------------------------------------------------------------
# Client faults

class ClientFaultTest(TokenGatewayCase):
    def test_slowloris_many_connections(self):
        """40 clients drip their request heads a byte at a time (client_timeout 2s): each is
        cut within client_timeout (408 or a silent close), none reaches the upstream, and
        meanwhile other clients are served at once; metrics show code 408 and
        connections_active drops back."""
        gw = self.start_gateway(self.config)
        head = b"GET /slow HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " + b"a" * 300
        socks = [connect(gw.port, 10) for _ in range(40)]
        received = [bytearray() for _ in socks]
        closed_after = {}
        started = time.monotonic()
        try:
            i = 0
            while len(closed_after) < len(socks) and time.monotonic() - started < self.client_timeout + 2.0 * slack():
                now_s = time.monotonic() - started
                for n, s in enumerate(socks):
                    if n in closed_after:
                        continue
                    try:
                        s.sendall(head[i:i + 1])
                    except OSError:
                        closed_after[n] = now_s
                open_socks = [s for n, s in enumerate(socks) if n not in closed_after]
                readable, _, _ = select.select(open_socks, [], [], 0.1)
                for s in readable:
                    n = socks.index(s)
                    try:
                        data = s.recv(65536)
                    except OSError:
                        data = b""
                    if data:
                        received[n] += data
                    else:
                        closed_after[n] = time.monotonic() - started
                i = min(i + 1, len(head) - 1)
                if i % 8 == 0:
                    self.assertNotIn("/slow", [r.target for r in self.upstream.requests()])
                    t0 = time.monotonic()
                    self.assert_allowed(gw, fresh_token(key("good")), "during the slowloris")
                    self.assertLess(time.monotonic() - t0, 0.5 * slack())
            self.assertEqual(len(closed_after), len(socks),
                             "slowloris connections still open after %.1fs"
                             % (time.monotonic() - started))
            self.assertGreater(min(closed_after.values()), self.client_timeout - 0.5,
                               "cut before client_timeout")
        finally:
            for s in socks:
                s.close()
        for data in received:
            if data:
                self.assertEqual(parse_responses(bytes(data))[0][0].status, 408, data)
        self.assertEqual([r.target for r in self.upstream.requests() if r.target == "/slow"], [])
        gw.wait_metric(REQUESTS_WITH_CODE % 408, lambda v: v >= 1)
        gw.wait_metric(ACTIVE, lambda v: v <= 1)
        self.assert_never_allowed(gw, key("good"))

    def test_slow_body_stalls(self):
        """An authorized client sends its head and part of a Content-Length body, then
        stalls: after client_timeout it gets 408, the upstream never sees a complete request
        and its connection is closed; a client without a token is refused (401) before any
        body is read. The gateway serves the next request. (The upstream timeout is set
        above client_timeout here: it is the client that stalls.)"""
        config = dict(self.config, upstreams={"default": {
            "timeout": "%dms" % (3000 * self.client_timeout)}})
        gw = self.start_gateway(config)
        sock = connect(gw.port, 10)
        try:
            sock.sendall(("POST /stall HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer %s\r\n"
                          "Content-Length: 1000\r\n\r\n" % fresh_token(key("good"))).encode()
                         + b"0123456789")
            t0 = time.monotonic()
            data, closed = recv_until_close(sock, self.client_timeout + 3.0 * slack())
            elapsed = time.monotonic() - t0
        finally:
            sock.close()
        self.assertTrue(closed)
        self.assertEqual(parse_responses(data)[0][0].status, 408, data)
        self.assertGreater(elapsed, self.client_timeout - 0.5)
        self.assertEqual(self.upstream.complete_requests(), [])
        wait_until(lambda: self.upstream.open_connections == 0, 3 * slack(),
                   what="the upstream connection of the stalled body to close")
        self.upstream.clear()
        sock = connect(gw.port, 5)
        try:
            sock.sendall(b"POST /stall HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n0123")
            data, _ = recv_until_close(sock, 1.5 * slack())
        finally:
            sock.close()
        self.assertEqual(parse_responses(data)[0][0].status, 401, data)
        self.upstream.assert_nothing()
        gw.wait_metric(REQUESTS_WITH_CODE % 408)
        self.assert_allowed(gw, fresh_token(key("good")), "after the stall")

    def test_client_disconnects_mid_body(self):
        """Authorized clients vanish mid-body (FIN and RST, Content-Length and chunked,
        1 MB announced, 64 KiB sent): the upstream never sees a complete request and its
        connection is closed, connections_active drops back to 0, and the next request is
        served."""
        gw = self.start_gateway(self.config)
        cases = [("cl-fin", False, False), ("cl-rst", False, True),
                 ("chunked-fin", True, False), ("chunked-rst", True, True)]
        for name, chunked, rst in cases:
            with self.subTest(name):
                self.upstream.clear()
                head = "POST /%s HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer %s\r\n" % (
                    name, fresh_token(key("good")))
                if chunked:
                    data = (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + \
                        b"10000\r\n" + b"b" * 0x10000 + b"\r\n" + b"10000\r\n" + b"b" * 100
                else:
                    data = (head + "Content-Length: 1000000\r\n\r\n").encode() + b"b" * 65536
                sock = connect(gw.port, 5)
                sock.sendall(data)
                self.upstream.wait_requests(1, complete=False)
                if rst:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
                wait_until(lambda: self.upstream.open_connections == 0, 3 * slack(),
                           what="the upstream connection to close")
                self.assertEqual(self.upstream.complete_requests(), [])
        gw.wait_metric(ACTIVE, lambda v: v == 0)
        self.assert_never_allowed(gw, key("good"))
        self.assert_allowed(gw, fresh_token(key("good")), "after the disconnects")

    def test_max_connections_plus_100(self):
        """max_connections (20) + 100 clients on 2 workers: the 20 held connections keep
        being served, every one of the 100 extra is closed at once without an answer, the
        admin port still answers, portcullis_connections_rejected_total counts the 100;
        once the held connections go away, new clients are served and connections_active
        is back to 0. Refused tokens stay 401 on the held connections."""
        config = dict(self.config, limits={"client_timeout": "10s", "max_connections": 20})
        gw = self.start_gateway(config, workers=2)
        held = []
        extra = []
        held_token, again_token = fresh_token(key("good")), fresh_token(key("good"))
        try:
            for i in range(20):
                c = HttpConn(gw.port, 5 * slack())
                held.append(c)
                resp = c.request("GET", "/held", [("Host", c.host), ("Authorization",
                                 "Bearer " + held_token)])
                self.assertEqual(resp.status, 200, "held connection %d: %r" % (i, resp))
            for _ in range(100):
                try:
                    extra.append(connect(gw.port, 5 * slack()))
                except OSError:
                    extra.append(None)  # refused outright is also a refusal
            t0 = time.monotonic()
            for s in extra:
                if s is None:
                    continue
                data, closed = recv_until_close(s, max(0.1, 2 * slack() - (time.monotonic() - t0)))
                self.assertTrue(closed, "a connection over max_connections was kept open")
                self.assertEqual(data, b"")
            self.assertEqual(gw.admin_get("/healthz").status, 200)
            gw.wait_metric(REJECTED, lambda v: v >= 100)
            for c in held:
                self.assertEqual(c.request("GET", "/held", [("Host", c.host)]).status, 401)
            self.upstream.clear()
            for c in held:
                resp = c.request("GET", "/again", [("Host", c.host),
                                                   ("Authorization", "Bearer " + again_token)])
                self.assertEqual(resp.status, 200)
            self.assertEqual(len(self.upstream.requests()), 20)
        finally:
            for c in held:
                c.close()
            for s in extra:
                if s is not None:
                    s.close()
        gw.wait_metric(ACTIVE, lambda v: v == 0)
        self.assert_allowed(gw, fresh_token(key("good")), "after the flood")
        self.assert_never_allowed(gw, key("good"))


if __name__ == "__main__":
    unittest.main()
