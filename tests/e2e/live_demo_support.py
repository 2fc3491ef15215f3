"""The live demo as a user starts it: ``deconflict demo`` in its own process (a real uvicorn
server), its printed lines read as they come, its login links parsed, and Ctrl-C (SIGINT) to stop."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

LINK = re.compile(r"^  (\S+) +(http://127\.0\.0\.1:(\d+))/#token=(\S+)$")


@dataclass
class LiveDemo:
    proc: subprocess.Popen[str]
    url: str = ""
    links: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_line(self, pred: Callable[[str], bool], timeout: float) -> str:
        """The next printed line for which ``pred`` holds (all lines are kept in ``lines``)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "the demo did not print the expected line:\n" + "\n".join(self.lines)
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            assert line is not None, "the demo exited:\n" + "\n".join(self.lines)
            self.lines.append(line)
            if pred(line):
                return line

    def as_(self, party: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.tokens[party]}"}, timeout=30)

    def stop(self, timeout: float = 60) -> tuple[int, str]:
        """Ctrl-C: SIGINT, then the exit status and what it wrote to stderr."""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        while (line := self._queue.get(timeout=timeout)) is not None:
            self.lines.append(line)
        assert self.proc.stderr is not None
        return self.proc.returncode, self.proc.stderr.read()


def start_demo(cwd: Path, *args: str) -> LiveDemo:
    """``deconflict demo ARGS`` on a free port, once it has printed its login links."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DECONFLICT_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "deconflict", "demo", "--port", "0", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    demo = LiveDemo(proc)
    threading.Thread(target=demo._read, daemon=True).start()
    while True:
        line = demo.wait_line(lambda s: bool(LINK.match(s)) or s == "Ctrl-C stops it.", 120)
        if line == "Ctrl-C stops it.":
            break
        m = LINK.match(line)
        assert m is not None
        demo.url = m.group(2)
        demo.links[m.group(1)] = f"{m.group(2)}/#token={m.group(4)}"
        demo.tokens[m.group(1)] = m.group(4)
    return demo


def wait_for(what: str, check: Callable[[], Any], timeout: float = 180) -> Any:
    """``check()``'s first truthy answer, asked until ``timeout``; fails naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"no {what} within {timeout:.0f} s"
        time.sleep(0.2)  # a poll interval, not a wait for the event: the loop waits for the event
