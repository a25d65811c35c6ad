"""The admin listener: health, readiness, metrics; and the public port never serving them."""

import re
import unittest

from harness import GatewayTestCase, HttpConn, slack

METRIC_NAMES = (
    "portcullis_requests_total",
    "portcullis_request_duration_seconds",
    "portcullis_upstream_duration_seconds",
    "portcullis_connections_active",
)


class AdminTest(GatewayTestCase):
    def test_healthz(self):
        resp = self.gw.admin_get("/healthz")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body.strip(), b"ok")
        self.upstream.assert_nothing()

    def test_readyz(self):
        resp = self.gw.admin_get("/readyz")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body.strip(), b"ready")

    def test_metrics_documented_names_and_request_counts(self):
        with HttpConn(self.gw.port, 5 * slack()) as c:
            for i in range(3):
                self.assertEqual(c.get("/counted/%d" % i).status, 200)
        self.gw.wait_metric(r'^portcullis_requests_total\{[^}]*code="200"', lambda v: v >= 3)
        resp = self.gw.admin_get("/metrics")
        self.assertEqual(resp.status, 200)
        self.assertIn("text/plain", resp.header("Content-Type", ""))
        text = resp.body.decode()
        for name in METRIC_NAMES:
            self.assertRegex(text, r"(?m)^# TYPE %s " % re.escape(name), name)
        self.assertRegex(text, r"(?m)^# TYPE portcullis_request_duration_seconds histogram$")
        self.assertRegex(text, r"(?m)^# TYPE portcullis_upstream_duration_seconds histogram$")
        self.assertRegex(text, r"(?m)^# TYPE portcullis_connections_active gauge$")
        self.assertRegex(text, r"(?m)^# TYPE portcullis_requests_total counter$")
        rows = re.findall(r'(?m)^portcullis_requests_total\{([^}]*)\} ', text)
        self.assertTrue(any('code="200"' in r and 'decision="allow"' in r for r in rows), rows)
        for row in rows:
            self.assertIn("route=", row)
        self.assertRegex(text, r"(?m)^portcullis_request_duration_seconds_count(\{[^}]*\})? [1-9]")
        self.assertRegex(text, r"(?m)^portcullis_upstream_duration_seconds_count(\{[^}]*\})? [1-9]")

    def test_public_port_does_not_serve_admin_paths(self):
        with HttpConn(self.gw.port, 5 * slack()) as c:
            for path in ("/metrics", "/healthz", "/readyz"):
                resp = c.get(path)
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.body, ("upstream GET %s" % path).encode())
        self.assertEqual([r.target for r in self.upstream.wait_requests(3)],
                         ["/metrics", "/healthz", "/readyz"])

    def test_admin_unknown_path_404(self):
        for path in ("/", "/nope", "/metrics/extra", "/healthz/../x"):
            with self.subTest(path):
                resp = self.gw.admin_get(path)
                self.assertEqual(resp.status, 404)
        self.upstream.assert_nothing()

    def test_admin_never_proxies(self):
        resp = self.gw.admin_get("/orders/7")
        self.assertEqual(resp.status, 404)
        self.upstream.assert_nothing()


if __name__ == "__main__":
    unittest.main()
