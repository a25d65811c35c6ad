"""RFC 7662 introspection through the real binary, against a test introspection server on
127.0.0.1: opaque tokens allowed or refused by scope, `always` and `periodic` modes (a revoked
token refused within one interval), one call for 100 concurrent requests with one new token,
the endpoint down / slow / garbage with each on_error, client secret rotation via the file,
and start-up without a secret."""

import hashlib
import os
import re
import socket
import threading
import time
import unittest

from auth_support import (EcSigner, JwksServer, wait_metrics_at_least, KeyPair, challenge_description, claims_for, issuer_config, jwks_of,
                          metric_value, now, request, temp_dir, write_json_atomic)
from harness import (BufferedSocket, Gateway, RecordingUpstream, binary_path, build_request, closed_port, cpu_seconds,
                     read_head, slack, wait_until)
from introspection_support import IntrospectionServer
from tls_support import CertFactory, client_context, tls_connect

ISSUER = "https://idp.test"
POLICY = """\
routes:
  - name: public
    match: {path_prefix: /public}
    auth: none
  - name: orders
    match: {path_prefix: /orders}
    require:
      scopes: {all_of: ["orders:read"]}
  - name: any
    match: {path_prefix: /}
default: deny
"""


def introspection_metric(result, issuer="main"):
    return (r'^portcullis_introspection_total\{(?=[^}]*issuer="%s")(?=[^}]*result="%s")'
            % (issuer, result))


def flood(port, conns, per_conn, prefix):
    """`conns` connections, each sending `per_conn` pipelined GETs with distinct bearer tokens
    (a connection's requests are handled one after another, so `conns` are in play at once)."""
    socks = []
    for c in range(conns):
        sock = socket.create_connection(("127.0.0.1", port), timeout=30 * slack())
        socks.append(sock)
        sock.sendall(b"".join(build_request("GET", "/x", [("Host", "gw"), ("Authorization", "Bearer %s-%d-%d" % (prefix, c, i))])
                              for i in range(per_conn)))
    return socks


def read_statuses(socks, per_conn, timeout):
    """Reads `per_conn` responses from each socket (bodies are small); {status: count}."""
    deadline = time.monotonic() + timeout
    counts = {}
    for sock in socks:
        seen = b""
        while seen.count(b"HTTP/1.1 ") < per_conn and time.monotonic() < deadline:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            data = sock.recv(1 << 20)
            if not data:
                break
            seen += data
        sock.close()
        for m in re.finditer(rb"HTTP/1\.1 (\d{3}) ", seen):  # a body may end without CRLF
            counts[int(m.group(1))] = counts.get(int(m.group(1)), 0) + 1
    return counts


class Setup:
    """A key (jwks_file), a secret file, a policy file, an introspection server and a
    recording upstream; gateways are started per test with the introspection block given."""

    def __init__(self):
        self.key = KeyPair("ES256")
        self.dir = temp_dir()
        self.jwks = os.path.join(self.dir, "jwks.json")
        write_json_atomic(self.jwks, jwks_of(self.key))
        self.secret_file = os.path.join(self.dir, "client-secret")
        self.write_secret("s3cret")
        self.policy = os.path.join(self.dir, "policy.yaml")
        with open(self.policy, "w") as f:
            f.write(POLICY)
        self.server = IntrospectionServer(secret="s3cret")
        self.upstream = RecordingUpstream()

    def write_secret(self, secret):
        tmp = self.secret_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(secret + "\n")  # as a Kubernetes Secret often holds it
        os.replace(tmp, self.secret_file)

    def gateway(self, workers=1, endpoint=None, issuer_extra=None, listen=None, fetch_timeout="1s", **introspection):
        block = {"endpoint": endpoint or self.server.url, "client_id": "portcullis",
                 "client_secret_file": self.secret_file}
        block.update(introspection)
        config = {"issuers": [issuer_config(issuer=ISSUER, jwks_file=self.jwks, fetch_timeout=fetch_timeout,
                                            introspection=block, **(issuer_extra or {}))],
                  "policies": [self.policy]}
        if listen is not None:
            config["listen"] = listen
        return Gateway(config, self.upstream, workers=workers)

    def jwt(self, **claims):
        return self.key.mint(claims_for(issuer=ISSUER, **claims))

    def close(self):
        self.server.close()
        self.upstream.close()


