"""Time and resource limits, upstream failures, graceful shutdown."""

import os
import select
import signal
import socket
import time
import unittest

from harness import (HOST, Gateway, GatewayTestCase, HttpConn, RecordingUpstream, binary_path,
                     closed_port, connect, parse_responses, recv_until_close, respond,
                     respond_close, respond_delay, respond_hang, respond_raw,
                     respond_reset, respond_stream, slack, wait_until)


def require_binary():
    if not os.path.exists(binary_path()):
        raise unittest.SkipTest("portcullis binary not found at %s" % binary_path())


def assert_upstream_unavailable(test, resp, status):
    test.assertEqual(resp.status, status, resp)
    test.assertEqual(resp.header("Content-Type", "").split(";")[0], "application/json")
    body = resp.json()
    test.assertEqual(body.get("error"), "upstream_unavailable")
    test.assertRegex(resp.header("X-Request-Id", ""), r"^[0-9a-f]{32}$")
    test.assertEqual(body.get("request_id"), resp.header("X-Request-Id"))


class ClientTimeoutTest(GatewayTestCase):
    CONFIG = {"limits": {"client_timeout": "2s"}}
    TIMEOUT = 2.0

    def upper_bound(self):
        return self.TIMEOUT + 1.5 * slack()

    def test_slowloris_head_closed_after_client_timeout(self):
        payload = b"GET /slow HTTP/1.1\r\nHost: h\r\nX-Drip: " + b"a" * 200
        sock = connect(self.gw.port, 10)
        start = time.monotonic()
        got = bytearray()
        closed = False
        try:
            i = 0
            while time.monotonic() - start < self.upper_bound() + 1:
                try:
                    sock.sendall(payload[i:i + 1])
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                i = min(i + 1, len(payload) - 1)
                readable, _, _ = select.select([sock], [], [], 0.2)
                if readable:
                    data, closed = recv_until_close(sock, 2 * slack())
                    got += data
                    break
            elapsed = time.monotonic() - start
        finally:
            sock.close()
        self.assertTrue(closed, "connection still open after %.1fs of dripping" % elapsed)
        self.assertGreater(elapsed, self.TIMEOUT - 0.5, "closed too early")
        self.assertLess(elapsed, self.upper_bound(), "slowloris connection lived %.1fs" % elapsed)
        if got:
            resp = parse_responses(bytes(got))[0][0]
            self.assertEqual(resp.status, 408)
            self.assertEqual(resp.json().get("error"), "request_timeout")
        self.upstream.assert_nothing()

    def test_idle_keep_alive_closed_after_client_timeout(self):
        with HttpConn(self.gw.port, 10) as c:
            self.assertEqual(c.get("/first").status, 200)
            start = time.monotonic()
            data, closed = recv_until_close(c.sock, self.upper_bound() + 1)
            elapsed = time.monotonic() - start
        self.assertTrue(closed, "idle keep-alive connection not closed")
        self.assertEqual(data, b"", "idle close must be silent")
        self.assertGreater(elapsed, self.TIMEOUT - 0.5)
        self.assertLess(elapsed, self.upper_bound())

    def test_connection_without_any_bytes_closed_silently(self):
        sock = connect(self.gw.port, 10)
        start = time.monotonic()
        try:
            data, closed = recv_until_close(sock, self.upper_bound() + 1)
        finally:
            sock.close()
        elapsed = time.monotonic() - start
        self.assertTrue(closed)
        self.assertEqual(data, b"")
        self.assertGreater(elapsed, self.TIMEOUT - 0.5)
        self.assertLess(elapsed, self.upper_bound())
        self.upstream.assert_nothing()

    def test_active_client_not_cut_by_timeout(self):
        # Requests spread over more than client_timeout, each well within it, all succeed.
        with HttpConn(self.gw.port, 10) as c:
            for i in range(3):
                self.assertEqual(c.get("/steady/%d" % i).status, 200)
                time.sleep(1.0)
            self.assertEqual(c.get("/steady/last").status, 200)
        self.assertEqual(len(self.upstream.wait_requests(4)), 4)


