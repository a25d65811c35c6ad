"""Route policies through the real binary: every decision (404, 405, public, optional, 401,
403, allowed to the route's upstream), identity-header stripping, path tricks, hot reload
(file change, SIGHUP, broken file, ConfigMap symlink swap, reload under load) and the
validate / test / explain commands."""

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import unittest

from auth_support import (KeyPair, claims_for, forge, issuer_config, jwks_of, metric_value, request,
                          temp_dir, wait_metrics_at_least, write_json_atomic)
from harness import (Gateway, GatewayTestCase, HttpConn, RecordingUpstream, binary_path,
                     build_request, deep_merge, send_raw, first_response, slack, to_yaml,
                     wait_until)

ISS = "https://corp.test"
OTHER_ISS = "https://other.test"
CLAIM_HEADERS = {"email": "X-Auth-Email", "tenant_id": "X-Auth-Tenant"}
IDENTITY = ("x-auth-subject", "x-auth-issuer", "x-auth-scopes", "x-auth-email", "x-auth-tenant")
RELOAD_OK = r'^portcullis_config_reload_total\{[^}]*result="success"'
RELOAD_FAIL = r'^portcullis_config_reload_total\{[^}]*result="failure"'

DECISION_POLICY = """\
routes:
  - name: health
    match: {path: /healthz, methods: [GET]}
    auth: none
  - name: maybe
    match: {path_prefix: /maybe}
    auth: optional
    issuers: [corp]
  - name: orders-read
    match: {path_prefix: /orders, methods: [GET, HEAD]}
    upstream: orders
    issuers: [corp]
    require:
      scopes: {all_of: ["orders:read"]}
  - name: orders-write
    match: {path_prefix: /orders, methods: [POST, PUT, PATCH]}
    issuers: [corp]
    require:
      scopes: {all_of: ["orders:write"]}
  - name: admin
    match: {path_prefix: /admin}
    issuers: [corp]
    require:
      claims:
        roles: {contains: admin}
  - name: public
    match: {path_prefix: /public}
    auth: none
default: deny
"""

TRICKS_POLICY = """\
routes:
  - name: admin
    match: {%s: /admin}
    issuers: [corp]
    require:
      claims:
        roles: {contains: admin}
  - name: public
    match: {path_prefix: /public}
    auth: none
default: deny
"""

RELOAD_READ = """\
routes:
  - name: health
    match: {path: /healthz}
    auth: none
  - name: orders
    match: {path_prefix: /orders}
    issuers: [corp]
    require:
      scopes: {all_of: ["orders:read"]}
default: deny
"""

RELOAD_WRITE = RELOAD_READ.replace('"orders:read"', '"orders:write"')

# The same decisions as RELOAD_READ for the requests the load test sends, with the routes in a
# different order (and an extra route that never matches them).
RELOAD_READ_REORDERED = """\
routes:
  - name: orders
    match: {path_prefix: /orders}
    issuers: [corp]
    require:
      scopes: {any_of: ["orders:read"]}
  - name: unused
    match: {path: /unused}
    auth: none
  - name: health
    match: {path: /healthz}
    auth: none
default: deny
"""


def norm(name):
    return name.lower().replace("_", "-")


def identity_seen(req):
    out = {}
    for name, value in req.headers:
        if norm(name) in IDENTITY:
            out.setdefault(norm(name), []).append(value)
    return out


def write_atomic(path, text):
    write_json_atomic(path, text)


class Keys:
    """The corp and other issuers' keys, an unknown key, and their jwks files (made once)."""
    _made = None

    @classmethod
    def get(cls):
        if cls._made is None:
            k = cls()
            k.corp = KeyPair("ES256")
            k.other = KeyPair("ES256")
            k.stranger = KeyPair("ES256")
            d = temp_dir("portcullis-pol-keys-")
            k.corp_jwks = os.path.join(d, "corp.json")
            k.other_jwks = os.path.join(d, "other.json")
            write_json_atomic(k.corp_jwks, jwks_of(k.corp))
            write_json_atomic(k.other_jwks, jwks_of(k.other))
            k._tokens = {}
            cls._made = k
        return cls._made

    def token(self, key="corp", **claims):
        """A cached token from `key` (corp, other, stranger) with these claims."""
        ident = (key, json.dumps(claims, sort_keys=True))
        if ident not in self._tokens:
            kp = getattr(self, key)
            iss = OTHER_ISS if key == "other" else ISS
            self._tokens[ident] = kp.mint(claims_for(issuer=iss, aud="api", **claims), ttl="1h")
        return self._tokens[ident]


