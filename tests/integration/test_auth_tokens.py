"""Bearer tokens through the real binary: valid tokens forwarded with identity headers,
every forged or invalid class refused with its reason (client, upstream and metrics)."""

import json
import os
import time
import unittest

from auth_support import (CACHE_HIT, CACHE_MISS, EcSigner, JwksServer, KeyPair, auth_failure_pattern,
                          b64u, b64u_decode, challenge_description, claims_for, compact_json,
                          der_ecdsa, forge, hs256, issuer_config, jwks_of, metric_values, now,
                          request, split_token, temp_dir, wait_metrics_at_least,
                          write_json_atomic)
from harness import Gateway, GatewayTestCase, RecordingUpstream, build_request

ISSUER = "https://issuer.test"
ALGS = ("RS256", "PS256", "ES256", "ES384", "EdDSA")
MAX_TOKEN = 4096
CLAIM_HEADERS = {"email": "X-Auth-Email", "tenant_id": "X-Auth-Tenant", "level": "X-Auth-Level",
                 "groups": "X-Auth-Groups", "note": "X-Auth-Note", "admin": "X-Auth-Admin",
                 "profile": "X-Auth-Profile"}
IDENTITY = ("x-auth-subject", "x-auth-issuer", "x-auth-scopes") + tuple(
    h.lower() for h in CLAIM_HEADERS.values())
_P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551


def norm(name):
    return name.lower().replace("_", "-")


def identity_headers_seen(req):
    """{normalized identity header name: [values]} of what the upstream received."""
    out = {}
    for name, value in req.headers:
        if norm(name) in IDENTITY:
            out.setdefault(norm(name), []).append(value)
    return out


WEAK_ED25519_KID = "weak-ed25519"
SMALL_ORDER_X = b"\x01" + b"\x00" * 31  # the Ed25519 identity point


class TokenTestCase(GatewayTestCase):
    """One gateway whose issuer `main` trusts an RS256, PS256, ES256, ES384 and EdDSA key
    (jwks_file), plus an attacker key it does not know and a jku server that must stay idle."""

    @classmethod
    def setUpClass(cls):
        cls.keys = {alg: KeyPair(alg) for alg in ALGS}
        cls.es = cls.keys["ES256"]
        cls.signer = EcSigner(cls.es)
        cls.attacker = KeyPair("ES256")
        cls.attacker_signer = EcSigner(cls.attacker)
        cls.jku = JwksServer(keys=[cls.attacker])
        directory = temp_dir()
        cls.jwks_path = os.path.join(directory, "jwks.json")
        # Plus an Ed25519 key of small order (the identity point), which must be skipped: under
        # it, R = identity and S = 0 would verify any message.
        doc = jwks_of(*cls.keys.values())
        doc["keys"].append({"kty": "OKP", "crv": "Ed25519", "kid": WEAK_ED25519_KID, "x": b64u(SMALL_ORDER_X)})
        write_json_atomic(cls.jwks_path, doc)
        cls.CONFIG = {
            "limits": {"max_token_bytes": MAX_TOKEN},
            "issuers": [issuer_config(issuer=ISSUER, jwks_file=cls.jwks_path, algorithms=ALGS,
                                      leeway="30s", cookie="session_token")],
            "identity_headers": {"claims": dict(CLAIM_HEADERS)},
        }
        try:
            super().setUpClass()
        except Exception:
            cls.jku.close()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.jku.close()

    # -- helpers -------------------------------------------------------------------------
    def valid_claims(self, **extra):
        c = claims_for(issuer=ISSUER, iat=now(), exp=now() + 600)
        c.update(extra)
        return c

    def get(self, token=None, headers=(), scheme="Bearer", path="/t"):
        return request(self.gw, path, token, headers, scheme)

    def settled_metrics(self, patterns):
        """A /metrics snapshot taken after every earlier request's counts were flushed: one
        token-less request is sent and its failure count awaited (flushes are all-at-once)."""
        missing = auth_failure_pattern("token_missing")
        count = metric_values(self.gw, [missing])[missing]
        self.assertEqual(self.get(None, path="/barrier").status, 401)
        wait_metrics_at_least(self.gw, {missing: count + 1})
        return metric_values(self.gw, patterns)

    def assert_allowed(self, resp, token=None):
        self.assertEqual(resp.status, 200, "%r %r" % (resp, resp.body))
        req = self.upstream.last()
        if token is not None:
            self.assertEqual(req.header_values("Authorization"), ["Bearer " + token])
        return req

    def assert_invalid(self, resp, description, what=""):
        """401 invalid_token with this error_description; the upstream saw nothing."""
        self.assertEqual(resp.status, 401, "%s: %r" % (what, resp))
        self.assertEqual(challenge_description(resp), description,
                         "%s: WWW-Authenticate %r" % (what, resp.header_values("WWW-Authenticate")))
        body = resp.json()
        self.assertEqual(body.get("error"), "invalid_token", what)
        self.assertEqual(body.get("request_id"), resp.header("X-Request-Id"))
        self.assertEqual(self.upstream.requests(), [], "%s reached the upstream" % what)


