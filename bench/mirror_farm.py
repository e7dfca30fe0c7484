"""Mirrors for the benchmarks, served from their own process (one asyncio loop).

The probe under test must not share a CPU-bound GIL with its servers, and every mirror
needs its own port (real mirrors are distinct hosts: no connection is reused between
them). asyncio serves a thousand ports from one thread without a thread per connection.

Protocol: a JSON list of mirror specs on stdin's first line, e.g.
``{"kind": "honest", "delay": 0.05, "serial": 1000}``, ``{"kind": "hole"}``,
``{"kind": "drip"}``; one JSON line back with the ports, in the same order; then it
serves until stdin closes.
"""

from __future__ import annotations

import asyncio
import functools
import json
import socket
import sys
from typing import Any

CANARY = "canary-pkg"
FILES = {
    "canary_pkg-1.0-py3-none-any.whl": "1" * 64,
    "canary_pkg-1.1-py3-none-any.whl": "2" * 64,
}


def page(serial: int) -> bytes:
    links = "".join(f'<a href="/files/{n}#sha256={s}">{n}</a><br>\n' for n, s in FILES.items())
    return f"<!DOCTYPE html><html><body>\n{links}</body></html>\n<!--SERIAL {serial}-->".encode()


async def answer(spec: dict[str, Any], reader: Any, writer: Any) -> None:
    try:
        while True:  # keep-alive: several requests may come on one connection
            head = await reader.readuntil(b"\r\n\r\n")
            method, path = head.split(b" ", 2)[:2]
            kind = spec["kind"]
            if kind == "drip":
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 600\r\n\r\n"
                )
                for _ in range(600):
                    await writer.drain()
                    await asyncio.sleep(1.0)
                    writer.write(b" ")
                return
            await asyncio.sleep(spec.get("delay", 0.0))
            if path == f"/simple/{CANARY}/".encode():
                status, body = b"200 OK", page(spec.get("serial", 1000))
            elif path.startswith(b"/files/"):
                status, body = b"200 OK", b"wheel"
            else:
                status, body = b"404 Not Found", b""
            writer.write(
                b"HTTP/1.1 "
                + status
                + b"\r\nContent-Type: text/html\r\n"
                + b"Content-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + (b"" if method == b"HEAD" else body)
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main() -> None:
    specs: list[dict[str, Any]] = json.loads(sys.stdin.readline())
    ports: list[int] = []
    holes: list[socket.socket] = []
    for spec in specs:
        if spec["kind"] == "hole":  # listens, never accepts: connect works, nothing answers
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sock.listen(1024)
            holes.append(sock)
            ports.append(sock.getsockname()[1])
            continue
        server = await asyncio.start_server(
            functools.partial(answer, spec), "127.0.0.1", 0, backlog=1024
        )
        ports.append(server.sockets[0].getsockname()[1])
    print(json.dumps(ports), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main())
