"""The command line: validate, run with a bad config, --version/--help, unknown flags."""

import os
import re
import socket
import subprocess
import tempfile
import unittest

from harness import HOST, Gateway, HttpConn, RecordingUpstream, binary_path, closed_port, slack

GOOD = """listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
workers: 1
limits:
  max_header_bytes: 8192
  client_timeout: 30s
upstreams:
  default:
    url: http://127.0.0.1:9
    timeout: 5s
"""


def run(args, timeout=15):
    proc = subprocess.run([binary_path()] + args, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout * slack())
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


class CliTest(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(binary_path()):
            self.skipTest("portcullis binary not found at %s" % binary_path())
        self.tmp = tempfile.TemporaryDirectory(prefix="portcullis-cli-")
        self.addCleanup(self.tmp.cleanup)

    def write(self, text, name="gateway.yaml"):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def assert_invalid(self, text, line, key):
        """validate exits 1 with a `file:LINE:` message naming `key`."""
        path = self.write(text)
        code, out, err = run(["validate", "--config", path])
        self.assertEqual(code, 1, "validate accepted:\n%s\nstdout=%r stderr=%r" % (text, out, err))
        pattern = re.escape(os.path.basename(path)) + r":%d:" % line
        matching = [l for l in err.splitlines() if re.search(pattern, l)]
        self.assertTrue(matching, "no %s:%d: message in stderr %r" % (path, line, err))
        self.assertTrue(any(key in l for l in matching),
                        "message for line %d does not name %r: %r" % (line, key, matching))
        return err

    # -- validate ------------------------------------------------------------------------
    def test_validate_good_config(self):
        path = self.write(GOOD)
        code, out, err = run(["validate", "--config", path])
        self.assertEqual(code, 0, err)
        self.assertIn("ok", out + err)
        self.assertIn(os.path.basename(path), out + err)

    def test_validate_unknown_top_level_key(self):
        self.assert_invalid(GOOD.replace("workers: 1\n", "workers: 1\nlistn: 127.0.0.1:1\n"), 4,
                            "listn")

    def test_validate_unknown_nested_key(self):
        self.assert_invalid(GOOD.replace("  client_timeout: 30s\n",
                                         "  client_timeout: 30s\n  max_bodyy_bytes: 5\n"),
                            7, "max_bodyy_bytes")

    def test_validate_bad_duration(self):
        self.assert_invalid(GOOD.replace("client_timeout: 30s", "client_timeout: 30x"), 6,
                            "client_timeout")

    def test_validate_bad_listen(self):
        self.assert_invalid(GOOD.replace("listen: 127.0.0.1:0\nadmin", "listen: nope\nadmin"), 1,
                            "listen")

    def test_validate_bad_port(self):
        self.assert_invalid(GOOD.replace("admin_listen: 127.0.0.1:0", "admin_listen: 127.0.0.1:99999"),
                            2, "admin_listen")

    def test_validate_bad_workers(self):
        self.assert_invalid(GOOD.replace("workers: 1", "workers: -3"), 3, "workers")

    def test_validate_bad_upstream_url(self):
        self.assert_invalid(GOOD.replace("url: http://127.0.0.1:9", "url: ftp://127.0.0.1:9"), 9,
                            "url")

    def test_validate_missing_upstreams_default(self):
        text = GOOD.replace("  default:\n", "  other:\n")
        path = self.write(text)
        code, out, err = run(["validate", "--config", path])
        self.assertEqual(code, 1, out + err)
        self.assertRegex(err, re.escape(os.path.basename(path)) + r":\d+:")
        self.assertIn("default", err)

    def test_validate_missing_upstreams(self):
        text = GOOD.split("upstreams:")[0]
        path = self.write(text)
        code, out, err = run(["validate", "--config", path])
        self.assertEqual(code, 1, out + err)
        self.assertRegex(err, re.escape(os.path.basename(path)) + r":\d+:")
        self.assertIn("upstreams", err)

    def test_validate_reports_every_error(self):
        text = GOOD.replace("workers: 1\n", "workers: 1\nlistn: x\n").replace(
            "client_timeout: 30s", "client_timeout: 30x")
        err = self.assert_invalid(text, 4, "listn")
        self.assertRegex(err, re.escape("gateway.yaml") + r":7:.*client_timeout")

    def test_validate_yaml_syntax_error(self):
        path = self.write(GOOD + "limits: [unclosed\n")
        code, out, err = run(["validate", "--config", path])
        self.assertEqual(code, 1, out + err)
        self.assertRegex(err, re.escape(os.path.basename(path)) + r":\d+:")

    def test_validate_missing_file(self):
        code, out, err = run(["validate", "--config", os.path.join(self.tmp.name, "absent.yaml")])
        self.assertEqual(code, 1, out + err)
        self.assertIn("absent.yaml", err)

    # -- run -----------------------------------------------------------------------------
    def test_run_with_bad_config_exits_1_and_serves_nothing(self):
        port = closed_port()
        text = GOOD.replace("listen: 127.0.0.1:0\nadmin", "listen: 127.0.0.1:%d\nadmin" % port)
        path = self.write(text.replace("client_timeout: 30s", "client_timeout: 30x"))
        proc = subprocess.Popen([binary_path(), "run", "--config", path], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = proc.communicate(timeout=10 * slack())
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            self.fail("run with a bad config kept running")
        self.assertEqual(proc.returncode, 1, err)
        self.assertNotIn(b'"listening"', err)
        self.assertIn(b"client_timeout", err)
        with self.assertRaises(OSError):
            socket.create_connection((HOST, port), timeout=1).close()

    def test_default_command_is_run(self):
        with RecordingUpstream() as up:
            with Gateway(None, up, args=["--config", "{config}"]) as gw:
                with HttpConn(gw.port, 5 * slack()) as c:
                    self.assertEqual(c.get("/default-cmd").status, 200)
            self.assertEqual(up.last().target, "/default-cmd")

    def test_run_reports_real_ports(self):
        with RecordingUpstream() as up, Gateway(None, up, workers=2) as gw:
            self.assertNotEqual(gw.port, 0)
            self.assertNotEqual(gw.admin_port, 0)
            self.assertEqual(gw.listening.get("workers"), 2)
            self.assertEqual(gw.listening.get("level"), "info")
            self.assertIn("time", gw.listening)
            for i in range(4):
                with HttpConn(gw.port, 5 * slack()) as c:
                    self.assertEqual(c.get("/w/%d" % i).status, 200)
            self.assertEqual(len(up.wait_requests(4)), 4)

    # -- flags ---------------------------------------------------------------------------
    def test_version(self):
        code, out, err = run(["--version"])
        self.assertEqual(code, 0, err)
        self.assertRegex(out + err, r"\d+\.\d+")

    def test_help(self):
        code, out, err = run(["--help"])
        self.assertEqual(code, 0, err)
        text = out + err
        self.assertIn("run", text)
        self.assertIn("validate", text)

    def test_help_after_command(self):
        code, out, err = run(["validate", "--help"])
        self.assertEqual(code, 0, err)

    def test_unknown_flag_exits_2(self):
        code, out, err = run(["--bogus-flag"])
        self.assertEqual(code, 2, out + err)
        self.assertTrue(err.strip(), "no message on stderr")

    def test_unknown_flag_after_command_exits_2(self):
        path = self.write(GOOD)
        code, out, err = run(["validate", "--config", path, "--bogus-flag"])
        self.assertEqual(code, 2, out + err)

    def test_unknown_command_exits_2(self):
        code, out, err = run(["frobnicate"])
        self.assertEqual(code, 2, out + err)
        self.assertTrue(err.strip())


if __name__ == "__main__":
    unittest.main()