class IntrospectionTestCase(unittest.TestCase):
    def setUp(self):
        self.s = Setup()
        self.addCleanup(self.s.close)

    def start(self, **kw):
        gw = self.s.gateway(**kw).start()
        self.addCleanup(gw.stop)
        return gw

    def assert_refused(self, resp, status, description=None):
        self.assertEqual(resp.status, status, resp.body)
        if description is not None:
            self.assertEqual(challenge_description(resp), description)

    def upstream_saw(self, path):
        return [r for r in self.s.upstream.requests() if r.target == path]


class OpaqueModeTest(IntrospectionTestCase):
    def test_opaque_token_allowed_by_scope_with_identity_headers(self):
        gw = self.start(mode="opaque", cache_ttl="60s")
        srv = self.s.server
        srv.activate("opaque-good", sub="alice", scope="orders:read profile", exp=now() + 600,
                     client_id="app-1", aud="api")
        resp = request(gw, "/orders/1", token="opaque-good")
        self.assertEqual(resp.status, 200, resp.body)
        seen = self.upstream_saw("/orders/1")
        self.assertEqual(len(seen), 1)
        self.assertEqual(seen[0].header("x-auth-subject"), "alice")
        self.assertEqual(seen[0].header("x-auth-scopes"), "orders:read profile")
        self.assertEqual(seen[0].header("x-auth-issuer"), ISSUER)
        # What the endpoint received: the form, and client_secret_basic credentials.
        headers, form = srv.requests[0]
        self.assertEqual(form, {"token": "opaque-good", "token_type_hint": "access_token"})
        self.assertTrue(headers["authorization"].startswith("Basic "))
        self.assertIn("application/x-www-form-urlencoded", headers["content-type"])
        # Cached: the next requests make no call.
        for _ in range(5):
            self.assertEqual(request(gw, "/orders/2", token="opaque-good").status, 200)
        self.assertEqual(srv.calls("opaque-good"), 1)

    def test_opaque_token_missing_scope_is_403(self):
        gw = self.start(mode="opaque")
        self.s.server.activate("opaque-noscope", sub="bob", scope="profile")
        resp = request(gw, "/orders/1", token="opaque-noscope")
        self.assertEqual(resp.status, 403, resp.body)
        self.assertIn('error="insufficient_scope"', resp.header("WWW-Authenticate"))
        self.assertEqual(request(gw, "/other", token="opaque-noscope").status, 200)
        self.assertEqual(self.upstream_saw("/orders/1"), [])

    def test_inactive_unknown_and_foreign_tokens_are_401(self):
        gw = self.start(mode="opaque", inactive_cache_ttl="60s")
        srv = self.s.server
        srv.revoke("opaque-revoked")
        srv.activate("opaque-other-aud", sub="x", aud="someone-else")
        srv.activate("opaque-other-iss", sub="x", iss="https://evil.test")
        srv.activate("opaque-expired", sub="x", exp=now() - 3600)
        cases = {"opaque-revoked": "token is not active", "never-issued": "token is not active"}
        for token, description in cases.items():
            self.assert_refused(request(gw, "/x", token=token), 401, description)
        for token in ("opaque-other-aud", "opaque-other-iss", "opaque-expired"):
            self.assert_refused(request(gw, "/x", token=token), 401)
        self.assertEqual(self.s.upstream.requests(), [])
        # Inactive answers are cached too (inactive_cache_ttl).
        self.assert_refused(request(gw, "/x", token="opaque-revoked"), 401)
        self.assertEqual(srv.calls("opaque-revoked"), 1)
        self.assertGreaterEqual(metric_value(gw, introspection_metric("inactive")), 2)
        self.assertGreaterEqual(metric_value(gw, introspection_metric("invalid")), 3)

    def test_jwt_verified_offline_without_a_call(self):
        gw = self.start(mode="opaque")
        token = self.s.jwt(scope="orders:read")
        self.assertEqual(request(gw, "/orders/1", token=token).status, 200)
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        self.assert_refused(request(gw, "/orders/1", token=forged), 401)
        self.assertEqual(self.s.server.calls(), 0)

    def test_client_secret_post(self):
        gw = self.start(mode="opaque", auth_method="client_secret_post")
        self.s.server.activate("opaque-post", sub="carol")
        self.assertEqual(request(gw, "/x", token="opaque-post").status, 200)
        headers, form = self.s.server.requests[0]
        self.assertNotIn("authorization", headers)
        self.assertEqual(form["client_id"], "portcullis")
        self.assertEqual(form["client_secret"], "s3cret")


