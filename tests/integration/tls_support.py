"""TLS helpers for the integration tests (Python 3 stdlib + the `openssl` command line).

Pieces:
  CertFactory   a private CA, and leaf certificates it (or another CA) signs, made with the
                `openssl` CLI in a temporary directory: valid, expired, wrong name, untrusted
  client_context / tls_connect   a verifying Python TLS client for the gateway's TLS listener
  TlsUpstream   a threaded HTTPS origin on 127.0.0.1 (keep-alive, Content-Length bodies) that
                records requests, the SNI each handshake carried and handshake failures
"""

import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import warnings

from harness import DEFAULT_TIMEOUT, HOST, BufferedSocket, ProtocolError, parse_header_lines, read_head


class CertFactory:
    """Certificates under a temporary directory. Every leaf is an EC P-256 key + certificate
    pair written as <name>.pem / <name>.key; `ca` is the trusted root's certificate file."""

    def __init__(self):
        if shutil.which("openssl") is None:
            raise RuntimeError("the openssl command line tool is needed to make test certificates")
        self._tmp = tempfile.TemporaryDirectory(prefix="portcullis-tls-")
        self.dir = self._tmp.name
        self.ca = self.make_ca("root")
        self.other_ca = self.make_ca("other-root")

    def close(self):
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def _run(self, *args):
        subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=30)

    def make_ca(self, name):
        self._run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", self.path(name + ".key"), "-out", self.path(name + ".pem"), "-days", "30",
                  "-subj", "/CN=%s" % name, "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return self.path(name + ".pem")

    def make_leaf(self, name, sans=("IP:127.0.0.1", "DNS:localhost"), ca="root", days=30):
        """A server certificate signed by CA `ca` (a make_ca name). days < 0: already expired."""
        key, csr, pem = self.path(name + ".key"), self.path(name + ".csr"), self.path(name + ".pem")
        ext = self.path(name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                    % ",".join(sans))
        self._run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", key, "-out", csr, "-subj", "/CN=%s" % name)
        self._run("x509", "-req", "-in", csr, "-CA", self.path(ca + ".pem"), "-CAkey", self.path(ca + ".key"),
                  "-set_serial", "0x" + os.urandom(8).hex(), "-days", str(days), "-out", pem,
                  "-extfile", ext)
        return pem, key


def client_context(ca_file, **versions):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1: asking for them is the test
        for attr, value in versions.items():
            setattr(ctx, attr, value)
    return ctx


def tls_connect(port, ctx, server_hostname="localhost", timeout=DEFAULT_TIMEOUT):
    raw = socket.create_connection((HOST, port), timeout=timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        return ctx.wrap_socket(raw, server_hostname=server_hostname)
    except Exception:
        raw.close()
        raise


def peer_certificate(port, ca_file):
    """The DER certificate the listener presents now (a fresh connection)."""
    with tls_connect(port, client_context(ca_file)) as s:
        return s.getpeercert(binary_form=True)


def file_der(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


class TlsUpstream:
    """HTTPS origin on 127.0.0.1:0 answering every request with 200 and a JSON body
    {"method", "target", "headers"}; records requests, SNI names and handshake failures."""

    def __init__(self, cert, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.ctx.sni_callback = self._on_sni
        self.lock = threading.Lock()
        self.requests = []
        self.sni = []
        self.handshake_errors = []
        self.connections = 0
        self._stop = threading.Event()
        self._threads = []
        self._socks = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, 0))
        self.listener.listen(64)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._accept_thread.start()

    def _on_sni(self, sslobj, name, ctx):
        with self.lock:
            self.sni.append(name)

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self._socks.append(sock)
            t = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, sock):
        sock.settimeout(DEFAULT_TIMEOUT)
        try:
            tls = self.ctx.wrap_socket(sock, server_side=True)
        except (ssl.SSLError, OSError) as e:
            with self.lock:
                self.handshake_errors.append(repr(e))
            sock.close()
            return
        bs = BufferedSocket(tls, DEFAULT_TIMEOUT)
        try:
            while not self._stop.is_set():
                if not bs.buf and not bs._fill():
                    return
                start, lines, _ = read_head(bs)
                method, target, _ = start.decode("latin-1").split(" ", 2)
                headers = parse_header_lines(lines)
                length = 0
                for name, value in headers:
                    if name.lower() == "content-length":
                        length = int(value)
                body = bs.read_exact(length) if length else b""
                with self.lock:
                    self.requests.append({"method": method, "target": target, "headers": headers,
                                          "body": body})
                payload = json.dumps({"method": method, "target": target,
                                      "headers": headers}).encode()
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload))
        except (ProtocolError, EOFError, ssl.SSLError, OSError, ValueError):
            return
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def close(self):
        self._stop.set()
        try:
            self.listener.close()
        except OSError:
            pass
        with self.lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._accept_thread.join(2)
        for t in self._threads:
            t.join(2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
