"""Black-box integration harness for the portcullis binary (Python 3 stdlib only).

Pieces:
  Gateway            the real binary as a child process, configured through a temp gateway.yaml
  RecordingUpstream  a raw-socket HTTP/1.1 origin that records what the gateway forwarded
  HttpConn / helpers raw client sockets with a strict HTTP/1.1 response reader

Everything talks to 127.0.0.1 only, every socket operation has a timeout, and every child
process is ended (SIGTERM, then SIGKILL) even when a test fails.
"""

import hashlib
import json
import os
import re
import select
import shlex
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

HOST = "127.0.0.1"
DEFAULT_TIMEOUT = 5.0
# Sanitizer builds are several times slower; scale the timing slack of assertions with this.
SLOW = float(os.environ.get("PORTCULLIS_TEST_SLOWDOWN", "1"))

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "ERROR: ThreadSanitizer", "WARNING: ThreadSanitizer")


def _die_with_parent():
    """preexec_fn: the child gets SIGKILL if the test runner dies (e.g. a ctest timeout)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def binary_path():
    path = os.environ.get("PORTCULLIS_BIN")
    if not path:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "..", "build", "portcullis")
    return os.path.abspath(path)


_sanitized_cache = None


def binary_is_sanitized():
    """True when the binary was linked with ASan (RSS limits and timing are relaxed)."""
    global _sanitized_cache
    if _sanitized_cache is None:
        try:
            with open(binary_path(), "rb") as f:
                data = f.read()
            _sanitized_cache = b"__asan_init" in data or b"AddressSanitizer" in data
        except OSError:
            _sanitized_cache = False
    return _sanitized_cache


def wrapper_command():
    """PORTCULLIS_WRAPPER: a command line put in front of the gateway (`run`) command, e.g.
    "valgrind --tool=memcheck --leak-check=full --error-exitcode=99". Empty: none."""
    return shlex.split(os.environ.get("PORTCULLIS_WRAPPER", ""))


def wrapper_slowdown():
    """Extra timing slack while a wrapper runs the gateway (valgrind is 20-50x slower);
    PORTCULLIS_WRAPPER_SLOWDOWN overrides the default of 10."""
    if not wrapper_command():
        return 1.0
    return float(os.environ.get("PORTCULLIS_WRAPPER_SLOWDOWN", "10"))


def slack():
    """Multiplier for time bounds: 3x under sanitizers, times PORTCULLIS_TEST_SLOWDOWN, times
    wrapper_slowdown() when PORTCULLIS_WRAPPER is set."""
    return SLOW * (3.0 if binary_is_sanitized() else 1.0) * wrapper_slowdown()


def wait_until(predicate, timeout=DEFAULT_TIMEOUT, interval=0.02, what="condition"):
    """Polls predicate until it returns a truthy value; returns it, or raises AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def closed_port():
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_seconds(pid):
    """User + system CPU time the process has used so far, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class RssSampler:
    """Samples a process's VmRSS every 20 ms in a thread; .max_kb after stop()."""

    def __init__(self, pid):
        self.pid = pid
        self.start_kb = rss_kb(pid)
        self.max_kb = self.start_kb
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.max_kb = max(self.max_kb, rss_kb(self.pid))
            self._stop.wait(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(2)
        self.max_kb = max(self.max_kb, rss_kb(self.pid))
        return False


# ----------------------------------------------------------------------------------------
# YAML (written by hand: no PyYAML)

_PLAIN_SCALAR = re.compile(r"^[A-Za-z0-9_./][A-Za-z0-9_./:*-]*$")
_YAML_SPECIAL = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"}


def yaml_scalar(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN_SCALAR.match(text) and text.lower() not in _YAML_SPECIAL and not text.endswith(":"):
        return text
    return json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar


def to_yaml(value, indent=0):
    pad = "  " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict) and item:
                lines.append("%s%s:" % (pad, key))
                lines.append(to_yaml(item, indent + 1))
            elif isinstance(item, list) and item:
                lines.append("%s%s:" % (pad, key))
                for element in item:
                    if isinstance(element, dict):
                        body = to_yaml(element, indent + 2).lstrip()
                        lines.append("%s  - %s" % (pad, body))
                    else:
                        lines.append("%s  - %s" % (pad, yaml_scalar(element)))
            elif isinstance(item, dict):
                lines.append("%s%s: {}" % (pad, key))
            elif isinstance(item, list):
                lines.append("%s%s: []" % (pad, key))
            else:
                lines.append("%s%s: %s" % (pad, key, yaml_scalar(item)))
    else:
        lines.append(pad + yaml_scalar(value))
    return "\n".join(lines)


def deep_merge(base, overrides):
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


# ----------------------------------------------------------------------------------------
# Gateway process

class GatewayError(AssertionError):
    pass


def _find_sanitizer_report(lines):
    text = "\n".join(lines)
    for marker in SANITIZER_MARKERS:
        if marker in text:
            start = max(0, text.find(marker) - 200)
            return text[start:start + 6000]
    return None


class Gateway:
    """Runs `$PORTCULLIS_BIN run --config <tmp>/gateway.yaml` for the duration of a `with`.

    config: dict deep-merged into the base config, or YAML text whose top-level keys replace
    the base's. The base listens on 127.0.0.1:0 (public and admin) and points
    upstreams.default at the given upstream (a RecordingUpstream, a port, or a URL).
    """

    def __init__(self, config=None, upstream=None, workers=1, upstream_port=None,
                 upstream_url=None, check_exit=True, env=None, start_timeout=10.0,
                 args=None):
        if upstream is not None and upstream_port is None and upstream_url is None:
            upstream_port = upstream.port
        if upstream_url is None:
            upstream_url = "http://%s:%d" % (HOST, upstream_port if upstream_port else closed_port())
        self.base = {
            "listen": "%s:0" % HOST,
            "admin_listen": "%s:0" % HOST,
            "workers": workers,
            "upstreams": {"default": {"url": upstream_url}},
        }
        self.config = config
        self.check_exit = check_exit
        self.extra_env = env or {}
        self.start_timeout = start_timeout * (2 if binary_is_sanitized() else 1) * wrapper_slowdown()
        self.args = args
        self.proc = None
        self.port = None
        self.admin_port = None
        self.listening = None
        self.exit_code = None
        self._stdout = []
        self._stderr = []
        self._lock = threading.Lock()
        self._listening_event = threading.Event()
        self._threads = []
        self._tmp = None
        self.config_path = None

    # -- config ------------------------------------------------------------------------
    def config_text(self):
        if self.config is None:
            return to_yaml(self.base) + "\n"
        if isinstance(self.config, dict):
            return to_yaml(deep_merge(self.base, self.config)) + "\n"
        text = str(self.config)
        given = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:", text, re.M))
        base = {k: v for k, v in self.base.items() if k not in given}
        return to_yaml(base) + "\n" + text.rstrip("\n") + "\n"

    # -- lifecycle -----------------------------------------------------------------------
    def start(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="portcullis-it-")
        self.config_path = os.path.join(self._tmp.name, "gateway.yaml")
        with open(self.config_path, "w") as f:
            f.write(self.config_text())
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        env.update(self.extra_env)
        if self.args is not None:
            args = [a.replace("{config}", self.config_path) for a in self.args]
        else:
            args = ["run", "--config", self.config_path]
        # PORTCULLIS_WRAPPER wraps only the served gateway (not the CLI helpers); valgrind
        # keeps the pid, so signals and /proc still reach the gateway.
        self.proc = subprocess.Popen(wrapper_command() + [binary_path()] + args,
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=self._tmp.name, env=env, preexec_fn=_die_with_parent)
        for stream, sink, is_err in ((self.proc.stdout, self._stdout, False),
                                     (self.proc.stderr, self._stderr, True)):
            t = threading.Thread(target=self._drain, args=(stream, sink, is_err), daemon=True)
            t.start()
            self._threads.append(t)
        deadline = time.monotonic() + self.start_timeout
        while not self._listening_event.is_set():
            if self.proc.poll() is not None:
                self._join_drainers()
                self._tmp.cleanup()
                raise GatewayError("portcullis exited with %s before listening; config:\n%s\n"
                                   "stderr:\n%s" % (self.proc.returncode, self.config_text(),
                                                    "\n".join(self.stderr_lines()[-40:])))
            if time.monotonic() >= deadline:
                self._kill()
                self._tmp.cleanup()
                raise GatewayError("no 'listening' line within %.0fs; stderr:\n%s"
                                   % (self.start_timeout, "\n".join(self.stderr_lines()[-40:])))
            self._listening_event.wait(0.02)
        return self

    def _drain(self, stream, sink, is_err):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                sink.append(line)
            if is_err and not self._listening_event.is_set():
                self._maybe_listening(line)
        stream.close()

    def _maybe_listening(self, line):
        try:
            obj = json.loads(line)
        except ValueError:
            return
        if not isinstance(obj, dict) or obj.get("msg") != "listening":
            return
        try:
            self.port = int(str(obj["listen"]).rsplit(":", 1)[1])
            self.admin_port = int(str(obj["admin"]).rsplit(":", 1)[1])
        except (KeyError, ValueError, IndexError):
            return
        self.listening = obj
        self._listening_event.set()

    def _join_drainers(self, timeout=5):
        for t in self._threads:
            t.join(timeout)

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def terminate(self, timeout=10.0):
        """SIGTERM, wait (then SIGKILL); returns the exit code (negative = killed by signal)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout * (2 if binary_is_sanitized() else 1) * wrapper_slowdown())
            except subprocess.TimeoutExpired:
                self._kill()
                self._join_drainers()
                raise GatewayError("portcullis did not exit within %.0fs of SIGTERM" % timeout)
        self._join_drainers()
        self.exit_code = self.proc.returncode
        return self.exit_code

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.stop(exc_type is None)
        return False

    def stop(self, check=True):
        if self.proc is None:
            return
        problem = None
        was_running = self.proc.poll() is None
        try:
            code = self.terminate()
            if check and self.check_exit and was_running and code != 0:
                problem = "portcullis exited with %s after SIGTERM (expected 0)" % code
            if not was_running and code not in (0, None) and self.check_exit and check:
                problem = "portcullis died on its own with exit code %s" % code
        except GatewayError as e:
            problem = str(e)
        finally:
            self._kill()
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None
        report = _find_sanitizer_report(self.stderr_lines())
        if report:
            raise GatewayError("sanitizer report from portcullis:\n" + report)
        if problem:
            raise GatewayError(problem + "\nstderr tail:\n" + "\n".join(self.stderr_lines()[-30:]))

    # -- observation ---------------------------------------------------------------------
    def stdout_lines(self):
        with self._lock:
            return list(self._stdout)

    def stderr_lines(self):
        with self._lock:
            return list(self._stderr)

    def access_log(self):
        out = []
        for line in self.stdout_lines():
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
        return out

    def wait_access_log(self, predicate=lambda entry: True, count=1, timeout=3.0):
        """Waits until `count` access-log entries satisfy predicate; returns them."""
        def found():
            hits = [e for e in self.access_log() if predicate(e)]
            return hits if len(hits) >= count else None
        return wait_until(found, timeout, what="%d access log line(s)" % count)

    def logs(self):
        out = []
        for line in self.stderr_lines():
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
        return out

    def sanitizer_report(self):
        return _find_sanitizer_report(self.stderr_lines())

    def assert_alive(self):
        if self.proc.poll() is not None:
            raise GatewayError("portcullis died (exit %s); stderr tail:\n%s"
                               % (self.proc.returncode, "\n".join(self.stderr_lines()[-40:])))
        report = self.sanitizer_report()
        if report:
            raise GatewayError("sanitizer report from portcullis:\n" + report)

    def admin_get(self, path, timeout=DEFAULT_TIMEOUT):
        conn = HttpConn(self.admin_port, timeout)
        try:
            return conn.request("GET", path, headers=[("Host", "%s:%d" % (HOST, self.admin_port)),
                                                      ("Connection", "close")])
        finally:
            conn.close()

    def metrics(self):
        return self.admin_get("/metrics").body.decode("utf-8", "replace")

    def wait_metric(self, pattern, predicate=lambda v: v >= 1, timeout=4.0):
        """Polls /metrics until the sum of samples matching regex `pattern` satisfies predicate."""
        rx = re.compile(pattern)
        last = [None]

        def check():
            text = self.metrics()
            total = metric_sum(text, rx)
            last[0] = total
            return total is not None and predicate(total)
        try:
            wait_until(check, timeout * slack(), interval=0.1, what="metric %s" % pattern)
        except AssertionError:
            raise AssertionError("metric %r never satisfied the condition (last sum: %r)\n%s"
                                 % (pattern, last[0], self.metrics()))
        return last[0]

    def connect(self, timeout=DEFAULT_TIMEOUT):
        return HttpConn(self.port, timeout)


def metric_sum(text, rx):
    """Sum of the values of sample lines whose name+labels match rx; None when none do."""
    total = None
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.rsplit(" ", 1)
        if len(parts) != 2:
            continue
        if rx.search(parts[0]):
            try:
                value = float(parts[1])
            except ValueError:
                continue
            total = (total or 0.0) + value
    return total


# ----------------------------------------------------------------------------------------
# Strict HTTP/1.1 reading (used by both the client helpers and the upstream)

class ProtocolError(Exception):
    pass


class BufferedSocket:
    """A socket with a read buffer and deadline-bounded reads."""

    def __init__(self, sock, timeout=DEFAULT_TIMEOUT):
        self.sock = sock
        self.buf = bytearray()
        self.eof = False
        sock.settimeout(timeout)

    def settimeout(self, timeout):
        self.sock.settimeout(timeout)

    def _fill(self, size=65536):
        if self.eof:
            return False
        try:
            data = self.sock.recv(size)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_line(self, limit=65536):
        """Returns one line including its terminator (strict CRLF is checked by callers)."""
        start = 0
        while True:
            idx = self.buf.find(b"\n", start)
            if idx >= 0:
                line = bytes(self.buf[:idx + 1])
                del self.buf[:idx + 1]
                return line
            start = len(self.buf)
            if len(self.buf) > limit:
                raise ProtocolError("line too long")
            if not self._fill():
                raise EOFError("connection closed mid-line (%d bytes buffered)" % len(self.buf))

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill(min(max(65536, n - len(self.buf)), 4 << 20)):
                raise EOFError("connection closed with %d of %d bytes" % (len(self.buf), n))
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_some(self, max_bytes=262144):
        if not self.buf and not self._fill(max_bytes):
            return b""
        data = bytes(self.buf[:max_bytes])
        del self.buf[:max_bytes]
        return data

    def read_to_eof(self):
        while self._fill():
            pass
        data = bytes(self.buf)
        self.buf.clear()
        return data


_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def parse_header_lines(lines):
    """lines: raw CRLF-terminated header lines. Returns [(name, value)] as latin-1 str."""
    headers = []
    for line in lines:
        if not line.endswith(b"\r\n"):
            raise ProtocolError("header line without CRLF: %r" % line)
        body = line[:-2]
        if body[:1] in (b" ", b"\t"):
            raise ProtocolError("obs-fold: %r" % line)
        if b":" not in body:
            raise ProtocolError("header without colon: %r" % line)
        name, value = body.split(b":", 1)
        if not _TOKEN.match(name):
            raise ProtocolError("bad header name: %r" % name)
        value = value.strip(b" \t")
        if any((c < 0x20 and c != 0x09) or c == 0x7f for c in value):
            raise ProtocolError("control byte in header value: %r" % line)
        headers.append((name.decode("latin-1"), value.decode("latin-1")))
    return headers


def read_head(bs, limit=65536):
    """Reads a head (start line + headers) up to the empty line. Returns (start, lines, raw)."""
    raw = bytearray()
    start = bs.read_line(limit)
    raw += start
    if not start.endswith(b"\r\n"):
        raise ProtocolError("start line without CRLF: %r" % start)
    lines = []
    while True:
        line = bs.read_line(limit)
        raw += line
        if len(raw) > limit:
            raise ProtocolError("head too large")
        if line == b"\r\n":
            return start[:-2], lines, bytes(raw)
        lines.append(line)


def header_values(headers, name):
    lname = name.lower()
    return [v for (n, v) in headers if n.lower() == lname]


def header(headers, name, default=None):
    values = header_values(headers, name)
    return values[0] if values else default


def has_header(headers, name):
    return bool(header_values(headers, name))


def connection_tokens(headers):
    tokens = set()
    for v in header_values(headers, "Connection"):
        for t in v.split(","):
            if t.strip():
                tokens.add(t.strip().lower())
    return tokens


def parse_content_length(headers):
    values = header_values(headers, "Content-Length")
    if not values:
        return None
    if len(set(values)) != 1 or not re.fullmatch(r"[0-9]{1,18}", values[0]):
        raise ProtocolError("bad Content-Length: %r" % values)
    return int(values[0])


class ChunkedBody:
    def __init__(self):
        self.body = bytearray()
        self.chunk_sizes = []
        self.extensions = []
        self.trailers = []


def read_chunked(bs, max_bytes=None, pause=0.0, sink=None):
    """Strict chunked decoding. Returns ChunkedBody (raises ProtocolError/EOFError)."""
    out = ChunkedBody()
    total = 0
    while True:
        line = bs.read_line(4096)
        if not line.endswith(b"\r\n"):
            raise ProtocolError("chunk size line without CRLF: %r" % line)
        line = line[:-2]
        size_part, sep, ext = line.partition(b";")
        if sep:
            out.extensions.append(ext)
        if not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", size_part):
            raise ProtocolError("bad chunk size: %r" % line)
        size = int(size_part, 16)
        if size == 0:
            break
        out.chunk_sizes.append(size)
        remaining = size
        while remaining:
            piece = bs.read_exact(min(remaining, 1 << 20))
            remaining -= len(piece)
            total += len(piece)
            if sink is not None:
                sink(piece)
            else:
                out.body += piece
            if pause:
                time.sleep(pause)
        if max_bytes is not None and total > max_bytes:
            raise ProtocolError("chunked body too large")
        if bs.read_exact(2) != b"\r\n":
            raise ProtocolError("missing CRLF after chunk data")
    while True:
        line = bs.read_line(8192)
        if line == b"\r\n":
            break
        out.trailers.append(line)
    return out


class Response:
    def __init__(self, version, status, reason, headers, body, raw_head, framing):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.raw_head = raw_head
        self.framing = framing  # "length", "chunked", "close", "none"
        self.trailers = []

    def header(self, name, default=None):
        return header(self.headers, name, default)

    def header_values(self, name):
        return header_values(self.headers, name)

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def closes(self):
        return "close" in connection_tokens(self.headers)

    def __repr__(self):
        return "<Response %s %s %r body=%r>" % (self.status, self.reason, self.headers,
                                                self.body[:200])


_STATUS_LINE = re.compile(rb"^HTTP/(1\.[01]) ([1-9][0-9]{2}) ?([^\r\n]*)$")


def read_response(bs, method="GET", max_body=None, body_sink=None, pause=0.0, chunk=262144):
    """Reads one response strictly from a BufferedSocket (or socket). Interim (1xx) responses
    are returned like any other; see read_final_response.
    body_sink: if given, body bytes are passed to it instead of being collected."""
    if isinstance(bs, socket.socket):
        bs = BufferedSocket(bs, bs.gettimeout() or DEFAULT_TIMEOUT)
    start, lines, raw = read_head(bs)
    m = _STATUS_LINE.match(start)
    if not m:
        raise ProtocolError("bad status line: %r" % start)
    version, status, reason = m.group(1).decode(), int(m.group(2)), m.group(3).decode("latin-1")
    headers = parse_header_lines(lines)
    body = bytearray()

    def take(data):
        if body_sink is not None:
            body_sink(data)
        else:
            body.extend(data)

    te = header_values(headers, "Transfer-Encoding")
    cl = parse_content_length(headers)
    if status < 200 or status in (204, 304) or method == "HEAD":
        framing = "none"
        if status < 200 and (te or cl is not None):
            raise ProtocolError("interim response with framing headers")
        if status in (204,) and (te or (cl not in (None, 0))):
            raise ProtocolError("204 with a body framing header")
    elif te:
        if cl is not None:
            raise ProtocolError("response with both Content-Length and Transfer-Encoding")
        if [t.strip().lower() for t in ",".join(te).split(",")] != ["chunked"]:
            raise ProtocolError("unexpected response Transfer-Encoding %r" % te)
        framing = "chunked"
        decoded = read_chunked(bs, sink=take, pause=pause)
        resp = Response(version, status, reason, headers, bytes(body), raw, framing)
        resp.trailers = decoded.trailers
        return resp
    elif cl is not None:
        framing = "length"
        remaining = cl
        while remaining:
            piece = bs.read_exact(min(remaining, chunk))
            remaining -= len(piece)
            take(piece)
            if pause:
                time.sleep(pause)
    else:
        framing = "close"
        while True:
            piece = bs.read_some(chunk)
            if not piece:
                break
            take(piece)
    return Response(version, status, reason, headers, bytes(body), raw, framing)


def read_final_response(bs, method="GET", **kw):
    """Reads responses until a non-1xx one; returns (final, [interim...])."""
    interim = []
    while True:
        resp = read_response(bs, method, **kw)
        if resp.status >= 200:
            return resp, interim
        interim.append(resp)


# ----------------------------------------------------------------------------------------
# Client helpers

def connect(port, timeout=DEFAULT_TIMEOUT):
    sock = socket.create_connection((HOST, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(timeout)
    return sock


def send_raw(port, data, timeout=DEFAULT_TIMEOUT, half_close=False):
    """Sends bytes on a fresh connection; returns every byte received until the peer closes
    (or until `timeout` seconds of overall waiting pass)."""
    sock = connect(port, timeout)
    try:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return recv_until_close(sock, timeout)[0]
    finally:
        sock.close()


def recv_until_close(sock, timeout=DEFAULT_TIMEOUT):
    """Reads until EOF/reset or timeout. Returns (bytes, closed: bool)."""
    deadline = time.monotonic() + timeout
    out = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(out), False
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            return bytes(out), False
        except (ConnectionResetError, ConnectionAbortedError):
            return bytes(out), True
        if not data:
            return bytes(out), True
        out += data


def parse_responses(data, methods=None):
    """Parses every response in a byte string; returns (responses, leftover_bytes)."""
    fake = BufferedSocket.__new__(BufferedSocket)
    fake.buf = bytearray(data)
    fake.eof = True
    fake.sock = None
    fake._fill = lambda size=0: False
    out = []
    i = 0
    while fake.buf:
        method = methods[i] if methods and i < len(methods) else "GET"
        try:
            out.append(read_response(fake, method))
        except (EOFError, ProtocolError):
            break
        i += 1
    return out, bytes(fake.buf)


def first_response(data, method="GET"):
    """The first response in raw bytes, or None when there is none (connection just closed)."""
    if not data:
        return None
    responses, _ = parse_responses(data, [method])
    if not responses:
        raise ProtocolError("unparseable response bytes: %r" % data[:500])
    return responses[0]


def build_request(method, target, headers=(), body=None, version="HTTP/1.1"):
    head = "%s %s %s\r\n" % (method, target, version)
    raw = head.encode("latin-1")
    for name, value in headers:
        if isinstance(name, str):
            name = name.encode("latin-1")
        if isinstance(value, str):
            value = value.encode("latin-1")
        raw += name + b": " + value + b"\r\n"
    if body is not None and not any(n.lower() in ("content-length", "transfer-encoding")
                                     for n, _ in [(h[0] if isinstance(h[0], str)
                                                   else h[0].decode("latin-1"), 0)
                                                  for h in headers]):
        raw += b"Content-Length: %d\r\n" % len(body)
    raw += b"\r\n"
    if body:
        raw += body
    return raw


class HttpConn:
    """A client connection to the gateway supporting keep-alive and pipelining."""

    def __init__(self, port, timeout=DEFAULT_TIMEOUT):
        self.port = port
        self.sock = connect(port, timeout)
        self.bs = BufferedSocket(self.sock, timeout)
        self.host = "%s:%d" % (HOST, port)

    def send(self, data):
        self.sock.sendall(data)

    def send_request(self, method, target, headers=None, body=None, version="HTTP/1.1"):
        if headers is None:
            headers = [("Host", self.host)]
        self.send(build_request(method, target, headers, body, version))

    def read_response(self, method="GET", **kw):
        return read_response(self.bs, method, **kw)

    def read_final(self, method="GET", **kw):
        return read_final_response(self.bs, method, **kw)

    def request(self, method, target, headers=None, body=None, version="HTTP/1.1", **kw):
        self.send_request(method, target, headers, body, version)
        resp, _ = read_final_response(self.bs, method, **kw)
        return resp

    def get(self, target="/", extra_headers=(), **kw):
        return self.request("GET", target, [("Host", self.host)] + list(extra_headers), **kw)

    def wait_closed(self, timeout=DEFAULT_TIMEOUT):
        """True if the peer closes (EOF or reset) within timeout with no further bytes."""
        if self.bs.buf:
            return False
        data, closed = recv_until_close(self.sock, timeout)
        self.bs.buf += data
        return closed and not data

    def is_open(self, wait=0.05):
        """True if the connection shows no EOF/reset within `wait` seconds."""
        r, _, _ = select.select([self.sock], [], [], wait)
        if not r:
            return True
        try:
            data = self.sock.recv(65536, socket.MSG_PEEK)
        except (ConnectionResetError, OSError):
            return False
        return bool(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# ----------------------------------------------------------------------------------------
# Recording upstream

class RecordedRequest:
    def __init__(self, conn_id, index):
        self.conn_id = conn_id
        self.index = index  # position on its connection
        self.method = None
        self.target = None
        self.version = None
        self.headers = []
        self.raw_head = b""
        self.body = b""
        self.body_length = 0
        self.body_sha256 = hashlib.sha256(b"").hexdigest()
        self.chunked = False
        self.chunk_extensions = []
        self.trailers = []
        self.received_at = None  # time.monotonic() when the head was parsed
        self.complete = False  # the whole request (head + body) arrived intact
        self.error = None      # why the body was not read completely

    def header(self, name, default=None):
        return header(self.headers, name, default)

    def header_values(self, name):
        return header_values(self.headers, name)

    def has_header(self, name):
        return has_header(self.headers, name)

    @property
    def path(self):
        return self.target.split("?", 1)[0] if self.target else self.target

    def __repr__(self):
        return "<RecordedRequest %s %s %s conn=%d complete=%s body=%d>" % (
            self.method, self.target, self.version, self.conn_id, self.complete, self.body_length)


class UpstreamConn:
    """What a behaviour sees: the raw socket to the gateway plus helpers."""

    def __init__(self, upstream, sock, conn_id):
        self.upstream = upstream
        self.sock = sock
        self.conn_id = conn_id
        self.bs = BufferedSocket(sock, upstream.io_timeout)
        self.closed = False
        self.keep_alive = True

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()

    def reset(self):
        if not self.closed:
            self.closed = True
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()

    def wait_peer_close(self, timeout):
        """True when the gateway closes this upstream connection within timeout."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                data = self.sock.recv(65536)
                if not data:
                    return True
        except socket.timeout:
            return False
        except OSError:
            return True
        return False


# Behaviours: callables (request, conn) -> None. They write the response (or do something
# stranger). After a behaviour returns, the connection is kept alive unless it was closed,
# conn.keep_alive was cleared, or the request asked for close.

def _head(status, reason, headers):
    out = "HTTP/1.1 %d %s\r\n" % (status, reason)
    for name, value in headers:
        out += "%s: %s\r\n" % (name, value)
    return (out + "\r\n").encode("latin-1")


REASONS = {100: "Continue", 200: "OK", 201: "Created", 204: "No Content", 304: "Not Modified",
           404: "Not Found", 500: "Internal Server Error"}


def respond(status=200, body=None, headers=(), reason=None):
    """A normal response with Content-Length (no body for HEAD/204/304)."""
    def behaviour(req, conn):
        payload = body if body is not None else ("upstream %s %s" % (req.method, req.target)).encode()
        hs = [("Content-Type", "text/plain")] + list(headers)
        if status not in (204, 304) or req.method == "HEAD":
            hs.append(("Content-Length", str(len(payload))))
        if status == 304:
            hs = [h for h in hs if h[0].lower() != "content-length"]
        data = _head(status, reason or REASONS.get(status, "Status"), hs)
        if req.method != "HEAD" and status not in (204, 304):
            data += payload
        conn.send(data)
    return behaviour


def respond_chunked(chunks=(b"hello ", b"chunked ", b"world"), trailers=(), headers=(),
                    extensions=False):
    def behaviour(req, conn):
        hs = [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")] + list(headers)
        data = _head(200, "OK", hs)
        if req.method != "HEAD":
            for c in chunks:
                data += b"%x%s\r\n%s\r\n" % (len(c), b";ext=1" if extensions else b"", c)
            data += b"0\r\n"
            for name, value in trailers:
                data += ("%s: %s\r\n" % (name, value)).encode()
            data += b"\r\n"
        conn.send(data)
    return behaviour


def pattern_bytes(n, seed=0):
    """Deterministic, non-repeating-ish bytes of length n (cheap to generate)."""
    block = bytes((i * 31 + seed * 7 + (i >> 8)) & 0xFF for i in range(65536))
    reps, rest = divmod(n, len(block))
    return block * reps + block[:rest]


def respond_stream(total, piece=262144, chunked=False):
    """A large response of `total` pattern bytes, sent in pieces (Content-Length or chunked)."""
    def behaviour(req, conn):
        hs = [("Content-Type", "application/octet-stream")]
        hs.append(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(total)))
        conn.send(_head(200, "OK", hs))
        block = pattern_bytes(piece)
        sent = 0
        while sent < total:
            n = min(piece, total - sent)
            data = block[:n]
            conn.send(b"%x\r\n%s\r\n" % (n, data) if chunked else data)
            sent += n
        if chunked:
            conn.send(b"0\r\n\r\n")
    return behaviour


def respond_close_delimited(body=b"close-delimited body", pieces=1):
    def behaviour(req, conn):
        conn.send(_head(200, "OK", [("Content-Type", "text/plain")]))
        step = max(1, len(body) // pieces)
        for i in range(0, len(body), step):
            conn.send(body[i:i + step])
        conn.close()
    return behaviour


def respond_delay(seconds, then=None):
    then = then or respond()

    def behaviour(req, conn):
        conn.upstream._stop.wait(seconds)
        then(req, conn)
    return behaviour


def respond_hang():
    def behaviour(req, conn):
        conn.upstream._stop.wait()
        conn.close()
    return behaviour


def respond_close():
    def behaviour(req, conn):
        conn.close()
    return behaviour


def respond_reset():
    def behaviour(req, conn):
        conn.reset()
    return behaviour


def respond_raw(data, close=False, wait_close=0.0):
    """Sends raw bytes. close: close afterwards; wait_close: wait up to that long for the
    gateway to close this connection; the outcome is recorded in upstream.peer_closed as
    (conn_id, closed, request target)."""
    def behaviour(req, conn):
        conn.send(data)
        if wait_close:
            closed = conn.wait_peer_close(wait_close)
            with conn.upstream._lock:
                conn.upstream.peer_closed.append((conn.conn_id, closed, req.target))
            conn.close()
        elif close:
            conn.close()
    return behaviour


def respond_echo(headers=()):
    def behaviour(req, conn):
        hs = [("Content-Type", "application/octet-stream"),
              ("Content-Length", str(len(req.body)))] + list(headers)
        conn.send(_head(200, "OK", hs) + req.body)
    return behaviour


class RecordingUpstream:
    """Threaded raw-socket HTTP/1.1 origin on 127.0.0.1:0 that records every request.

    behaviour: default behaviour (see respond*). push(b) queues one-shot behaviours used in
    order before the default. record_body=False keeps only lengths (large transfers).
    """

    def __init__(self, behaviour=None, record_body=True, io_timeout=30.0, port=0):
        self.behaviour = behaviour or respond()
        self.record_body = record_body
        self.io_timeout = io_timeout
        self.body_read_pause = 0.0  # seconds to sleep per 256 KiB of body read (back-pressure)
        self.max_head = 1 << 20
        self._lock = threading.Lock()
        self._queue = []
        self._requests = []
        self.peer_closed = []
        self.protocol_errors = []
        self.connections = 0
        self.open_connections = 0
        self._socks = []
        self._threads = []
        self._stop = threading.Event()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, port))  # port: e.g. an upstream that comes up late
        self.listener.listen(128)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.url = "http://%s:%d" % (HOST, self.port)
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._accept_thread.start()

    # -- programming ---------------------------------------------------------------------
    def push(self, *behaviours):
        with self._lock:
            self._queue.extend(behaviours)

    def set_behaviour(self, behaviour):
        with self._lock:
            self.behaviour = behaviour

    def clear(self):
        with self._lock:
            self._requests = []
            self._queue = []
            self.peer_closed = []
            self.protocol_errors = []

    def _next_behaviour(self):
        with self._lock:
            if self._queue:
                return self._queue.pop(0)
            return self.behaviour

    # -- observation ---------------------------------------------------------------------
    def requests(self):
        with self._lock:
            return list(self._requests)

    def complete_requests(self):
        return [r for r in self.requests() if r.complete]

    def wait_requests(self, count=1, timeout=DEFAULT_TIMEOUT, complete=True):
        def enough():
            reqs = self.complete_requests() if complete else self.requests()
            return reqs if len(reqs) >= count else None
        return wait_until(enough, timeout * slack(), what="%d upstream request(s)" % count)

    def last(self):
        reqs = self.wait_requests(1)
        return reqs[-1]

    def assert_nothing(self, grace=0.15, complete_only=False):
        """Asserts the upstream got no request head (or, complete_only, no complete request)
        within a short grace period."""
        deadline = time.monotonic() + grace
        while True:
            reqs = self.complete_requests() if complete_only else self.requests()
            if reqs:
                raise AssertionError("upstream unexpectedly received: %r\nfirst head: %r"
                                     % (reqs, reqs[0].raw_head))
            if time.monotonic() >= deadline:
                return
            time.sleep(0.02)

    # -- serving -------------------------------------------------------------------------
    def _accept_loop(self):
        conn_id = 0
        while not self._stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn_id += 1
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                self.open_connections += 1
                self._socks.append(sock)
            t = threading.Thread(target=self._serve, args=(sock, conn_id), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, sock, conn_id):
        conn = UpstreamConn(self, sock, conn_id)
        index = 0
        try:
            while not self._stop.is_set() and not conn.closed:
                req = RecordedRequest(conn_id, index)
                index += 1
                try:
                    if not self._read_request(conn, req):
                        break
                except (ProtocolError, EOFError, socket.timeout, OSError) as e:
                    req.error = repr(e)
                    with self._lock:
                        self.protocol_errors.append((conn_id, repr(e)))
                    break
                behaviour = self._next_behaviour()
                behaviour(req, conn)
                if conn.closed or not conn.keep_alive:
                    break
                if req.version == "HTTP/1.0" and "keep-alive" not in connection_tokens(req.headers):
                    break
                if "close" in connection_tokens(req.headers):
                    break
        except (OSError, socket.timeout):
            pass
        finally:
            conn.close()
            with self._lock:
                self.open_connections -= 1

    def _read_request(self, conn, req):
        bs = conn.bs
        # Wait for the first byte of the next request; EOF here is a normal close.
        while not bs.buf:
            try:
                if not bs._fill():
                    return False
            except socket.timeout:
                if self._stop.is_set():
                    return False
                continue
        start, lines, raw = read_head(bs, self.max_head)
        req.raw_head = raw
        parts = start.split(b" ")
        if len(parts) != 3:
            raise ProtocolError("bad request line %r" % start)
        req.method, req.target, req.version = (p.decode("latin-1") for p in parts)
        req.headers = parse_header_lines(lines)
        req.received_at = time.monotonic()
        with self._lock:
            self._requests.append(req)
        te = req.header_values("Transfer-Encoding")
        cl = parse_content_length(req.headers)
        if te:
            if cl is not None:
                raise ProtocolError("upstream got both Content-Length and Transfer-Encoding")
            if [t.strip().lower() for t in ",".join(te).split(",")] != ["chunked"]:
                raise ProtocolError("upstream got Transfer-Encoding %r" % te)
            req.chunked = True
            collected = bytearray()
            count = [0]
            digest = hashlib.sha256()

            def sink(piece):
                count[0] += len(piece)
                digest.update(piece)
                if self.record_body:
                    collected.extend(piece)
                if self.body_read_pause:
                    time.sleep(self.body_read_pause * len(piece) / 262144.0)
            decoded = read_chunked(bs, sink=sink)
            req.body = bytes(collected)
            req.body_length = count[0]
            req.body_sha256 = digest.hexdigest()
            req.chunk_extensions = decoded.extensions
            req.trailers = decoded.trailers
        elif cl:
            collected = bytearray()
            digest = hashlib.sha256()
            remaining = cl
            while remaining:
                piece = bs.read_exact(min(remaining, 262144))
                remaining -= len(piece)
                req.body_length += len(piece)
                digest.update(piece)
                if self.record_body:
                    collected.extend(piece)
                if self.body_read_pause:
                    time.sleep(self.body_read_pause)
            req.body = bytes(collected)
            req.body_sha256 = digest.hexdigest()
        req.complete = True
        return True

    def close(self):
        self._stop.set()
        try:
            self.listener.close()
        except OSError:
            pass
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._accept_thread.join(2)
        for t in self._threads:
            t.join(2)
        for s in socks:
            try:
                s.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# ----------------------------------------------------------------------------------------
