"""Forwarding through the real binary: what the client gets and what the upstream sees."""

import hashlib
import threading
import unittest

from harness import (DEFAULT_TIMEOUT, Gateway, GatewayTestCase, HttpConn, RecordingUpstream,
                     RssSampler, binary_is_sanitized, build_request, connection_tokens,
                     parse_responses, pattern_bytes, recv_until_close,
                     respond, respond_chunked, respond_close_delimited, respond_delay,
                     respond_echo, respond_stream, send_raw, slack)

HEX32 = r"^[0-9a-f]{32}$"
HOP_BY_HOP = ("Connection-Named", "X-Foo", "Keep-Alive", "TE", "Trailer", "Transfer-Encoding",
              "Upgrade", "Proxy-Authorization", "Proxy-Connection", "Proxy-Foo", "HTTP2-Settings",
              "Expect")


class ProxyBasicsTest(GatewayTestCase):
    CONFIG = {"limits": {"max_body_bytes": 1048576}}

    def conn(self, timeout=DEFAULT_TIMEOUT):
        return HttpConn(self.gw.port, timeout * slack())

    def assert_forwarded_headers(self, req, host):
        self.assertEqual(req.header_values("Host"), [host])
        self.assertEqual(req.header_values("X-Forwarded-Proto"), ["http"])
        self.assertEqual(req.header_values("X-Forwarded-Host"), [host])
        self.assertEqual(req.header_values("X-Forwarded-For"), ["127.0.0.1"])
        ids = req.header_values("X-Request-Id")
        self.assertEqual(len(ids), 1, req.raw_head)
        self.assertRegex(ids[0], HEX32)

    # -- basic forwarding ---------------------------------------------------------------
    def test_simple_get_forwarded(self):
        with self.conn() as c:
            resp = c.request("GET", "/a//b/./c/../d?x=1&y=/../z&q=a%2Fb",
                             [("Host", "api.example.test"), ("Accept", "text/plain")])
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, b"upstream GET /a/b/d?x=1&y=/../z&q=a%2Fb")
        req = self.upstream.last()
        self.assertEqual(req.method, "GET")
        self.assertEqual(req.target, "/a/b/d?x=1&y=/../z&q=a%2Fb")
        self.assertEqual(req.version, "HTTP/1.1")
        self.assertEqual(req.header("Accept"), "text/plain")
        self.assert_forwarded_headers(req, "api.example.test")
        self.assertEqual(resp.header_values("X-Request-Id"), req.header_values("X-Request-Id"))
        self.assertFalse(req.has_header("Content-Length") and req.header("Content-Length") != "0")
        self.assertFalse(req.has_header("Transfer-Encoding"))

    def test_request_ids_are_unique(self):
        ids = set()
        with self.conn() as c:
            for _ in range(5):
                resp = c.get("/id")
                self.assertEqual(resp.status, 200)
                self.assertRegex(resp.header("X-Request-Id", ""), HEX32)
                ids.add(resp.header("X-Request-Id"))
        self.assertEqual(len(ids), 5)
        self.assertEqual({r.header("X-Request-Id") for r in self.upstream.wait_requests(5)}, ids)

    def test_keep_alive_twenty_requests_one_connection(self):
        before = self.upstream.connections
        with self.conn() as c:
            for i in range(20):
                resp = c.get("/ka/%d" % i)
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.body, b"upstream GET /ka/%d" % i)
                self.assertNotIn("close", connection_tokens(resp.headers))
            self.assertTrue(c.is_open())
        reqs = self.upstream.wait_requests(20)
        self.assertEqual([r.target for r in reqs], ["/ka/%d" % i for i in range(20)])
        # Upstream connections are pooled: 20 sequential requests need at most a couple.
        self.assertLessEqual(self.upstream.connections - before, 2)

    def test_pipelining_five_requests_in_one_write(self):
        data = b""
        methods = []
        for i in range(5):
            if i == 2:
                data += build_request("POST", "/pipe/%d" % i, [("Host", self.host)], b"body-two")
            else:
                data += build_request("GET", "/pipe/%d" % i, [("Host", self.host)])
            methods.append("POST" if i == 2 else "GET")
        with self.conn() as c:
            c.send(data)
            for i in range(5):
                resp = c.read_response(methods[i])
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.body, ("upstream %s /pipe/%d" % (methods[i], i)).encode())
            self.assertTrue(c.is_open())
        reqs = self.upstream.wait_requests(5)
        self.assertEqual([r.target for r in reqs], ["/pipe/%d" % i for i in range(5)])
        self.assertEqual(reqs[2].body, b"body-two")
        self.assertEqual(len({r.header("X-Request-Id") for r in reqs}), 5)

    def test_pipelined_request_forwarded_only_after_previous_response(self):
        self.upstream.push(respond_delay(0.4))
        data = (build_request("GET", "/first-slow", [("Host", self.host)]) +
                build_request("GET", "/second", [("Host", self.host)]))
        with self.conn() as c:
            c.send(data)
            first = c.read_response()
            second = c.read_response()
        self.assertEqual((first.status, first.body), (200, b"upstream GET /first-slow"))
        self.assertEqual((second.status, second.body), (200, b"upstream GET /second"))
        reqs = self.upstream.wait_requests(2)
        self.assertGreaterEqual(reqs[1].received_at - reqs[0].received_at, 0.35,
                                "second pipelined request forwarded before the first was answered")

    def test_upstream_connection_close_not_reused(self):
        # The upstream says Connection: close but leaves the socket open; the gateway must
        # not send the next request on it.
        self.upstream.push(respond(200, b"last on this connection",
                                   headers=[("Connection", "close")]))
        with self.conn() as c:
            self.assertEqual(c.get("/closing").body, b"last on this connection")
            self.assertEqual(c.get("/next-conn").status, 200)
        reqs = self.upstream.wait_requests(2)
        self.assertNotEqual(reqs[0].conn_id, reqs[1].conn_id)

    def test_post_with_content_length(self):
        self.upstream.set_behaviour(respond_echo())
        body = b'{"order": 7, "note": "hello"}'
        with self.conn() as c:
            resp = c.request("POST", "/orders", [("Host", self.host),
                                                 ("Content-Type", "application/json"),
                                                 ("Content-Length", str(len(body)))], body)
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, body)
        req = self.upstream.last()
        self.assertTrue(req.complete)
        self.assertEqual(req.body, body)
        self.assertEqual(req.header_values("Content-Length"), [str(len(body))])
        self.assertFalse(req.has_header("Transfer-Encoding"))

    def test_chunked_request_body_is_rechunked(self):
        self.upstream.set_behaviour(respond_echo())
        raw = (b"POST /upload HTTP/1.1\r\nHost: " + self.host.encode() +
               b"\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5;name=value\r\nhello\r\n"
               b"1;x\r\n \r\n"
               b"A\r\n0123456789\r\n"
               b"0\r\nX-Trailer-Field: secret-trailer\r\nX-Auth-Subject: admin\r\n\r\n")
        with self.conn() as c:
            c.send(raw)
            resp = c.read_response()
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.body, b"hello 0123456789")
            # The connection stays usable: the trailers were consumed, not taken for a request.
            self.assertEqual(c.get("/after").status, 200)
        reqs = self.upstream.wait_requests(2)
        req = reqs[0]
        self.assertTrue(req.complete)
        self.assertTrue(req.chunked, req.raw_head)
        self.assertFalse(req.has_header("Content-Length"))
        self.assertEqual(req.body, b"hello 0123456789")
        self.assertEqual(req.chunk_extensions, [])
        self.assertEqual(req.trailers, [])
        self.assertNotIn(b"secret-trailer", req.raw_head)
        self.assertNotIn(b"X-Auth-Subject", req.raw_head)
        self.assertEqual(reqs[1].target, "/after")

    def test_chunked_response_to_client(self):
        self.upstream.push(respond_chunked([b"alpha ", b"beta ", b"gamma"],
                                           trailers=[("X-Checksum", "abc")], extensions=True))
        with self.conn() as c:
            resp = c.get("/chunked")
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.body, b"alpha beta gamma")
            self.assertIn(resp.framing, ("chunked", "length"))
            self.assertEqual(c.get("/next").body, b"upstream GET /next")

    def test_close_delimited_upstream_response(self):
        body = b"no length here; " * 500
        self.upstream.push(respond_close_delimited(body, pieces=4))
        with self.conn() as c:
            c.send_request("GET", "/cd")
            resp = c.read_response()
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.body, body)
            if resp.framing == "close":
                self.assertTrue(c.wait_closed(3 * slack()),
                                "client connection should close after a close-delimited body")
            else:
                # Re-framed as chunked for an HTTP/1.1 client: the connection stays usable.
                self.assertEqual(resp.framing, "chunked")
                self.assertEqual(c.get("/after-cd").body, b"upstream GET /after-cd")

    def test_close_delimited_upstream_response_http10(self):
        body = b"old school " * 300
        self.upstream.push(respond_close_delimited(body, pieces=3))
        with self.conn() as c:
            c.send(b"GET /cd10 HTTP/1.0\r\nHost: h\r\n\r\n")
            data, closed = recv_until_close(c.sock, 5 * slack())
        self.assertTrue(closed)
        responses, _ = parse_responses(data)
        self.assertEqual(len(responses), 1, data[:300])
        self.assertEqual(responses[0].body, body)
        self.assertFalse(responses[0].header_values("Transfer-Encoding"))

    def test_head_204_304_have_no_body(self):
        self.upstream.push(respond(200, b"this body must not appear"), respond(204),
                           respond(304, headers=[("ETag", '"v1"')]))
        with self.conn() as c:
            head = c.request("HEAD", "/head", [("Host", self.host)])
            self.assertEqual(head.status, 200)
            self.assertEqual(head.body, b"")
            self.assertEqual(head.header("Content-Length"), "25")
            r204 = c.get("/no-content")
            self.assertEqual(r204.status, 204)
            self.assertEqual(r204.body, b"")
            self.assertFalse(r204.header_values("Transfer-Encoding"))
            r304 = c.get("/not-modified")
            self.assertEqual(r304.status, 304)
            self.assertEqual(r304.header("ETag"), '"v1"')
            # Nothing leaked into the stream: a following request reads cleanly.
            after = c.get("/after")
            self.assertEqual(after.status, 200)
            self.assertEqual(after.body, b"upstream GET /after")
        reqs = self.upstream.wait_requests(4)
        self.assertEqual(reqs[0].method, "HEAD")

    def test_expect_100_continue(self):
        self.upstream.set_behaviour(respond_echo())
        with self.conn() as c:
            c.send(b"PUT /put HTTP/1.1\r\nHost: " + self.host.encode() +
                   b"\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n")
            interim = c.read_response()
            self.assertEqual(interim.status, 100)
            self.upstream.assert_nothing(grace=0.05, complete_only=True)
            c.send(b"hello world")
            resp, more_interim = c.read_final("PUT")
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.body, b"hello world")
        req = self.upstream.last()
        self.assertEqual(req.body, b"hello world")
        self.assertFalse(req.has_header("Expect"), req.raw_head)

    def test_expect_unknown_is_417(self):
        self.assert_rejected(
            b"GET /exp HTTP/1.1\r\nHost: h\r\nExpect: something-else\r\n\r\n", 417,
            expect_close=False, error_code="expectation_failed")

    # -- headers --------------------------------------------------------------------------
    def test_hop_by_hop_headers_not_forwarded(self):
        headers = [("Host", self.host),
                   ("Connection", "keep-alive, X-Foo, Connection-Named"),
                   ("X-Foo", "named-by-connection"),
                   ("Connection-Named", "also-named"),
                   ("Keep-Alive", "timeout=5"),
                   ("TE", "trailers"),
                   ("Trailer", "X-Checksum"),
                   ("Upgrade", "h2c"),
                   ("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"),
                   ("Proxy-Authorization", "Basic cHJveHk6c2VjcmV0"),
                   ("Proxy-Connection", "keep-alive"),
                   ("Proxy-Foo", "bar"),
                   ("X-Bar", "kept")]
        with self.conn() as c:
            resp = c.request("GET", "/hop", headers)
            self.assertEqual(resp.status, 200)
        req = self.upstream.last()
        for name in HOP_BY_HOP:
            self.assertFalse(req.has_header(name), "%s forwarded: %r" % (name, req.raw_head))
        self.assertNotIn(b"named-by-connection", req.raw_head)
        self.assertNotIn(b"cHJveHk6c2VjcmV0", req.raw_head)
        self.assertEqual(req.header("X-Bar"), "kept")
        for token in connection_tokens(req.headers):
            self.assertIn(token, ("keep-alive", "close"), req.raw_head)

    def test_connection_close_from_client(self):
        with self.conn() as c:
            resp = c.request("GET", "/bye", [("Host", self.host), ("Connection", "close"),
                                             ("X-Foo", "x")])
            self.assertEqual(resp.status, 200)
            self.assertIn("close", connection_tokens(resp.headers))
            self.assertTrue(c.wait_closed(3 * slack()))
        self.assertEqual(self.upstream.last().target, "/bye")

    def test_connection_cannot_remove_gateway_headers(self):
        with self.conn() as c:
            resp = c.request("GET", "/conn-attack", [
                ("Host", self.host),
                ("Connection", "X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Proto, "
                               "X-Request-Id, Host")])
            self.assertEqual(resp.status, 200)
        req = self.upstream.last()
        self.assert_forwarded_headers(req, self.host)

    def test_upgrade_h2c_not_forwarded(self):
        with self.conn() as c:
            resp = c.request("GET", "/h2c", [("Host", self.host),
                                             ("Connection", "Upgrade, HTTP2-Settings"),
                                             ("Upgrade", "h2c"),
                                             ("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA")])
            self.assertEqual(resp.status, 200)
            self.assertNotEqual(resp.status, 101)
        req = self.upstream.last()
        self.assertFalse(req.has_header("Upgrade"))
        self.assertFalse(req.has_header("HTTP2-Settings"))

    def test_x_forwarded_for_appended(self):
        with self.conn() as c:
            resp = c.request("GET", "/xff", [("Host", self.host),
                                             ("X-Forwarded-For", "203.0.113.7")])
            self.assertEqual(resp.status, 200)
        self.assertEqual(self.upstream.last().header_values("X-Forwarded-For"),
                         ["203.0.113.7, 127.0.0.1"])

    def test_spoofable_forwarding_headers_replaced(self):
        with self.conn() as c:
            resp = c.request("GET", "/spoof", [("Host", "real.example"),
                                               ("X-Request-Id", "client-chosen-id"),
                                               ("X-Forwarded-Host", "evil.example"),
                                               ("X-Forwarded-Proto", "https"),
                                               ("x-forwarded-host", "evil2.example")])
            self.assertEqual(resp.status, 200)
            self.assertNotEqual(resp.header("X-Request-Id"), "client-chosen-id")
            self.assertEqual(len(resp.header_values("X-Request-Id")), 1)
        req = self.upstream.last()
        self.assert_forwarded_headers(req, "real.example")
        self.assertNotIn(b"client-chosen-id", req.raw_head)
        self.assertNotIn(b"evil", req.raw_head)
        self.assertEqual(resp.header("X-Request-Id"), req.header("X-Request-Id"))

    def test_rewrite_headers_removed(self):
        with self.conn() as c:
            resp = c.request("GET", "/public", [("Host", self.host),
                                                ("X-Forwarded-Uri", "/admin"),
                                                ("X-Original-URL", "/admin"),
                                                ("X-Rewrite-URL", "/admin"),
                                                ("x-original-url", "/admin2")])
            self.assertEqual(resp.status, 200)
        req = self.upstream.last()
        for name in ("X-Forwarded-Uri", "X-Original-URL", "X-Rewrite-URL"):
            self.assertFalse(req.has_header(name), req.raw_head)
        self.assertNotIn(b"/admin", req.raw_head)
        self.assertEqual(req.target, "/public")

    def test_obs_text_header_value_forwarded_byte_for_byte(self):
        value = b"caf\xe9 \xff\x80 end\tx"
        with self.conn() as c:
            resp = c.request("GET", "/obs", [("Host", self.host), ("X-Obs", value)])
            self.assertEqual(resp.status, 200)
        req = self.upstream.last()
        self.assertIn(b": " + value + b"\r\n", req.raw_head)
        self.assertEqual(req.header("X-Obs").encode("latin-1"), value)

    def test_response_hop_by_hop_headers_removed(self):
        self.upstream.push(respond(200, b"resp", headers=[("Connection", "X-Up-Secret"),
                                                          ("X-Up-Secret", "1"),
                                                          ("Keep-Alive", "timeout=99"),
                                                          ("X-Kept", "yes")]))
        with self.conn() as c:
            resp = c.get("/resp-hop")
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.body, b"resp")
            self.assertFalse(resp.header_values("X-Up-Secret"))
            self.assertFalse(resp.header_values("Keep-Alive"))
            self.assertEqual(resp.header("X-Kept"), "yes")
            self.assertRegex(resp.header("X-Request-Id", ""), HEX32)

    def test_repeated_response_headers_kept(self):
        self.upstream.push(respond(200, b"c", headers=[("Set-Cookie", "a=1"),
                                                       ("Set-Cookie", "b=2")]))
        with self.conn() as c:
            resp = c.get("/cookies")
        self.assertEqual(resp.header_values("Set-Cookie"), ["a=1", "b=2"])

    # -- HTTP/1.0 -------------------------------------------------------------------------
    def test_http10_client(self):
        with self.conn() as c:
            c.send(b"GET /old HTTP/1.0\r\nHost: " + self.host.encode() + b"\r\n\r\n")
            data, closed = recv_until_close(c.sock, 5 * slack())
        self.assertTrue(closed, "HTTP/1.0 connection without keep-alive left open")
        responses, rest = parse_responses(data)
        self.assertEqual(len(responses), 1, data)
        self.assertEqual(rest, b"")
        resp = responses[0]
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, b"upstream GET /old")
        self.assertIn(resp.framing, ("length", "close"))
        req = self.upstream.last()
        self.assertEqual(req.version, "HTTP/1.1")
        self.assertEqual(req.target, "/old")

    def test_http10_client_gets_chunked_upstream_body_raw(self):
        self.upstream.push(respond_chunked([b"one ", b"two ", b"three"]))
        c = self.conn()
        try:
            c.send(b"GET /old-chunked HTTP/1.0\r\nHost: " + self.host.encode() + b"\r\n\r\n")
            data, closed = recv_until_close(c.sock, 5 * slack())
        finally:
            c.close()
        self.assertTrue(closed, "HTTP/1.0 connection not closed")
        responses, rest = parse_responses(data)
        self.assertEqual(len(responses), 1, data)
        resp = responses[0]
        self.assertEqual(resp.status, 200)
        self.assertFalse(resp.header_values("Transfer-Encoding"), resp)
        self.assertEqual(resp.body, b"one two three")

    # -- access log -----------------------------------------------------------------------
    def test_access_log_line_and_no_token_leak(self):
        token = "eyJhbGciOiJFUzI1NiJ9.SENTINEL-tok-7f3a9c.c2lnbmF0dXJl"
        with self.conn() as c:
            resp = c.request("GET", "/logged//x/./y?secret=querypart",
                             [("Host", self.host), ("Authorization", "Bearer " + token),
                              ("Cookie", "session=SENTINEL-cookie")])
            self.assertEqual(resp.status, 200)
        rid = resp.header("X-Request-Id")
        entry = self.gw.wait_access_log(lambda e: e.get("request_id") == rid)[0]
        for key in ("time", "request_id", "client", "method", "path", "route", "decision",
                    "status", "subject", "upstream_ms", "total_ms"):
            self.assertIn(key, entry)
        self.assertEqual(entry["method"], "GET")
        self.assertEqual(entry["path"], "/logged/x/y")
        self.assertEqual(entry["decision"], "allow")
        self.assertEqual(int(entry["status"]), 200)
        self.assertTrue(str(entry["client"]).startswith("127.0.0.1"), entry)
        everything = "\n".join(self.gw.stdout_lines() + self.gw.stderr_lines())
        self.assertNotIn("SENTINEL-tok", everything)
        self.assertNotIn("querypart", entry["path"])

    def test_access_log_for_invalid_request(self):
        data = send_raw(self.gw.port, b"GET /a%2Fb HTTP/1.1\r\nHost: h\r\n"
                        b"Authorization: Bearer SENTINEL-bad-req-tok\r\n\r\n", 5 * slack())
        resp = parse_responses(data)[0][0]
        self.assertEqual(resp.status, 400)
        rid = resp.header("X-Request-Id")
        entry = self.gw.wait_access_log(lambda e: e.get("request_id") == rid)[0]
        self.assertEqual(entry["decision"], "invalid")
        self.assertEqual(int(entry["status"]), 400)
        self.assertNotIn("SENTINEL-bad-req-tok", "\n".join(self.gw.stdout_lines() +
                                                           self.gw.stderr_lines()))
        self.upstream.assert_nothing()


