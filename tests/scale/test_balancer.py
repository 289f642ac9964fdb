"""HAProxy's side of the slow-client finding: a client that never finishes its request head
is answered 408 and dropped by the balancer (`timeout http-request 10s`, deploy/haproxy.cfg);
meanwhile everyone else's requests go on being served."""

from __future__ import annotations

import socket
import time

import httpx

from tests.scale.district import District
from tests.scale.topology import BALANCER_IP, LB_PORT

HEAD_TIMEOUT_S = 10.0
SLOW_CLIENTS = 100


def test_slow_clients_get_408_from_the_balancer_while_others_are_served(district: District) -> None:
    sockets = []
    try:
        for _ in range(SLOW_CLIENTS):
            sock = socket.create_connection((BALANCER_IP, LB_PORT), timeout=HEAD_TIMEOUT_S + 5)
            sock.sendall(b"POST /api/v1/sessions/join-by-code HTTP/1.1\r\nHost: scale\r\n")
            sockets.append(sock)
        opened = time.monotonic()
        with httpx.Client(base_url=district.lb_url, timeout=5) as client:
            assert [client.get("/health/ready").status_code for _ in range(10)] == [200] * 10
        answer = sockets[0].recv(4096)
        waited = time.monotonic() - opened
    finally:
        for sock in sockets:
            sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert waited <= HEAD_TIMEOUT_S + 2
