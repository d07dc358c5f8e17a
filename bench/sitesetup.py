#!/usr/bin/env python3
"""Site Setup and schema editing, timed as the client sees them (one
request at a time, as an administrator clicks), on cairn and (with
--plone) on a running Plone 6 in the same run.

Shapes: the control panel list, the Site panel (GET and a PATCH of the
site title), the dexterity-types panel, `GET @types/Document`, adding a
field to Document (`POST @types/Document`) and removing it again
(`DELETE @types/Document/<field>`), and the Users and Fields vocabularies.
Each is repeated --rounds times; the median and p95 in milliseconds are
reported.

    python3 bench/sitesetup.py --bin target/release/cairn \\
        [--plone http://127.0.0.1:8080/Plone] [--rounds 50]

Standard library only; results in bench/results/sitesetup.json.
"""

import argparse
import json
import os
import statistics
import time

from lifecycle import HERE, Server, start_cairn


def shapes(s, rounds, tag):
    out = {}

    def run(name, calls):
        times = []
        for i in range(rounds):
            for method, url, body, want in calls(i):
                st, res, t = s.timed(method, url, body)
                assert st == want, (name, method, url, st, str(res)[:300])
                times.append(t * 1000)
        times.sort()
        out[name] = {
            "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
            "n": len(times),
        }
        print(name, out[name], flush=True)

    run("controlpanels", lambda i: [("GET", "/@controlpanels", None, 200)])
    run("site_panel", lambda i: [("GET", "/@controlpanels/site", None, 200)])
    run("site_title_patch",
        lambda i: [("PATCH", "/@controlpanels/site", {"site_title": f"Site {tag} {i}"}, 204)])
    run("types_panel", lambda i: [("GET", "/@controlpanels/dexterity-types", None, 200)])
    run("types_document", lambda i: [("GET", "/@types/Document", None, 200)])
    run("field_add", lambda i: [("POST", "/@types/Document",
                                 {"factory": "label_textline_field", "title": f"Bench {tag} {i}"}, 201)])
    run("field_delete", lambda i: [("DELETE", f"/@types/Document/bench_{tag}_{i}", None, 204)])
    run("vocabulary_users", lambda i: [("GET", "/@vocabularies/plone.app.vocabularies.Users", None, 200)])
    run("vocabulary_fields", lambda i: [("GET", "/@vocabularies/Fields", None, 200)])
    return out


def cairn(a):
    proc, s, _data = start_cairn(a.bin, sample=True)
    try:
        return shapes(s, a.rounds, "c")
    finally:
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--plone", help="a running Plone site, e.g. http://127.0.0.1:8080/Plone")
    a = ap.parse_args()
    out = {"cairn": cairn(a)}
    if a.plone:
        out["plone"] = shapes(Server(a.plone, "admin", "admin"), a.rounds, f"p{int(time.time()) % 100000}")
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    json.dump(out, open(os.path.join(HERE, "results", "sitesetup.json"), "w"), indent=2)
    if a.plone:
        print(f"{'shape':20} {'cairn ms':>10} {'Plone ms':>10} {'ratio':>7}")
        for k, v in out["cairn"].items():
            p = out["plone"][k]["median_ms"]
            print(f"{k:20} {v['median_ms']:>10} {p:>10} {p / max(v['median_ms'], 0.001):>6.0f}x")


if __name__ == "__main__":
    main()
