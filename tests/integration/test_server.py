"""RestateServer runs a real restate-server with the settings it claims."""

from __future__ import annotations

import socket
import time

import pytest

from rea.errors import ServerStartError
from rea.testing import RestateServer
from tests._support import dump_config
from tests.integration.test_harness import _running


def test_every_setting_reaches_the_server() -> None:
    """Each RESTATE_* variable is applied (the server silently ignores unknown ones)."""
    server = RestateServer()
    ingress, admin, node = server.ports
    config = dump_config(server)
    assert config["node-name"] == "rea"
    assert config["ingress"]["bind-address"] == f"127.0.0.1:{ingress}"
    assert config["admin"]["bind-address"] == f"127.0.0.1:{admin}"
    assert config["bind-address"] == f"127.0.0.1:{node}"
    assert config["advertised-address"] == f"http://127.0.0.1:{node}/"
    assert config["listen-mode"] == "tcp"
    assert config["disable-telemetry"] is True
    assert config["log-filter"] == "warn"
    assert config["default-num-partitions"] == 1
    assert config["rocksdb-total-memory-size"] == "30.5 MiB"  # 32 MB
    assert config["worker"]["invoker"]["inactivity-timeout"] == "0s"
    assert config["worker"]["invoker"]["abort-timeout"] == "10s"
    assert config["default-retry-policy"]["initial-interval"] == "50ms"
    assert config["default-retry-policy"]["max-attempts"] == 3
    assert config["default-retry-policy"]["on-max-attempts"] == "kill"
    assert config["shutdown-timeout"] == "2s"
    assert config["worker"]["cleanup-interval"] == "1s"
    # Every variable rea sets is one of those checked above: none is silently ignored.
    assert len(server.environment()) == 17


def test_replay_and_retry_options_change_the_config() -> None:
    """always_replay=False restores the 1 min inactivity timeout; disable_retries: 1 attempt."""
    config = dump_config(RestateServer(always_replay=False, disable_retries=True))
    assert config["worker"]["invoker"]["inactivity-timeout"] == "1m"
    assert config["default-retry-policy"]["max-attempts"] == 1
    assert config["default-retry-policy"]["on-max-attempts"] == "kill"


def test_max_attempts_none_keeps_restates_default_policy() -> None:
    """max_attempts=None (what `rea dev` uses) leaves Restate's own retry policy in place."""
    server = RestateServer(max_attempts=None)
    assert not any("RETRY_POLICY" in key for key in server.environment())
    policy = dump_config(server)["default-retry-policy"]
    assert (policy["initial-interval"], policy["max-attempts"]) == ("500ms", 70)
    assert policy["on-max-attempts"] == "pause"
    assert dump_config(RestateServer(max_attempts=5))["default-retry-policy"]["max-attempts"] == 5


def test_stop_ends_the_process_and_removes_the_directory() -> None:
    """stop() ends the server process and deletes its temporary base directory."""
    server = RestateServer().start()
    pid, base_dir = server.pid, server.base_dir
    assert pid is not None
    assert (base_dir / "restate-server.log").exists()
    # The invoker's scratch directory lives in the base dir, not in the system's /tmp.
    deadline = time.monotonic() + 5
    while not list((base_dir / "tmp").glob("invoker-*")):
        assert time.monotonic() < deadline, "no invoker scratch directory in the base dir"
        time.sleep(0.05)
    server.stop()
    assert not _running(pid)
    assert not base_dir.exists()


def test_start_failure_reports_the_log_tail() -> None:
    """A server that cannot start raises ServerStartError ending with its log."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = RestateServer(ports=(port, port + 1 if port < 65535 else port - 1, 0))
        with pytest.raises(ServerStartError, match="log tail") as info:
            server.start()
    assert str(port) in str(info.value)
    assert server.pid is None


async def test_async_context_manager() -> None:
    """`async with RestateServer()` starts and stops the server off the event loop."""
    async with RestateServer() as server:
        assert server.pid is not None
        pid = server.pid
    assert not _running(pid)
