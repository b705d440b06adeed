# -*- coding: utf-8 -*-
"""The fake OpenAI backend (tests/fixtures/fake_openai/server.py) as a subprocess on 127.0.0.1
with an ephemeral port (``--port 0``; the port is read from its startup line). Always stopped
with SIGTERM, killed by PID if it does not exit. Shared by the unit tests that need it."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

SERVER = Path(__file__).resolve().parents[1] / "fixtures" / "fake_openai" / "server.py"
STARTUP_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+)")


class FakeBackendProcess:
    """A running fake backend; `env` adds FAKE_* settings to a clean environment."""

    def __init__(self, start_timeout: float = 10.0, **env: str):
        clean_env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_")}
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER), "--host", "127.0.0.1", "--port", "0"],
            env={**clean_env, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        try:
            self.port = self._read_port(deadline=time.monotonic() + start_timeout)
        except BaseException:
            self.stop()
            raise
        self.url = "http://127.0.0.1:%d" % self.port

    def _read_port(self, deadline: float) -> int:
        while time.monotonic() < deadline:
            ready, _writable, _errored = select.select([self.proc.stderr], [], [], 0.1)
            if ready:
                line = self.proc.stderr.readline()
                match = STARTUP_RE.search(line)
                if match:
                    return int(match.group(1))
                if not line:
                    break
        raise RuntimeError("fake backend did not start (rc=%s)" % self.proc.poll())

    def stop(self) -> int:
        """SIGTERM, then SIGKILL by PID after 5 s; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc.stderr.close()
        return self.proc.returncode
