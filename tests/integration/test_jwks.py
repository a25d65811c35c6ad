"""Key sources through the real binary: jwks_file reloads, jwks_uri and discovery fetches,
readiness, failures that keep the last good keys, backoff, and the unknown-kid refetch with
its rate limit. Each test runs its own gateway and JWKS server."""

import hashlib
import hmac
import json
import os
import secrets
import subprocess
import threading
import time
import unittest

from auth_support import (CACHE_HIT, EcSigner, JwksServer, KeyPair, auth_failure_pattern, challenge_description,
                          claims_for, forge, hs256, now, issuer_config, jwks_of, keys_pattern, metric_value,
                          metric_values, refresh_pattern, request, temp_dir, wait_metrics_at_least,
                          wait_ready, write_json_atomic)
from harness import (Gateway, RecordingUpstream, binary_path, slack, to_yaml, wait_until)
from tls_support import CertFactory

ISSUER = "https://issuer.test"
_KEYS = []


def key(i):
    """The i-th ES256 test key (generated once per run)."""
    while len(_KEYS) <= i:
        _KEYS.append(KeyPair("ES256"))
    return _KEYS[i]


_serial = [0]


def token(k, issuer=ISSUER, **claims):
    """A fresh token (unique sub, so never a cache hit) signed by KeyPair k."""
    _serial[0] += 1
    claims.setdefault("sub", "user-%d" % _serial[0])
    return k.mint(claims_for(issuer=issuer, **claims))


class JwksTestCase(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(binary_path()):
            raise unittest.SkipTest("portcullis binary not found at %s" % binary_path())
        self.upstream = RecordingUpstream()
        self.addCleanup(self.upstream.close)

    def server(self, *keys, start=True):
        srv = JwksServer(keys=keys, start=start)
        self.addCleanup(srv.close)
        return srv

    def gateway(self, extra_issuers=(), **issuer):
        issuer.setdefault("issuer", ISSUER)
        issuers = [issuer_config(**issuer)] + list(extra_issuers)
        gw = Gateway({"issuers": issuers}, self.upstream).start()
        self.addCleanup(gw.stop)  # runs before the servers' cleanups (LIFO)
        return gw

    def assert_ok(self, gw, tok, what=""):
        self.upstream.clear()
        t0 = time.monotonic()
        resp = request(gw, "/k", tok)
        elapsed = time.monotonic() - t0
        self.assertEqual(resp.status, 200, "%s: %r %r" % (what, resp, resp.body))
        req = self.upstream.last()
        self.assertEqual(req.header_values("Authorization"), ["Bearer " + tok])
        return elapsed

    def assert_unknown_key(self, gw, tok, what=""):
        self.upstream.clear()
        resp = request(gw, "/k", tok)
        self.assertEqual(resp.status, 401, "%s: %r" % (what, resp))
        self.assertEqual(challenge_description(resp), "unknown signing key", what)
        self.assertEqual(resp.json().get("error"), "invalid_token")
        self.upstream.assert_nothing()

    def assert_keys_not_loaded(self, gw, tok):
        self.upstream.clear()
        resp = request(gw, "/k", tok)
        self.assertEqual(resp.status, 503, resp)
        self.assertEqual(resp.json().get("error"), "keys_not_loaded")
        self.assertEqual(resp.json().get("request_id"), resp.header("X-Request-Id"))
        self.assertEqual(resp.header_values("WWW-Authenticate"), [])
        self.upstream.assert_nothing()
        ready = gw.admin_get("/readyz")
        self.assertEqual(ready.status, 503, ready)

    def wait_refresh(self, gw, result, at_least, timeout=5.0):
        return wait_metrics_at_least(gw, {refresh_pattern(result): at_least}, timeout)[refresh_pattern(result)]

    def refresh_count(self, gw, result):
        return metric_value(gw, refresh_pattern(result))


class JwksFileTest(JwksTestCase):
    def test_file_rotation_new_key_accepted_old_key_refused(self):
        ka, kb = key(0), key(1)
        path = os.path.join(temp_dir(), "jwks.json")
        write_json_atomic(path, jwks_of(ka))
        gw = self.gateway(jwks_file=path)
        wait_ready(gw)
        ta, tb = token(ka, sub="alice"), token(kb, sub="bob")
        hits_before = metric_value(gw, CACHE_HIT)
        self.assert_ok(gw, ta)
        self.assert_ok(gw, ta, "second use (cached)")
        wait_metrics_at_least(gw, {CACHE_HIT: hits_before + 1})  # ta now lives in the cache
        self.assert_unknown_key(gw, tb, "before rotation")

        write_json_atomic(path, jwks_of(kb))  # rotation: B replaces A
        t0 = time.monotonic()
        wait_until(lambda: request(gw, "/k", tb).status == 200, 3.0 * slack(), interval=0.1,
                   what="the rotated-in key to be accepted")
        self.assertLess(time.monotonic() - t0, 2.5 * slack())
        # The cached verification of ta died with key A.
        self.assert_unknown_key(gw, ta, "token of the removed key")
        self.assert_ok(gw, token(kb), "fresh token of the new key")
        self.assertEqual(metric_value(gw, keys_pattern()), 1)

        # A broken file keeps the keys in use.
        invalid_before = self.refresh_count(gw, "invalid")
        for content in ("{not json", {"keys": []}, {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]}):
            with self.subTest(content=str(content)[:30]):
                write_json_atomic(path, content)
                invalid_before = self.wait_refresh(gw, "invalid", invalid_before + 1, timeout=4.0)
                self.assert_ok(gw, token(kb), "after a bad file")
                self.assertEqual(gw.admin_get("/readyz").status, 200)

        # A deleted file keeps the keys in use too.
        errors = self.refresh_count(gw, "error")
        os.unlink(path)
        self.wait_refresh(gw, "error", errors + 1, timeout=4.0)
        self.assert_ok(gw, token(kb), "after the file was deleted")
        # An in-place rewrite (same inode) is noticed too.
        with open(path, "w") as f:
            f.write(json.dumps(jwks_of(ka)))
        wait_until(lambda: request(gw, "/k", token(ka)).status == 200, 3.0 * slack(), interval=0.2,
                   what="the in-place rewritten file")


