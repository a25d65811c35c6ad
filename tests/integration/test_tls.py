"""TLS: the listener (HTTPS for clients, TLS 1.2+ only, plain HTTP refused cleanly, certificate
rotation picked up, a broken new pair keeping the old one) and https upstreams (CA
verification, name checks, SNI). Certificates are made here with the openssl CLI."""

import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import (DEFAULT_TIMEOUT, HOST, BufferedSocket, Gateway, GatewayTestCase, RecordingUpstream,
                     binary_path, build_request, read_response, recv_until_close, respond_echo, slack,
                     wait_until)
from tls_support import (CertFactory, TlsUpstream, client_context, file_der, peer_certificate,
                         tls_connect)

CERTS = None


def setUpModule():
    global CERTS
    if not os.path.exists(binary_path()):
        raise unittest.SkipTest("portcullis binary not found")
    CERTS = CertFactory()
    CERTS.make_leaf("server")
    CERTS.make_leaf("server2")
    CERTS.make_leaf("untrusted", ca="other-root")
    CERTS.make_leaf("wrong-name", sans=("DNS:other.example",))
    CERTS.make_leaf("expired", days=-1)


def tearDownModule():
    if CERTS is not None:
        CERTS.close()


def tls_listen(cert, key):
    return {"listen": {"address": "%s:0" % HOST, "tls": {"cert_file": cert, "key_file": key}}}


def https_get(port, target="/", ctx=None, headers=(), host=None):
    ctx = ctx or client_context(CERTS.ca)
    with tls_connect(port, ctx) as s:
        s.sendall(build_request("GET", target, [("Host", host or "localhost:%d" % port)] + list(headers)
                                + [("Connection", "close")]))
        return read_response(BufferedSocket(s, DEFAULT_TIMEOUT * slack()))


class TlsListenerTest(GatewayTestCase):
    CONFIG = None  # set in setUpClass (the certificates exist only then)

    @classmethod
    def setUpClass(cls):
        cls.CONFIG = tls_listen(CERTS.path("server.pem"), CERTS.path("server.key"))
        cls.CONFIG["limits"] = {"client_timeout": "2s"}
        super().setUpClass()

    def test_https_request_is_served_and_marked_https(self):
        resp = https_get(self.gw.port, "/hello?x=1")
        self.assertEqual(resp.status, 200)
        req = self.upstream.last()
        self.assertEqual(req.target, "/hello?x=1")
        self.assertEqual(req.header("X-Forwarded-Proto"), "https")
        self.assertEqual(req.header_values("X-Forwarded-Proto"), ["https"])

    def test_client_x_forwarded_proto_is_replaced(self):
        resp = https_get(self.gw.port, "/", headers=[("X-Forwarded-Proto", "http")])
        self.assertEqual(resp.status, 200)
        self.assertEqual(self.upstream.last().header_values("X-Forwarded-Proto"), ["https"])

    def test_protocol_and_alpn(self):
        ctx = client_context(CERTS.ca)
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        with tls_connect(self.gw.port, ctx) as s:
            self.assertIn(s.version(), ("TLSv1.2", "TLSv1.3"))
            self.assertEqual(s.selected_alpn_protocol(), "http/1.1")
        ctx12 = client_context(CERTS.ca, maximum_version=ssl.TLSVersion.TLSv1_2)
        with tls_connect(self.gw.port, ctx12) as s:
            self.assertEqual(s.version(), "TLSv1.2")
            cipher = s.cipher()[0]
            self.assertIn("ECDHE", cipher)
            self.assertTrue("GCM" in cipher or "CHACHA20" in cipher, cipher)

    def test_keep_alive_and_pipelining_over_tls(self):
        with tls_connect(self.gw.port, client_context(CERTS.ca)) as s:
            host = [("Host", "localhost")]
            s.sendall(build_request("GET", "/a", host) + build_request("GET", "/b", host))
            bs = BufferedSocket(s, DEFAULT_TIMEOUT * slack())
            self.assertEqual(read_response(bs).status, 200)
            self.assertEqual(read_response(bs).status, 200)
            s.sendall(build_request("GET", "/c", host))
            self.assertEqual(read_response(bs).status, 200)
        self.assertEqual([r.target for r in self.upstream.wait_requests(3)], ["/a", "/b", "/c"])

    def test_large_bodies_both_ways_over_tls(self):
        self.upstream.set_behaviour(respond_echo())
        body = os.urandom(3 << 20)
        with tls_connect(self.gw.port, client_context(CERTS.ca)) as s:
            s.sendall(build_request("POST", "/echo", [("Host", "localhost")], body))
            resp = read_response(BufferedSocket(s, DEFAULT_TIMEOUT * slack()))
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, body)

    def test_tls_1_0_and_1_1_are_refused(self):
        for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
            ctx = client_context(CERTS.ca, minimum_version=ssl.TLSVersion.TLSv1, maximum_version=version)
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer the old protocol at all
            with self.assertRaises((ssl.SSLError, ConnectionResetError, OSError), msg=str(version)):
                s = tls_connect(self.gw.port, ctx)
                s.close()
        # The same relaxed client speaks TLS 1.2 with the gateway.
        ctx = client_context(CERTS.ca, minimum_version=ssl.TLSVersion.TLSv1)
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with tls_connect(self.gw.port, ctx) as s:
            self.assertIn(s.version(), ("TLSv1.2", "TLSv1.3"))

    def test_weak_tls_1_2_ciphers_are_refused(self):
        for cipher in ("AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA"):
            ctx = client_context(CERTS.ca, maximum_version=ssl.TLSVersion.TLSv1_2)
            ctx.set_ciphers(cipher + ":@SECLEVEL=0")
            with self.assertRaises((ssl.SSLError, OSError), msg=cipher):
                tls_connect(self.gw.port, ctx).close()

    def test_plain_http_to_the_tls_port_fails_cleanly(self):
        sock = socket.create_connection((HOST, self.gw.port), timeout=DEFAULT_TIMEOUT)
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            data, closed = recv_until_close(sock, DEFAULT_TIMEOUT * slack())
        finally:
            sock.close()
        self.assertTrue(closed, "connection left open")
        self.assertTrue(data.startswith(b"HTTP/1.1 400 "), data[:200])
        self.assertIn(b'"error":"tls_required"', data)
        self.assertIn(b"Connection: close", data)
        self.upstream.assert_nothing()
        self.assertEqual(https_get(self.gw.port).status, 200)

    def test_silent_client_is_cut_after_client_timeout(self):
        sock = socket.create_connection((HOST, self.gw.port), timeout=DEFAULT_TIMEOUT)
        try:
            started = time.monotonic()
            data, closed = recv_until_close(sock, 6 * slack())
            elapsed = time.monotonic() - started
        finally:
            sock.close()
        self.assertTrue(closed)
        self.assertEqual(data, b"")
        self.assertGreater(elapsed, 1.5)
        self.assertLess(elapsed, 5 * slack())

    def test_untrusting_client_fails_and_gateway_keeps_serving(self):
        ctx = client_context(CERTS.other_ca)
        with self.assertRaises(ssl.SSLCertVerificationError):
            tls_connect(self.gw.port, ctx).close()
        self.assertEqual(https_get(self.gw.port).status, 200)


