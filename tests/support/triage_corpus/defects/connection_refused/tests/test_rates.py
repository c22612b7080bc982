import socket

from calc import net


def _closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_fetch_rate_from_service():
    assert net.fetch_rate("127.0.0.1", _closed_port()) > 0