class JwksUriTest(JwksTestCase):
    def test_keys_fetched_at_start(self):
        srv = self.server(key(0))
        gw = self.gateway(jwks_uri=srv.jwks_url)
        wait_ready(gw)
        self.assertGreaterEqual(srv.jwks_hits(), 1)
        self.assertEqual(srv.discovery_hits(), 0)
        self.assert_ok(gw, token(key(0)))
        wait_metrics_at_least(gw, {refresh_pattern("success"): 1, keys_pattern(): 1})
        self.assertEqual(metric_value(gw, keys_pattern()), 1)
        # A token of a key the server does not have is refused (after at most one refetch).
        self.assert_unknown_key(gw, token(key(1)))
        self.assertLessEqual(srv.jwks_hits(), 2)

    def test_discovery_happy_path(self):
        srv = self.server(key(0))
        # jwks_uri comes from the document, not from a guess.
        srv.set_document("/keys/v2", jwks_of(key(0)))
        srv.set_jwks({"keys": []})
        srv.set_discovery({"issuer": srv.issuer, "jwks_uri": srv.url + "/keys/v2"})
        gw = self.gateway(issuer=srv.issuer, discovery=True)
        wait_ready(gw)
        self.assertEqual(srv.discovery_hits(), 1)
        self.assertEqual(srv.hits("/keys/v2"), 1)
        self.assertEqual(srv.jwks_hits(), 0)
        tok = token(key(0), issuer=srv.issuer, scope="a b")
        self.assert_ok(gw, tok)
        req = self.upstream.last()
        self.assertEqual(req.header_values("X-Auth-Issuer"), [srv.issuer])
        self.assertEqual(req.header_values("X-Auth-Scopes"), ["a b"])

    def test_discovery_refused_keys_never_load(self):
        cases = [
            ("issuer differs by a trailing slash", lambda s: {"issuer": s.issuer + "/", "jwks_uri": s.jwks_url}),
            ("another issuer", lambda s: {"issuer": "https://evil.test", "jwks_uri": s.jwks_url}),
            ("http jwks_uri on a non-loopback host",
             lambda s: {"issuer": s.issuer, "jwks_uri": "http://keys.example.com/jwks.json"}),
            ("http jwks_uri with userinfo that looks like a loopback host",
             lambda s: {"issuer": s.issuer, "jwks_uri": "http://127.0.0.1:1@127.0.0.1:%d/jwks.json" % s.port}),
            ("not JSON", lambda s: "<html>login</html>"),
        ]
        for what, doc in cases:
            with self.subTest(what):
                srv = self.server(key(0))
                srv.set_discovery(doc(srv))
                gw = self.gateway(issuer=srv.issuer, discovery=True, jwks_refresh="1s")
                # Two attempts (the start and the 1s retry), both refused.
                srv.wait_hits(2, srv.DISCOVERY_PATH, timeout=4.0)
                self.assert_keys_not_loaded(gw, token(key(0), issuer=srv.issuer))
                wait_metrics_at_least(gw, {auth_failure_pattern("keys_not_loaded"): 1,
                                           refresh_pattern("discovery_error"): 1})
                self.assertEqual(srv.jwks_hits(), 0, "JWKS fetched although discovery was refused")
                self.assertEqual(self.refresh_count(gw, "success"), 0)
                gw.stop()