class CoalescingTest(IntrospectionTestCase):
    def test_100_concurrent_requests_one_call(self):
        gw = self.start(mode="opaque", workers=2)
        srv = self.s.server
        srv.activate("opaque-shared", sub="dave", scope="orders:read")
        srv.set_mode("slow", delay=0.5)
        results = []
        lock = threading.Lock()

        def one():
            try:
                status = request(gw, "/orders/9", token="opaque-shared", timeout=10).status
            except Exception as e:  # noqa: BLE001 - recorded and asserted below
                status = repr(e)
            with lock:
                results.append(status)
        threads = [threading.Thread(target=one) for _ in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(results, [200] * 100)
        self.assertEqual(srv.calls("opaque-shared"), 1)
        self.assertEqual(len(self.upstream_saw("/orders/9")), 100)


class AlwaysModeTest(IntrospectionTestCase):
    def test_jwt_needs_offline_and_introspection(self):
        gw = self.start(mode="always", cache_ttl="60s")
        srv = self.s.server
        good = self.s.jwt(sub="erin", scope="orders:read", jti="1")
        revoked = self.s.jwt(sub="erin", scope="orders:read", jti="2")
        srv.activate(good, sub="erin")
        srv.revoke(revoked)
        self.assertEqual(request(gw, "/orders/1", token=good).status, 200)
        # The JWT's own claims are the identity (the answer only confirms it is active).
        self.assertEqual(self.upstream_saw("/orders/1")[0].header("x-auth-scopes"), "orders:read")
        self.assert_refused(request(gw, "/orders/1", token=revoked), 401, "token is not active")
        # A JWT that fails offline never reaches the endpoint.
        expired = self.s.key.mint(claims_for(issuer=ISSUER, exp=now() - 3600, iat=now() - 7200))
        self.assert_refused(request(gw, "/orders/1", token=expired), 401)
        self.assertEqual(srv.calls(expired), 0)
        self.assertEqual(srv.calls(good), 1)
        self.assertEqual(request(gw, "/orders/1", token=good).status, 200)
        self.assertEqual(srv.calls(good), 1)


class PeriodicModeTest(IntrospectionTestCase):
    def test_revocation_visible_within_one_interval_without_latency(self):
        gw = self.start(mode="periodic", interval="2s")
        srv = self.s.server
        token = self.s.jwt(sub="frank", scope="orders:read")
        srv.activate(token, sub="frank")
        srv.set_mode("slow", delay=0.8)
        # Never waits for the endpoint: allowed at once on offline checks.
        started = time.monotonic()
        self.assertEqual(request(gw, "/orders/1", token=token).status, 200)
        self.assertLess(time.monotonic() - started, 0.75 * slack())  # the endpoint takes 0.8 s
        srv.wait_calls(1, token)
        srv.set_mode("normal")
        revoked_at = time.monotonic()
        srv.revoke(token)

        def refused():
            return request(gw, "/orders/1", token=token).status == 401
        wait_until(refused, (2 + 1) * slack() + 1, interval=0.1, what="revoked token refused")
        elapsed = time.monotonic() - revoked_at
        # The bar: refused within interval + 1 s (sanitizer builds get their usual slack),
        # plus up to 0.3 s this loop needs to notice (polling, one request's round trip).
        self.assertLessEqual(elapsed, (2 + 1) * slack() + 0.3, "refused after %.2fs" % elapsed)
        resp = request(gw, "/orders/1", token=token)
        self.assert_refused(resp, 401, "token is not active")
        self.assertGreaterEqual(metric_value(gw, introspection_metric("inactive")), 1)

    def test_revoked_token_stays_refused_after_a_pause(self):
        """A refusal is remembered until the JWT's exp (an hour for a JWT without exp): a
        revoked token that comes back after its entry would have been retired as idle is
        refused, not allowed again while it is re-checked (what periodic mode does for a token
        it has never seen)."""
        cases = [("with exp", {}, self.s.jwt(sub="hank")),
                 ("without exp (require_exp: false)", {"require_exp": False},
                  EcSigner(self.s.key).token({"alg": "ES256", "kid": self.s.key.kid},
                                             claims_for(issuer=ISSUER, sub="ivan", iat=now())))]
        for what, issuer_extra, token in cases:
            with self.subTest(what):
                gw = self.s.gateway(mode="periodic", interval="1s", inactive_cache_ttl="1s",
                                    issuer_extra=issuer_extra).start()
                self.addCleanup(gw.stop)
                srv = self.s.server
                srv.activate(token, sub="someone")
                self.assertEqual(request(gw, "/x", token=token).status, 200)
                srv.wait_calls(1, token)
                srv.revoke(token)
                wait_until(lambda: request(gw, "/x", token=token).status == 401, 4 * slack(), interval=0.1,
                           what="revoked token refused")
                self.s.upstream.clear()
                time.sleep(3.5)  # idle past 2 x interval and inactive_cache_ttl: an entry would retire
                for _ in range(3):
                    self.assert_refused(request(gw, "/x", token=token), 401, "token is not active")
                self.assertEqual(self.upstream_saw("/x"), [])
                gw.stop()

    def test_unused_tokens_are_not_rechecked(self):
        gw = self.start(mode="periodic", interval="1s")
        token = self.s.jwt(sub="gina")
        self.s.server.activate(token, sub="gina")
        self.assertEqual(request(gw, "/x", token=token).status, 200)
        self.s.server.wait_calls(1, token)
        time.sleep(3.5)
        self.assertLessEqual(self.s.server.calls(token), 2)  # at most one re-check of the use


class WaitingForADecisionTest(IntrospectionTestCase):
    """A client sends 1 MiB of body at once while its token is being introspected. The gateway
    reads up to its limit (256 KiB), stops reading and idles until the decision, then streams
    the whole body up. Two faults this guards, each seen with the old binary:
    - libevent's own read watermark called the read callback again on every loop iteration
      while the input sat at the limit: a core spinning for the whole wait (0.6 s of CPU in
      the 0.7 s measured here);
    - the body then hung for good: the upstream's output was over its own limit when the
      upstream connected, so reading paused, the socket then took everything at once, and
      nothing ever resumed reading (libevent reports only the writes it makes itself)."""

    def assert_waits_quietly_then_forwards(self, gw, connect):
        self.s.server.activate("opaque-big", sub="ivy", scope="orders:read")
        self.s.server.set_mode("slow", delay=1.2)  # the gateway waits up to fetch_timeout, 5 s
        body = os.urandom(1 << 20)
        head = build_request("POST", "/orders/upload", [("Host", "gw"), ("Authorization", "Bearer opaque-big"),
                                                        ("Content-Length", str(len(body)))])
        sock = connect()
        self.addCleanup(sock.close)
        # One thread sends, and only once it is done does this one read (a TLS socket is not
        # to be used from two threads at once).
        sender = threading.Thread(target=sock.sendall, args=(head + body,), daemon=True)
        sender.start()
        self.s.server.wait_calls(1, "opaque-big")
        before = cpu_seconds(gw.proc.pid)
        time.sleep(0.7)
        spent = cpu_seconds(gw.proc.pid) - before
        self.assertLess(spent, 0.2, "the gateway burnt CPU while the request waited")
        sender.join(10 * slack())
        self.assertFalse(sender.is_alive(), "the gateway stopped reading the body")
        start = read_head(BufferedSocket(sock, timeout=10 * slack()))[0]
        self.assertTrue(start.startswith(b"HTTP/1.1 200 "), start)
        seen = self.upstream_saw("/orders/upload")
        self.assertEqual(len(seen), 1)
        self.assertEqual(seen[0].body_sha256, hashlib.sha256(body).hexdigest())

    def test_refused_with_a_piled_up_body_the_client_still_gets_its_answer_cleanly(self):
        """The same pile-up, then a refusal: the gateway answers 401 and, closing, discards what
        the client still sends (the lingering close), so that the client is not reset before it
        has read the answer. With reading paused at the limit nothing read (and so nothing
        discarded) until this was fixed, and the client's sending stopped dead."""
        gw = self.start(mode="opaque", fetch_timeout="5s")
        self.s.server.set_mode("slow", delay=1.0)
        sock = socket.create_connection(("127.0.0.1", gw.port), timeout=10 * slack())
        self.addCleanup(sock.close)
        sent = [0]

        def send():
            try:
                sock.sendall(build_request("POST", "/orders/upload", [("Host", "gw"), ("Authorization", "Bearer nope"),
                                                                      ("Content-Length", str(10 << 20))]))
                chunk = b"x" * 65536
                while sent[0] < (10 << 20):
                    sent[0] += sock.send(chunk)
            except OSError:
                pass
        threading.Thread(target=send, daemon=True).start()
        self.s.server.wait_calls(1, "nope")
        start = read_head(BufferedSocket(sock, timeout=10 * slack()))[0]
        self.assertTrue(start.startswith(b"HTTP/1.1 401 "), start)
        at_answer = sent[0]
        time.sleep(0.5)
        self.assertGreater(sent[0] - at_answer, 1 << 20, "the gateway stopped reading after its answer")
        self.assertEqual(self.upstream_saw("/orders/upload"), [])

    def test_plain_client(self):
        gw = self.start(mode="opaque", fetch_timeout="5s")
        self.assert_waits_quietly_then_forwards(
            gw, lambda: socket.create_connection(("127.0.0.1", gw.port), timeout=10 * slack()))

    def test_tls_client(self):
        certs = CertFactory()
        self.addCleanup(certs.close)
        certs.make_leaf("server")
        gw = self.start(mode="opaque", fetch_timeout="5s", listen={"address": "127.0.0.1:0", "tls": {
            "cert_file": certs.path("server.pem"), "key_file": certs.path("server.key")}})
        self.assert_waits_quietly_then_forwards(gw, lambda: tls_connect(gw.port, client_context(certs.ca)))


class FailurePolicyTest(IntrospectionTestCase):
    def test_endpoint_down_deny_is_503(self):
        gw = self.start(mode="opaque", endpoint="http://127.0.0.1:%d/introspect" % closed_port())
        resp = request(gw, "/x", token="opaque-any")
        self.assertEqual(resp.status, 503, resp.body)
        self.assertIn(b"introspection_failed", resp.body)
        self.assertEqual(self.s.upstream.requests(), [])
        self.assertGreaterEqual(metric_value(gw, introspection_metric("error")), 1)
        self.assertEqual(request(gw, "/public/x").status, 200)  # auth: none keeps serving

    def test_slow_endpoint_times_out_503(self):
        gw = self.start(mode="opaque")
        self.s.server.activate("opaque-slow", sub="h")
        self.s.server.set_mode("slow", delay=2.5)
        started = time.monotonic()
        self.assertEqual(request(gw, "/x", token="opaque-slow", timeout=10).status, 503)
        self.assertLess(time.monotonic() - started, 2.5 * slack())
        self.assertGreaterEqual(metric_value(gw, introspection_metric("timeout")), 1)
        self.assertEqual(self.s.upstream.requests(), [])

    def test_full_call_queue_is_refused_at_once(self):
        """One call at a time to an endpoint slower than fetch_timeout, and 400 distinct opaque
        tokens at once: 256 calls queue (the bound at max_concurrent 1), the rest are refused
        at once (introspection result queue_full) instead of queueing without end; every
        request is answered 503, nothing is forwarded, the gateway stays up."""
        gw = self.start(mode="opaque", max_concurrent=1)
        self.s.server.set_mode("slow", delay=3.0)
        n = 400
        socks = flood(gw.port, n, 1, "q")  # one request per connection: all of them at once
        full = introspection_metric("queue_full")
        # Refused at once: long before a parked request gives up (2 x fetch_timeout + 2 s).
        got = wait_metrics_at_least(gw, {full: n - 257 - 20}, timeout=2.0)[full]
        self.assertLessEqual(got, n - 256)
        self.assertEqual(read_statuses(socks, 1, 30 * slack()), {503: n})
        self.assertIsNone(gw.proc.poll(), "the gateway died")
        self.assertEqual(self.s.upstream.requests(), [])

    def test_garbage_and_errors_deny(self):
        gw = self.start(mode="opaque")
        srv = self.s.server
        srv.activate("opaque-g", sub="i")
        for mode, result in (("garbage", "malformed"), ("fail", "error"), ("close", "error")):
            srv.set_mode(mode)
            time.sleep(1.1)  # failures are held for a second
            self.assertEqual(request(gw, "/x", token="opaque-g").status, 503, mode)
            self.assertGreaterEqual(metric_value(gw, introspection_metric(result)), 1)
        self.assertEqual(self.s.upstream.requests(), [])
        srv.set_mode("normal")
        time.sleep(1.1)
        self.assertEqual(request(gw, "/x", token="opaque-g").status, 200)  # recovers

    def test_use_cached_keeps_a_previous_active_answer(self):
        gw = self.start(mode="opaque", cache_ttl="1s", on_error="use_cached")
        srv = self.s.server
        srv.activate("opaque-c", sub="j", exp=now() + 600)
        self.assertEqual(request(gw, "/x", token="opaque-c").status, 200)
        srv.set_mode("fail")
        time.sleep(1.5)  # past cache_ttl: the gateway asks again, and that fails
        self.assertEqual(request(gw, "/x", token="opaque-c").status, 200)
        self.assertGreaterEqual(srv.calls("opaque-c"), 2)
        # A token never answered for has nothing to fall back on.
        self.assertEqual(request(gw, "/x", token="opaque-new").status, 503)

    def test_use_cached_never_outlives_the_token(self):
        gw = self.start(mode="opaque", cache_ttl="1s", on_error="use_cached")
        srv = self.s.server
        srv.activate("opaque-short", sub="k", exp=now() + 2)
        self.assertEqual(request(gw, "/x", token="opaque-short").status, 200)
        srv.set_mode("fail")
        time.sleep(3.2)
        self.assertEqual(request(gw, "/x", token="opaque-short").status, 503)


class DiscoveryTest(IntrospectionTestCase):
    def test_endpoint_from_discovery(self):
        keys = JwksServer(keys=[self.s.key])
        self.addCleanup(keys.close)
        keys.set_discovery({"issuer": keys.issuer, "jwks_uri": keys.jwks_url,
                            "introspection_endpoint": self.s.server.url})
        config = {"issuers": [issuer_config(issuer=keys.issuer, discovery=True, introspection={
            "client_id": "portcullis", "client_secret_file": self.s.secret_file, "mode": "opaque"})]}
        gw = Gateway(config, self.s.upstream).start()
        self.addCleanup(gw.stop)
        self.s.server.activate("opaque-d", sub="m", iss=keys.issuer)
        wait_until(lambda: gw.admin_get("/readyz").status == 200, 5 * slack(), what="keys")
        self.assertEqual(request(gw, "/x", token="opaque-d").status, 200)
        self.assertEqual(self.s.server.calls("opaque-d"), 1)


    def test_flood_before_discovery_names_an_endpoint(self):
        """Until discovery names an introspection_endpoint (here: never), every call fails at
        once, inside the loop that starts queued calls. A flood of distinct opaque tokens (9,000
        on 300 connections, one call at a time) is answered 503 each, nothing is forwarded, and
        the gateway stays up."""
        keys = JwksServer(keys=[self.s.key])
        self.addCleanup(keys.close)
        keys.set_discovery({"issuer": keys.issuer, "jwks_uri": keys.jwks_url})
        config = {"issuers": [issuer_config(issuer=keys.issuer, discovery=True, introspection={
            "client_id": "portcullis", "client_secret_file": self.s.secret_file, "mode": "opaque",
            "max_concurrent": 1})]}
        gw = Gateway(config, self.s.upstream, workers=2).start()
        self.addCleanup(gw.stop)
        wait_until(lambda: gw.admin_get("/readyz").status == 200, 5 * slack(), what="keys")
        conns, per_conn = 300, 30  # 300 requests in play at a time, 9,000 in all
        socks = flood(gw.port, conns, per_conn, "opaque")
        self.assertEqual(read_statuses(socks, per_conn, 60 * slack()), {503: conns * per_conn})
        self.assertIsNone(gw.proc.poll(), "the gateway died")
        self.assertEqual(gw.admin_get("/healthz").status, 200)
        self.assertEqual(self.s.upstream.requests(), [])


class SecretTest(IntrospectionTestCase):
    def test_secret_rotation_via_file(self):
        gw = self.start(mode="opaque", inactive_cache_ttl="0s")
        srv = self.s.server
        srv.activate("opaque-r1", sub="l")
        srv.activate("opaque-r2", sub="l")
        self.assertEqual(request(gw, "/x", token="opaque-r1").status, 200)
        srv.set_secret("n3w-secret")  # the IdP rotated it; the old one is refused now
        self.assertEqual(request(gw, "/x", token="opaque-r2").status, 503)
        self.s.write_secret("n3w-secret")

        def works():
            return request(gw, "/x", token="opaque-r2").status == 200
        wait_until(works, 5 * slack(), interval=0.3, what="the rotated secret in use")
        headers, _ = srv.requests[-1]
        self.assertIn("authorization", headers)

    def test_missing_secret_fails_start(self):
        os.unlink(self.s.secret_file)
        gw = self.s.gateway(mode="opaque")
        with self.assertRaises(AssertionError) as ctx:
            gw.start()
        self.assertIn("client secret", str(ctx.exception))


if __name__ == "__main__":
    unittest.main()