def base_config(keys, policies, extra=None):
    cfg = {
        "issuers": [issuer_config(name="corp", issuer=ISS, jwks_file=keys.corp_jwks),
                    issuer_config(name="other", issuer=OTHER_ISS, jwks_file=keys.other_jwks)],
        "identity_headers": {"claims": dict(CLAIM_HEADERS)},
        "policies": list(policies),
    }
    if extra:
        cfg = deep_merge(cfg, extra)
    return cfg


def get(gw, path, token=None, headers=(), method="GET"):
    return request(gw, path, token, headers, method=method)


# ----------------------------------------------------------------------------------------
# 1 + 2: decisions and headers

class DecisionTest(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.keys = Keys.get()
        d = temp_dir("portcullis-pol-")
        path = os.path.join(d, "routes.yaml")
        write_atomic(path, DECISION_POLICY)
        cls.orders_up = RecordingUpstream()
        cls.CONFIG = base_config(cls.keys, [path],
                                 {"upstreams": {"orders": {"url": cls.orders_up.url}}})
        try:
            super().setUpClass()
        except Exception:
            cls.orders_up.close()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.orders_up.close()

    def setUp(self):
        super().setUp()
        self.orders_up.clear()

    def nothing_upstream(self, what):
        self.upstream.assert_nothing(grace=0.1)
        self.orders_up.assert_nothing(grace=0)

    def assert_error(self, resp, status, error, what):
        self.assertEqual(resp.status, status, "%s: %r %r" % (what, resp, resp.body))
        self.assertEqual(resp.json().get("error"), error, what)
        self.nothing_upstream(what)

    # -- decisions -----------------------------------------------------------------------
    def test_no_route_404(self):
        tok = self.keys.token(sub="alice", scope="orders:read", roles=["admin"])
        for path in ("/nothing", "/", "/healthzz", "/ordersX"):
            with self.subTest(path=path):
                self.assert_error(get(self.gw, path, tok), 404, "no_route", path)
        entry = self.gw.wait_access_log(lambda e: e.get("path") == "/nothing")[0]
        self.assertEqual(entry.get("status"), 404)

    def test_method_not_routed_405_with_allow(self):
        tok = self.keys.token(sub="alice", scope="orders:read orders:write")
        resp = get(self.gw, "/orders/7", tok, method="DELETE")
        self.assertEqual(resp.status, 405, resp)
        allow = {m.strip() for v in resp.header_values("Allow") for m in v.split(",")}
        self.assertEqual(allow, {"GET", "HEAD", "POST", "PUT", "PATCH"}, resp.header_values("Allow"))
        self.nothing_upstream("DELETE /orders/7")
        resp = get(self.gw, "/healthz", method="POST")
        self.assertEqual(resp.status, 405, resp)
        self.assertEqual([v.replace(" ", "") for v in resp.header_values("Allow")], ["GET"])
        self.nothing_upstream("POST /healthz")

    def test_auth_none_forwarded_without_identity(self):
        spoof = [("X-Auth-Subject", "evil"), ("x_auth_issuer", "evil"), ("X-AUTH-SCOPES", "admin")]
        for token in (None, "garbage.not.a-token", self.keys.token(sub="alice", scope="x")):
            with self.subTest(token=str(token)[:12]):
                self.upstream.clear()
                resp = get(self.gw, "/healthz", token, spoof)
                self.assertEqual(resp.status, 200, resp)
                req = self.upstream.last()
                self.assertEqual(req.target, "/healthz")
                self.assertEqual(identity_seen(req), {})
                self.orders_up.assert_nothing(grace=0)
        entry = self.gw.wait_access_log(lambda e: e.get("path") == "/healthz")[0]
        self.assertEqual(entry.get("route"), "health")

    def test_optional_anonymous_forwarded_without_identity(self):
        resp = get(self.gw, "/maybe/x", None, [("X-Auth-Subject", "evil"), ("x_auth_email", "e@x")])
        self.assertEqual(resp.status, 200, resp)
        req = self.upstream.last()
        self.assertEqual(req.target, "/maybe/x")
        self.assertEqual(identity_seen(req), {})

    def test_optional_with_valid_token_gets_identity(self):
        tok = self.keys.token(sub="olly", email="olly@corp.test")
        resp = get(self.gw, "/maybe", tok, [("X-Auth-Subject", "evil")])
        self.assertEqual(resp.status, 200, resp)
        seen = identity_seen(self.upstream.last())
        self.assertEqual(seen.get("x-auth-subject"), ["olly"])
        self.assertEqual(seen.get("x-auth-issuer"), [ISS])
        self.assertEqual(seen.get("x-auth-email"), ["olly@corp.test"])

    def test_optional_with_invalid_token_401(self):
        bad = {"garbage": "garbage.not.a-token",
               "unknown key": self.keys.token("stranger", sub="mallory"),
               "expired": self.keys.corp.mint(claims_for(issuer=ISS, aud="api", sub="old",
                                                         exp=int(time.time()) - 3600,
                                                         iat=int(time.time()) - 7200))}
        # The shapes of CVE-2021-21378 and kin: whatever is presented and fails, at any stage.
        bad["alg none"] = forge({"alg": "none", "typ": "JWT"}, claims_for(issuer=ISS, aud="api", sub="root"))
        bad["issuer configured nowhere"] = KeyPair("ES256").mint(
            claims_for(issuer="https://nobody.example", aud="api", sub="root"))
        bad["oversized"] = "a" * 9000  # over max_token_bytes (8192), under the header limit
        for what, tok in bad.items():
            with self.subTest(what=what):
                resp = get(self.gw, "/maybe/x", tok)
                self.assert_error(resp, 401, "invalid_token", "optional + " + what)
                self.assertTrue(resp.header("WWW-Authenticate", "").startswith("Bearer "), resp)
        # An Authorization header that is not a single bearer token is not "no token" either.
        for value in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer  x.y.z", "Token x.y.z"):
            with self.subTest(header=value):
                resp = get(self.gw, "/maybe/x", None, [("Authorization", value)])
                self.assertEqual(resp.status, 401, "%s: %r %r" % (value, resp, resp.body))
                self.assertTrue(resp.header("WWW-Authenticate", "").startswith("Bearer "), resp)
                self.nothing_upstream("optional + Authorization: " + value)

    def test_required_without_token_401(self):
        for method, path in (("GET", "/orders"), ("POST", "/orders/1"), ("GET", "/admin")):
            with self.subTest(path=path, method=method):
                resp = get(self.gw, path, None, [("X-Auth-Subject", "evil")], method=method)
                self.assertEqual(resp.status, 401, resp)
                self.assertTrue(resp.header("WWW-Authenticate", "").startswith("Bearer realm="))
                self.nothing_upstream(path)

    def test_invalid_token_on_required_401(self):
        resp = get(self.gw, "/orders/7", self.keys.token("stranger", sub="m", scope="orders:read"))
        self.assert_error(resp, 401, "invalid_token", "unknown key on /orders")

    def test_issuer_not_in_route_issuers_401(self):
        tok = self.keys.token("other", sub="otto", scope="orders:read", roles=["admin"])
        for path in ("/orders/7", "/admin"):
            with self.subTest(path=path):
                resp = get(self.gw, path, tok)
                self.assertEqual(resp.status, 401, "%s: %r %r" % (path, resp, resp.body))
                self.nothing_upstream(path)
        # An optional route listing only corp: a token from another issuer is not anonymous.
        resp = get(self.gw, "/maybe", tok)
        self.assertEqual(resp.status, 401, resp)
        self.nothing_upstream("/maybe with other issuer")

    def test_requirements_not_met_403(self):
        cases = [("GET", "/orders/7", {"scope": "orders:readonly"}, "orders:read"),
                 ("GET", "/orders", {"scope": "ORDERS:READ"}, "orders:read"),
                 ("GET", "/orders", {}, "orders:read"),
                 ("POST", "/orders", {"scope": "orders:read"}, "orders:write")]
        for method, path, claims, scope in cases:
            with self.subTest(method=method, path=path, claims=claims):
                tok = self.keys.token(sub="alice", **claims)
                resp = get(self.gw, path, tok, method=method)
                self.assertEqual(resp.status, 403, "%s %s %r" % (method, path, resp))
                self.assertEqual(resp.header_values("WWW-Authenticate"),
                                 ['Bearer realm="portcullis", error="insufficient_scope", '
                                  'scope="%s"' % scope])
                self.assertEqual(resp.json().get("error"), "insufficient_scope")
                self.nothing_upstream(path)
        # A claim requirement (no scopes on the route): still 403 insufficient_scope.
        resp = get(self.gw, "/admin/users", self.keys.token(sub="alice", roles=["user"]))
        self.assertEqual(resp.status, 403, resp)
        self.assertEqual(resp.json().get("error"), "insufficient_scope")
        self.assertTrue(resp.header("WWW-Authenticate", "").startswith(
            'Bearer realm="portcullis", error="insufficient_scope"'), resp.header_values("WWW-Authenticate"))
        self.nothing_upstream("/admin/users")

    def test_allowed_forwarded_to_route_upstream(self):
        tok = self.keys.token(sub="alice", scope="orders:read orders:write", tenant_id="acme")
        resp = get(self.gw, "/orders/7?x=1", tok, [("X-Auth-Subject", "evil")])
        self.assertEqual(resp.status, 200, resp)
        req = self.orders_up.last()
        self.assertEqual((req.method, req.target), ("GET", "/orders/7?x=1"))
        self.assertEqual(identity_seen(req), {"x-auth-subject": ["alice"], "x-auth-issuer": [ISS],
                                              "x-auth-scopes": ["orders:read orders:write"],
                                              "x-auth-tenant": ["acme"]})
        self.upstream.assert_nothing(grace=0)
        # POST goes to orders-write, whose upstream is the default one.
        resp = get(self.gw, "/orders", tok, method="POST")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.upstream.last().method, "POST")
        self.assertEqual(len(self.orders_up.requests()), 1)
        # HEAD is routed as listed.
        resp = get(self.gw, "/orders/7", tok, method="HEAD")
        self.assertEqual(resp.status, 200, resp)
        # admin role
        resp = get(self.gw, "/admin/users/9", self.keys.token(sub="root", roles=["user", "admin"]),
                   method="DELETE")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.upstream.last().target, "/admin/users/9")

    def test_route_in_access_log_and_metrics(self):
        good = self.keys.token(sub="metrics-user", scope="orders:read")
        weak = self.keys.token(sub="metrics-weak", scope="nothing")
        self.assertEqual(get(self.gw, "/orders/m1", good).status, 200)
        self.assertEqual(get(self.gw, "/orders/m2", weak).status, 403)
        self.assertEqual(get(self.gw, "/nowhere-m3").status, 404)
        e1 = self.gw.wait_access_log(lambda e: e.get("path") == "/orders/m1")[0]
        e2 = self.gw.wait_access_log(lambda e: e.get("path") == "/orders/m2")[0]
        self.assertEqual(e1.get("route"), "orders-read")
        self.assertEqual(e2.get("route"), "orders-read")
        self.assertEqual(e2.get("status"), 403)
        pat200 = r'^portcullis_requests_total\{(?=[^}]*route="orders-read")(?=[^}]*code="200")'
        pat403 = r'^portcullis_requests_total\{(?=[^}]*route="orders-read")(?=[^}]*code="403")(?=[^}]*decision=")'
        wait_metrics_at_least(self.gw, {pat200: 1, pat403: 1})

    # -- headers -------------------------------------------------------------------------
    SPOOF = [("X-Auth-Subject", "evil1"), ("x-auth-subject", "evil2"), ("X_Auth_Subject", "evil3"),
             ("X-AUTH-SUBJECT", "evil4"), ("x_auth_subject", "evil5"), ("X-Auth-Subject", "evil6"),
             ("X-Auth-Issuer", "evil7"), ("x_AUTH_issuer", "evil8"), ("X_AUTH_SCOPES", "evil9"),
             ("X-Auth-Scopes", "evil10"), ("X-Auth-Email", "evil11"), ("x_auth_email", "evil12"),
             ("X-AUTH-TENANT", "evil13"), ("x_auth_tenant", "evil14"), ("X-Auth-Tenant", "evil15")]

    def test_spoofed_identity_stripped_on_public_route(self):
        hs = self.SPOOF + [("Connection", "X-Auth-Subject")]
        for path in ("/public/x", "/healthz", "/maybe"):
            with self.subTest(path=path):
                self.upstream.clear()
                resp = get(self.gw, path, None, hs)
                self.assertEqual(resp.status, 200, resp)
                req = self.upstream.last()
                self.assertEqual(identity_seen(req), {})
                self.assertNotIn(b"evil", req.raw_head)

    def test_spoofed_identity_on_refused_routes_never_forwarded(self):
        weak = self.keys.token(sub="weak", scope="nothing")
        for path, tok, status in (("/orders/1", weak, 403), ("/orders/1", None, 401),
                                  ("/admin", weak, 403), ("/nowhere", weak, 404)):
            with self.subTest(path=path, status=status):
                resp = get(self.gw, path, tok, self.SPOOF)
                self.assertEqual(resp.status, status, resp)
                self.assertNotIn(b"evil", resp.raw_head + resp.body)
                self.nothing_upstream(path)

    def test_connection_cannot_remove_injected_identity(self):
        tok = self.keys.token(sub="real", scope="orders:read", email="real@corp.test")
        hs = self.SPOOF + [("Connection", "X-Auth-Subject"),
                           ("Connection", "x_auth_issuer, X-Auth-Scopes, X-Auth-Email, keep-alive")]
        resp = get(self.gw, "/orders/c", tok, hs)
        self.assertEqual(resp.status, 200, resp)
        req = self.orders_up.last()
        self.assertEqual(identity_seen(req), {"x-auth-subject": ["real"], "x-auth-issuer": [ISS],
                                              "x-auth-scopes": ["orders:read"],
                                              "x-auth-email": ["real@corp.test"]})
        self.assertNotIn(b"evil", req.raw_head)