class JwksAvailabilityTest(JwksTestCase):
    def test_server_down_at_start_then_recovers(self):
        srv = self.server(key(0), start=False)
        # A second issuer whose keys load at once (a file): readiness needs every issuer.
        path = os.path.join(temp_dir(), "jwks.json")
        write_json_atomic(path, jwks_of(key(1)))
        other = issuer_config(name="files", issuer="https://files.test", jwks_file=path)
        gw = self.gateway(jwks_uri=srv.jwks_url, jwks_refresh="1h", fetch_timeout="1s",
                          extra_issuers=[other])
        tok = token(key(0))
        self.assert_keys_not_loaded(gw, tok)
        self.assert_ok(gw, token(key(1), issuer="https://files.test"), "the issuer with keys")
        # The first attempt and the retry after 1s both fail.
        self.wait_refresh(gw, "error", 2, timeout=4.0)
        self.assert_keys_not_loaded(gw, tok)
        wait_metrics_at_least(gw, {auth_failure_pattern("keys_not_loaded", "main"): 2})
        up_at = time.monotonic()
        srv.start()
        # The next retry comes after 2s of backoff (never the 1h refresh interval).
        wait_ready(gw, timeout=5.0)
        self.assertLess(time.monotonic() - up_at, 4.0 * slack())
        self.assert_ok(gw, tok)
        self.assertGreaterEqual(srv.jwks_hits(), 1)

    def test_failing_server_retried_with_backoff(self):
        srv = self.server(key(0))
        srv.set_mode("fail")
        gw = self.gateway(jwks_uri=srv.jwks_url, jwks_refresh="1h")
        srv.wait_hits(3, srv.JWKS_PATH, timeout=6.0)
        times = [t for t, p in srv.request_log() if p == srv.JWKS_PATH]
        gaps = [b - a for a, b in zip(times, times[1:])]
        # 1s, then 2s: backing off, not hammering (and not waiting for the 1h refresh).
        self.assertGreater(gaps[0], 0.7, gaps)
        self.assertGreater(gaps[1], 1.6, gaps)
        self.assertGreater(gaps[1], gaps[0] * 1.4, gaps)
        self.assert_keys_not_loaded(gw, token(key(0)))
        self.wait_refresh(gw, "error", 2)

    def test_server_down_later_keeps_last_good_keys(self):
        srv = self.server(key(0))
        gw = self.gateway(jwks_uri=srv.jwks_url, jwks_refresh="1s")
        wait_ready(gw)
        self.assert_ok(gw, token(key(0)))
        errors = self.refresh_count(gw, "error")
        srv.stop()
        self.wait_refresh(gw, "error", errors + 2, timeout=5.0)
        self.assert_ok(gw, token(key(0)), "fresh token after the server went away")
        self.assertEqual(gw.admin_get("/readyz").status, 200)
        self.assertEqual(metric_value(gw, keys_pattern()), 1)

    def test_slow_server_times_out_old_keys_used(self):
        srv = self.server(key(0))
        gw = self.gateway(jwks_uri=srv.jwks_url, jwks_refresh="1s", fetch_timeout="1s")
        wait_ready(gw)
        unchanged = self.wait_refresh(gw, "unchanged", 1, timeout=4.0)  # same document again
        hits = srv.jwks_hits()
        srv.set_mode("hang")
        srv.wait_hits(hits + 1, srv.JWKS_PATH, timeout=4.0)
        # A fetch is hanging right now: requests are not held up by it.
        elapsed = self.assert_ok(gw, token(key(0)), "while the fetch hangs")
        self.assertLess(elapsed, 0.5 * slack())
        self.wait_refresh(gw, "timeout", 1, timeout=4.0)
        self.assert_ok(gw, token(key(0)), "after the timeout")
        self.assertEqual(gw.admin_get("/readyz").status, 200)
        srv.set_mode("ok")
        self.wait_refresh(gw, "unchanged", unchanged + 1, timeout=5.0)
        self.assertEqual(metric_value(gw, keys_pattern()), 1)

    def test_bad_answers_keep_last_good_keys(self):
        srv = self.server(key(0))
        gw = self.gateway(jwks_uri=srv.jwks_url, jwks_refresh="1s")
        wait_ready(gw)
        good = jwks_of(key(0))
        cases = [
            ("garbage", lambda: srv.set_mode("garbage"), "invalid"),
            ("20 MB body", lambda: srv.set_mode("huge"), "too_large"),
            ("HTTP 500", lambda: srv.set_mode("fail"), "error"),
            ("connection closed", lambda: srv.set_mode("close"), "error"),
            ("no keys", lambda: srv.set_jwks({"keys": []}), "invalid"),
            ("only an oct key", lambda: srv.set_jwks({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]}),
             "invalid"),
            ("key with use enc", lambda: srv.set_jwks({"keys": [dict(key(1).jwk, use="enc")]}), "invalid"),
        ]
        for what, breakage, result in cases:
            with self.subTest(what):
                before = self.refresh_count(gw, result)
                breakage()
                self.wait_refresh(gw, result, before + 1, timeout=4.0)
                self.assert_ok(gw, token(key(0)), "fresh token after: " + what)
                self.assertEqual(gw.admin_get("/readyz").status, 200)
                self.assertEqual(metric_value(gw, keys_pattern()), 1)
                srv.set_mode("ok")
                srv.set_jwks(good)
        self.assertIsNone(gw.sanitizer_report())


