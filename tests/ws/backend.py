"""A WebSocket origin for ringgate's tests (Python `websockets`, independent of the gateway).

Prints `PORT <n>` once listening on 127.0.0.1 (port 0), then one line per event:
`HANDSHAKE <json headers>` for each handshake and `CLOSED <code> <reason>` when a connection
ends (the close code the client sent through the gateway). Messages are echoed as they are
(text as text, binary as binary), except the commands:
  `close:<code>`  the backend closes first with that code;
  `headers?`      answers with the handshake's request headers as JSON.
Usage: backend.py [--tls CERT KEY]
"""

import asyncio
import json
import ssl
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


def say(line):
    print(line, flush=True)


async def handler(ws):
    headers = {k.lower(): v for k, v in ws.request.headers.raw_items()}
    say("HANDSHAKE " + json.dumps({"path": ws.request.path, "headers": headers}))
    try:
        async for msg in ws:
            if isinstance(msg, str) and msg.startswith("close:"):
                await ws.close(int(msg[6:]), "backend says bye")
                break
            if msg == "headers?":
                await ws.send(json.dumps(headers))
                continue
            await ws.send(msg)
    except ConnectionClosed:
        pass  # a close code other than 1000/1001, or no close frame (the idle timeout)
    finally:
        rcvd = ws.protocol.close_rcvd
        say(f"CLOSED {rcvd.code if rcvd else 'none'} {rcvd.reason if rcvd else ''}".rstrip())


async def main():
    tls = None
    if len(sys.argv) == 4 and sys.argv[1] == "--tls":
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(sys.argv[2], sys.argv[3])
    async with serve(handler, "127.0.0.1", 0, ssl=tls, max_size=None, ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        say(f"PORT {port}")
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main())