# ----------------------------------------------------------------------------------------
# 3: path tricks

class PathTricksBase(GatewayTestCase):
    MATCH = "path_prefix"

    @classmethod
    def setUpClass(cls):
        cls.keys = Keys.get()
        d = temp_dir("portcullis-pol-")
        path = os.path.join(d, "routes.yaml")
        write_atomic(path, TRICKS_POLICY % cls.MATCH)
        cls.CONFIG = base_config(cls.keys, [path])
        super().setUpClass()

    def user(self):
        return self.keys.token(sub="user", roles=["user"], scope="admin")

    def raw_get(self, target, token=None):
        hs = [("Host", self.host), ("Connection", "close")]
        if token:
            hs.append(("Authorization", "Bearer " + token))
        return first_response(send_raw(self.gw.port, build_request("GET", target, hs)))

    def assert_never_admin(self):
        """The upstream never saw a path that is, or could resolve to, an /admin path."""
        for req in self.upstream.requests():
            path = req.path.lower()
            self.assertFalse(re.match(r"^/+admin", path) or "/../" in path or "/./" in path
                             or "%2e" in path or "%2f" in path or "%5c" in path or ";" in path,
                             "the upstream saw %r" % req.target)

    def check(self, target, allowed, token="user", forwarded=None, admin=False):
        tok = self.user() if token == "user" else token
        self.upstream.clear()
        resp = self.raw_get(target, tok)
        self.assertIn(resp.status, allowed, "GET %s -> %r %r" % (target, resp, resp.body))
        if forwarded is not None:
            self.assertEqual([r.target for r in self.upstream.wait_requests(1)], [forwarded])
        elif resp.status != 200:
            self.upstream.assert_nothing(grace=0.05)
        if not admin:
            self.assert_never_admin()
        return resp