class UnknownKidTest(JwksTestCase):
    def wait_past_rate_limit(self, srv, window):
        """Sleeps until `window` seconds after the last JWKS fetch (the startup fetch also
        counts against jwks_min_refetch)."""
        last = [t for t, p in srv.request_log() if p == srv.JWKS_PATH][-1]
        time.sleep(max(0.0, last + window + 0.2 - time.monotonic()))

    def test_new_key_picked_up_by_refetch(self):
        srv = self.server(key(0))
        gw = self.gateway(jwks_uri=srv.jwks_url, jwks_refresh="1h", jwks_min_refetch="2s")
        wait_ready(gw)
        self.assert_ok(gw, token(key(0)))
        new_key_token, unknown_token = token(key(1), sub="rotated-in"), token(key(2))
        self.wait_past_rate_limit(srv, 2.0)
        hits = srv.jwks_hits()
        rate_limited = self.refresh_count(gw, "rate_limited")
        srv.add_key(key(1))  # the issuer rotates a key in; our periodic refresh is 1h away
        elapsed = self.assert_ok(gw, new_key_token, "token of the new key")
        self.assertEqual(self.upstream.last().header_values("X-Auth-Subject"), ["rotated-in"])
        # Right after that refetch, another unknown kid is refused without a fetch.
        self.assert_unknown_key(gw, unknown_token, "unknown kid inside jwks_min_refetch")
        self.assertLess(elapsed, 2.0 * slack())
        self.assertEqual(srv.jwks_hits(), hits + 1, "exactly one refetch: %r" % srv.request_log())
        self.assert_ok(gw, token(key(0)), "the old key still works")
        self.wait_refresh(gw, "rate_limited", rate_limited + 1)
        wait_metrics_at_least(gw, {keys_pattern(): 2})

    def test_refetch_rate_limited(self):
        window = 3.0
        srv = self.server(key(0))
        gw = self.gateway(jwks_uri=srv.jwks_url, jwks_refresh="1h", jwks_min_refetch="3s")
        wait_ready(gw)
        attacker = EcSigner(key(1))
        tokens = [attacker.token({"alg": "ES256", "typ": "JWT", "kid": os.urandom(12).hex()},
                                 claims_for(issuer=ISSUER, exp=int(time.time()) + 600))
                  for _ in range(20)]
        failures = auth_failure_pattern("jwks_kid_not_found")
        before = metric_values(gw, [failures])[failures]
        self.wait_past_rate_limit(srv, window)
        hits = srv.jwks_hits()
        results = [None] * len(tokens)

        def send(i):
            try:
                resp = request(gw, "/k", tokens[i], timeout=10.0)
                results[i] = (resp.status, challenge_description(resp))
            except Exception as e:  # reported below
                results[i] = repr(e)
        t0 = time.monotonic()
        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(tokens))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20 * slack())
        burst = time.monotonic() - t0
        fetches = srv.jwks_hits() - hits
        if os.environ.get("PORTCULLIS_TEST_VERBOSE"):
            print("rate limit: %d fetches for %d unknown kids in %.3fs" % (fetches, len(tokens), burst))
        self.assertEqual(results, [(401, "unknown signing key")] * len(tokens))
        self.upstream.assert_nothing()
        self.assertGreaterEqual(fetches, 1, "the first unknown kid should refetch once")
        self.assertLessEqual(fetches, min(2, 1 + int(burst / window)),
                             "%d JWKS fetches for %d unknown kids in %.2fs" % (fetches, len(tokens), burst))
        wait_metrics_at_least(gw, {failures: before + len(tokens)})
        self.assertEqual(self.refresh_count(gw, "timeout"), 0)


