#!/usr/bin/env python3
"""How long a published page takes to become findable by full text.

Creates and publishes pages with a unique word, one at a time, and polls an
anonymous `@search?SearchableText=<word>` every 2 ms until the page is found;
the lag is measured from the end of the create request (the publish follows
at once). With --load, a
background writer keeps creating pages at the same time (sustained writes).
Also checks read-your-writes: an authenticated search right after a save must
find the page on the first try.

    python3 bench/search_lag.py http://127.0.0.1:8080/Plone --auth admin:PW [--n 50] [--load]

Standard library only.
"""

import argparse
import base64
import json
import statistics
import threading
import time
import urllib.request
import uuid


def request(method, url, auth=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    with urllib.request.urlopen(req, timeout=30) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


def found(site, word, auth=None):
    res = request("GET", f"{site}/@search?SearchableText={word}", auth)
    return res["items_total"] > 0


def writer(site, auth, stop, counter):
    while not stop.is_set():
        request("POST", site, auth, {"@type": "Document", "title": f"last {uuid.uuid4().hex[:8]}"})
        counter[0] += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("site")
    ap.add_argument("--auth", required=True, help="user:password of a Manager")
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--load", action="store_true", help="keep a writer busy meanwhile")
    a = ap.parse_args()
    stop, counter = threading.Event(), [0]
    if a.load:
        threading.Thread(target=writer, args=(a.site, a.auth, stop, counter), daemon=True).start()
        time.sleep(1)
    lags, ryw_misses = [], 0
    started = time.monotonic()
    for i in range(a.n):
        # Read-your-writes: the author's search right after the save.
        word = "ryw" + uuid.uuid4().hex[:12]
        request("POST", a.site, a.auth, {"@type": "Document", "title": word})
        if not found(a.site, word, a.auth):
            ryw_misses += 1
        # Lag for anyone: from the save until an anonymous search finds it
        # (the page is published right after the save, so anonymous may see it).
        word = "lag" + uuid.uuid4().hex[:12]
        page = request("POST", a.site, a.auth, {"@type": "Document", "title": word})
        t0 = time.monotonic()
        request("POST", page["@id"] + "/@workflow/publish", a.auth, {})
        while not found(a.site, word):
            if time.monotonic() - t0 > 10:
                raise SystemExit(f"page {word} not found after 10 s")
            time.sleep(0.002)
        lags.append((time.monotonic() - t0) * 1000)
        time.sleep(0.2)  # a quiet spell between samples (idle server)
    elapsed = time.monotonic() - started
    stop.set()
    lags.sort()
    p95 = lags[max(0, int(len(lags) * 0.95) - 1)]
    mode = f"under load ({counter[0] / elapsed:.0f} background creates/s)" if a.load else "idle"
    print(
        f"search lag {mode}: n={len(lags)} p50={statistics.median(lags):.1f} ms "
        f"p95={p95:.1f} ms max={lags[-1]:.1f} ms; read-your-writes misses: {ryw_misses}"
    )


if __name__ == "__main__":
    main()
