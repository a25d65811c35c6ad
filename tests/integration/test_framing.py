"""Request smuggling and malformed HTTP: every rejection is answered, closes the connection,
and forwards nothing; every accepted oddity is forwarded in its canonical form.

Test methods are generated from the tables below (one test per row) so a failure names its row.
"""

import unittest

from harness import (GatewayTestCase, HttpConn, parse_responses, send_raw, slack)

H = b"Host: gw.test\r\n"


def req(head_lines, body=b"", line_end=b"\r\n"):
    """Builds raw request bytes from a list of lines (request line first)."""
    return line_end.join(head_lines) + line_end + line_end + body


def post(headers, body):
    return req([b"POST /submit HTTP/1.1", b"Host: gw.test"] + headers, body)


def chunked(body):
    return post([b"Transfer-Encoding: chunked"], body)


# name -> (raw request, allowed status(es))
FRAMING_400 = {
    "cl_and_te": (post([b"Content-Length: 5", b"Transfer-Encoding: chunked"], b"0\r\n\r\n"), 400),
    "te_and_cl": (post([b"Transfer-Encoding: chunked", b"Content-Length: 5"], b"0\r\n\r\n"), 400),
    "cl_plus": (post([b"Content-Length: +5"], b"hello"), 400),
    "cl_negative": (post([b"Content-Length: -1"], b"hello"), 400),
    "cl_two_numbers": (post([b"Content-Length: 5 5"], b"hello"), 400),
    "cl_hex": (post([b"Content-Length: 0x5"], b"hello"), 400),
    "cl_empty": (post([b"Content-Length: "], b"hello"), 400),
    "cl_exponent": (post([b"Content-Length: 5e0"], b"hello"), 400),
    "cl_huge_overflow": (post([b"Content-Length: 18446744073709551621"], b"hello"), (400, 413)),
    "cl_two_different": (post([b"Content-Length: 5", b"Content-Length: 6"], b"hello!"), 400),
    "cl_list": (post([b"Content-Length: 5, 6"], b"hello!"), 400),
    "te_repeated": (post([b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"],
                         b"0\r\n\r\n"), 400),
    "te_xchunked": (post([b"Transfer-Encoding: xchunked"], b"0\r\n\r\n"), (400, 501)),
    "te_chunked_param": (post([b"Transfer-Encoding: chunked;x=1"], b"0\r\n\r\n"), (400, 501)),
    "te_quoted": (post([b'Transfer-Encoding: "chunked"'], b"0\r\n\r\n"), (400, 501)),
    "te_chunked_twice_in_list": (post([b"Transfer-Encoding: chunked, chunked"], b"0\r\n\r\n"),
                                 (400, 501)),
    "te_vertical_tab": (post([b"Transfer-Encoding: \x0bchunked"], b"0\r\n\r\n"), 400),
    "te_http10": (req([b"POST /submit HTTP/1.0", b"Host: gw.test", b"Transfer-Encoding: chunked"],
                      b"0\r\n\r\n"), 400),
    "obs_fold": (req([b"GET / HTTP/1.1", b"Host: gw.test", b"X-Folded: a", b" b"]), 400),
    "obs_fold_tab": (req([b"GET / HTTP/1.1", b"Host: gw.test", b"X-Folded: a", b"\tb"]), 400),
    "space_before_colon": (req([b"GET / HTTP/1.1", b"Host: gw.test", b"X-A : 1"]), 400),
    "space_before_colon_host": (req([b"GET / HTTP/1.1", b"Host : gw.test"]), 400),
    "tab_before_colon_te": (post([b"Transfer-Encoding\t: chunked"], b"0\r\n\r\n"), 400),
    "nul_in_value": (req([b"GET / HTTP/1.1", b"Host: gw.test", b"X-A: a\x00b"]), 400),
    "nul_in_name": (req([b"GET / HTTP/1.1", b"Host: gw.test", b"X-\x00A: b"]), 400),
    "cr_in_value": (req([b"GET / HTTP/1.1", b"Host: gw.test", b"X-A: a\rb"]), 400),
    "ctl_in_value": (req([b"GET / HTTP/1.1", b"Host: gw.test", b"X-A: a\x01b"]), 400),
    "del_in_value": (req([b"GET / HTTP/1.1", b"Host: gw.test", b"X-A: a\x7fb"]), 400),
    "esc_in_value": (req([b"GET / HTTP/1.1", b"Host: gw.test", b"X-A: a\x1b[0mb"]), 400),
    "ctl_in_name": (req([b"GET / HTTP/1.1", b"Host: gw.test", b"X-\x01A: b"]), 400),
    "space_in_name": (req([b"GET / HTTP/1.1", b"Host: gw.test", b"X A: b"]), 400),
    "empty_name": (req([b"GET / HTTP/1.1", b"Host: gw.test", b": b"]), 400),
    "no_colon": (req([b"GET / HTTP/1.1", b"Host: gw.test", b"X-No-Colon"]), 400),
    "high_byte_in_name": (req([b"GET / HTTP/1.1", b"Host: gw.test", b"X-\xe9: b"]), 400),
    "bare_lf_everywhere": (req([b"GET / HTTP/1.1", b"Host: gw.test"], line_end=b"\n"), 400),
    "bare_lf_one_header": (b"GET / HTTP/1.1\r\nHost: gw.test\nX-A: 1\r\n\r\n", 400),
    "bare_cr_line_end": (b"GET / HTTP/1.1\rHost: gw.test\r\n\r\n", 400),
    "request_line_two_spaces": (req([b"GET  / HTTP/1.1", b"Host: gw.test"]), 400),
    "request_line_missing_version": (req([b"GET /", b"Host: gw.test"]), 400),
    "request_line_extra_token": (req([b"GET / HTTP/1.1 x", b"Host: gw.test"]), 400),
    "request_line_lowercase_version": (req([b"GET / http/1.1", b"Host: gw.test"]), (400, 505)),
    "request_line_bad_method": (req([b"G(ET / HTTP/1.1", b"Host: gw.test"]), (400, 405, 501)),
    "request_line_tab": (req([b"GET\t/\tHTTP/1.1", b"Host: gw.test"]), 400),
    "missing_host_http11": (req([b"GET / HTTP/1.1", b"Accept: */*"]), 400),
    "two_hosts": (req([b"GET / HTTP/1.1", b"Host: gw.test", b"Host: other.test"]), 400),
    "two_hosts_same": (req([b"GET / HTTP/1.1", b"Host: gw.test", b"host: gw.test"]), 400),
    "two_authorization": (req([b"GET / HTTP/1.1", b"Host: gw.test",
                               b"Authorization: Bearer aaa", b"authorization: Bearer bbb"]), 400),
    "absolute_form_other_host": (req([b"GET http://other.test/p HTTP/1.1", b"Host: gw.test"]), 400),
    "absolute_form_userinfo": (req([b"GET http://evil@gw.test/p HTTP/1.1", b"Host: gw.test"]),
                               400),
    "asterisk_form_get": (req([b"GET * HTTP/1.1", b"Host: gw.test"]), 400),
    "relative_target": (req([b"GET a/b HTTP/1.1", b"Host: gw.test"]), 400),
}

PATH_400 = {
    "encoded_slash_upper": b"/a%2Fb",
    "encoded_slash_lower": b"/a%2fb",
    "encoded_backslash_upper": b"/a%5Cb",
    "encoded_backslash_lower": b"/a%5cb",
    "encoded_nul": b"/a%00b",
    "bad_escape_zz": b"/a%zz",
    "truncated_escape": b"/a%4",
    "percent_at_end": b"/a%",
    "raw_backslash": b"/a\\b",
    "dotdot_matrix": b"/a/..;/b",
    "dot_matrix": b"/a/.;/b",
    "dotdot_matrix_param": b"/a/..;x=1/b",
    "encoded_dotdot_matrix": b"/a/%2e%2e;/b",
    "encoded_dotdot_slash": b"/a/%2e%2e%2f/b",
    "fragment": b"/a#b",
    "raw_high_byte": b"/a\x80b",
    "raw_control": b"/a\x01b",
    "raw_del": b"/a\x7fb",
}

# request target -> target the upstream must see
NORMALIZED = [
    ("/a//b", "/a/b"),
    ("//a///b", "/a/b"),
    ("/a/./b/../c", "/a/c"),
    ("/../../etc", "/etc"),
    ("/..", "/"),
    ("/a/..", "/"),
    ("/a/b/..", "/a/"),
    ("/a/b/.", "/a/b/"),
    ("/./a", "/a"),
    ("/%61%62", "/ab"),
    ("/%7Euser/%41%2D%5F%2E", "/~user/A-_."),
    ("/a/%2e%2e/b", "/b"),
    ("/a/%2E/b", "/a/b"),
    ("/a%2e%2e/", "/a../"),
    ("/%2e%2e/%2e%2e/x", "/x"),
    ("/a/.../b", "/a/.../b"),
    ("/a;x=1/b", "/a;x=1/b"),
    ("/a%20b", "/a%20b"),
    ("/caf%C3%A9", "/caf%C3%A9"),
    ("/a?x=/../b", "/a?x=/../b"),
    ("/a/../b?q=a%2Fb&r=//x/./y", "/b?q=a%2Fb&r=//x/./y"),
    ("/", "/"),
]


class FramingTest(GatewayTestCase):
    CONFIG = {"limits": {"max_header_bytes": 4096, "max_body_bytes": 1024,
                         "max_token_bytes": 2048, "client_timeout": "5s"}}

    def get_forwarded(self, target_bytes, host=b"gw.test"):
        data = send_raw(self.gw.port, b"GET " + target_bytes + b" HTTP/1.1\r\nHost: " + host +
                        b"\r\nConnection: close\r\n\r\n", 5 * slack())
        responses, _ = parse_responses(data)
        self.assertTrue(responses, "no response for %r: %r" % (target_bytes, data[:300]))
        return responses[0]

    # -- chunked body errors: the head may already be upstream, the request never completes
    def assert_chunk_rejected(self, body, status=400):
        self.assert_rejected(chunked(body), status, upstream_complete_only=True,
                             allow_silent_close=True)
        # Whatever reached the upstream is an incomplete request on a connection the gateway
        # must drop: give the upstream a moment to observe that.
        for r in self.upstream.requests():
            self.assertFalse(r.complete, r)

    def test_chunk_size_not_hex(self):
        self.assert_chunk_rejected(b"zz\r\nhello\r\n0\r\n\r\n")

    def test_chunk_size_negative(self):
        self.assert_chunk_rejected(b"-1\r\nhello\r\n0\r\n\r\n")

    def test_chunk_size_0x_prefix(self):
        self.assert_chunk_rejected(b"0x10\r\n0123456789abcdef\r\n0\r\n\r\n")

    def test_chunk_size_17_hex_digits(self):
        self.assert_chunk_rejected(b"10000000000000005\r\nhello\r\n0\r\n\r\n")

    def test_chunk_size_empty(self):
        self.assert_chunk_rejected(b"\r\nhello\r\n0\r\n\r\n")

    def test_chunk_missing_crlf_after_data(self):
        self.assert_chunk_rejected(b"5\r\nhelloXX0\r\n\r\n")

    def test_chunk_size_bare_lf(self):
        self.assert_chunk_rejected(b"5\nhello\r\n0\r\n\r\n")

    def test_chunk_data_longer_than_size(self):
        self.assert_chunk_rejected(b"3\r\nhello\r\n0\r\n\r\n")

    def test_chunked_body_over_max_body_bytes(self):
        piece = b"x" * 800
        body = b"320\r\n" + piece + b"\r\n" + b"320\r\n" + piece + b"\r\n0\r\n\r\n"
        self.assert_chunk_rejected(body, status=413)

    # -- limits -------------------------------------------------------------------------
    def test_header_block_over_max_header_bytes(self):
        self.assert_rejected(req([b"GET / HTTP/1.1", H.strip(), b"X-Big: " + b"a" * 6000]), 431,
                             error_code="header_too_large")

    def test_many_small_headers_over_max_header_bytes(self):
        lines = [b"X-H%d: %s" % (i, b"v" * 40) for i in range(120)]
        self.assert_rejected(req([b"GET / HTTP/1.1", H.strip()] + lines), 431)

    def test_more_than_100_headers(self):
        lines = [b"X-%d: v" % i for i in range(101)]
        self.assert_rejected(req([b"GET / HTTP/1.1", H.strip()] + lines), 431,
                             error_code="header_too_large")

    def test_100_headers_accepted(self):
        lines = [b"X-%d: v" % i for i in range(98)]  # + Host + Connection = 100
        data = send_raw(self.gw.port, req([b"GET /hundred HTTP/1.1", H.strip(),
                                           b"Connection: close"] + lines), 5 * slack())
        self.assertEqual(parse_responses(data)[0][0].status, 200)
        self.assertEqual(self.upstream.last().header("X-97"), "v")

    def test_long_request_target(self):
        self.assert_rejected(req([b"GET /" + b"a" * 6000 + b" HTTP/1.1", H.strip()]),
                             (400, 414, 431))

    def test_content_length_over_max_body_bytes(self):
        # Only the head is sent: the 413 must not wait for (or buffer) the body.
        self.assert_rejected(post([b"Content-Length: 2048"], b""), 413, error_code="body_too_large")

    def test_content_length_at_max_body_bytes_accepted(self):
        body = b"b" * 1024
        with HttpConn(self.gw.port, 5 * slack()) as c:
            resp = c.request("POST", "/exact", [("Host", "gw.test")], body)
        self.assertEqual(resp.status, 200)
        self.assertEqual(self.upstream.last().body, body)

    # -- versions, methods, targets ----------------------------------------------------
    def test_http20_is_505(self):
        self.assert_rejected(req([b"GET / HTTP/2.0", H.strip()]), 505,
                             error_code="version_not_supported")

    def test_http30_is_505(self):
        self.assert_rejected(req([b"GET / HTTP/3.0", H.strip()]), 505)

    def test_http12_handled_as_http11(self):
        with HttpConn(self.gw.port, 5 * slack()) as c:
            c.send(req([b"GET /v12 HTTP/1.2", H.strip()]))
            resp = c.read_response()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, b"upstream GET /v12")
        up = self.upstream.last()
        self.assertEqual(up.version, "HTTP/1.1")
        self.assertEqual(up.target, "/v12")

    def test_connect_is_405(self):
        self.assert_rejected(req([b"CONNECT gw.test:443 HTTP/1.1", H.strip()]), 405,
                             expect_close=False, error_code="method_not_allowed")

    def test_connect_origin_form_rejected(self):
        self.assert_rejected(req([b"CONNECT / HTTP/1.1", H.strip()]), (400, 405),
                             expect_close=False)

    def test_trace_is_405_with_allow(self):
        with HttpConn(self.gw.port, 5 * slack()) as c:
            c.send(req([b"TRACE /echo HTTP/1.1", H.strip(), b"X-Secret: s"]))
            resp = c.read_response()
        self.assertEqual(resp.status, 405)
        self.assertTrue(resp.header("Allow"), resp)
        self.assertNotIn("TRACE", resp.header("Allow", "").upper().replace(" ", "").split(","))
        self.assertEqual(resp.json().get("error"), "method_not_allowed")
        self.assertNotIn(b"X-Secret", resp.body)
        self.upstream.assert_nothing()

    def test_absolute_form_same_host_forwarded_as_origin_form(self):
        with HttpConn(self.gw.port, 5 * slack()) as c:
            c.send(req([b"GET http://gw.test/p//q/../r?x=1 HTTP/1.1", H.strip()]))
            resp = c.read_response()
        self.assertEqual(resp.status, 200)
        up = self.upstream.last()
        self.assertEqual(up.target, "/p/r?x=1")
        self.assertEqual(up.header("Host"), "gw.test")

    def test_absolute_form_same_host_with_port(self):
        with HttpConn(self.gw.port, 5 * slack()) as c:
            c.send(req([b"GET http://gw.test:8080/p HTTP/1.1", b"Host: gw.test:8080"]))
            resp = c.read_response()
        self.assertEqual(resp.status, 200)
        self.assertEqual(self.upstream.last().target, "/p")

    def test_absolute_form_port_mismatch(self):
        self.assert_rejected(req([b"GET http://gw.test:8081/p HTTP/1.1", b"Host: gw.test:8080"]),
                             400)

    def test_http10_without_host_forwarded(self):
        data = send_raw(self.gw.port, b"GET /no-host HTTP/1.0\r\n\r\n", 5 * slack())
        responses, _ = parse_responses(data)
        self.assertTrue(responses, data)
        self.assertEqual(responses[0].status, 200)
        self.assertEqual(self.upstream.last().target, "/no-host")

    def test_tab_in_header_value_accepted(self):
        data = send_raw(self.gw.port, req([b"GET /tab HTTP/1.1", H.strip(), b"Connection: close",
                                           b"X-Tab: a\tb"]), 5 * slack())
        self.assertEqual(parse_responses(data)[0][0].status, 200)
        self.assertIn(b"a\tb", self.upstream.last().raw_head)

    def test_te_gzip_chunked_is_501(self):
        self.assert_rejected(post([b"Transfer-Encoding: gzip, chunked"],
                                  b"0\r\n\r\n"), 501, error_code="not_implemented")

    def test_te_identity_is_501(self):
        self.assert_rejected(post([b"Transfer-Encoding: identity"], b"hello"), 501)

    def test_te_chunked_case_insensitive_accepted(self):
        with HttpConn(self.gw.port, 5 * slack()) as c:
            c.send(post([b"Transfer-Encoding: Chunked"], b"5\r\nhello\r\n0\r\n\r\n"))
            resp = c.read_response("POST")
        self.assertEqual(resp.status, 200)
        self.assertEqual(self.upstream.last().body, b"hello")

    def test_pipelined_bad_request_after_good_one(self):
        data = (b"GET /good HTTP/1.1\r\nHost: gw.test\r\n\r\n"
                b"GET /a%2Fb HTTP/1.1\r\nHost: gw.test\r\n\r\n"
                b"GET /never HTTP/1.1\r\nHost: gw.test\r\n\r\n")
        got = send_raw(self.gw.port, data, 5 * slack())
        responses, _ = parse_responses(got)
        self.assertEqual([r.status for r in responses], [200, 400], got)
        self.assertEqual([r.target for r in self.upstream.requests()], ["/good"])

    def test_bad_request_first_stops_the_pipeline(self):
        data = (b"GET /x HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx"
                b"GET /never HTTP/1.1\r\nHost: gw.test\r\n\r\n")
        self.assert_rejected(data, 400)

    def test_huge_chunk_extension_bounded(self):
        body = b"5;" + b"e" * 20000 + b"\r\nhello\r\n0\r\n\r\n"
        self.assert_rejected(chunked(body), (400, 413, 431), upstream_complete_only=True,
                             allow_silent_close=True)

    def test_many_tiny_chunks(self):
        body = b"".join(b"1\r\n%c\r\n" % (97 + i % 26) for i in range(500)) + b"0\r\n\r\n"
        with HttpConn(self.gw.port, 5 * slack()) as c:
            c.send(chunked(body))
            resp = c.read_response("POST")
        self.assertEqual(resp.status, 200)
        self.assertEqual(self.upstream.last().body,
                         bytes(97 + i % 26 for i in range(500)))

    def test_smuggled_second_request_not_forwarded_after_rejection(self):
        # A CL.TE attempt: whatever follows the rejected head must never reach the upstream.
        smuggled = b"GET /smuggled HTTP/1.1\r\nHost: gw.test\r\n\r\n"
        body = b"0\r\n\r\n" + smuggled
        self.assert_rejected(post([b"Content-Length: %d" % len(body),
                                   b"Transfer-Encoding: chunked"], body), 400)


def _make_rejection_test(data, status):
    def test(self):
        self.assert_rejected(data, status)
    return test


def _make_path_rejection_test(target):
    def test(self):
        self.assert_rejected(b"GET " + target + b" HTTP/1.1\r\nHost: gw.test\r\n\r\n", 400,
                             error_code="bad_request")
    return test


def _make_normalized_test(target, expected):
    def test(self):
        resp = self.get_forwarded(target.encode())
        self.assertEqual(resp.status, 200, "%s -> %r" % (target, resp))
        up = self.upstream.last()
        self.assertEqual(up.target, expected, "request target %s" % target)
    return test


for _name, (_data, _status) in FRAMING_400.items():
    setattr(FramingTest, "test_reject_" + _name, _make_rejection_test(_data, _status))
for _name, _target in PATH_400.items():
    setattr(FramingTest, "test_path_reject_" + _name, _make_path_rejection_test(_target))
for _i, (_target, _expected) in enumerate(NORMALIZED):
    setattr(FramingTest, "test_path_normalized_%02d" % _i, _make_normalized_test(_target, _expected))


if __name__ == "__main__":
    unittest.main()