class RotationTest(JwksTestCase):
    def test_rotation_removes_old_kid(self):
        ka, kb = key(0), key(1)
        srv = self.server(ka, kb)
        gw = self.gateway(jwks_uri=srv.jwks_url, jwks_refresh="1s")
        wait_ready(gw)
        wait_metrics_at_least(gw, {keys_pattern(): 2})
        ta = token(ka, sub="old-key-user")
        self.assert_ok(gw, ta)
        self.assert_ok(gw, ta, "cached")
        srv.drop_kid(ka.kid)
        t0 = time.monotonic()

        def refused():
            return request(gw, "/k", ta).status == 401
        wait_until(refused, 4.0 * slack(), interval=0.1, what="the dropped kid's token to be refused")
        self.assertLess(time.monotonic() - t0, 3.0 * slack())
        self.assert_unknown_key(gw, ta, "token of the dropped kid")
        self.assert_unknown_key(gw, token(ka), "fresh token of the dropped kid")
        self.assert_ok(gw, token(kb), "the remaining key")
        self.assertEqual(metric_value(gw, keys_pattern()), 1)


class SecretFileTest(JwksTestCase):
    """An HS256 issuer with a shared secret_file: its secret is the only key, re-read on change;
    a secret too short to be safe never loads."""

    def write_secret(self, path, secret):
        write_json_atomic(path, secret + "\n")  # a trailing newline, as editors leave one

    def hs_token(self, secret, header=None, **claims):
        _serial[0] += 1
        claims.setdefault("sub", "hs-user-%d" % _serial[0])
        c = claims_for(issuer=ISSUER, iat=now(), exp=now() + 600, **claims)
        return hs256(header or {"alg": "HS256", "typ": "JWT"}, c, secret.encode())

    def assert_refused(self, gw, tok, description, what):
        self.upstream.clear()
        resp = request(gw, "/k", tok)
        self.assertEqual(resp.status, 401, "%s: %r" % (what, resp))
        self.assertEqual(challenge_description(resp), description, what)
        self.upstream.assert_nothing()

    def test_shared_secret_verifies_and_rotates(self):
        path = os.path.join(temp_dir(), "hs-secret")
        old, new = secrets.token_hex(32), secrets.token_hex(32)
        self.write_secret(path, old)
        gw = self.gateway(secret_file=path, algorithms=["HS256"])
        wait_ready(gw)
        self.assert_ok(gw, self.hs_token(old), "the configured secret")
        self.assert_ok(gw, self.hs_token(old, header={"alg": "HS256", "kid": "whatever"}), "any kid")
        self.assert_refused(gw, self.hs_token(new), "invalid signature", "another secret")
        self.assert_refused(gw, token(key(0)), "alg not allowed for this issuer", "an ES256 token")
        c = claims_for(issuer=ISSUER, iat=now(), exp=now() + 600)
        h384 = forge({"alg": "HS384"}, c, hmac.new(old.encode(), b"x", hashlib.sha384).digest())
        self.assert_refused(gw, h384, "alg not allowed for this issuer", "HS384")
        # Rotation: the file is re-read when it changes (checked every second).
        self.write_secret(path, new)
        wait_until(lambda: request(gw, "/k", self.hs_token(new)).status == 200, 5 * slack(),
                   what="the rotated secret accepted")
        self.assert_refused(gw, self.hs_token(old), "invalid signature", "the old secret after rotation")

    def test_short_secret_never_loads(self):
        path = os.path.join(temp_dir(), "hs-secret")
        self.write_secret(path, "sixteen-bytes!!!")
        gw = self.gateway(secret_file=path, algorithms=["HS256"])
        self.wait_refresh(gw, "invalid", 1)
        self.assert_keys_not_loaded(gw, self.hs_token("sixteen-bytes!!!"))


