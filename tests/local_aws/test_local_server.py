"""The server itself: where it listens and how it identifies itself."""

from __future__ import annotations

import json
import os
import socket
import urllib.request

import pytest

from lambda_gate.local_aws.server import LocalAws, serve_in_thread


def _non_loopback_ipv4() -> list[str]:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    addresses = {info[4][0] for info in infos}
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
            addresses.add(probe.getsockname()[0])
    except OSError:
        pass
    return sorted(a for a in addresses if not a.startswith("127."))


def test_binds_the_loopback_address_by_default(local_aws: LocalAws) -> None:
    assert local_aws.host == "127.0.0.1"
    assert local_aws._server.socket.getsockname()[0] == "127.0.0.1"


def test_is_not_reachable_on_other_addresses_of_this_host(local_aws: LocalAws) -> None:
    others = _non_loopback_ipv4()
    if not others:
        pytest.skip("this host has no non-loopback IPv4 address to try")
    for address in others:
        with socket.socket() as client:
            client.settimeout(2)
            assert client.connect_ex((address, local_aws.port)) != 0, address


def test_instance_endpoint_names_this_server(local_aws: LocalAws) -> None:
    with urllib.request.urlopen(local_aws.url + "/_lambda_gate/instance") as response:
        answer = json.loads(response.read())
    assert answer["instance_id"] == local_aws.instance_id
    assert answer["started_at"] == local_aws.started_at
    assert os.path.isdir(answer["code_cache"])  # tells another project whose server it is


def test_each_server_has_its_own_instance_id(tmp_path, local_aws: LocalAws) -> None:
    other = serve_in_thread(cache_dir=tmp_path)
    try:
        assert other.instance_id != local_aws.instance_id
        assert other.port != local_aws.port
    finally:
        other.stop()


def test_a_taken_port_is_reported_with_the_setting_to_change(local_aws: LocalAws,
                                                             tmp_path) -> None:
    from lambda_gate.errors import LocalAwsError

    with pytest.raises(LocalAwsError) as raised:
        serve_in_thread(port=local_aws.port, cache_dir=tmp_path)
    assert f"port {local_aws.port} on 127.0.0.1 is already in use" in str(raised.value)
    assert "INVOKE_LAMBDA_GATE_LOCAL_AWS_PORT" in str(raised.value)
    assert raised.value.exit_code == 2
