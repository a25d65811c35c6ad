"""WebSocket pass-through: an upgrade is authenticated like any request; the tunnel opens only
on an upstream 101 with the right Sec-WebSocket-Accept; any other answer is an ordinary
response and HTTP parsing goes on; h2c is never passed on; idle tunnels time out."""

import base64
import hashlib
import os
import socket
import threading
import time
import unittest

from auth_support import KeyPair, claims_for, issuer_config, jwks_of, temp_dir, write_json_atomic
from harness import (DEFAULT_TIMEOUT, BufferedSocket, Gateway, GatewayTestCase, RecordingUpstream,
                     _head, build_request, connect, read_response, recv_until_close, respond, slack,
                     wait_until)

ISSUER = "https://issuer.test"
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_for(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def new_key():
    return base64.b64encode(os.urandom(16)).decode()


def upgrade_request(target="/ws", token=None, key=None, extra=(), host="gw"):
    headers = [("Host", host), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
               ("Sec-WebSocket-Key", key or new_key()), ("Sec-WebSocket-Version", "13")]
    if token:
        headers.append(("Authorization", "Bearer " + token))
    return build_request("GET", target, headers + list(extra))


def ws_switch(accept=None, greeting=b"hello-from-upstream", echo=True, close_after=None, headers=()):
    """Upstream behaviour: answers 101 (with the right accept unless `accept` is given), sends a
    greeting, then echoes every byte back until the gateway closes (or closes itself after
    sending `close_after`). Records on the upstream whether the gateway closed the tunnel."""
    def behaviour(req, conn):
        key = req.header("Sec-WebSocket-Key", "")
        hs = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
              ("Sec-WebSocket-Accept", accept if accept is not None else accept_for(key))] + list(headers)
        conn.send(_head(101, "Switching Protocols", hs) + greeting)
        conn.keep_alive = False
        if close_after is not None:
            conn.send(close_after)
            conn.close()
            return
        closed_by_gateway = False
        while echo:
            try:
                data = conn.bs.read_some()
            except (OSError, socket.timeout):
                break
            if not data:
                closed_by_gateway = True
                break
            conn.send(data)
        with conn.upstream._lock:
            conn.upstream.peer_closed.append((conn.conn_id, closed_by_gateway, req.target))
        conn.close()
    return behaviour