class JwksHttpsTest(JwksTestCase):
    """Discovery and JWKS over HTTPS, verified against the issuer's tls.ca_file (a private CA),
    and every certificate the gateway must refuse: keys never load from such a server."""

    @classmethod
    def setUpClass(cls):
        cls.certs = CertFactory()
        cls.certs.make_leaf("server")
        cls.certs.make_leaf("untrusted", ca="other-root")
        cls.certs.make_leaf("wrong-name", sans=("DNS:other.example",))
        cls.certs.make_leaf("expired", days=-1)

    @classmethod
    def tearDownClass(cls):
        cls.certs.close()

    def https_server(self, leaf, *keys):
        srv = JwksServer(keys=keys, tls=(self.certs.path(leaf + ".pem"), self.certs.path(leaf + ".key")))
        self.addCleanup(srv.close)
        return srv

    def test_jwks_uri_over_https_with_the_issuers_ca(self):
        srv = self.https_server("server", key(0))
        gw = self.gateway(jwks_uri=srv.jwks_url, tls={"ca_file": self.certs.ca})
        wait_ready(gw)
        self.assert_ok(gw, token(key(0)))
        self.assertGreaterEqual(srv.jwks_hits(), 1)

    def test_discovery_over_https_with_the_issuers_ca(self):
        srv = self.https_server("server", key(0))
        gw = self.gateway(issuer=srv.issuer, discovery=True, tls={"ca_file": self.certs.ca})
        wait_ready(gw)
        self.assert_ok(gw, token(key(0), issuer=srv.issuer))
        self.assertEqual(srv.discovery_hits(), 1)
        self.assertGreaterEqual(srv.jwks_hits(), 1)

    def test_certificates_that_must_be_refused(self):
        cases = [("a private CA's certificate, system trust store", "server", None),
                 ("signed by another CA", "untrusted", self.certs.ca),
                 ("issued for another name", "wrong-name", self.certs.ca),
                 ("expired", "expired", self.certs.ca)]
        for what, leaf, ca in cases:
            with self.subTest(what):
                srv = self.https_server(leaf, key(0))
                extra = {"tls": {"ca_file": ca}} if ca else {}
                gw = self.gateway(jwks_uri=srv.jwks_url, jwks_refresh="1s", **extra)
                self.wait_refresh(gw, "error", 2)
                self.assert_keys_not_loaded(gw, token(key(0)))
                self.assertEqual(srv.jwks_hits(), 0, "the handshake must fail before any request")
                gw.stop()

    def test_unloadable_ca_file_refuses_to_start(self):
        directory = temp_dir()
        path = os.path.join(directory, "gateway.yaml")
        not_pem = os.path.join(directory, "not-a-ca.pem")
        with open(not_pem, "w") as f:
            f.write("this is not a certificate\n")
        for what, ca in (("missing", os.path.join(directory, "missing.pem")), ("not PEM", not_pem)):
            with self.subTest(what):
                cfg = {"listen": "127.0.0.1:0", "admin_listen": "127.0.0.1:0",
                       "upstreams": {"default": {"url": "http://127.0.0.1:9"}},
                       "issuers": [issuer_config(jwks_uri="https://127.0.0.1:9/jwks.json", tls={"ca_file": ca})]}
                with open(path, "w") as f:
                    f.write(to_yaml(cfg) + "\n")
                proc = subprocess.run([binary_path(), "run", "--config", path], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, timeout=20 * slack())
                err = proc.stderr.decode(errors="replace")
                self.assertEqual(proc.returncode, 1, err)
                self.assertIn("issuer main: tls.ca_file: cannot load the CA file " + ca, err)