# unittest glue

class GatewayTestCase(unittest.TestCase):
    """Base class sharing one upstream + gateway per test class (fast), with helpers.

    Subclasses set CONFIG (dict or YAML text) and optionally WORKERS.
    Each test starts with the upstream's records cleared and its behaviour reset.
    """

    CONFIG = None
    WORKERS = 1
    SHARED = True

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(binary_path()):
            raise unittest.SkipTest("portcullis binary not found at %s (set PORTCULLIS_BIN)"
                                    % binary_path())
        if cls.SHARED:
            cls.upstream = RecordingUpstream()
            try:
                cls.gw = Gateway(cls.CONFIG, cls.upstream, workers=cls.WORKERS).start()
            except Exception:
                cls.upstream.close()
                raise

    @classmethod
    def tearDownClass(cls):
        if cls.SHARED:
            try:
                cls.gw.stop()
            finally:
                cls.upstream.close()

    def setUp(self):
        if self.SHARED:
            self.gw.assert_alive()
            self.upstream.clear()
            self.upstream.set_behaviour(respond())
            self.upstream.body_read_pause = 0.0

    def tearDown(self):
        if self.SHARED:
            self.gw.assert_alive()

    # -- helpers -------------------------------------------------------------------------
    @property
    def host(self):
        return "%s:%d" % (HOST, self.gw.port)

    def raw(self, data, timeout=DEFAULT_TIMEOUT):
        return send_raw(self.gw.port, data, timeout)

    def assert_rejected(self, data, status, upstream_complete_only=False, timeout=DEFAULT_TIMEOUT,
                        allow_silent_close=False, error_code=None, expect_close=True):
        """Sends raw bytes on a fresh connection; asserts the answer is `status` (an int or a
        tuple of allowed ints), the connection is closed, and the upstream saw nothing."""
        sock = connect(self.gw.port, timeout)
        try:
            try:
                sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            if expect_close:
                got, closed = recv_until_close(sock, timeout * slack())
            else:
                bs = BufferedSocket(sock, timeout * slack())
                resp = read_response(bs)
                got, closed = resp.raw_head + resp.body, False
        finally:
            sock.close()
        allowed = status if isinstance(status, tuple) else (status,)
        if not got and allow_silent_close:
            self.assertTrue(closed, "connection neither answered nor closed for %r" % data[:200])
        else:
            responses, _ = parse_responses(got)
            self.assertTrue(responses, "no parseable response to %r; got %r" % (data[:300], got[:300]))
            resp = responses[0]
            self.assertIn(resp.status, allowed, "request %r -> %r" % (data[:300], resp))
            self.assertEqual(len(responses), 1, "more than one response to %r: %r"
                             % (data[:200], responses))
            if expect_close:
                self.assertTrue(closed, "connection not closed after %d to %r"
                                % (resp.status, data[:200]))
            if resp.status in (400, 413, 431, 501, 505):
                self.assertIn("close", connection_tokens(resp.headers),
                              "%d without Connection: close" % resp.status)
            self.assertRegex(resp.header("X-Request-Id", ""), r"^[0-9a-f]{32}$")
            self.assertEqual(resp.header("Content-Type", "").split(";")[0].strip(),
                             "application/json")
            body = resp.json()
            if error_code:
                self.assertEqual(body.get("error"), error_code)
            self.assertEqual(body.get("request_id"), resp.header("X-Request-Id"))
        self.upstream.assert_nothing(complete_only=upstream_complete_only)
        return got