class WebSocketTest(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.key = KeyPair("ES256")
        path = os.path.join(temp_dir(), "jwks.json")
        write_json_atomic(path, jwks_of(cls.key))
        cls.CONFIG = {"issuers": [issuer_config(issuer=ISSUER, jwks_file=path)]}
        super().setUpClass()
        cls.token = cls.key.mint(claims_for(issuer=ISSUER, sub="ws-user"), ttl="10m")

    def open_tunnel(self, target="/ws"):
        key = new_key()
        sock = connect(self.gw.port)
        sock.sendall(upgrade_request(target, self.token, key))
        bs = BufferedSocket(sock, DEFAULT_TIMEOUT * slack())
        resp = read_response(bs)
        return sock, bs, resp, key

    def test_upgrade_without_or_with_a_bad_token_is_401_and_nothing_goes_upstream(self):
        self.upstream.set_behaviour(ws_switch())
        for token in (None, self.token[:-4] + "AAAA"):
            with self.subTest(token=bool(token)):
                sock = connect(self.gw.port)
                try:
                    sock.sendall(upgrade_request(token=token))
                    resp = read_response(BufferedSocket(sock, DEFAULT_TIMEOUT * slack()))
                finally:
                    sock.close()
                self.assertEqual(resp.status, 401)
                self.assertIsNone(resp.header("Upgrade"))
        self.upstream.assert_nothing()

    def test_tunnel_relays_bytes_both_ways(self):
        self.upstream.set_behaviour(ws_switch())
        sock, bs, resp, key = self.open_tunnel("/ws/chat?room=1")
        try:
            self.assertEqual(resp.status, 101)
            self.assertEqual(resp.header("Sec-WebSocket-Accept"), accept_for(key))
            self.assertEqual(resp.header("Upgrade"), "websocket")
            self.assertEqual(resp.header("Connection"), "Upgrade")
            self.assertRegex(resp.header("X-Request-Id", ""), r"^[0-9a-f]{32}$")
            self.assertEqual(bs.read_exact(len(b"hello-from-upstream")), b"hello-from-upstream")
            sock.sendall(b"\x81\x05hello")
            self.assertEqual(bs.read_exact(7), b"\x81\x05hello")
            # Much more than the relay's buffers, both ways at once.
            payload = os.urandom(3 << 20)
            sender = threading.Thread(target=sock.sendall, args=(payload,), daemon=True)
            sender.start()
            self.assertEqual(bs.read_exact(len(payload)), payload)
            sender.join(5)
        finally:
            sock.close()
        req = self.upstream.last()
        self.assertEqual(req.target, "/ws/chat?room=1")
        self.assertEqual(req.header("Upgrade"), "websocket")
        self.assertEqual(req.header("Connection"), "Upgrade")
        self.assertEqual(req.header("Sec-WebSocket-Key"), key)
        self.assertEqual(req.header("Sec-WebSocket-Version"), "13")
        self.assertEqual(req.header("X-Auth-Subject"), "ws-user")
        # The client closing ends the upstream side too.
        wait_until(lambda: self.upstream.peer_closed, 3 * slack(), what="upstream side closed")
        self.assertTrue(self.upstream.peer_closed[0][1])
        entry = self.gw.wait_access_log(lambda e: e.get("status") == 101)[0]
        self.assertEqual(entry["decision"], "allow")
        self.assertEqual(entry["subject"], "ws-user")

    def test_upstream_close_ends_the_tunnel_after_its_last_bytes(self):
        # Bytes after the 101, then the close; or all of it in one go with the 101.
        for greeting, last in ((b"", b"goodbye"), (b"goodbye", b"")):
            with self.subTest(with_101=bool(greeting)):
                self.upstream.set_behaviour(ws_switch(greeting=greeting, close_after=last))
                sock, bs, resp, _ = self.open_tunnel()
                try:
                    self.assertEqual(resp.status, 101)
                    self.assertEqual(bs.read_to_eof(), b"goodbye")
                finally:
                    sock.close()

    def test_wrong_accept_is_502_and_closes(self):
        for accept in ("AAAAAAAAAAAAAAAAAAAAAAAAAAA=", ""):
            with self.subTest(accept=accept):
                self.upstream.set_behaviour(ws_switch(accept=accept, echo=False))
                sock, bs, resp, _ = self.open_tunnel()
                try:
                    self.assertEqual(resp.status, 502)
                    self.assertEqual(resp.json()["error"], "upstream_unavailable")
                    self.assertIn("close", resp.header("Connection", "").lower())
                    data, closed = recv_until_close(sock, DEFAULT_TIMEOUT * slack())
                    self.assertTrue(closed)
                    self.assertNotIn(b"hello-from-upstream", bs.buf + data)
                finally:
                    sock.close()

    def test_declined_upgrade_is_a_normal_response_and_http_goes_on(self):
        for status in (403, 200, 426):
            with self.subTest(status=status):
                self.upstream.clear()
                self.upstream.push(respond(status, body=b"no tunnel"), respond(200, body=b"next"))
                sock = connect(self.gw.port)
                try:
                    # The upgrade and a pipelined request without a token: once the upgrade
                    # is declined, the next bytes are a request of their own, checked as such.
                    sock.sendall(upgrade_request(token=self.token) +
                                 build_request("GET", "/after", [("Host", "gw")]) +
                                 build_request("GET", "/after-auth", [("Host", "gw"),
                                               ("Authorization", "Bearer " + self.token)]))
                    bs = BufferedSocket(sock, DEFAULT_TIMEOUT * slack())
                    first = read_response(bs)
                    self.assertEqual(first.status, status)
                    self.assertEqual(first.body, b"no tunnel")
                    self.assertIsNone(first.header("Upgrade"))
                    self.assertEqual(read_response(bs).status, 401)
                    third = read_response(bs)
                    self.assertEqual(third.status, 200)
                    self.assertEqual(third.body, b"next")
                finally:
                    sock.close()
                self.assertEqual([r.target for r in self.upstream.wait_requests(2)], ["/ws", "/after-auth"])

    def test_101_to_a_request_that_asked_for_no_upgrade_is_502(self):
        self.upstream.set_behaviour(ws_switch(echo=False))
        conn = self.gw.connect()
        try:
            resp = conn.get("/plain", [("Authorization", "Bearer " + self.token)])
        finally:
            conn.close()
        self.assertEqual(resp.status, 502)
        self.assertIsNone(self.upstream.last().header("Upgrade"))

    def test_h2c_upgrade_is_stripped(self):
        conn = self.gw.connect()
        try:
            resp = conn.get("/h2", [("Authorization", "Bearer " + self.token), ("Upgrade", "h2c"),
                                    ("Connection", "Upgrade, HTTP2-Settings"),
                                    ("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA")])
        finally:
            conn.close()
        self.assertEqual(resp.status, 200)
        req = self.upstream.last()
        for name in ("Upgrade", "HTTP2-Settings"):
            self.assertFalse(req.has_header(name), name)
        self.assertNotIn("upgrade", (req.header("Connection") or "").lower())

    def test_malformed_websocket_upgrade_is_forwarded_without_upgrade(self):
        sock = connect(self.gw.port)
        try:
            sock.sendall(upgrade_request(token=self.token, key="short=="))
            resp = read_response(BufferedSocket(sock, DEFAULT_TIMEOUT * slack()))
        finally:
            sock.close()
        self.assertEqual(resp.status, 200)
        self.assertFalse(self.upstream.last().has_header("Upgrade"))


class WebSocketIdleTest(unittest.TestCase):
    def test_idle_tunnel_times_out_and_a_busy_one_does_not(self):
        with RecordingUpstream(ws_switch(greeting=b"")) as up:
            with Gateway({"limits": {"tunnel_idle_timeout": "1s"}}, up) as gw:
                sock = connect(gw.port)
                try:
                    sock.sendall(upgrade_request())
                    bs = BufferedSocket(sock, DEFAULT_TIMEOUT * slack())
                    self.assertEqual(read_response(bs).status, 101)
                    # Traffic every 0.3 s for 2 s keeps it open.
                    for i in range(7):
                        if i:
                            time.sleep(0.3)
                        sock.sendall(b"x%d" % i)
                        self.assertEqual(bs.read_exact(2), b"x%d" % i)
                    last_traffic = time.monotonic()
                    data, closed = recv_until_close(sock, 5 * slack())
                    elapsed = time.monotonic() - last_traffic
                finally:
                    sock.close()
                self.assertTrue(closed)
                self.assertEqual(data, b"")
                self.assertGreater(elapsed, 0.9)
                self.assertLess(elapsed, 3 * slack())
                wait_until(lambda: up.peer_closed, 3 * slack(), what="upstream side closed")


class WebSocketOverTlsTest(unittest.TestCase):
    def test_tunnel_through_a_tls_listener(self):
        from tls_support import CertFactory, client_context, tls_connect
        certs = CertFactory()
        try:
            cert, key = certs.make_leaf("server")
            listen = {"listen": {"address": "127.0.0.1:0", "tls": {"cert_file": cert, "key_file": key}}}
            with RecordingUpstream(ws_switch()) as up, Gateway(listen, up) as gw:
                with tls_connect(gw.port, client_context(certs.ca)) as sock:
                    sock.sendall(upgrade_request())
                    bs = BufferedSocket(sock, DEFAULT_TIMEOUT * slack())
                    self.assertEqual(read_response(bs).status, 101)
                    self.assertEqual(bs.read_exact(len(b"hello-from-upstream")), b"hello-from-upstream")
                    # One thread per SSL socket (Python's SSL objects are not for concurrent
                    # use): a payload the socket buffers on the way can hold.
                    payload = os.urandom(192 << 10)
                    sock.sendall(payload)
                    self.assertEqual(bs.read_exact(len(payload)), payload)
                self.assertEqual(up.last().header("X-Forwarded-Proto"), "https")
        finally:
            certs.close()


if __name__ == "__main__":
    unittest.main()
