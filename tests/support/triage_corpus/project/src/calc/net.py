"""Talks to the rates service."""

import socket


def fetch_rate(host, port, timeout=2.0):
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(b"RATE\n")
        return float(conn.recv(64).decode().strip())
