"""A loopback TCP balancer for the chat bench: each client address it has not seen goes to
the next backend in turn (round robin), and stays there (client-address affinity, as
nginx's `ip_hash` or a Kubernetes Service's `sessionAffinity: ClientIP`); each
connection's bytes are copied both ways as they come, so HTTP keep-alive and WebSocket
upgrades pass through untouched, as behind a layer-4 load balancer. The bench's chats
connect from addresses of their own (127.0.0.2, .3, …), so a chat's HTTP connection and
its socket, and any connection it opens again, reach the same process, and the chats are
dealt evenly.

    python -m bench.balancer 127.0.0.1:8001 127.0.0.1:8002

Listens on a free loopback port and prints `listening on 127.0.0.1:<port>` once it does.
It runs as its own process so that its copying does not compete with the bench's clients
for one interpreter lock (the bench reports its CPU apart).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copies until the sender closes its side, then closes ours for writing (half-close),
    so that the other direction can still finish."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()


async def serve(backends: list[tuple[str, int]]) -> None:
    turn = itertools.cycle(backends)
    placed: dict[str, tuple[str, int]] = {}

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        client = client_w.get_extra_info("peername")[0]
        if client not in placed:
            placed[client] = next(turn)
        host, port = placed[client]
        try:
            backend_r, backend_w = await asyncio.open_connection(host, port)
        except OSError:
            client_w.close()
            return
        try:
            await asyncio.gather(pipe(client_r, backend_w), pipe(backend_r, client_w))
        finally:
            for w in (client_w, backend_w):
                w.close()
                with contextlib.suppress(ConnectionError, OSError):
                    await w.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str]) -> None:
    backends = [(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in argv]
    if not backends:
        raise SystemExit("usage: python -m bench.balancer HOST:PORT [HOST:PORT ...]")
    try:
        import uvloop  # uvicorn's loop, installed with it: less CPU per copied byte
    except ImportError:
        asyncio.run(serve(backends))
    else:
        uvloop.run(serve(backends))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main(sys.argv[1:])
