#!/usr/bin/env python3
"""cairn behind a real Varnish: cache-hit ratio for a realistic mix, and the
delay from a committed edit to its purge request.

Starts cairn (a given binary) on a fresh data folder, fills it with
bench/populate.py, starts varnishd with deploy/varnish/cairn.vcl in front of
it, and puts a small recorder between cairn's purge jobs and Varnish (it
notes when each purge arrives, then passes it on). Then, for --duration
seconds, anonymous readers GET pages, folders and news over the whole site
with a Zipf popularity skew through Varnish, while an editor changes a random
page --edits-per-min times a minute straight at cairn. Reports the hit ratio
(all reads, and after the first --warm seconds), and for each edit the time
from the end of its PATCH to the arrival of the purge naming its UID.

    python3 bench/cdn.py --bin target/release/cairn [--duration 60] [--readers 4]
        [--edits-per-min 6] [--purge-delay-ms 250]

Needs varnishd with the xkey vmod (apt-get install varnish varnish-modules).
Standard library only; results in bench/results/cdn.json.
"""

import argparse
import base64
import bisect
import http.server
import json
import os
import random
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PASSWORD = "bench-cdn-pw-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def call(method, url, body=None, auth=False, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode())
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class Recorder(http.server.BaseHTTPRequestHandler):
    """Notes each purge, then passes it on to Varnish."""

    varnish = None
    log = []
    lock = threading.Lock()

    def do_PURGE(self):  # noqa: N802 (HTTP method name)
        at = time.time()
        keys = self.headers.get("xkey-purge", "") + " " + self.headers.get("xkey-softpurge", "")
        with Recorder.lock:
            Recorder.log.append((at, keys.split()))
        fwd = {k: v for k, v in self.headers.items() if k.lower().startswith("xkey") or k.lower() == "host"}
        status, _, body = call("PURGE", f"http://127.0.0.1:{Recorder.varnish}{self.path}", headers=fwd)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--warm", type=float, default=10, help="seconds left out of the steady-state ratio")
    ap.add_argument("--readers", type=int, default=4)
    ap.add_argument("--edits-per-min", type=float, default=6)
    ap.add_argument("--purge-delay-ms", type=int, default=250)
    ap.add_argument("--zipf", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    tmp = tempfile.mkdtemp(prefix="cairn-cdn-")
    cairn_port, varnish_port, recorder_port = free_port(), free_port(), free_port()
    env = dict(os.environ, CAIRN_ADMIN_PASSWORD=PASSWORD, RUST_LOG="warn",
               CAIRN_CACHING__VARNISH=f'["http://127.0.0.1:{recorder_port}"]',
               CAIRN_CACHING__PURGE_DELAY_MS=str(a.purge_delay_ms))
    cairn = subprocess.Popen([a.bin, "serve", "--no-sample", "--listen", f"127.0.0.1:{cairn_port}",
                              "--data", os.path.join(tmp, "data")], env=env,
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "cairn.log"), "w"))
    procs = [cairn]
    try:
        wait_port(cairn_port)
        site = f"http://127.0.0.1:{cairn_port}/Plone"
        subprocess.run(["python3", os.path.join(HERE, "populate.py"), "--base", site, "--user", "admin",
                        "--concurrency", "4", "--out", os.path.join(tmp, "populate.json")],
                       env=dict(os.environ, BENCH_PASSWORD=PASSWORD), check=True, stdout=subprocess.DEVNULL)
        vcl = open(os.path.join(ROOT, "deploy/varnish/cairn.vcl")).read()
        vcl = vcl.replace('.port = "8080";', f'.port = "{cairn_port}";')
        vcl_path = os.path.join(tmp, "cairn.vcl")
        open(vcl_path, "w").write(vcl)
        varnishd = "/usr/sbin/varnishd" if os.path.exists("/usr/sbin/varnishd") else "varnishd"
        procs.append(subprocess.Popen([varnishd, "-F", "-j", "none", "-s", "malloc,256m",
                                       "-n", os.path.join(tmp, "varnish"), "-a", f"127.0.0.1:{varnish_port}",
                                       "-f", vcl_path], stdout=subprocess.DEVNULL))
        wait_port(varnish_port)
        Recorder.varnish = varnish_port
        recorder = http.server.ThreadingHTTPServer(("127.0.0.1", recorder_port), Recorder)
        threading.Thread(target=recorder.serve_forever, daemon=True).start()

        # Everything an anonymous visitor can reach, most popular first (random order).
        urls, docs = [], []
        for start in range(0, 5000, 1000):
            _, _, body = call("GET", f"{site}/@search?b_size=1000&b_start={start}&sort_on=path")
            items = json.loads(body)["items"]
            urls += [i["@id"].replace(site, "") for i in items]
            docs += [i["@id"].replace(site, "") for i in items if i["@type"] == "Document"]
            if len(items) < 1000:
                break
        rnd.shuffle(urls)
        weights = [1 / (k + 1) ** a.zipf for k in range(len(urls))]
        cum = list(__import__("itertools").accumulate(weights))

        stop = threading.Event()
        reads = []  # (time, hit)
        reads_lock = threading.Lock()

        def reader(seed):
            r = random.Random(seed)
            while not stop.is_set():
                path = urls[bisect.bisect(cum, r.random() * cum[-1])]
                status, headers, _ = call("GET", f"http://127.0.0.1:{varnish_port}/Plone{path}")
                hit = headers.get("X-Cache") == "HIT"
                with reads_lock:
                    reads.append((time.time(), hit, status))

        edits = []  # (commit time, uid)

        def editor():
            r = random.Random(a.seed + 1)
            pause = 60.0 / a.edits_per_min
            while not stop.wait(pause):
                path = r.choice(docs)
                status, _, body = call("PATCH", f"{site}{path}", {"description": f"edit {time.time()}"}, auth=True,
                                       headers={"Prefer": "return=representation"})
                if status == 200:
                    edits.append((time.time(), json.loads(body)["UID"]))

        threads = [threading.Thread(target=reader, args=(a.seed + 10 + i,)) for i in range(a.readers)]
        threads.append(threading.Thread(target=editor))
        started = time.time()
        for t in threads:
            t.start()
        time.sleep(a.duration)
        stop.set()
        for t in threads:
            t.join()
        time.sleep(max(1.0, a.purge_delay_ms / 1000 * 4))

        def ratio(rows):
            return sum(1 for _, h, _ in rows if h) / max(1, len(rows))

        steady = [r for r in reads if r[0] >= started + a.warm]
        delays = []
        with Recorder.lock:
            log = list(Recorder.log)
        for at, uid in edits:
            arrivals = [t for t, keys in log if t >= at and uid in keys]
            if arrivals:
                delays.append((min(arrivals) - at) * 1000)
        q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] if xs else None  # noqa: E731
        out = {
            "objects_reachable": len(urls),
            "reads": len(reads),
            "reads_per_s": round(len(reads) / a.duration, 1),
            "non_200": sum(1 for r in reads if r[2] != 200),
            "hit_ratio": round(ratio(reads), 4),
            "hit_ratio_after_warm": round(ratio(steady), 4),
            "edits": len(edits),
            "edits_purged": len(delays),
            "purge_delay_ms_p50": round(q(delays, 0.5), 1) if delays else None,
            "purge_delay_ms_p95": round(q(delays, 0.95), 1) if delays else None,
            "purge_delay_ms_mean": round(statistics.mean(delays), 1) if delays else None,
            "purge_requests": len(log),
            "settings": vars(a),
        }
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
        json.dump(out, open(os.path.join(HERE, "results", "cdn.json"), "w"), indent=2)
        print(json.dumps(out, indent=2))
    finally:
        for p in procs:
            p.kill()
            p.wait()


if __name__ == "__main__":
    main()