class PathTricksPrefixTest(PathTricksBase):
    MATCH = "path_prefix"

    def test_dot_segments_reach_admin_policy(self):
        for target in ("/public/../admin", "/public/%2e%2e/admin", "/public/%2E%2E/admin",
                       "/public/./../admin", "//admin", "///admin/users", "/admin;x=1",
                       "/admin;x=1/users", "/public/../admin/users", "/admin?x=/public",
                       "/public/.%2e/admin"):
            with self.subTest(target=target):
                self.check(target, (403,))
        # Without a token: 401, never the public route.
        for target in ("/public/../admin", "/public/%2e%2e/admin", "//admin", "/admin;x=1"):
            with self.subTest(target=target, token=None):
                self.check(target, (401,), token=None)

    def test_double_slash_dot_dot(self):
        # Either the slashes merge first (-> /admin, 403) or the empty segment is popped
        # (-> /public/admin on the public route); never the admin upstream path.
        resp = self.check("/public//../admin", (403, 200))
        if resp.status == 200:
            self.assertEqual(self.upstream.last().path, "/public/admin")

    def test_refused_outright_400(self):
        for target in ("/public/..;/admin", "/admin%2fusers", "/admin%2Fusers",
                       "/public%2f..%2fadmin", "/public/..%2fadmin", "/public/..%5cadmin",
                       "/public/%zz", "/public/%00"):
            with self.subTest(target=target):
                self.check(target, (400,))

    def test_case_sensitive(self):
        for target in ("/ADMIN", "/Admin/users"):
            with self.subTest(target=target):
                self.check(target, (404,))

    def test_query_never_matched(self):
        self.check("/public?x=/admin", (200,), forwarded="/public?x=/admin")
        self.check("/public/a?next=/../admin", (200,), forwarded="/public/a?next=/../admin")

    def test_prefix_ends_at_segment_boundary(self):
        for target in ("/publicity", "/public.x", "/adminx"):
            with self.subTest(target=target):
                self.check(target, (404,), token=self.keys.token(sub="root", roles=["admin"]))

    def test_normalized_path_forwarded_for_public(self):
        self.check("/public/a/../b//c/./d", (200,), forwarded="/public/b/c/d")
        self.check("/public/%7euser", (200,), forwarded="/public/~user")

    def test_rewrite_headers_never_steer(self):
        resp = get(self.gw, "/admin", self.user(), [("X-Original-URL", "/public"),
                                                    ("X-Forwarded-Uri", "/public"),
                                                    ("X-Rewrite-URL", "/public")])
        self.assertEqual(resp.status, 403, resp)
        self.upstream.assert_nothing(grace=0.05)

    def test_admin_token_allowed(self):
        resp = self.check("/public/../admin", (200,), token=self.keys.token(sub="root", roles=["admin"]),
                          forwarded="/admin", admin=True)
        self.assertEqual(resp.status, 200)


