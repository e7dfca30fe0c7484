"""A static mirror in its own process: files from a folder, HTTP/1.1 keep-alive, from memory.

Real mirrors are static files behind nginx (bandersnatch writes ``simple/<project>/
index.html`` and ``packages/``): a request costs them next to nothing, so a benchmark of
the client needs a server of that kind, not ``pypi-server`` (about 6 ms a page here, one
at a time) nor ``http.server`` (a thread and a connection per request).

    python bench/static_mirror.py FOLDER PORT
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path


def load(root: Path) -> dict[str, tuple[bytes, bytes]]:
    files: dict[str, tuple[bytes, bytes]] = {}
    for path in root.rglob("*"):
        if path.is_file():
            rel = "/" + path.relative_to(root).as_posix()
            if rel.endswith("/index.html"):
                files[rel[: -len("index.html")]] = (path.read_bytes(), b"text/html")
            else:
                files[rel] = (path.read_bytes(), b"application/octet-stream")
    return files


async def serve(files: dict[str, tuple[bytes, bytes]], port: int) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                path = line.split()[1].decode().split("?")[0]
                while (await reader.readline()) not in (b"\r\n", b""):
                    pass
                found = files.get(path)
                body, kind = found or (b"not found", b"text/plain")
                status = b"200 OK" if found else b"404 Not Found"
                head = b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
                writer.write(head % (status, kind, len(body)) + body)
                await writer.drain()
        except (ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(load(Path(sys.argv[1])), int(sys.argv[2])))
