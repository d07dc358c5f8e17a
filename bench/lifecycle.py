#!/usr/bin/env python3
"""Lifecycle operations, timed as the client sees them, on cairn and
(with --plone) on a running Plone 6 in the same run.

cairn is started from a given binary on a fresh data folder (trash limit
above the folder's size). On each server the script creates a folder of
--n descendants (10 sub-folders of n/10 pages each) through the REST API,
then times: `@move` of the folder into another one, DELETE (cairn: to the
trash; Plone: for good), cairn's `POST @trash/<id>/restore`; checks out a
5 KB page (`@workingcopy`), edits the copy and times the check-in
(median of --rounds); makes --edits one-word edits of a 5 KB page and
reports how much the database grew (cairn: the whole SQLite file and the
page's rows of the `versions` table; Plone: Data.fs, which holds
CMFEditions' copies).

    python3 bench/lifecycle.py --bin target/release/cairn [--n 10000]
    python3 bench/lifecycle.py --bin target/release/cairn --n 1000 \\
        --plone http://127.0.0.1:8080/Plone --plone-data ~/plone-anchor/instance/var/Data.fs

Plone needs plone.app.iterate for the working copy; the script installs
it through `@addons`. Standard library only; results in
bench/results/lifecycle.json.
"""

import argparse
import base64
import functools
import glob
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "bench-lifecycle-pw-1"
WORDS = [f"wort{i}" for i in range(700)]


class Server:
    def __init__(self, site, user, password):
        self.site = site
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def call(self, method, url, body=None):
        url = url if url.startswith("http") else self.site + url
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        req.add_header("Authorization", self.auth)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=600) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def timed(self, method, url, body=None):
        t = time.time()
        st, res = self.call(method, url, body)
        return st, res, time.time() - t


def page(words):
    return {"data": "<p>" + " ".join(words) + "</p>", "content-type": "text/html"}


def big_folder(s, n, tag, threads):
    """Times move, delete (and cairn's restore) of a folder of n descendants."""
    s.call("POST", "", {"@type": "Folder", "id": f"big{tag}", "title": "Big"})
    s.call("POST", "", {"@type": "Folder", "id": f"archiv{tag}", "title": "Archiv"})
    subs, per = 10, n // 10
    for i in range(subs):
        s.call("POST", f"/big{tag}", {"@type": "Folder", "id": f"s{i}", "title": f"S{i}"})

    def fill(i):
        for j in range(per - 1):
            body = {"@type": "Document", "id": f"p{j}", "title": f"Page {j}", "text": page(["Verwaltung Kanton"] * 20)}
            st, _ = s.call("POST", f"/big{tag}/s{i}", body)
            assert st == 201, st
    started = time.time()
    with ThreadPoolExecutor(threads) as ex:
        list(ex.map(fill, range(subs)))
    out = {"descendants": subs * per, "fill_seconds": round(time.time() - started, 1)}
    deep = "s9/p1"
    st, _, t = s.timed("POST", f"/archiv{tag}/@move", {"source": [f"{s.site}/big{tag}"]})
    assert st == 200, (st, _)
    out["move_seconds"] = round(t, 3)
    assert s.call("GET", f"/archiv{tag}/big{tag}/{deep}")[0] == 200
    st, _, t = s.timed("DELETE", f"/archiv{tag}/big{tag}")
    assert st == 204, (st, _)
    out["delete_seconds"] = round(t, 3)
    assert s.call("GET", f"/archiv{tag}/big{tag}/{deep}")[0] == 404
    st, trash = s.call("GET", "/@trash")
    if st == 200:
        st, _, t = s.timed("POST", f"{trash['items'][0]['@id']}/restore", {})
        assert st == 200, st
        assert s.call("GET", f"/archiv{tag}/big{tag}/{deep}")[0] == 200
        out["restore_seconds"] = round(t, 3)
    return out