class PathTricksExactTest(PathTricksBase):
    MATCH = "path"

    def test_exact_route_tricks(self):
        for target in ("/public/../admin", "/public/%2e%2e/admin", "//admin"):
            with self.subTest(target=target):
                self.check(target, (403,))
        # Matrix parameters: matched as /admin (403) or not at all (404); never forwarded.
        for target in ("/admin;x=1", "/admin;", "/admin;x=1?y=2"):
            with self.subTest(target=target):
                self.check(target, (403, 404))
        for target in ("/public/..;/admin", "/admin%2fusers"):
            with self.subTest(target=target):
                self.check(target, (400,))
        self.check("/ADMIN", (404,))
        self.check("/admin/users", (404,))
        self.check("/admin/", (403, 404))
        self.check("/public?x=/admin", (200,), forwarded="/public?x=/admin")
        self.check("/publicity", (404,))


# ----------------------------------------------------------------------------------------
# 4: reload

class ReloadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(binary_path()):
            raise unittest.SkipTest("no portcullis binary")
        cls.keys = Keys.get()
        cls.read_tok = cls.keys.token(sub="r", scope="orders:read")

    def setUp(self):
        self.upstream = RecordingUpstream()
        self.addCleanup(self.upstream.close)
        self.dir = temp_dir("portcullis-reload-")

    def start(self, policies, write_config_in_dir=False):
        cfg = base_config(self.keys, policies)
        if write_config_in_dir:
            # gateway.yaml next to the policies, so relative globs resolve against self.dir.
            conf = os.path.join(self.dir, "gateway.yaml")
            gw = Gateway(cfg, self.upstream, args=["run", "--config", conf])
            with open(conf, "w") as f:
                f.write(gw.config_text())
        else:
            gw = Gateway(cfg, self.upstream)
        gw.start()
        self.addCleanup(gw.stop)
        return gw

    def status(self, gw, path="/orders/1", token=None):
        return get(gw, path, token or self.read_tok).status

    def wait_status(self, gw, want, timeout=2.5, path="/orders/1"):
        t0 = time.monotonic()
        last = [None]

        def ok():
            last[0] = self.status(gw, path)
            return last[0] == want
        try:
            wait_until(ok, timeout * slack(), interval=0.05, what="status %d" % want)
        except AssertionError:
            self.fail("still %r after %.1fs (wanted %d)" % (last[0], timeout * slack(), want))
        return time.monotonic() - t0

    def test_a_file_change_applied(self):
        pol = os.path.join(self.dir, "routes.yaml")
        write_atomic(pol, RELOAD_READ)
        gw = self.start([pol])
        self.assertEqual(self.status(gw), 200)
        before = metric_value(gw, RELOAD_OK)
        write_atomic(pol, RELOAD_WRITE)
        self.wait_status(gw, 403, 2.5)
        wait_metrics_at_least(gw, {RELOAD_OK: before + 1})
        self.assertEqual(self.status(gw, token=self.keys.token(sub="w", scope="orders:write")), 200)
        # In-place rewrite (same inode) also counts.
        with open(pol, "w") as f:
            f.write(RELOAD_READ + "# edited in place\n")
        self.wait_status(gw, 200, 2.5)

    def test_b_sighup(self):
        pol = os.path.join(self.dir, "routes.yaml")
        write_atomic(pol, RELOAD_READ)
        gw = self.start([pol])
        before = metric_value(gw, RELOAD_OK)
        gw.proc.send_signal(signal.SIGHUP)  # nothing changed: still a reload
        wait_metrics_at_least(gw, {RELOAD_OK: before + 1}, timeout=2.0)
        self.assertEqual(self.status(gw), 200)
        write_atomic(pol, RELOAD_WRITE)
        gw.proc.send_signal(signal.SIGHUP)
        self.wait_status(gw, 403, 1.0)
        gw.assert_alive()

    def test_c_broken_file_keeps_old_policy(self):
        pol = os.path.join(self.dir, "routes.yaml")
        write_atomic(pol, RELOAD_READ)
        gw = self.start([pol])
        self.assertEqual(self.status(gw), 200)
        fail_before = metric_value(gw, RELOAD_FAIL)
        ok_before = metric_value(gw, RELOAD_OK)
        broken = RELOAD_WRITE.replace("    require:", "    requires_typo: 1\n    require:")
        write_atomic(pol, broken)
        wait_metrics_at_least(gw, {RELOAD_FAIL: fail_before + 1}, timeout=3.0)
        self.assertEqual(metric_value(gw, RELOAD_OK), ok_before)
        # The old (read) policy still decides, well after the change was noticed.
        for _ in range(3):
            self.assertEqual(self.status(gw), 200)
        self.assertEqual(self.status(gw, token=self.keys.token(sub="w", scope="orders:write")), 403)
        stderr = "\n".join(gw.stderr_lines())
        self.assertRegex(stderr, r"routes\.yaml:\d+", "no file:line error on stderr:\n" + stderr[-3000:])
        self.assertIn("requires_typo", stderr)
        # A SIGHUP with the file still broken: another failure, old policy kept.
        gw.proc.send_signal(signal.SIGHUP)
        wait_metrics_at_least(gw, {RELOAD_FAIL: fail_before + 2}, timeout=2.0)
        self.assertEqual(self.status(gw), 200)
        # Fixed: the new policy applies.
        write_atomic(pol, RELOAD_WRITE)
        self.wait_status(gw, 403, 2.5)
        gw.assert_alive()

    def test_d_configmap_symlink_swap(self):
        for version, text in (("v1", RELOAD_READ), ("v2", RELOAD_WRITE)):
            os.mkdir(os.path.join(self.dir, version))
            with open(os.path.join(self.dir, version, "routes.yaml"), "w") as f:
                f.write(text)
        os.symlink("v1", os.path.join(self.dir, "..data"))
        os.mkdir(os.path.join(self.dir, "cfg"))
        os.symlink("../..data/routes.yaml", os.path.join(self.dir, "cfg", "routes.yaml"))
        gw = self.start(["cfg/*.yaml"], write_config_in_dir=True)
        self.assertEqual(self.status(gw), 200)
        self.assertEqual(self.status(gw, "/nowhere"), 404)
        tmp = os.path.join(self.dir, "..data_tmp")
        os.symlink("v2", tmp)
        os.replace(tmp, os.path.join(self.dir, "..data"))
        self.wait_status(gw, 403, 2.5)
        # Kubernetes then deletes the old version's directory: nothing changes.
        shutil.rmtree(os.path.join(self.dir, "v1"))
        time.sleep(1.5)
        self.assertEqual(self.status(gw), 403)
        self.assertEqual(metric_value(gw, RELOAD_FAIL), 0)
        gw.assert_alive()

    def test_e_reload_under_load(self):
        pol = os.path.join(self.dir, "routes.yaml")
        write_atomic(pol, RELOAD_READ)
        gw = self.start([pol])
        self.assertEqual(self.status(gw), 200)
        ok_before = metric_value(gw, RELOAD_OK)
        stop = threading.Event()
        lock = threading.Lock()
        results = {"ok": 0, "bad": []}
        hard_deadline = time.monotonic() + 15 * slack()

        def client(n):
            conn = None
            i = 0
            while not stop.is_set() and time.monotonic() < hard_deadline:
                i += 1
                try:
                    if conn is None:
                        conn = HttpConn(gw.port, 5 * slack())
                    resp = conn.request("GET", "/orders/%d-%d" % (n, i),
                                        [("Host", conn.host),
                                         ("Authorization", "Bearer " + self.read_tok)])
                    with lock:
                        if resp.status == 200:
                            results["ok"] += 1
                        else:
                            results["bad"].append((n, i, resp.status, resp.body[:100]))
                    if resp.closes:
                        conn.close()
                        conn = None
                except Exception as e:  # a dropped keep-alive connection is a failure too
                    with lock:
                        results["bad"].append((n, i, "exception", repr(e)))
                    if conn is not None:
                        conn.close()
                    conn = None
            if conn is not None:
                conn.close()

        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(4)]
        for t in threads:
            t.start()
        try:
            for k in range(5):
                time.sleep(0.75)
                write_atomic(pol, RELOAD_READ_REORDERED if k % 2 == 0 else RELOAD_READ)
            time.sleep(0.75)
        finally:
            stop.set()
            for t in threads:
                t.join(10 * slack())
        self.assertFalse(any(t.is_alive() for t in threads), "client threads did not finish")
        self.assertEqual(results["bad"][:10], [], "%d failed of %d" % (len(results["bad"]),
                                                                     results["ok"] + len(results["bad"])))
        self.assertGreater(results["ok"], 100)
        # At least some of the five replacements were applied (the watcher polls every second,
        # so two changes within one poll may collapse into one reload).
        wait_metrics_at_least(gw, {RELOAD_OK: ok_before + 3}, timeout=2.0)
        self.assertEqual(metric_value(gw, RELOAD_FAIL), 0)
        self.assertEqual(len(self.upstream.complete_requests()), results["ok"] + 1)


