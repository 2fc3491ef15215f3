"""A filing whose answer is lost is sent again under the same Idempotency-Key and answered, never
filed twice (issue 14: clients retry with their key), against a real broker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import Api, circle_notice, free_port
from tcp_proxy import TcpProxy
from test_client import client_env, notice_file, run

from deconflict.clients.party import BrokerClient
from deconflict.clients.responses import ClientError


class LosesAnswers(httpx.HTTPTransport):
    """Delivers each request to the real broker, then loses the first ``lose`` answers to POSTs
    (as a connection that dies after the broker committed): the request was made, its reply never
    came back."""

    def __init__(self, lose: int) -> None:
        super().__init__()
        self.lose = lose
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST":
            self.keys.append(request.headers.get("Idempotency-Key"))
            if self.lose > 0:
                self.lose -= 1
                response.read()
                response.close()
                raise httpx.ReadError("connection reset after the request was sent", request=request)
        return response


def notice_ids(api: Api, party: str) -> list[str]:
    return [n["id"] for n in api.as_(party).get("/v1/notices").json()]


def test_a_lost_answer_is_asked_again_under_the_same_key_and_the_notice_is_filed_once(api: Api) -> None:
    transport = LosesAnswers(lose=2)
    waits: list[tuple[str, float]] = []
    with BrokerClient(api.url, api.tokens["us-af"], transport=transport) as c:
        reply = c.file(circle_notice(id="us-lost"), retry_for_s=30, on_retry=lambda e, w: waits.append((e.line(), w)))
    assert reply["notice"]["id"] == "us-af:us-lost"
    assert len(transport.keys) == 3 and len(set(transport.keys)) == 1 and transport.keys[0]  # one key, three tries
    assert [w for _, w in waits] == [0.5, 1.0]  # the backoff
    assert all("connection reset" in line for line, _ in waits)
    assert notice_ids(api, "us-af") == ["us-af:us-lost"]  # filed once
    filed = [e for e in api.events("us-af") if e["event"] == "notice.filed"]
    assert len(filed) == 1
    # The reply is the first filing's: its receipt is the one the log holds.
    assert reply["receipt"]["log_seq"] == int(filed[0]["id"])


def test_without_retry_a_lost_answer_is_an_error_and_a_refusal_is_never_retried(api: Api) -> None:
    transport = LosesAnswers(lose=1)
    with BrokerClient(api.url, api.tokens["us-af"], transport=transport) as c:
        with pytest.raises(ClientError) as lost:
            c.file(circle_notice(id="us-once"))
        assert lost.value.status is None and lost.value.transient
        assert transport.keys == [None]  # no key asked for, none sent
        bad: dict[str, Any] = circle_notice(id="us-bad")
        bad["volumes"][0]["volume"]["outline_circle"]["radius"]["value"] = -1
        with pytest.raises(ClientError) as refused:
            c.file(bad, retry_for_s=30)
    assert refused.value.status == 422 and not refused.value.transient
    assert len(transport.keys) == 2  # the refusal was asked once
    assert notice_ids(api, "us-af") == ["us-af:us-once"]  # the lost one was filed; the refused one not


def test_the_command_line_files_through_an_outage_once_the_broker_answers_again(api: Api, tmp_path: Path) -> None:
    host, port = api.url.removeprefix("http://").rsplit(":", 1)
    proxy = TcpProxy((host, int(port)), free_port())
    proxy.cut()  # the broker is unreachable when the party files
    path = notice_file(tmp_path, "us-outage")
    proc = subprocess.Popen(
        [sys.executable, "-m", "deconflict", "client", "file", "--retry-for", "60", str(path)],
        env=client_env(api, "us-af", tmp_path, DECONFLICT_URL=f"http://127.0.0.1:{proxy.port}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # the broker is back once the command has been refused once
        assert f"{path}: cannot reach the broker at http://127.0.0.1:{proxy.port}/v1/notices" in first
        assert "under the same Idempotency-Key" in first
        proxy.restore()
        out, rest = proc.communicate(timeout=120)
    finally:
        proc.kill()
        proxy.cut()
    assert proc.returncode == 0, rest
    assert out.startswith("us-af:us-outage v1 accepted")
    assert notice_ids(api, "us-af") == ["us-af:us-outage"]


def test_the_command_line_gives_up_after_retry_for_with_exit_4(api: Api, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    path = str(notice_file(tmp_path, "us-never"))
    r = run(api, "us-af", tmp_path, "file", "--retry-for", "1", path, DECONFLICT_URL=url)
    assert r.returncode == 4, r.stderr
    lines = r.stderr.splitlines()
    assert lines[-1] == f"error: cannot reach the broker at {url}/v1/notices: connection refused"
    assert len(lines) >= 2 and all("trying again in" in line for line in lines[:-1])
    r = run(api, "us-af", tmp_path, "file", "--retry-for", "0", path, DECONFLICT_URL=url)
    assert r.returncode == 4 and len(r.stderr.splitlines()) == 1  # asked once
