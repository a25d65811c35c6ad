"""`portcullis demo`: the README's first command. Starts the real demo on free ports, reads
the block it prints, runs every printed command exactly as a user would paste it (through
bash and curl when curl is installed, else an equivalent Python client), and checks each
answer is the one printed above the command. Then SIGTERM: a clean drain and exit 0."""

import http.client
import json
import os
import re
import shlex
import shutil
import subprocess
import unittest
import urllib.parse

from harness import Gateway, binary_path, slack, wait_until

BANNER_END = "Ctrl-C stops the demo."
TOKEN_LINE = re.compile(r"^([A-Z_]*TOKEN)=([A-Za-z0-9_.-]+)$")
ANNOTATION = re.compile(r"^# (?:(\d{3}): )?(.*)$")


def parse_block(lines):
    """-> (tokens {VAR: jwt}, commands [(status or None, note, command)], urls {name: url})."""
    tokens, commands, urls = {}, [], {}
    for i, line in enumerate(lines):
        m = TOKEN_LINE.match(line)
        if m:
            tokens[m.group(1)] = m.group(2)
            continue
        if line.startswith("curl ") and i > 0:
            a = ANNOTATION.match(lines[i - 1])
            if a:
                commands.append((int(a.group(1)) if a.group(1) else None, a.group(2), line))
            continue
        m = re.match(r"^\s+(gateway|admin|dev issuer|echo API)\s+(http://\S+?)(?:/healthz)?(?:\s|$)", line)
        if m:
            urls[m.group(1)] = m.group(2)
    return tokens, commands, urls


def run_with_curl(command, tokens):
    env = dict(os.environ)
    env.update(tokens)
    proc = subprocess.run(["bash", "-c", command], env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10 * slack())
    return proc.stdout.decode("utf-8", "replace")