# ----------------------------------------------------------------------------------------
# 5: validate / test / explain

class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(binary_path()):
            raise unittest.SkipTest("no portcullis binary")
        cls.keys = Keys.get()

    def setUp(self):
        self.dir = temp_dir("portcullis-cli-")

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def gateway_yaml(self, policies=("routes.yaml",)):
        cfg = base_config(self.keys, policies)
        cfg.update({"listen": "127.0.0.1:0", "admin_listen": "127.0.0.1:0",
                    "upstreams": {"default": {"url": "http://127.0.0.1:9"}}})
        return self.write("gateway.yaml", to_yaml(cfg) + "\n")

    def run_cli(self, *args):
        p = subprocess.run([binary_path()] + list(args), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20 * slack())
        return p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")

    def test_validate_ok(self):
        self.write("routes.yaml", DECISION_POLICY.replace("    upstream: orders\n", ""))
        code, out = self.run_cli("validate", "--config", self.gateway_yaml())
        self.assertEqual(code, 0, out)

    def test_validate_errors(self):
        good = DECISION_POLICY.replace("    upstream: orders\n", "")
        cases = {
            "unknown issuer": (good.replace("issuers: [corp]\n    require:\n      claims",
                                            "issuers: [nobody]\n    require:\n      claims"),
                               "nobody"),
            "shadowed route": (good.replace("default: deny",
                                            "  - name: shadowed\n    match: {path: /public/x}\n"
                                            "    auth: none\ndefault: deny"), "shadow"),
            "bad key": (good.replace("  - name: public\n", "  - name: public\n    bogus_key: 1\n"),
                        "bogus_key"),
            "unknown upstream": (DECISION_POLICY, "orders"),
        }
        for what, (text, needle) in cases.items():
            with self.subTest(what=what):
                self.assertNotEqual(text, good, what)
                self.write("routes.yaml", text)
                code, out = self.run_cli("validate", "--config", self.gateway_yaml())
                self.assertEqual(code, 1, "%s: %s" % (what, out))
                self.assertRegex(out, r"routes\.yaml:\d+", "%s: %s" % (what, out))
                self.assertIn(needle, out.lower() if needle == "shadow" else out, out)

    def test_validate_error_line_number(self):
        text = DECISION_POLICY.replace("    upstream: orders\n", "").replace(
            "  - name: public\n", "  - name: public\n    bogus_key: 1\n")
        line = text.splitlines().index("    bogus_key: 1") + 1
        self.write("routes.yaml", text)
        code, out = self.run_cli("validate", "--config", self.gateway_yaml())
        self.assertEqual(code, 1, out)
        self.assertRegex(out, r"routes\.yaml:%d\b" % line, out)

    def test_policy_tests_pass_and_fail(self):
        self.write("routes.yaml", DECISION_POLICY.replace("    upstream: orders\n", ""))
        conf = self.gateway_yaml()
        passing = ("cases:\n"
                   "  - name: health\n    request: {method: GET, path: /healthz}\n"
                   "    expect: {status: 200, route: health}\n"
                   "  - name: dotdot\n    request: {method: GET, path: /public/../admin}\n"
                   "    token: {claims: {iss: \"https://corp.test\", sub: a, roles: [user]}}\n"
                   "    expect: {status: 403, route: admin}\n")
        failing = passing + ("  - name: this one is wrong\n    request: {method: GET, path: /admin}\n"
                             "    token: {claims: {iss: \"https://corp.test\", sub: a, roles: [user]}}\n"
                             "    expect: {status: 200}\n")
        code, out = self.run_cli("test", "--config", conf, self.write("pass.yaml", passing))
        self.assertEqual(code, 0, out)
        self.assertNotIn("FAIL", out)
        code, out = self.run_cli("test", "--config", conf, self.write("fail.yaml", failing))
        self.assertEqual(code, 1, out)
        self.assertRegex(out, r"FAIL.*this one is wrong", out)

    def test_explain(self):
        self.write("routes.yaml", DECISION_POLICY.replace("    upstream: orders\n", ""))
        conf = self.gateway_yaml()
        code, out = self.run_cli("explain", "--config", conf, "--method", "GET", "--path",
                                 "/public/../admin", "--claims",
                                 json.dumps({"iss": ISS, "sub": "a", "roles": ["user"]}))
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r"(?m)^decision: 403\b.*admin", out)
        code, out = self.run_cli("explain", "--config", conf, "--method", "GET", "--path", "/healthz")
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r"(?m)^decision: 200\b", out)
        code, out = self.run_cli("explain", "--config", conf, "--method", "GET", "--path", "/nope")
        self.assertRegex(out, r"(?m)^decision: 404\b", out)


if __name__ == "__main__":
    unittest.main()