class UpstreamFailureTest(GatewayTestCase):
    CONFIG = {"upstreams": {"default": {"timeout": "1s", "connect_timeout": "1s"}}}

    def get(self, target):
        with HttpConn(self.gw.port, 10 * slack()) as c:
            start = time.monotonic()
            resp = c.get(target)
            return resp, time.monotonic() - start

    def test_upstream_closes_without_answering_is_502(self):
        self.upstream.set_behaviour(respond_close())
        resp, _ = self.get("/closes")
        assert_upstream_unavailable(self, resp, 502)
        self.assertTrue(self.upstream.wait_requests(1))
        entry = self.gw.wait_access_log(
            lambda e: e.get("request_id") == resp.header("X-Request-Id"))[0]
        self.assertEqual(entry.get("decision"), "error")
        self.assertEqual(int(entry.get("status")), 502)

    def test_upstream_reset_is_502(self):
        self.upstream.set_behaviour(respond_reset())
        resp, _ = self.get("/resets")
        assert_upstream_unavailable(self, resp, 502)
        self.gw.wait_metric(r'^portcullis_upstream_errors_total\{[^}]*kind="reset"')

    def test_upstream_hang_is_504_after_timeout(self):
        self.upstream.set_behaviour(respond_hang())
        resp, elapsed = self.get("/hangs")
        assert_upstream_unavailable(self, resp, 504)
        self.assertGreater(elapsed, 0.8)
        self.assertLess(elapsed, 1.0 + 2.0 * slack())
        self.gw.wait_metric(r'^portcullis_upstream_errors_total\{[^}]*kind="timeout"')
        # The gateway keeps working afterwards.
        self.upstream.set_behaviour(respond())
        resp, _ = self.get("/after-hang")
        self.assertEqual(resp.status, 200)

    def test_slow_upstream_within_timeout_is_fine(self):
        self.upstream.set_behaviour(respond_delay(0.5))
        resp, _ = self.get("/slow-but-ok")
        self.assertEqual(resp.status, 200)

    def test_malformed_upstream_response_is_502_and_connection_closed(self):
        bad = {
            "two_content_lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                                   b"Content-Length: 6\r\n\r\nhello!",
            "cl_and_te": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "bad_status_line": b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n",
            "garbage": b"this is not http at all\r\n\r\n",
            "obs_fold": b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n",
            "nul_in_header": b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n",
            "bad_content_length": b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
            "space_before_colon": b"HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
            "bare_lf": b"HTTP/1.1 200 OK\nContent-Length: 0\n\n",
            "http2_status_line": b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
            "te_gzip": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx",
        }
        for name, data in bad.items():
            with self.subTest(name):
                self.upstream.clear()
                self.upstream.set_behaviour(respond_raw(data, wait_close=3 * slack()))
                resp, _ = self.get("/malformed-" + name)
                assert_upstream_unavailable(self, resp, 502)
                target = "/malformed-" + name
                outcome = wait_until(
                    lambda: [c for (_, c, t) in self.upstream.peer_closed if t == target],
                    4 * slack(), what="upstream connection outcome")
                self.assertEqual(outcome, [True],
                                 "gateway kept the upstream connection after a malformed response")
        self.gw.wait_metric(r'^portcullis_upstream_errors_total\{[^}]*kind="malformed"')
        self.upstream.set_behaviour(respond())
        resp, _ = self.get("/after-malformed")
        self.assertEqual(resp.status, 200)

    def test_malformed_chunked_body_after_head_ends_connection(self):
        # Headers have gone to the client already: the only option left is to end the
        # connection (never to hand the client a truncated body as complete).
        self.upstream.set_behaviour(respond_raw(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n",
            wait_close=3 * slack()))
        sock = connect(self.gw.port, 10)
        try:
            sock.sendall(b"GET /bad-chunks HTTP/1.1\r\nHost: h\r\n\r\n")
            data, closed = recv_until_close(sock, 5 * slack())
        finally:
            sock.close()
        self.assertTrue(closed, "client connection left open after a broken upstream body")
        responses, _ = parse_responses(data)
        self.assertEqual(responses, [], "a broken upstream body was delivered as complete: %r"
                         % data)
        outcome = wait_until(
            lambda: [c for (_, c, t) in self.upstream.peer_closed if t == "/bad-chunks"],
            4 * slack(), what="upstream connection outcome")
        self.assertEqual(outcome, [True], "upstream connection kept after a broken body")

    def test_upstream_oddities_rejected_with_502(self):
        odd = {
            "unsolicited_101": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                               b"Connection: Upgrade\r\n\r\nRAW-TUNNEL-BYTES",
            "huge_header": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 1000000 +
                           b"\r\nContent-Length: 0\r\n\r\n",
            "status_999": b"HTTP/1.1 999 Weird\r\nContent-Length: 0\r\n\r\n",
        }
        for name, data in odd.items():
            with self.subTest(name):
                self.upstream.set_behaviour(respond_raw(data, wait_close=3 * slack()))
                resp, _ = self.get("/odd-" + name)
                assert_upstream_unavailable(self, resp, 502)
                self.assertNotIn(b"RAW-TUNNEL-BYTES", resp.body)
        self.upstream.set_behaviour(respond())
        self.assertEqual(self.get("/after-odd")[0].status, 200)

    def test_upstream_304_with_content_length_has_no_body(self):
        self.upstream.push(respond_raw(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n"))
        with HttpConn(self.gw.port, 5 * slack()) as c:
            resp = c.get("/cached")
            self.assertEqual(resp.status, 304)
            self.assertEqual(resp.body, b"")
            self.assertEqual(c.get("/after-304").body, b"upstream GET /after-304")

    def test_upstream_interim_100_then_final(self):
        self.upstream.set_behaviour(respond_raw(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"))
        resp, _ = self.get("/interim")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, b"final")

    def test_upstream_closes_mid_body(self):
        # The head (Content-Length: 1000) went out; the client must not get a short body
        # presented as complete: the client connection ends.
        self.upstream.set_behaviour(respond_raw(
            b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly-a-little", close=True))
        sock = connect(self.gw.port, 10)
        try:
            sock.sendall(b"GET /short-body HTTP/1.1\r\nHost: h\r\n\r\n")
            data, closed = recv_until_close(sock, 5 * slack())
        finally:
            sock.close()
        self.assertTrue(closed, "client connection kept after a truncated upstream body")
        self.assertEqual(parse_responses(data)[0], [])
        self.upstream.set_behaviour(respond())
        resp, _ = self.get("/after-short")
        self.assertEqual(resp.status, 200)

    def test_client_aborts_mid_response(self):
        self.upstream.set_behaviour(respond_stream(20 * 1024 * 1024))
        for _ in range(3):
            sock = connect(self.gw.port, 10)
            try:
                sock.sendall(b"GET /abort HTTP/1.1\r\nHost: h\r\n\r\n")
                got = 0
                while got < 1 << 20:
                    data = sock.recv(65536)
                    if not data:
                        break
                    got += len(data)
            finally:
                sock.close()
        self.upstream.set_behaviour(respond())
        resp, _ = self.get("/after-abort")
        self.assertEqual(resp.status, 200)
        self.gw.assert_alive()

    def test_client_aborts_while_upstream_thinks(self):
        self.upstream.set_behaviour(respond_delay(0.5))
        for _ in range(3):
            sock = connect(self.gw.port, 10)
            sock.sendall(b"GET /gone HTTP/1.1\r\nHost: h\r\n\r\n")
            sock.close()
        self.upstream.wait_requests(3)
        time.sleep(0.6)  # let the delayed answers arrive for clients that are gone
        self.upstream.set_behaviour(respond())
        resp, _ = self.get("/after-gone")
        self.assertEqual(resp.status, 200)
        self.gw.assert_alive()

    def test_client_aborts_mid_request_body(self):
        sock = connect(self.gw.port, 10)
        sock.sendall(b"POST /partial HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n0123456789")
        sock.close()
        resp, _ = self.get("/after-partial")
        self.assertEqual(resp.status, 200)
        self.assertEqual([r.target for r in self.upstream.complete_requests()], ["/after-partial"])

    def test_upstream_connection_reused_across_requests(self):
        before = self.upstream.connections
        with HttpConn(self.gw.port, 5) as a:
            for i in range(3):
                self.assertEqual(a.get("/pool/%d" % i).status, 200)
        with HttpConn(self.gw.port, 5) as b:
            self.assertEqual(b.get("/pool/other").status, 200)
        self.assertLessEqual(self.upstream.connections - before, 1)


class UpstreamRefusedTest(unittest.TestCase):
    def test_connect_refused_is_502(self):
        require_binary()
        with Gateway({"upstreams": {"default": {"connect_timeout": "1s", "timeout": "2s"}}},
                     upstream_port=closed_port()) as gw:
            with HttpConn(gw.port, 10 * slack()) as c:
                resp = c.get("/nobody-home")
                assert_upstream_unavailable(self, resp, 502)
                # The client connection survives an upstream failure.
                resp2 = c.get("/again")
                assert_upstream_unavailable(self, resp2, 502)
            entry = gw.wait_access_log(lambda e: e.get("request_id") == resp.header("X-Request-Id"))
            self.assertEqual(entry[0].get("decision"), "error")
            gw.wait_metric(r'^portcullis_upstream_errors_total\{[^}]*kind="connect_failed"',
                           lambda v: v >= 2)
            gw.wait_metric(r'^portcullis_requests_total\{[^}]*code="502"', lambda v: v >= 2)


class MaxConnectionsTest(unittest.TestCase):
    def test_connections_over_limit_closed_at_once(self):
        require_binary()
        with RecordingUpstream() as up, Gateway({"limits": {"max_connections": 5}}, up) as gw:
            conns = [HttpConn(gw.port, 5 * slack()) for _ in range(5)]
            extra = []
            try:
                for i, c in enumerate(conns):
                    self.assertEqual(c.get("/held/%d" % i).status, 200)
                for _ in range(3):
                    extra.append(HttpConn(gw.port, 5 * slack()))
                for e in extra:
                    start = time.monotonic()
                    data, closed = recv_until_close(e.sock, 2 * slack())
                    self.assertTrue(closed, "connection over max_connections kept open")
                    self.assertLess(time.monotonic() - start, 1.5 * slack())
                for i, c in enumerate(conns):
                    self.assertEqual(c.get("/still/%d" % i).status, 200)
                # Room frees up once a held connection goes away (the admin port may share the
                # budget: see test_admin_reachable_at_connection_limit).
                conns.pop().close()
                gw.wait_metric(r"^portcullis_connections_rejected_total", lambda v: v >= 3)

                def new_conn_served():
                    try:
                        with HttpConn(gw.port, 2) as n:
                            return n.get("/freed").status == 200
                    except Exception:
                        return False
                wait_until(new_conn_served, 3 * slack(), interval=0.1, what="a freed slot")
            finally:
                for c in conns + extra:
                    c.close()
            targets = [r.target for r in up.requests()]
            self.assertEqual(sorted(t for t in targets if t.startswith("/held")),
                             ["/held/%d" % i for i in range(5)])
            self.assertIn("/freed", targets)


    def test_admin_reachable_at_connection_limit(self):
        # Liveness probes and metrics must keep working while clients exhaust the public
        # connection budget (else an orchestrator restarts a merely busy gateway).
        require_binary()
        with RecordingUpstream() as up, Gateway({"limits": {"max_connections": 3}}, up) as gw:
            conns = [HttpConn(gw.port, 5 * slack()) for _ in range(3)]
            try:
                for c in conns:
                    self.assertEqual(c.get("/held").status, 200)
                self.assertEqual(gw.admin_get("/healthz").status, 200)
                self.assertIn("portcullis_connections_active", gw.metrics())
            finally:
                for c in conns:
                    c.close()


class DrainTest(unittest.TestCase):
    def test_sigterm_drains_in_flight_request(self):
        require_binary()
        with RecordingUpstream(respond_delay(1.5, respond(200, b"finished after drain"))) as up:
            gw = Gateway(None, up).start()
            try:
                idle = HttpConn(gw.port, 10)
                up.push(respond())
                self.assertEqual(idle.get("/warm").status, 200)
                busy = HttpConn(gw.port, 10 * slack())
                busy.send_request("GET", "/in-flight")
                up.wait_requests(2)
                gw.proc.send_signal(signal.SIGTERM)
                signalled = time.monotonic()

                # readyz reports not ready while draining (or the admin port is gone).
                def not_ready():
                    try:
                        return gw.admin_get("/readyz", timeout=1).status == 503
                    except (OSError, EOFError):
                        return True
                wait_until(not_ready, 1.0, interval=0.05, what="readyz 503 while draining")

                # New connections are refused (or closed unanswered) while the request drains. A
                # client cannot know when the gateway has handled the signal; readyz turning 503
                # (above) is when draining has begun.
                def refusing():
                    try:
                        s = socket.create_connection((HOST, gw.port), timeout=1)
                    except (ConnectionRefusedError, socket.timeout, OSError):
                        return True
                    try:
                        s.sendall(b"GET /late HTTP/1.1\r\nHost: h\r\n\r\n")
                        data, closed = recv_until_close(s, 0.3)
                        return closed and not data
                    except OSError:
                        return True
                    finally:
                        s.close()
                wait_until(refusing, 1.2, interval=0.05, what="new connections refused")
                self.assertLess(time.monotonic() - signalled, 1.5,
                                "listener still accepting when the in-flight request finished")

                # The idle keep-alive connection is closed.
                self.assertTrue(idle.wait_closed(3 * slack()), "idle connection not closed on SIGTERM")

                resp = busy.read_response()
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.body, b"finished after drain")
                code = gw.proc.wait(10 * slack())
                self.assertEqual(code, 0)
                self.assertNotIn("/late", [r.target for r in up.requests()])
                busy.close()
                idle.close()
            finally:
                gw.stop()


class SigintTest(unittest.TestCase):
    def test_sigint_exits_zero(self):
        require_binary()
        with RecordingUpstream() as up:
            gw = Gateway(None, up).start()
            try:
                with HttpConn(gw.port, 5) as c:
                    self.assertEqual(c.get("/before-int").status, 200)
                gw.proc.send_signal(signal.SIGINT)
                self.assertEqual(gw.proc.wait(10 * slack()), 0)
            finally:
                gw.stop()


class MetricsTest(GatewayTestCase):
    def test_connections_active_gauge(self):
        conns = [HttpConn(self.gw.port, 5) for _ in range(3)]
        try:
            for c in conns:
                self.assertEqual(c.get("/active").status, 200)
            self.gw.wait_metric(r"^portcullis_connections_active\b", lambda v: v >= 3)
        finally:
            for c in conns:
                c.close()
        self.gw.wait_metric(r"^portcullis_connections_active\b", lambda v: v < 2)


if __name__ == "__main__":
    unittest.main()