class TlsRotationTest(unittest.TestCase):
    """Each test runs its own gateway on copies of the certificate files it then rewrites."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="portcullis-rot-")
        self.cert = os.path.join(self.dir, "tls.crt")
        self.key = os.path.join(self.dir, "tls.key")
        self.install("server")
        self.upstream = RecordingUpstream()
        self.gw = Gateway(tls_listen(self.cert, self.key), self.upstream).start()

    def tearDown(self):
        try:
            self.gw.stop()
        finally:
            self.upstream.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    def install(self, name, cert_name=None, key_name=None):
        """Writes a pair in place (new content, same paths), key first as cert-manager does."""
        shutil.copyfile(CERTS.path((key_name or name) + ".key"), self.key + ".tmp")
        os.replace(self.key + ".tmp", self.key)
        shutil.copyfile(CERTS.path((cert_name or name) + ".pem"), self.cert + ".tmp")
        os.replace(self.cert + ".tmp", self.cert)

    def served(self):
        return peer_certificate(self.gw.port, CERTS.ca)

    def wait_served(self, name):
        want = file_der(CERTS.path(name + ".pem"))
        wait_until(lambda: self.served() == want, 6 * slack(), interval=0.1, what="certificate %s served" % name)

    def test_rotation_is_picked_up_and_open_connections_keep_working(self):
        self.assertEqual(self.served(), file_der(CERTS.path("server.pem")))
        old = tls_connect(self.gw.port, client_context(CERTS.ca))
        try:
            self.install("server2")
            self.wait_served("server2")
            self.assertTrue(any(e.get("msg") == "TLS certificate reloaded" for e in self.gw.logs()))
            # The connection made before the rotation still serves requests.
            old.sendall(build_request("GET", "/still", [("Host", "localhost")]))
            self.assertEqual(read_response(BufferedSocket(old, DEFAULT_TIMEOUT)).status, 200)
        finally:
            old.close()
        self.assertEqual(https_get(self.gw.port).status, 200)

    def test_broken_new_pair_keeps_the_old_one(self):
        original = file_der(CERTS.path("server.pem"))
        with open(self.cert, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
        wait_until(lambda: any(e.get("msg", "").startswith("TLS certificate reload failed") for e in self.gw.logs()),
                   6 * slack(), interval=0.1, what="reload failure logged")
        self.assertEqual(self.served(), original)
        self.assertEqual(https_get(self.gw.port).status, 200)
        # A certificate whose key is not the one beside it is refused as well.
        failures = len([e for e in self.gw.logs() if e.get("msg", "").startswith("TLS certificate reload failed")])
        self.install("server2", key_name="server")
        wait_until(lambda: len([e for e in self.gw.logs()
                                if e.get("msg", "").startswith("TLS certificate reload failed")]) > failures,
                   6 * slack(), interval=0.1, what="mismatched pair refused")
        self.assertEqual(self.served(), original)
        # Once the pair is whole, it is served.
        self.install("server2")
        self.wait_served("server2")


class TlsStartupTest(unittest.TestCase):
    def run_config(self, text):
        d = tempfile.mkdtemp(prefix="portcullis-tlscfg-")
        try:
            path = os.path.join(d, "gateway.yaml")
            with open(path, "w") as f:
                f.write(text)
            return subprocess.run([binary_path(), "run", "--config", path], capture_output=True, text=True,
                                  timeout=20 * slack(), stdin=subprocess.DEVNULL)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_unloadable_certificate_refuses_to_start(self):
        cases = {
            "missing": (CERTS.path("nope.pem"), CERTS.path("server.key"), "listen.tls"),
            "mismatch": (CERTS.path("server.pem"), CERTS.path("server2.key"), "does not match"),
        }
        for name, (cert, key, needle) in cases.items():
            with self.subTest(name):
                r = self.run_config("listen: {address: 127.0.0.1:0, tls: {cert_file: %s, key_file: %s}}\n"
                                    "admin_listen: 127.0.0.1:0\n"
                                    "upstreams: {default: {url: http://127.0.0.1:9}}\n" % (cert, key))
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(needle, r.stderr)

    def test_tls_options_on_http_upstream_are_a_config_error(self):
        r = self.run_config("listen: 127.0.0.1:0\nadmin_listen: 127.0.0.1:0\n"
                            "upstreams: {default: {url: http://127.0.0.1:9, tls: {ca_file: x.pem}}}\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("upstreams.default.tls", r.stderr)
        self.assertIn("only for https://", r.stderr)


class HttpsUpstreamTest(unittest.TestCase):
    def gateway(self, upstream, url=None, tls=None):
        config = {"upstreams": {"default": {"tls": tls}}} if tls else None
        return Gateway(config, upstream_url=url or "https://%s:%d" % (HOST, upstream.port))

    def get(self, gw, target="/"):
        conn = gw.connect()
        try:
            return conn.get(target)
        finally:
            conn.close()

    def test_verified_upstream_serves_and_connections_are_reused(self):
        with TlsUpstream(CERTS.path("server.pem"), CERTS.path("server.key")) as up:
            with self.gateway(up, tls={"ca_file": CERTS.ca}) as gw:
                conn = gw.connect()
                try:
                    for i in range(3):
                        resp = conn.get("/r%d" % i)
                        self.assertEqual(resp.status, 200, resp)
                        seen = json.loads(resp.body)
                        self.assertEqual(seen["target"], "/r%d" % i)
                        self.assertIn(["X-Forwarded-Proto", "http"], seen["headers"])
                finally:
                    conn.close()
                self.assertEqual(up.connections, 1)
                self.assertEqual(up.sni, [None])  # an IP literal is never sent as SNI

    def test_sni_and_name_check_use_server_name(self):
        with TlsUpstream(CERTS.path("wrong-name.pem"), CERTS.path("wrong-name.key")) as up:
            with self.gateway(up, tls={"ca_file": CERTS.ca, "server_name": "other.example"}) as gw:
                resp = self.get(gw, "/sni")
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(up.sni, ["other.example"])
                self.assertEqual(len(up.requests), 1)

    def test_untrusted_mismatched_or_expired_certificate_is_502(self):
        cases = [("untrusted", {"ca_file": CERTS.ca}),
                 ("wrong-name", {"ca_file": CERTS.ca}),
                 ("expired", {"ca_file": CERTS.ca}),
                 ("server", None),  # the system trust store does not know the test CA
                 ("server", {"ca_file": CERTS.ca, "server_name": "api.example.com"})]
        for leaf, tls in cases:
            with self.subTest(leaf=leaf, tls=tls):
                with TlsUpstream(CERTS.path(leaf + ".pem"), CERTS.path(leaf + ".key")) as up:
                    with self.gateway(up, tls=tls) as gw:
                        resp = self.get(gw, "/nope")
                        self.assertEqual(resp.status, 502, resp)
                        self.assertEqual(resp.json()["error"], "upstream_unavailable")
                        self.assertEqual(up.requests, [])
                        wait_until(lambda: any(e.get("msg") == "upstream TLS handshake failed"
                                               for e in gw.logs()), 3, what="handshake failure log")
                        gw.wait_metric(r'portcullis_upstream_errors_total\{.*kind="connect_failed"')

    def test_plain_http_upstream_behind_https_url_is_502(self):
        with RecordingUpstream() as up:
            with Gateway(None, upstream_url="https://%s:%d" % (HOST, up.port)) as gw:
                resp = self.get(gw)
                self.assertIn(resp.status, (502, 504))  # 504 when the handshake just waits
                self.assertEqual(up.complete_requests(), [])


if __name__ == "__main__":
    unittest.main()