class ValidTokenTest(TokenTestCase):
    def test_each_algorithm_forwarded_with_identity(self):
        for alg in ALGS:
            with self.subTest(alg=alg):
                self.upstream.clear()
                token = self.keys[alg].mint(claims_for(issuer=ISSUER, sub="user-" + alg,
                                                       scope="orders:read orders:write"))
                self.assertEqual(split_token(token)[0]["alg"], alg)
                req = self.assert_allowed(self.get(token), token)
                self.assertEqual(identity_headers_seen(req), {
                    "x-auth-subject": ["user-" + alg],
                    "x-auth-issuer": [ISSUER],
                    "x-auth-scopes": ["orders:read orders:write"],
                })
                entry = self.gw.wait_access_log(lambda e: e.get("subject") == "user-" + alg)[0]
                self.assertEqual(entry["decision"], "allow")
                self.assertEqual(entry["status"], 200)

    def test_numbers_that_crashed_the_json_reader(self):
        """A claim holding 0.(400 zeros)1 sent rapidjson 1.1's full-precision reader outside its
        tables (SEGV, found by fuzzing): read as 0 now, the token allowed, the process up."""
        for number in ("0." + "0" * 400 + "1", "0." + "0" * 400, "1e-400", "-0.0000000000e-99999"):
            with self.subTest(number=number):
                payload = compact_json(self.valid_claims())[:-1] + b',"n":' + number.encode() + b"}"
                token = self.signer.token({"alg": "ES256", "typ": "JWT", "kid": self.es.kid}, payload)
                self.assert_allowed(self.get(token), token)
        self.assertIsNone(self.gw.proc.poll())

    def test_mapped_claims(self):
        dropped = r'^portcullis_identity_claims_dropped_total\{[^}]*claim="note"'
        before = metric_values(self.gw, [dropped])[dropped]
        token = self.es.mint(claims_for(issuer=ISSUER, sub="mapper", email="ann@example.com",
                                        tenant_id="acme", level=3, groups=["eng", "ops", "on-call"],
                                        admin=True, note="line1\r\nX-Injected: yes",
                                        profile={"nested": "object"}))
        req = self.assert_allowed(self.get(token), token)
        seen = identity_headers_seen(req)
        self.assertEqual(seen.get("x-auth-email"), ["ann@example.com"])
        self.assertEqual(seen.get("x-auth-tenant"), ["acme"])
        self.assertEqual(seen.get("x-auth-level"), ["3"])
        self.assertEqual(seen.get("x-auth-groups"), ["eng,ops,on-call"])
        self.assertEqual(seen.get("x-auth-admin"), ["true"])
        self.assertNotIn("x-auth-note", seen)      # control characters: left out
        self.assertNotIn("x-auth-profile", seen)   # an object is not a header value
        self.assertNotIn("x-auth-scopes", seen)    # no scope claim, no header
        self.assertFalse(req.has_header("X-Injected"))
        self.assertNotIn(b"line1", req.raw_head)
        wait_metrics_at_least(self.gw, {dropped: before + 1})

    def test_spoofed_identity_headers_stripped(self):
        token = self.es.mint(claims_for(issuer=ISSUER, sub="real-user", scope="read"))
        spoofed = [("X-Auth-Subject", "evil1"), ("x-auth-subject", "evil2"),
                   ("X_Auth_Subject", "evil3"), ("X-AUTH-SUBJECT", "evil4"),
                   ("x_auth_subject", "evil5"), ("X-Auth-Issuer", "https://evil.test"),
                   ("X_AUTH_SCOPES", "admin"), ("X-Auth-Scopes", "admin"),
                   ("X-Auth-Email", "spoof@evil.test"), ("x_auth_tenant", "evil-tenant"),
                   ("Connection", "X-Auth-Subject, X-Auth-Issuer, X-Auth-Scopes")]
        req = self.assert_allowed(self.get(token, spoofed), token)
        self.assertEqual(identity_headers_seen(req), {
            "x-auth-subject": ["real-user"], "x-auth-issuer": [ISSUER], "x-auth-scopes": ["read"]})
        self.assertNotIn(b"evil", req.raw_head.lower())
        self.assertNotIn(b"admin", req.raw_head.lower())

    def test_spoofed_headers_without_token_never_forwarded(self):
        resp = self.get(None, [("X-Auth-Subject", "admin")])
        self.assertEqual(resp.status, 401)
        self.assertEqual(resp.header_values("WWW-Authenticate"), ['Bearer realm="portcullis"'])
        self.assertEqual(resp.json().get("error"), "missing_token")
        self.upstream.assert_nothing()

    def test_bearer_scheme_case_insensitive(self):
        token = self.es.mint(self.valid_claims(sub="casey"))
        for scheme in ("Bearer", "bearer", "BEARER", "bEaReR"):
            with self.subTest(scheme=scheme):
                self.upstream.clear()
                resp = self.get(token, scheme=scheme)
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(identity_headers_seen(self.upstream.last())["x-auth-subject"],
                                 ["casey"])

    def test_malformed_authorization_header(self):
        token = self.es.mint(self.valid_claims())
        for value in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer  " + token,
                      "Bearer " + token + " extra", "Bearer\t" + token, "Token " + token,
                      "Bearer " + token + ","):
            with self.subTest(value=value[:40]):
                resp = self.get(headers=[("Authorization", value)])
                self.assertEqual(resp.status, 401, resp)
                self.assertIn(challenge_description(resp),
                              ("malformed authorization header", "no bearer token"), resp)
                self.upstream.assert_nothing(grace=0)

    def test_two_authorization_headers_400(self):
        token = self.es.mint(self.valid_claims())
        for second in (token, "Basic dXNlcjpwYXNz"):
            with self.subTest(second=second[:10]):
                raw = build_request("GET", "/t", [("Host", self.host),
                                                  ("Authorization", "Bearer " + token),
                                                  ("authorization", "Bearer " + second)])
                self.assert_rejected(raw, 400, error_code="bad_request")

    def test_forward_token_default_keeps_authorization(self):
        token = self.es.mint(self.valid_claims())
        req = self.assert_allowed(self.get(token))
        self.assertEqual(req.header_values("Authorization"), ["Bearer " + token])

    def test_cookie_token(self):
        token = self.es.mint(self.valid_claims(sub="cookie-user"))
        resp = self.get(headers=[("Cookie", "theme=dark; session_token=%s; lang=en" % token)])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(identity_headers_seen(self.upstream.last())["x-auth-subject"],
                         ["cookie-user"])
        self.upstream.clear()
        # A cookie with another name is no token; a forged one is an invalid token.
        resp = self.get(headers=[("Cookie", "session_tokenx=%s" % token)])
        self.assertEqual(resp.status, 401)
        self.assertEqual(resp.json().get("error"), "missing_token")
        bad = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBA")
        resp = self.get(headers=[("Cookie", "session_token=%s" % bad)])
        self.assert_invalid(resp, "invalid signature", "forged cookie")
        big = "a" * (MAX_TOKEN + 1)
        resp = self.get(headers=[("Cookie", "session_token=%s" % big)])
        self.assert_invalid(resp, "token too large", "huge cookie")

    def test_expiry_and_leeway(self):
        t = now()
        rows = [("expired 10s ago, inside 30s leeway", {"iat": t - 600, "exp": t - 10}, None),
                ("expired 120s ago", {"iat": t - 600, "exp": t - 120}, "token expired"),
                ("nbf 10s ahead, inside leeway", {"nbf": t + 10, "exp": t + 600}, None),
                ("nbf 600s ahead", {"nbf": t + 600, "exp": t + 1200}, "token not yet valid")]
        for what, extra, description in rows:
            with self.subTest(what):
                self.upstream.clear()
                token = self.es.mint(claims_for(issuer=ISSUER, **extra))
                resp = self.get(token)
                if description is None:
                    self.assertEqual(resp.status, 200, resp)
                else:
                    self.assert_invalid(resp, description, what)

    def test_token_size_limit(self):
        # Build ES256 tokens right around limits.max_token_bytes.
        def token_of_length(target):
            pad = 0
            for _ in range(20):
                tok = self.signer.token({"alg": "ES256", "typ": "JWT", "kid": self.es.kid},
                                        self.valid_claims(pad="x" * pad))
                if target - 3 <= len(tok) <= target:
                    return tok
                pad += (target - len(tok)) * 3 // 4 or (1 if len(tok) < target else -1)
            raise AssertionError("could not size a token to %d" % target)
        fits = token_of_length(MAX_TOKEN)
        self.assertLessEqual(len(fits), MAX_TOKEN)
        self.assertEqual(self.get(fits).status, 200)
        self.upstream.clear()
        patterns = [CACHE_HIT, CACHE_MISS, auth_failure_pattern("token_too_large")]
        before = self.settled_metrics(patterns)
        too_big = self.signer.token({"alg": "ES256", "typ": "JWT", "kid": self.es.kid},
                                    self.valid_claims(pad="x" * (MAX_TOKEN * 3 // 4)))
        self.assertGreater(len(too_big), MAX_TOKEN)
        for what, tok in (("signed but too large", too_big), ("junk", "A" * 6000)):
            with self.subTest(what):
                self.assert_invalid(self.get(tok), "token too large", what)
        wait_metrics_at_least(self.gw, {patterns[2]: before[patterns[2]] + 2})
        after = metric_values(self.gw, patterns)
        # Refused before parsing or verifying: the token cache was never consulted.
        self.assertEqual(after[CACHE_HIT] + after[CACHE_MISS],
                         before[CACHE_HIT] + before[CACHE_MISS])

    def test_same_token_twice_is_cache_hit(self):
        token = self.es.mint(self.valid_claims(sub="cached"))
        before = self.settled_metrics([CACHE_HIT, CACHE_MISS])
        for _ in range(2):
            self.assertEqual(self.get(token).status, 200)
        wait_metrics_at_least(self.gw, {CACHE_HIT: before[CACHE_HIT] + 1,
                                        CACHE_MISS: before[CACHE_MISS] + 1})
        for req in self.upstream.wait_requests(2):
            self.assertEqual(identity_headers_seen(req)["x-auth-subject"], ["cached"])
        after = metric_values(self.gw, [CACHE_HIT, CACHE_MISS])
        self.assertEqual((after[CACHE_HIT] - before[CACHE_HIT], after[CACHE_MISS] - before[CACHE_MISS]),
                         (1, 1), "first use: one miss; second use: one hit")

    def test_cache_entry_ends_at_exp(self):
        """A verified-token cache entry never outlives the token's exp: a token that expires in
        a few seconds is a cache hit until then, and after exp (still inside the 30 s leeway, so
        still accepted) it is verified afresh: a miss, not a hit."""
        before = self.settled_metrics([CACHE_HIT, CACHE_MISS])
        exp = now() + 4
        token = self.es.mint(claims_for(issuer=ISSUER, iat=exp - 600, exp=exp))
        for _ in range(2):
            self.assertEqual(self.get(token).status, 200)
        mid = wait_metrics_at_least(self.gw, {CACHE_HIT: before[CACHE_HIT] + 1, CACHE_MISS: before[CACHE_MISS] + 1})
        self.assertGreater(exp + 0.2, time.time(), "too slow: the second request came after exp")
        time.sleep(max(0.0, exp + 1.2 - time.time()))
        self.assertEqual(self.get(token).status, 200)  # inside leeway: valid, but not from the cache
        after = self.settled_metrics([CACHE_HIT, CACHE_MISS])
        self.assertEqual((after[CACHE_HIT] - mid[CACHE_HIT], after[CACHE_MISS] - mid[CACHE_MISS]), (0, 1))

    def test_access_log_never_contains_token(self):
        good = self.es.mint(self.valid_claims(sub="logged"))
        bad = self.attacker.mint(self.valid_claims(sub="logged-bad"), kid=self.es.kid)
        cookie = self.es.mint(self.valid_claims(sub="logged-cookie"))
        self.assertEqual(self.get(good, path="/log/a?access_token=" + good).status, 200)
        self.assertEqual(self.get(bad, path="/log/b").status, 401)
        self.assertEqual(self.get(headers=[("Cookie", "session_token=" + cookie)],
                                  path="/log/c").status, 200)
        self.gw.wait_access_log(lambda e: str(e.get("path", "")).startswith("/log/"), count=3)
        entries = [e for e in self.gw.access_log() if str(e.get("path", "")).startswith("/log/")]
        self.assertEqual(sorted(e["path"] for e in entries), ["/log/a", "/log/b", "/log/c"])
        text = "\n".join(self.gw.stdout_lines() + self.gw.stderr_lines())
        for tok in (good, bad, cookie):
            for piece in tok.split("."):
                self.assertNotIn(piece, text)


class ForwardTokenFalseTest(unittest.TestCase):
    def test_authorization_stripped_when_forward_token_false(self):
        key = KeyPair("ES256")
        path = os.path.join(temp_dir(), "jwks.json")
        write_json_atomic(path, jwks_of(key))
        config = {"issuers": [issuer_config(issuer=ISSUER, jwks_file=path, cookie="sess")],
                  "identity_headers": {"forward_token": False}}
        with RecordingUpstream() as upstream, Gateway(config, upstream) as gw:
            token = key.mint(claims_for(issuer=ISSUER, sub="no-forward"))
            resp = request(gw, "/nf", token)
            self.assertEqual(resp.status, 200, resp)
            req = upstream.last()
            self.assertFalse(req.has_header("Authorization"), req.raw_head)
            self.assertEqual(req.header_values("X-Auth-Subject"), ["no-forward"])
            self.assertNotIn(token.split(".")[2].encode(), req.raw_head)


class ForgedTokenTest(TokenTestCase):
    """Every invalid or forged class: 401, its words in WWW-Authenticate, its reason in
    portcullis_auth_failures_total, nothing upstream."""

    def es_header(self, **extra):
        h = {"alg": "ES256", "typ": "JWT", "kid": self.es.kid}
        h.update(extra)
        return h

    def run_rows(self, rows):
        """rows: (what, token, description, reason). Checks each answer, then the metrics."""
        patterns = sorted({auth_failure_pattern(r[3]) for r in rows})
        before = metric_values(self.gw, patterns)
        want = dict(before)
        for what, token, description, reason in rows:
            with self.subTest(what):
                self.assert_invalid(self.get(token), description, what)
            want[auth_failure_pattern(reason)] += 1
        self.upstream.assert_nothing()
        wait_metrics_at_least(self.gw, want)

    def test_alg_none_and_unknown(self):
        payload = self.valid_claims()
        valid = self.es.mint(payload)
        _, _, sig, parts = split_token(valid)
        rows = []
        for spelling in ("none", "None", "NONE", "nOnE"):
            rows.append(("alg %s, empty signature" % spelling,
                         forge(self.es_header(alg=spelling), payload),
                         "unsecured tokens are not accepted", "jwt_alg_none"))
        rows.append(("alg none, real signature kept",
                     b64u(compact_json(self.es_header(alg="none"))) + "." + parts[1] + "." + parts[2],
                     "unsecured tokens are not accepted", "jwt_alg_none"))
        rows.append(("alg none, no kid",
                     forge({"alg": "none"}, payload),
                     "unsecured tokens are not accepted", "jwt_alg_none"))
        for alg in ("none ", "ES256K", "", "es256", "HS1"):
            rows.append(("alg %r" % alg, self.signer.token(self.es_header(alg=alg), payload),
                         "unsupported alg", "jwt_alg_unknown"))
        rows.append(("alg not a string", self.signer.token(self.es_header(alg=["ES256"]), payload),
                     "unsupported alg", "jwt_alg_unknown"))
        rows.append(("no alg", self.signer.token({"typ": "JWT", "kid": self.es.kid}, payload),
                     "token has no alg", "jwt_alg_missing"))
        rows.append(("ES512 (implemented, not allowed for the issuer)",
                     self.signer.token(self.es_header(alg="ES512"), payload),
                     "alg not allowed for this issuer", "jwt_alg_not_allowed"))
        self.run_rows(rows)

    def test_hmac_with_public_key_material(self):
        payload = self.valid_claims()
        rsa = self.keys["RS256"]
        rows = []
        for key, label in ((self.es, "ES256"), (rsa, "RS256")):
            secrets_ = {"public PEM": key.public_pem,
                        "public PEM without newline": key.public_pem.strip(),
                        "JWK JSON": json.dumps(key.jwk).encode(),
                        "JWKS JSON": json.dumps(key.jwks).encode()}
            if label == "RS256":
                secrets_["raw modulus"] = b64u_decode(key.jwk["n"])
            for name, secret in secrets_.items():
                for alg_hdr in ({"alg": "HS256", "typ": "JWT", "kid": key.kid},
                                {"alg": "HS256", "typ": "JWT"}):
                    rows.append(("HS256 with %s %s (kid=%s)" % (label, name, "kid" in alg_hdr),
                                 hs256(alg_hdr, payload, secret),
                                 "alg not allowed for this issuer", "jwt_alg_not_allowed"))
        self.run_rows(rows)

    def test_keys_offered_by_the_token_never_used_or_fetched(self):
        payload = self.valid_claims()
        a = self.attacker_signer
        jku_url = self.jku.jwks_url
        rows = [
            ("embedded jwk, attacker kid",
             a.token({"alg": "ES256", "kid": self.attacker.kid, "jwk": self.attacker.jwk}, payload),
             "unknown signing key", "jwks_kid_not_found"),
            ("embedded jwk, no kid",
             a.token({"alg": "ES256", "jwk": self.attacker.jwk}, payload),
             "invalid signature", "jwt_signature_invalid"),
            ("embedded jwk, our kid",
             a.token({"alg": "ES256", "kid": self.es.kid, "jwk": self.attacker.jwk}, payload),
             "invalid signature", "jwt_signature_invalid"),
            ("jku to a server holding the attacker key",
             a.token({"alg": "ES256", "kid": self.attacker.kid, "jku": jku_url}, payload),
             "unknown signing key", "jwks_kid_not_found"),
            ("jku, no kid",
             a.token({"alg": "ES256", "jku": jku_url}, payload),
             "invalid signature", "jwt_signature_invalid"),
            ("x5u",
             a.token({"alg": "ES256", "kid": self.attacker.kid, "x5u": self.jku.url + "/cert.pem"},
                     payload),
             "unknown signing key", "jwks_kid_not_found"),
            ("x5c with junk chain, no kid",
             a.token({"alg": "ES256", "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]},
                     payload),
             "invalid signature", "jwt_signature_invalid"),
        ]
        self.run_rows(rows)
        self.assertEqual(self.jku.hits(), 0, "the gateway fetched a URL named by a token: %r"
                         % self.jku.request_log())

    def test_kid_tricks(self):
        payload = self.valid_claims()
        s = self.signer
        rows = []
        for what, kid, description, reason in (
                ("kid of 300 characters", "k" * 300, "invalid kid", "jwt_kid_invalid"),
                ("kid of 2000 characters", "k" * 2000, "invalid kid", "jwt_kid_invalid"),
                ("kid number", 123, "invalid kid", "jwt_kid_invalid"),
                ("kid object", {"kid": "x"}, "invalid kid", "jwt_kid_invalid"),
                ("kid array", [self.es.kid], "invalid kid", "jwt_kid_invalid"),
                ("kid null", None, "invalid kid", "jwt_kid_invalid"),
                ("kid true", True, "invalid kid", "jwt_kid_invalid"),
                ("kid path", "../../../../etc/passwd", "unknown signing key", "jwks_kid_not_found"),
                ("kid /dev/null", "/dev/null", "unknown signing key", "jwks_kid_not_found"),
                ("kid jwks file", self.jwks_path, "unknown signing key", "jwks_kid_not_found"),
                ("kid SQL", "x' OR '1'='1' --", "unknown signing key", "jwks_kid_not_found"),
                ("kid with NUL", self.es.kid + "\u0000", "unknown signing key", "jwks_kid_not_found"),
                ("kid case-changed", self.es.kid.swapcase(), "unknown signing key",
                 "jwks_kid_not_found"),
                ("kid empty", "", "unknown signing key", "jwks_kid_not_found"),
                ("kid of the RSA key on an ES256 token", self.keys["RS256"].kid,
                 "key does not fit alg", "jwks_kid_alg_mismatch"),
                ("kid of the ES384 key on an ES256 token", self.keys["ES384"].kid,
                 "key does not fit alg", "jwks_kid_alg_mismatch")):
            rows.append((what, s.token(self.es_header(kid=kid), payload), description, reason))
        self.run_rows(rows)

    def test_raw_utf8_claims_are_accepted(self):
        # Valid multi-byte UTF-8 in the claims (not \u escapes) takes the validating parse.
        payload = ('{"iss":"%s","aud":"api","exp":%d,"sub":"u","name":"J\u00fcrgen \u20ac \U0001F511"}'
                   % (ISSUER, now() + 600)).encode("utf-8")
        token = self.signer.token(compact_json(self.es_header()), payload)
        self.assert_allowed(self.get(token), token)

    def test_parser_differentials_and_unsupported_headers(self):
        kid = self.es.kid
        exp = now() + 600
        base = '"iss":"%s","aud":"api","exp":%d' % (ISSUER, exp)
        s = self.signer
        rows = [
            ("duplicate alg in header",
             s.token(('{"alg":"ES256","kid":"%s","alg":"none"}' % kid).encode(),
                     ('{%s,"sub":"u"}' % base).encode()),
             "token JSON has a duplicate member", "jwt_duplicate_member"),
            ("duplicate kid in header",
             s.token(('{"alg":"ES256","kid":"%s","kid":"other"}' % kid).encode(),
                     ('{%s,"sub":"u"}' % base).encode()),
             "token JSON has a duplicate member", "jwt_duplicate_member"),
            ("duplicate sub in payload",
             s.token(compact_json(self.es_header()), ('{%s,"sub":"user","sub":"admin"}' % base).encode()),
             "token JSON has a duplicate member", "jwt_duplicate_member"),
            ("duplicate iss in payload",
             s.token(compact_json(self.es_header()),
                     ('{%s,"sub":"u","iss":"https://evil.test"}' % base).encode()),
             "token JSON has a duplicate member", "jwt_duplicate_member"),
            ("duplicate exp via escape",
             s.token(compact_json(self.es_header()),
                     ('{%s,"sub":"u","\\u0065xp":99999999999}' % base).encode()),
             "token JSON has a duplicate member", "jwt_duplicate_member"),
            ("crit [exp]", self.es.mint(self.valid_claims(), header={"crit": ["exp"]}),
             "unsupported critical header", "jwt_crit_unsupported"),
            ("crit with an unknown extension",
             self.es.mint(self.valid_claims(), header={"crit": ["urn:x"], "urn:x": 1}),
             "unsupported critical header", "jwt_crit_unsupported"),
            ("crit empty", self.es.mint(self.valid_claims(), header={"crit": []}),
             "unsupported critical header", "jwt_crit_unsupported"),
            ("b64 false", self.es.mint(self.valid_claims(), header={"b64": False, "crit": ["b64"]}),
             "unencoded payload is not supported", "jwt_b64_unsupported"),
            ("b64 false without crit", self.es.mint(self.valid_claims(), header={"b64": False}),
             "unencoded payload is not supported", "jwt_b64_unsupported"),
            ("typ not a string", self.es.mint(self.valid_claims(), header={"typ": 7}),
             "invalid token header", "jwt_header_invalid"),
            ("header is an array", s.token(b'["ES256"]', ('{%s,"sub":"u"}' % base).encode()),
             "token JSON is not an object", "jwt_not_object"),
            ("payload is a string", s.token(compact_json(self.es_header()), b'"claims"'),
             "token JSON is not an object", "jwt_not_object"),
            ("header not JSON", s.token(b"{alg:ES256}", ('{%s}' % base).encode()),
             "token is not valid JSON", "jwt_bad_json"),
            ("payload with trailing garbage",
             s.token(compact_json(self.es_header()), ('{%s,"sub":"u"}x' % base).encode()),
             "token is not valid JSON", "jwt_bad_json"),
            ("payload number beyond the double range",
             s.token(compact_json(self.es_header()), ('{%s,"sub":"u","n":1e400}' % base).encode()),
             "token is not valid JSON", "jwt_bad_json"),
            # All-ASCII JSON skips the parser's UTF-8 check; anything else is checked in full.
            ("payload with a broken UTF-8 sequence after ASCII",
             s.token(compact_json(self.es_header()),
                     ('{%s,"sub":"u","name":"%s' % (base, "x" * 100)).encode() + b'\xc3"}'),
             "token is not valid JSON", "jwt_bad_json"),
            ("payload with a UTF-8 encoded surrogate",
             s.token(compact_json(self.es_header()), ('{%s,"sub":"u","name":"' % base).encode() + b'\xed\xa0\x80"}'),
             "token is not valid JSON", "jwt_bad_json"),
            ("payload nested 200 deep",
             s.token(compact_json(self.es_header()),
                     ('{%s,"sub":"u","deep":%s1%s}' % (base, "[" * 200, "]" * 200)).encode()),
             "token JSON is nested too deeply", "jwt_json_too_deep"),
        ]
        self.run_rows(rows)

    def test_structure_and_base64(self):
        valid = self.signer.token(self.es_header(), self.valid_claims())
        h, p, sig = valid.split(".")
        # A signature whose base64url text holds '-' or '_' (to turn into '+' '/').
        marked = valid
        while not any(c in marked.split(".")[2] for c in "-_"):
            marked = self.signer.token(self.es_header(), self.valid_claims())
        mh, mp, msig = marked.split(".")
        last = sig[-1]
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        noncanonical = sig[:-1] + alphabet[alphabet.index(last) | 1]
        rows = [
            ("extra segment", valid + ".AAAA", "token is not a compact JWS", "jwt_bad_segment_count"),
            ("two segments", h + "." + p, "token is not a compact JWS", "jwt_bad_segment_count"),
            ("six segments", valid + ".a.b.c", "token is not a compact JWS", "jwt_bad_segment_count"),
            ("five segments (JWE)", valid + ".a.b", "encrypted tokens are not supported",
             "jwe_unsupported"),
            ("not a JWT", "notajwt", "token is not a compact JWS", "jwt_bad_segment_count"),
            ("padding on the signature", valid + "==", "token is not valid base64url",
             "jwt_bad_base64"),
            ("'+' and '/' in the signature",
             mh + "." + mp + "." + msig.replace("-", "+").replace("_", "/"),
             "token is not valid base64url", "jwt_bad_base64"),
            ("non-canonical trailing bits", h + "." + p + "." + noncanonical,
             "token is not valid base64url", "jwt_bad_base64"),
            ("impossible base64 length", h + "." + p + "." + sig + "AAA",
             "token is not valid base64url", "jwt_bad_base64"),
            ("empty signature", h + "." + p + ".", "malformed signature", "jwt_signature_malformed"),
            ("empty header", "." + p + "." + sig, "token is not valid JSON", "jwt_bad_json"),
        ]
        self.run_rows(rows)
        # '=' inside the token is not token68: refused by the header parser instead.
        resp = self.get(h + "=." + p + "." + sig)
        self.assertEqual(resp.status, 401)
        self.assertIn(challenge_description(resp),
                      ("malformed authorization header", "token is not valid base64url"))
        # Through a cookie (no token68 rule) the base64 decoder sees the padding.
        resp = self.get(headers=[("Cookie", "session_token=" + h + "=." + p + "." + sig)])
        self.assert_invalid(resp, "token is not valid base64url", "padding in a cookie token")

    def test_signatures(self):
        payload = self.valid_claims()
        valid = self.signer.token(self.es_header(), payload)
        h, p, sig_text = valid.split(".")
        sig = b64u_decode(sig_text)
        s_part = sig[32:]
        n = _P256_N.to_bytes(32, "big")
        with_sig = lambda raw: h + "." + p + "." + b64u(raw)  # noqa: E731
        rows = [
            ("ECDSA as DER", with_sig(der_ecdsa(sig)), "malformed signature", "jwt_signature_malformed"),
            ("r = s = 0", with_sig(b"\x00" * 64), "malformed signature", "jwt_signature_malformed"),
            ("r = 0", with_sig(b"\x00" * 32 + s_part), "malformed signature", "jwt_signature_malformed"),
            ("r = n", with_sig(n + s_part), "malformed signature", "jwt_signature_malformed"),
            ("one extra byte", with_sig(sig + b"\x00"), "malformed signature", "jwt_signature_malformed"),
            ("zero-padded to 66 bytes", with_sig(b"\x00" + sig[:32] + b"\x00" + sig[32:]),
             "malformed signature", "jwt_signature_malformed"),
            ("one byte short", with_sig(sig[:-1]), "malformed signature", "jwt_signature_malformed"),
            ("bit flipped", with_sig(sig[:-1] + bytes([sig[-1] ^ 1])), "invalid signature",
             "jwt_signature_invalid"),
            ("signed by another key with our kid", self.attacker.mint(payload, kid=self.es.kid),
             "invalid signature", "jwt_signature_invalid"),
            ("payload swapped after signing",
             h + "." + b64u(compact_json(dict(payload, sub="admin"))) + "." + sig_text,
             "invalid signature", "jwt_signature_invalid"),
            ("RS256 signature on a PS256 key",
             self.keys["PS256"].mint(payload, alg="RS256"), "key does not fit alg",
             "jwks_kid_alg_mismatch"),
        ]
        # An RSA token's signature stripped of a byte, and an EdDSA one with a flipped bit.
        rs = self.keys["RS256"].mint(payload)
        rh, rp, rsig = rs.split(".")
        rows.append(("RSA signature one byte short",
                     rh + "." + rp + "." + b64u(b64u_decode(rsig)[:-1]),
                     "malformed signature", "jwt_signature_malformed"))
        # The universal forgery under a small-order Ed25519 key: that key was skipped, so its kid
        # is unknown, and kid-less the forgery is tried against the good EdDSA key only.
        forged = SMALL_ORDER_X + b"\x00" * 32
        rows.append(("small-order Ed25519 forgery, the weak key's kid",
                     forge({"alg": "EdDSA", "kid": WEAK_ED25519_KID}, payload, forged),
                     "unknown signing key", "jwks_kid_not_found"))
        rows.append(("small-order Ed25519 forgery, no kid", forge({"alg": "EdDSA"}, payload, forged),
                     "invalid signature", "jwt_signature_invalid"))
        ed = self.keys["EdDSA"].mint(payload)
        eh, ep, esig = ed.split(".")
        raw = b64u_decode(esig)
        rows.append(("EdDSA bit flipped", eh + "." + ep + "." + b64u(raw[:-1] + bytes([raw[-1] ^ 1])),
                     "invalid signature", "jwt_signature_invalid"))
        self.run_rows(rows)

    def test_claims(self):
        t = now()
        mint = lambda **c: self.es.mint(claims_for(issuer=ISSUER, **c))  # noqa: E731
        rows = [
            ("aud array without ours", mint(aud=["other", "api2"]), "audience not accepted",
             "jwt_aud_mismatch"),
            ("aud other string", mint(aud="API"), "audience not accepted", "jwt_aud_mismatch"),
            ("aud number", mint(aud=5), "invalid audience", "jwt_aud_invalid"),
            ("aud array with a number", mint(aud=["api", 5]), "invalid audience", "jwt_aud_invalid"),
            ("exp as string", mint(exp=str(t + 600)), "invalid exp", "jwt_exp_invalid"),
            ("exp huge (2^60)", mint(exp=2 ** 60), "invalid exp", "jwt_exp_invalid"),
            ("exp 1e300", self.signer.token(self.es_header(),
                                           ('{"iss":"%s","aud":"api","exp":1e300}' % ISSUER).encode()),
             "invalid exp", "jwt_exp_invalid"),
            ("exp negative", mint(exp=-1), "invalid exp", "jwt_exp_invalid"),
            ("exp null", mint(exp=None), "invalid exp", "jwt_exp_invalid"),
            ("no exp", self.es.mint(claims_for(issuer=ISSUER), ttl=0), "token has no expiry",
             "jwt_exp_missing"),
            ("nbf as string", mint(nbf=str(t)), "invalid nbf", "jwt_nbf_invalid"),
            ("iat as string", mint(iat=str(t)), "invalid iat", "jwt_iat_invalid"),
            ("wrong iss", self.es.mint(claims_for(issuer="https://evil.test")), "unknown issuer",
             "jwt_iss_unknown"),
            ("iss with trailing slash", self.es.mint(claims_for(issuer=ISSUER + "/")),
             "unknown issuer", "jwt_iss_unknown"),
            ("iss not a string", self.es.mint({"iss": ["https://issuer.test"], "aud": "api"}),
             "issuer is not a string", "jwt_iss_not_string"),
            ("no iss", self.es.mint({"aud": "api", "sub": "x"}), "token has no issuer",
             "jwt_iss_missing"),
            ("no aud", self.es.mint({"iss": ISSUER, "sub": "x"}), "token has no audience",
             "jwt_aud_missing"),
            ("sub number", mint(sub=42), "invalid subject", "jwt_sub_invalid"),
            ("sub with newline", mint(sub="user\nX-Auth-Scopes: admin"),
             "claim contains a control character", "jwt_claim_control_char"),
            ("scope with a control char", mint(scope="read\x01write"),
             "claim contains a control character", "jwt_claim_control_char"),
            ("scope a number", mint(scope=7), "invalid scope claim", "jwt_scope_invalid"),
        ]
        self.run_rows(rows)


if __name__ == "__main__":
    unittest.main()