class ConcurrencyTest(GatewayTestCase):
    WORKERS = 2

    def test_many_concurrent_keep_alive_clients(self):
        errors = []

        def client(i):
            try:
                with HttpConn(self.gw.port, 20 * slack()) as c:
                    for j in range(10):
                        resp = c.get("/c/%d/%d" % (i, j))
                        if resp.status != 200 or resp.body != b"upstream GET /c/%d/%d" % (i, j):
                            errors.append(repr(resp))
            except Exception as e:  # collected and reported below
                errors.append(repr(e))
        threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60 * slack())
        self.assertEqual(errors, [])
        reqs = self.upstream.wait_requests(500)
        self.assertEqual(len({r.header("X-Request-Id") for r in reqs}), 500)


class StreamingTest(unittest.TestCase):
    """50 MB each way through the gateway without its memory growing with the body."""

    SIZE = 50 * 1024 * 1024

    @classmethod
    def setUpClass(cls):
        cls.upstream = RecordingUpstream(record_body=False)
        try:
            # A small ASan quarantine, else freed buffers are held back and RSS means nothing.
            cls.gw = Gateway({"limits": {"max_body_bytes": 2 * cls.SIZE}}, cls.upstream,
                             env={"ASAN_OPTIONS": "quarantine_size_mb=4:detect_leaks=1"}).start()
        except Exception:
            cls.upstream.close()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.gw.stop()
        finally:
            cls.upstream.close()

    def assert_rss_bounded(self, sampler):
        growth_mb = (sampler.max_kb - sampler.start_kb) / 1024.0
        limit = 40 if binary_is_sanitized() else 30
        self.assertLess(growth_mb, limit, "RSS grew by %.1f MB while streaming %d MB (start %.1f MB)"
                        % (growth_mb, self.SIZE >> 20, sampler.start_kb / 1024.0))
        if not binary_is_sanitized():
            self.assertLess(sampler.max_kb / 1024.0, 100.0)

    def test_large_request_body_streamed(self):
        self.upstream.set_behaviour(respond(200, b"got it"))
        self.upstream.body_read_pause = 0.003  # the upstream reads slower than the client sends
        payload = pattern_bytes(self.SIZE, seed=3)
        with RssSampler(self.gw.proc.pid) as sampler:
            c = HttpConn(self.gw.port, 120)
            try:
                c.send(b"POST /big-upload HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n"
                       % self.SIZE)
                view = memoryview(payload)
                for off in range(0, self.SIZE, 1 << 20):
                    c.send(view[off:off + (1 << 20)])
                resp = c.read_response()
            finally:
                c.close()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, b"got it")
        req = self.upstream.wait_requests(1)[-1]
        self.assertTrue(req.complete)
        self.assertEqual(req.body_length, self.SIZE)
        self.assertEqual(req.body_sha256, hashlib.sha256(payload).hexdigest())
        self.assertEqual(req.header("Content-Length"), str(self.SIZE))
        self.assert_rss_bounded(sampler)

    def test_large_response_streamed(self):
        self.upstream.set_behaviour(respond_stream(self.SIZE))
        expected = hashlib.sha256(pattern_bytes(self.SIZE)).hexdigest()
        digest = hashlib.sha256()
        count = [0]

        def sink(data):
            digest.update(data)
            count[0] += len(data)
        with RssSampler(self.gw.proc.pid) as sampler:
            c = HttpConn(self.gw.port, 120)
            try:
                c.send_request("GET", "/big-download", [("Host", "h")])
                # The client reads slower than the upstream sends.
                resp = c.read_response(body_sink=sink, pause=0.003)
            finally:
                c.close()
        self.assertEqual(resp.status, 200)
        self.assertEqual(count[0], self.SIZE)
        self.assertEqual(digest.hexdigest(), expected)
        self.assert_rss_bounded(sampler)


if __name__ == "__main__":
    unittest.main()
