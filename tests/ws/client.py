"""WebSocket clients for ringgate's tests (Python `websockets`, independent of the gateway).

Usage: client.py SCENARIO URL [ARG...]; prints one JSON object (the observations) and exits 0,
or prints the failure and exits 1. Scenarios:
  echo URL            text, binary, a 16 MiB message, ping/pong, then a close with 4000
  backend-close URL   the backend closes first with 4001: the code the client sees
  idle URL            sends nothing: how long until the gateway closes the connection
  hold URL N          opens N sockets, echoes once on each, prints `READY`, then waits for
                      each to be closed by the other side and reports the close codes
  handshake URL       only the handshake: its status (101, or the refusal's) and body
Options in the environment: WS_CA (a CA file to trust for wss://), WS_HEADERS (JSON object of
extra handshake headers).
"""

import asyncio
import json
import os
import ssl
import sys
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus


def tls_for(url):
    if not url.startswith("wss://"):
        return None
    ctx = ssl.create_default_context(cafile=os.environ.get("WS_CA"))
    return ctx


def opts(url):
    extra = json.loads(os.environ.get("WS_HEADERS", "{}"))
    return dict(
        ssl=tls_for(url), max_size=None, ping_interval=None, additional_headers=extra, open_timeout=20, proxy=None
    )


async def echo(url):
    out = {}
    async with connect(url, **opts(url)) as ws:
        await ws.send("hello")
        out["text"] = await ws.recv()
        await ws.send(b"\x00\x01\xfe\xff")
        b = await ws.recv()
        out["binary"] = list(b)
        big = os.urandom(16 << 20)
        await ws.send(big)
        back = await ws.recv()
        out["big_len"] = len(back)
        out["big_same"] = back == big
        pong = await ws.ping(b"are you there")
        t0 = time.monotonic()
        await asyncio.wait_for(pong, 10)
        out["pong"] = True
        out["pong_ms"] = round((time.monotonic() - t0) * 1000, 2)
        await ws.close(4000, "client says bye")
        out["close_sent"] = 4000
    return out


async def backend_close(url):
    async with connect(url, **opts(url)) as ws:
        await ws.send("close:4001")
        try:
            await asyncio.wait_for(ws.recv(), 10)
            return {"error": "a message instead of the close"}
        except ConnectionClosed as e:
            return {"code": e.rcvd.code if e.rcvd else None, "reason": e.rcvd.reason if e.rcvd else None}


async def idle(url):
    async with connect(url, **opts(url)) as ws:
        t0 = time.monotonic()
        try:
            await asyncio.wait_for(ws.recv(), 30)
            return {"error": "a message while idle"}
        except ConnectionClosed:
            return {"closed_after_s": round(time.monotonic() - t0, 2)}
        except asyncio.TimeoutError:
            return {"error": "not closed within 30 s"}


async def hold(url, n):
    sockets = await asyncio.gather(*(connect(url, **opts(url)) for _ in range(n)))

    async def one(i, ws):
        await ws.send(f"m{i}")
        return await ws.recv() == f"m{i}"

    echoed = await asyncio.gather(*(one(i, ws) for i, ws in enumerate(sockets)))
    print("READY", flush=True)

    async def closed(ws):
        try:
            await asyncio.wait_for(ws.recv(), 60)
            return "message"
        except ConnectionClosed as e:
            return e.rcvd.code if e.rcvd else None
        except asyncio.TimeoutError:
            return "open"

    codes = await asyncio.gather(*(closed(ws) for ws in sockets))
    tally = {}
    for c in codes:
        tally[str(c)] = tally.get(str(c), 0) + 1
    return {"opened": len(sockets), "echoed": sum(echoed), "close_codes": tally}


async def handshake(url):
    try:
        async with connect(url, **opts(url)) as ws:
            await ws.send("headers?")
            headers = json.loads(await ws.recv())
            return {"status": 101, "backend_saw": headers}
    except InvalidStatus as e:
        r = e.response
        return {"status": r.status_code, "body": r.body.decode("utf-8", "replace")}


async def main():
    scenario, url, *args = sys.argv[1:]
    if scenario == "echo":
        r = await echo(url)
    elif scenario == "backend-close":
        r = await backend_close(url)
    elif scenario == "idle":
        r = await idle(url)
    elif scenario == "hold":
        r = await hold(url, int(args[0]))
    elif scenario == "handshake":
        r = await handshake(url)
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    print(json.dumps(r), flush=True)


if __name__ == "__main__":
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main())
