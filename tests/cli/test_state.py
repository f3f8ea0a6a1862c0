"""The local development server's state: ports, the retry on a port race, the signing key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rea.cli import _state
from rea.cli._state import LocalServer
from rea.errors import ServerStartError


class _Started:
    pid = 1
    ingress_url = "http://127.0.0.1:1"
    admin_url = "http://127.0.0.1:2"
    identity_key = "publickeyv1_x"

    def __init__(self, ports: tuple[int, int, int]) -> None:
        self.ports = ports


def test_a_port_taken_between_the_check_and_the_start_is_retried_on_free_ports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another server grabbing the usual ports first costs one retry, not a failed start."""
    tried: list[tuple[int, int, int]] = []

    def launch(self: LocalServer, ports: tuple[int, int, int], *args: Any) -> Any:
        tried.append(ports)
        if len(tried) == 1:
            raise ServerStartError("address in use")
        return _Started(ports)

    monkeypatch.setattr(LocalServer, "_launch", launch)
    monkeypatch.setattr(_state, "_port_free", lambda port: True)
    server = LocalServer(tmp_path / ".rea").start()
    assert server is not None
    assert tried[0] == _state.DEFAULT_PORTS
    assert tried[1] != _state.DEFAULT_PORTS
    assert '"identity_key": "publickeyv1_x"' in (tmp_path / ".rea" / "server.json").read_text()


def test_ports_chosen_free_are_not_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the usual ports are busy the free ones are used; a failure there is reported."""

    def launch(self: LocalServer, ports: tuple[int, int, int], *args: Any) -> Any:
        raise ServerStartError("boom")

    monkeypatch.setattr(LocalServer, "_launch", launch)
    monkeypatch.setattr(_state, "_port_free", lambda port: False)
    with pytest.raises(ServerStartError, match="boom"):
        LocalServer(tmp_path / ".rea").start()


def test_the_tracing_endpoint_reaches_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rea dev --tracing-endpoint: the local server exports its traces there."""
    made: list[Any] = []

    def launch(self: LocalServer, ports: tuple[int, int, int], *args: Any) -> Any:
        made.append(args)
        return _Started(ports)

    monkeypatch.setattr(LocalServer, "_launch", launch)
    LocalServer(tmp_path / ".rea").start(tracing_endpoint="http://127.0.0.1:4317")
    assert made[0][-1] == "http://127.0.0.1:4317"