class KeyUrlConfigTest(unittest.TestCase):
    def validate(self, issuer):
        directory = temp_dir()
        path = os.path.join(directory, "gateway.yaml")
        cfg = {"listen": "127.0.0.1:0", "admin_listen": "127.0.0.1:0",
               "upstreams": {"default": {"url": "http://127.0.0.1:9"}},
               "issuers": [issuer_config(**issuer)]}
        with open(path, "w") as f:
            f.write(to_yaml(cfg) + "\n")
        proc = subprocess.run([binary_path(), "validate", "--config", path], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=20 * slack())
        return proc.returncode, proc.stderr.decode(errors="replace")

    def test_http_only_on_loopback(self):
        refused = [
            {"jwks_uri": "http://keys.example.com/jwks.json"},
            {"issuer": "http://auth.example.com", "discovery": True},
            {"jwks_uri": "ftp://127.0.0.1/jwks.json"},
        ]
        for issuer in refused:
            with self.subTest(issuer=issuer):
                code, err = self.validate(issuer)
                self.assertEqual(code, 1, err)
                self.assertIn("issuers[0]", err)
        allowed = [
            {"jwks_uri": "http://127.0.0.1:8080/jwks.json"},
            {"jwks_uri": "http://localhost:8080/jwks.json"},
            {"jwks_uri": "https://keys.example.com/jwks.json"},
            {"issuer": "http://127.0.0.1:8080", "discovery": True},
        ]
        for issuer in allowed:
            with self.subTest(issuer=issuer):
                code, err = self.validate(issuer)
                self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main()