def run_with_python(command, tokens):
    """The same request the printed curl command sends (the grammar the demo prints: -s, -i,
    -g, -X, --path-as-is, -H, one URL, an optional "| grep 'REGEX'"), with output like curl's."""
    for name, value in tokens.items():
        command = command.replace("$" + name, value)
    curl_part, _, pipe = command.partition(" | ")
    args = shlex.split(curl_part)[1:]
    method, headers, url, include = "GET", [], None, False
    while args:
        a = args.pop(0)
        if a in ("-s", "-g", "--path-as-is"):
            continue
        if a == "-si":
            include = True
        elif a == "-X":
            method = args.pop(0)
        elif a == "-H":
            name, _, value = args.pop(0).partition(":")
            headers.append((name.strip(), value.strip()))
        else:
            url = a
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10 * slack())
    try:
        conn.putrequest(method, parts.path + ("?" + parts.query if parts.query else ""),
                        skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", "replace")
        head = "HTTP/1.1 %d %s\r\n" % (resp.status, resp.reason)
        head += "".join("%s: %s\r\n" % (k, v) for k, v in resp.getheaders()) + "\r\n"
    finally:
        conn.close()
    out = (head if include else "") + body
    if pipe:
        rx = re.compile(shlex.split(pipe)[1])
        out = "".join(line + "\n" for line in out.splitlines() if rx.search(line))
    return out


def status_of(output):
    m = re.match(r"HTTP/1\.[01] (\d{3}) ", output)
    return int(m.group(1)) if m else None


def echoed_headers(output):
    body = output.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in output else output
    return json.loads(body)["headers"]


class DemoTest(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(binary_path()):
            self.skipTest("portcullis binary not found at %s" % binary_path())

    def start_demo(self):
        demo = Gateway(args=["demo", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
        demo.start()
        self.addCleanup(demo.stop, False)
        wait_until(lambda: BANNER_END in "\n".join(demo.stdout_lines()), 15 * slack(),
                   what="the demo's commands on stdout")
        return demo

    def test_every_printed_command_gets_the_answer_printed_above_it(self):
        demo = self.start_demo()
        lines = demo.stdout_lines()
        banner = lines[:next(i for i, l in enumerate(lines) if BANNER_END in l) + 1]
        tokens, commands, urls = parse_block(banner)
        self.assertEqual(sorted(tokens), ["BILLING_TOKEN", "EXPIRED_TOKEN", "TOKEN"])
        self.assertEqual(urls["gateway"], "http://127.0.0.1:%d" % demo.port)
        self.assertEqual(urls["admin"], "http://127.0.0.1:%d" % demo.admin_port)
        self.assertEqual(len(commands), 11, banner)
        # Printed only once the gateway is ready: keys loaded from the dev issuer's JWKS.
        conn = http.client.HTTPConnection("127.0.0.1", demo.admin_port, timeout=5)
        conn.request("GET", "/readyz")
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()

        run = run_with_curl if shutil.which("curl") and shutil.which("bash") else run_with_python
        seen_codes = set()
        for status, note, command in commands:
            with self.subTest(note=note):
                if status is None:  # the metrics: workers publish their counts about once a second
                    out = wait_until(lambda: (lambda o: o if len(o.splitlines()) >= 5 else None)(
                        run(command, tokens)), 5 * slack(), what="request metrics")
                    for code in seen_codes:
                        self.assertRegex(out, r'portcullis_requests_total\{code="%d"' % code)
                    for line in out.splitlines():
                        self.assertTrue(line.startswith("portcullis_requests_total{"), line)
                    continue
                out = run(command, tokens)
                self.assertEqual(status_of(out), status, "%s\n%s\n%s" % (note, command, out[:600]))
                seen_codes.add(status)
                # What the note says the answer shows must be in it.
                for key, value in re.findall(r'(\w+)="([^"]*)"', note):
                    if key != "route":
                        self.assertIn('%s="%s"' % (key, value), out)
                for allow in re.findall(r"Allow: ([A-Z, ]+[A-Z])", note):
                    self.assertIn("Allow: %s\r\n" % allow, out)
                for error in re.findall(r'\{"error":"(\w+)"\}', note):
                    self.assertIn('"error":"%s"' % error, out)
                if status == 200 and "-H" in command:
                    echoed = echoed_headers(out)
                    for name in re.findall(r"X-Auth-[A-Za-z]+", note):
                        self.assertIn(name, echoed)
                    self.assertEqual(echoed["X-Auth-Subject"], "alice")
                    self.assertEqual(echoed["X-Auth-Scopes"], "orders:read")
                    self.assertEqual(echoed["X-Auth-Tenant"], "acme")
                    self.assertNotIn("root", json.dumps(echoed))
        self.assertEqual(seen_codes, {200, 401, 403, 404, 405})

        # One access-log line per request to the gateway (ten of the eleven commands).
        entries = demo.wait_access_log(lambda e: "status" in e, count=10, timeout=3 * slack())
        self.assertEqual(sorted(e["status"] for e in entries),
                         sorted(s for s, _, _ in commands if s is not None))
        self.assertFalse(any(t in line for line in demo.stdout_lines()[len(banner):]
                             for t in tokens.values()), "a token reached the access log")

        # The dev issuer's JWKS is served from memory: one P-256 public key with a kid.
        conn = http.client.HTTPConnection("127.0.0.1", int(urls["dev issuer"].rsplit(":", 1)[1]), timeout=5)
        conn.request("GET", "/jwks.json")
        jwks = json.loads(conn.getresponse().read())
        conn.close()
        self.assertEqual(len(jwks["keys"]), 1)
        key = jwks["keys"][0]
        self.assertEqual((key["kty"], key["crv"], key["alg"], key["use"]), ("EC", "P-256", "ES256", "sig"))
        self.assertNotIn("d", key)

        self.assertEqual(demo.terminate(), 0)
        self.assertIn("draining", [l.get("msg") for l in demo.logs()])

    def test_python_client_matches_curl(self):
        """The fallback client sends what curl sends (checked where curl exists)."""
        if not shutil.which("curl"):
            self.skipTest("curl not installed")
        demo = self.start_demo()
        lines = demo.stdout_lines()
        tokens, commands, _ = parse_block(lines)
        self.assertEqual(len(tokens), 3)
        for status, note, command in commands:
            if status is None:
                continue
            with self.subTest(note=note):
                self.assertEqual(status_of(run_with_python(command, tokens)), status_of(run_with_curl(command, tokens)))
        self.assertEqual(demo.terminate(), 0)

    def test_flags(self):
        for args, code in ((["--help"], 0), (["--bogus"], 2), (["--listen", "8080"], 2), (["--ttl", "0"], 2)):
            with self.subTest(args=args):
                proc = subprocess.run([binary_path(), "demo"] + args, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10 * slack())
                self.assertEqual(proc.returncode, code, proc.stderr)
                if code == 0:
                    self.assertIn(b"Usage: portcullis demo", proc.stdout)


if __name__ == "__main__":
    unittest.main()
