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

With --throughput S it then measures, S seconds each: uncached document
reads (wrk, 8 connections) against node A alone and against both nodes at
once (4 connections each, summed), and creates by 8 authors (threads)
spread over both nodes, each in a folder of its own and all in one folder.
With --nginx as well, the same reads and creates go through nginx (from
Debian) balancing round-robin over both nodes, as a load balancer in front
of the pods would, next to nginx in front of node A alone (the proxy's own
cost).
On one machine the nodes, the database and the load share the cores:
these figures show that a second node adds no contention of its own, not
what a second machine would add.

    python3 bench/nodes.py --bin target/release/cairn \\
        --postgres 'postgres://cairn:cairn@127.0.0.1/cairn_test?sslmode=disable' [--n 200] [--throughput 5] [--nginx]

Standard library, psql, wrk (nginx with --nginx) and search_lag.py beside it.
"""

import argparse
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

from search_lag import request as lag_request

PASSWORD = secrets.token_urlsafe(12)


def request(method, url, auth=False, body=None):
    """search_lag's JSON request, as admin when `auth`."""
    return lag_request(method, url, f"admin:{PASSWORD}" if auth else None, body)


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
    return proc, up(proc, f"http://127.0.0.1:{port}", "a node")


def up(proc, base, what):
    """The site URL once `base` answers /healthz (30 s at most)."""
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            return base + "/Plone"
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{what} did not start")


def wrk(url, conc, seconds):
    """Requests per second wrk reaches on `url` (no cache: the origin's figure)."""
    out = subprocess.run(["wrk", "-t1", f"-c{conc}", f"-d{seconds}s", "-H", "Cache-Control: no-cache",
                          "-H", "Accept: application/json", url], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise SystemExit(f"wrk said: {out}")


def wrk_both(urls, conc, seconds):
    """Runs wrk against every URL at once; the summed rate."""
    procs = [subprocess.Popen(["wrk", "-t1", f"-c{conc}", f"-d{seconds}s", "-H", "Cache-Control: no-cache",
                               "-H", "Accept: application/json", u], stdout=subprocess.PIPE, text=True)
             for u in urls]
    total = 0.0
    for p in procs:
        out, _ = p.communicate()
        total += float(next(l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec:")))
    return total


def nginx(upstreams, workdir):
    """nginx on a free port, balancing round-robin over `upstreams` (host:port)."""
    port = free_port()
    servers = "".join(f"server {u}; " for u in upstreams)
    conf = os.path.join(workdir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {workdir}/body;
  proxy_temp_path {workdir}/proxy;
  upstream cairn {{ {servers}keepalive 32; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://cairn;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }}
  }}
}}
""")
    proc = subprocess.Popen(["nginx", "-p", workdir, "-c", conf, "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, up(proc, f"http://127.0.0.1:{port}", "nginx")


def host_of(url):
    """host:port of a node's site URL."""
    return url.split("//", 1)[1].split("/", 1)[0]


def creates(nodes, seconds, same_folder):
    """Creates per second by 8 authors (threads) spread over `nodes`."""
    import threading
    folders = []
    for i in range(8):
        fid = "gemeinsam" if same_folder else f"ordner-{i}-{int(time.time() * 1000)}"
        if fid not in folders:
            try:
                request("POST", nodes[0], True, {"@type": "Folder", "id": fid, "title": fid})
            except urllib.error.HTTPError:
                pass
        folders.append(fid)
    done = [0] * 8
    stop = time.perf_counter() + seconds

    conflicts = [0] * 8

    def author(i):
        base = nodes[i % len(nodes)] + "/" + folders[i]
        while time.perf_counter() < stop:
            try:
                request("POST", base, True, {"@type": "Document", "title": "Bericht", "text": {"data": "<p>x</p>"}})
                done[i] += 1
            except urllib.error.HTTPError as e:
                # Two nodes took the same free id at once: the loser's
                # transaction is refused whole, and the author tries again.
                if e.code != 409:
                    raise
                conflicts[i] += 1

    threads = [threading.Thread(target=author, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if sum(conflicts):
        print(f"creates: {sum(conflicts)} refused with 409 (same id taken at once) and tried again")
    return round(sum(done) / seconds, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--postgres", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--throughput", type=int, default=0, help="seconds per throughput run (0: none)")
    ap.add_argument("--nginx", action="store_true", help="with --throughput: also through nginx over both nodes")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "nodes.json"))
    args = ap.parse_args()
    schema = f"nodes_bench_{int(time.time())}"
    subprocess.run(["psql", "-q", args.postgres, "-c", f"CREATE SCHEMA {schema}"], check=True)
    joiner = "&" if "?" in args.postgres else "?"
    url = f"{args.postgres}{joiner}options=-c%20search_path%3D{schema}"
    # The nodes stop before their data folders go.
    with tempfile.TemporaryDirectory() as da, tempfile.TemporaryDirectory() as db:
        procs = []
        try:
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
            if args.throughput:
                page = "/seite"
                throughput = {
                    "doc_one_node_rps": round(wrk(a + page, 8, args.throughput), 1),
                    "doc_two_nodes_rps": round(wrk_both([a + page, b + page], 4, args.throughput), 1),
                    "creates_8_authors_own_folders_per_s": creates([a, b], args.throughput, False),
                    "creates_8_authors_one_folder_per_s": creates([a, b], args.throughput, True),
                }
                if args.nginx:
                    with tempfile.TemporaryDirectory() as nd1, tempfile.TemporaryDirectory() as nd2:
                        one, via_one = nginx([host_of(a)], nd1)
                        both, via_both = nginx([host_of(a), host_of(b)], nd2)
                        try:
                            throughput["doc_nginx_one_node_rps"] = round(wrk(via_one + page, 8, args.throughput), 1)
                            throughput["doc_nginx_two_nodes_rps"] = round(wrk(via_both + page, 8, args.throughput), 1)
                            throughput["creates_nginx_two_nodes_8_authors_own_folders_per_s"] = creates(
                                [via_both], args.throughput, False)
                            # An author writing through the balancer reads
                            # the write back at once, whichever node answers.
                            stale = 0
                            for i in range(100):
                                request("PATCH", via_both + "/seite", True, {"title": f"n{i}"})
                                if request("GET", via_both + "/seite", True)["title"] != f"n{i}":
                                    stale += 1
                            throughput["nginx_read_after_write_stale_of_100"] = stale
                        finally:
                            for p in (one, both):
                                p.terminate()
                                p.wait()
        finally:
            for p in procs:
                p.terminate()
                p.wait()
    out = {}
    if args.throughput:
        out["throughput"] = throughput
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
