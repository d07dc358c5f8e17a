#!/usr/bin/env python3
"""Lifecycle operations on a big folder: move it, trash it, restore it.

Starts cairn (a given binary) on a fresh data folder with a trash limit
above the folder's size, creates a folder holding --n descendants (10
sub-folders of n/10 pages each) through the REST API, then times, as the
client sees them: `@move` of the folder into another one, DELETE (to the
trash), `POST @trash/<id>/restore`, and checks after each step that the
folder and a page deep inside answer where they should.

    python3 bench/lifecycle.py --bin target/release/cairn [--n 10000]

Standard library only; results in bench/results/lifecycle.json.
"""

import argparse
import base64
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "bench-lifecycle-pw-1"


def call(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    req.add_header("Authorization", "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode())
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--n", type=int, default=10_000)
    a = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = tempfile.mkdtemp(prefix="cairn-lifecycle-")
    env = dict(os.environ, CAIRN_ADMIN_PASSWORD=PASSWORD, RUST_LOG="warn",
               CAIRN_TRASH__MAX_ITEMS=str(a.n + 100))
    proc = subprocess.Popen([a.bin, "serve", "--no-sample", "--listen", f"127.0.0.1:{port}",
                             "--data", os.path.join(tmp, "data")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    site = f"http://127.0.0.1:{port}/Plone"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        call("POST", site, {"@type": "Folder", "id": "big", "title": "Big"})
        call("POST", site, {"@type": "Folder", "id": "archiv", "title": "Archiv"})
        subs, per = 10, a.n // 10
        for i in range(subs):
            call("POST", f"{site}/big", {"@type": "Folder", "id": f"s{i}", "title": f"S{i}"})
        started = time.time()

        def fill(i):
            for j in range(per - 1):
                st, _ = call("POST", f"{site}/big/s{i}",
                             {"@type": "Document", "id": f"p{j}", "title": f"Page {j}", "text": {
                                 "data": "<p>" + "Verwaltung Kanton " * 20 + "</p>", "content-type": "text/html"}})
                assert st == 201, st
        with ThreadPoolExecutor(4) as ex:
            list(ex.map(fill, range(subs)))
        fill_s = time.time() - started
        deep = "s9/p1"

        def timed(method, url, body=None):
            t = time.time()
            st, res = call(method, url, body)
            return st, res, time.time() - t

        st, _, move_s = timed("POST", f"{site}/archiv/@move", {"source": [f"{site}/big"]})
        assert st == 200, st
        assert call("GET", f"{site}/archiv/big/{deep}")[0] == 200
        st, _, trash_s = timed("DELETE", f"{site}/archiv/big")
        assert st == 204, st
        assert call("GET", f"{site}/archiv/big/{deep}")[0] == 404
        _, trash = call("GET", f"{site}/@trash")
        entry = trash["items"][0]
        st, _, restore_s = timed("POST", f"{entry['@id']}/restore", {})
        assert st == 200, st
        assert call("GET", f"{site}/archiv/big/{deep}")[0] == 200
        out = {
            "descendants": entry["items_total"] - 1,
            "fill_seconds": round(fill_s, 1),
            "move_seconds": round(move_s, 3),
            "trash_seconds": round(trash_s, 3),
            "restore_seconds": round(restore_s, 3),
        }
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
        json.dump(out, open(os.path.join(HERE, "results", "lifecycle.json"), "w"), indent=2)
        print(json.dumps(out, indent=2))
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    main()