def check_in(s, rounds, tag):
    """Median time of checking in an edited working copy of a 5 KB page."""
    st, res = s.call("POST", "", {"@type": "Document", "id": f"wc{tag}", "title": "Working copy", "text": page(WORDS)})
    assert st == 201, (st, res)
    times = []
    for r in range(rounds):
        st, res = s.call("POST", f"/wc{tag}/@workingcopy")
        assert st == 201, (st, res)
        copy = res["@id"]
        words = list(WORDS)
        words[r] = f"neu{r}"
        assert s.call("PATCH", copy, {"text": page(words)})[0] == 204
        st, _, t = s.timed("PATCH", f"{copy}/@workingcopy")
        assert st == 204, st
        times.append(t)
    return {"checkin_ms_median": round(statistics.median(times) * 1000, 1), "checkin_rounds": rounds}


def edits(s, count, tag, size):
    """One-word edits of a 5 KB page: edits/s and how much the database grew."""
    st, res = s.call("POST", "", {"@type": "Document", "id": f"ed{tag}", "title": "Edits", "text": page(WORDS)})
    assert st == 201, (st, res)
    size = functools.partial(size, res["UID"])
    before = size()
    words = list(WORDS)
    started = time.time()
    for n in range(count):
        words[(n * 37) % len(words)] = f"edit{n}"
        assert s.call("PATCH", f"/ed{tag}", {"text": page(words)})[0] == 204
    took = time.time() - started
    grown = size()
    return {"edits": count, "edits_per_second": round(count / took, 1),
            "page_bytes": len(json.dumps(page(words))), "database_growth_bytes": grown["db"] - before["db"],
            **({"history_bytes": grown["versions"]} if "versions" in grown else {})}


def start_cairn(binary, env=None, sample=False):
    """Starts cairn on a free loopback port with a fresh data folder and
    waits until it answers; returns the process, the site's Server and
    the data folder."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = os.path.join(tempfile.mkdtemp(prefix="cairn-bench-"), "data")
    env = dict(os.environ, CAIRN_ADMIN_PASSWORD=PASSWORD, RUST_LOG="warn", **(env or {}))
    args = [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data", data]
    if not sample:
        args.append("--no-sample")
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return proc, Server(f"http://127.0.0.1:{port}/Plone", "admin", PASSWORD), data


def cairn(a):
    proc, s, data = start_cairn(a.bin, {"CAIRN_TRASH__MAX_ITEMS": str(a.n + 100)})
    try:

        def size(uid):
            # The write-ahead log is copied into the file first: its size is
            # reused space, not growth.
            main = glob.glob(os.path.join(data, "**", "*.sqlite"), recursive=True)[0]
            with sqlite3.connect(main, timeout=30) as c:
                c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                versions = c.execute("SELECT coalesce(sum(length(data)), 0) FROM versions WHERE uid = ?",
                                     (uid.lower(),)).fetchone()[0]
            return {"db": os.path.getsize(main), "versions": versions}
        out = big_folder(s, a.n, "", 4)
        out.update(check_in(s, a.rounds, ""))
        # Only the edited page's versions count: start from a known total.
        out.update(edits(s, a.edits, "", size))
        return out
    finally:
        proc.kill()
        proc.wait()


def plone(a):
    s = Server(a.plone, "admin", "admin")
    st, _ = s.call("POST", "/@addons/plone.app.iterate/install")
    assert st in (200, 204), (st, _)
    tag = str(int(time.time()))

    def size(_uid):
        return {"db": os.path.getsize(os.path.expanduser(a.plone_data))}
    # One writer: Plone answers concurrent creates in one folder tree with
    # write conflicts (500).
    out = big_folder(s, a.n, tag, 1)
    out.update(check_in(s, a.rounds, tag))
    out.update(edits(s, a.edits, tag, size))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--edits", type=int, default=1000)
    ap.add_argument("--plone", help="a running Plone site, e.g. http://127.0.0.1:8080/Plone")
    ap.add_argument("--plone-data", default="~/plone-anchor/instance/var/Data.fs")
    a = ap.parse_args()
    out = {"cairn": cairn(a)}
    print(json.dumps(out, indent=2), flush=True)
    if a.plone:
        out["plone"] = plone(a)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    json.dump(out, open(os.path.join(HERE, "results", "lifecycle.json"), "w"), indent=2)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
