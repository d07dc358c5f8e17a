#!/usr/bin/env python3
"""Scale-out mode: how long a write on one node takes to reach another.

Starts two `cairn serve` nodes on one fresh PostgreSQL schema (each with its
own data folder, caches and full-text index), publishes a page through node
A, lets node B serve it (so B's object and response caches hold it), then
N times: changes the title through A and polls B every millisecond,
anonymously (B's response cache) and as admin (B's object cache), until B
answers with the new title. The delay counts from the end of A's PATCH
(committed) to B's first new answer. Prints and writes JSON with p50, p95
and max.

    python3 bench/nodes.py --bin target/release/cairn \\
        --postgres 'postgres://cairn:cairn@127.0.0.1/cairn_test?sslmode=disable' [--n 200]

Standard library and psql only.
"""

import argparse
import base64
import json
import os
import secrets
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

PASSWORD = secrets.token_urlsafe(12)


def request(method, url, auth=False, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode())
    with urllib.request.urlopen(req, timeout=30) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(binary, url, data):
    port = free_port()
    env = dict(os.environ, CAIRN_DATABASE_URL=url, CAIRN_ADMIN_PASSWORD=PASSWORD, RUST_LOG="warn")
    proc = subprocess.Popen([binary, "serve", "--no-sample", "--listen", f"127.0.0.1:{port}", "--data", data],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            return proc, base + "/Plone"
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("a node did not start")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--postgres", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "nodes.json"))
    args = ap.parse_args()
    schema = f"nodes_bench_{int(time.time())}"
    subprocess.run(["psql", "-q", args.postgres, "-c", f"CREATE SCHEMA {schema}"], check=True)
    joiner = "&" if "?" in args.postgres else "?"
    url = f"{args.postgres}{joiner}options=-c%20search_path%3D{schema}"
    procs = []
    try:
        with tempfile.TemporaryDirectory() as da, tempfile.TemporaryDirectory() as db:
            pa, a = start(args.bin, url, da)
            procs.append(pa)
            pb, b = start(args.bin, url, db)
            procs.append(pb)
            request("POST", a, True, {"@type": "Document", "id": "seite", "title": "t0"})
            request("POST", a + "/seite/@workflow/publish", True, {})
            delays = {"anonymous": [], "admin": []}
            for i in range(1, args.n + 1):
                who = "anonymous" if i % 2 else "admin"
                # B holds the current title in its caches first.
                request("GET", b + "/seite", who == "admin")
                request("PATCH", a + "/seite", True, {"title": f"t{i}"})
                written = time.perf_counter()
                while request("GET", b + "/seite", who == "admin")["title"] != f"t{i}":
                    if time.perf_counter() - written > 10:
                        raise SystemExit(f"node B did not see write {i} within 10 s")
                    time.sleep(0.001)
                delays[who].append((time.perf_counter() - written) * 1000)
    finally:
        for p in procs:
            p.terminate()
            p.wait()
    out = {}
    for who, d in delays.items():
        d.sort()
        out[who] = {"n": len(d), "p50_ms": round(statistics.median(d), 2),
                    "p95_ms": round(d[int(len(d) * 0.95) - 1], 2), "max_ms": round(d[-1], 2)}
    print(json.dumps(out, indent=1))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
