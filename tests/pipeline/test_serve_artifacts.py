"""`dtsen serve-artifacts` (what `make ui` starts beside the UI) serves the artifacts folder read-only."""

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request


def test_the_command_serves_the_configured_folder_on_the_loopback(tmp_path):
    artifacts = tmp_path / "artifacts"
    (artifacts / "reports" / "run-1").mkdir(parents=True)
    (artifacts / "reports" / "run-1" / "RINGKASAN.html").write_text("<html>ringkasan</html>", encoding="utf-8")
    env = {**os.environ, "DTSEN_ARTIFACTS_DIR": str(artifacts)}
    server = subprocess.Popen([sys.executable, "-m", "dtsen_pipeline.cli", "serve-artifacts", "--port", "0"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        found = re.search(r"at http://(127\.0\.0\.1):(\d+)/", line)
        assert found, line
        base = f"http://127.0.0.1:{found[2]}"
        with urllib.request.urlopen(f"{base}/reports/run-1/RINGKASAN.html", timeout=30) as response:
            assert response.read() == b"<html>ringkasan</html>"
        try:
            urllib.request.urlopen(urllib.request.Request(f"{base}/reports/x.html", data=b"x", method="PUT"),
                                   timeout=30)
            raise AssertionError("PUT accepted")
        except urllib.error.HTTPError as refused:
            assert refused.code == 501
        assert not (artifacts / "reports" / "x.html").exists()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_server_stops_on_sigterm_even_when_it_inherited_sigterm_ignored(tmp_path):
    """`make ui` stops it with SIGTERM; a parent that ignored SIGTERM (a background shell, a process
    that ran a Dagster job) must not leave it running."""
    env = {**os.environ, "DTSEN_ARTIFACTS_DIR": str(tmp_path)}
    server = subprocess.Popen([sys.executable, "-m", "dtsen_pipeline.cli", "serve-artifacts", "--port", "0"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN))
    try:
        assert "read-only at http://127.0.0.1:" in server.stdout.readline()
        server.terminate()
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
