#!/usr/bin/env python3
"""Measure request shapes with wrk against cairn and, optionally, the Plone anchor.

Normally started by bench/run.sh, which builds, starts and populates cairn first.
Standalone use against servers that are already up and populated:

    python3 bench/bench.py --cairn http://127.0.0.1:PORT/Plone --cairn-password PW \
        [--plone http://127.0.0.1:8080/Plone] [--duration 10] [--warmup 2] [--conc 1,8]

Shapes (every request sends Accept: application/json; reads are anonymous unless noted):
  doc          GET a Document
  folder_full  GET a folder (~11 items) with ?fullobjects=1
  page_expand  GET the Document with ?expand=breadcrumbs,navigation,actions,types, as admin
  nav3         GET /@navigation?expand.navigation.depth=3 on the site root
  children     GET <big folder>/@search?path.depth=1&sort_on=getObjPositionInParent&b_size=25
  subtree      GET <subtree>/@search for published News Items sorted by effective (newest first)
  text_common  GET /@search?SearchableText=<common word>&b_size=25
  text_rare    GET /@search?SearchableText=<rare word>&b_size=25
  text_cold    GET /@search?SearchableText=<common word> OR <a new made-up word>&b_size=25: the
               common-word search with a query no cache has seen (the made-up word differs per
               request and matches nothing), so the ranking is computed every time
  listing      POST <subtree>/@querystring-search: News Items below it by effective, b_size 25
               (what a Volto listing block sends)
  create       POST a new Document (~4 KB rich text, id chosen by the server from a unique
               title) into /bench-writes, as admin
  trivial      GET /healthz (cairn only): the baseline for a do-nothing endpoint

The folder and Document are found on each server at start-up: @search for Folders,
preferring /steuern/dienstleistungen (present in both populate scripts), then the first
Document listed in that folder. Each shape is checked with one request first; a shape
whose check does not answer 2xx is skipped and reported, not timed.

Results: <results>/latest.json and latest.md; the markdown table is also printed.
Exit status: 0 ok, 2 setup failure, 3 when a cairn shape was skipped or answered non-2xx.
"""
import argparse
import base64
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
LUA = HERE / "wrk_report.lua"
PREFERRED_FOLDER = "/steuern/dienstleistungen"
WRITES_FOLDER = "bench-writes"
EXPAND = "breadcrumbs,navigation,actions,types"

SHAPES = {  # name: (description, who asks: anon | admin | editor)
    "doc": ("GET Document", "anon"),
    "folder_full": ("GET folder ?fullobjects=1", "anon"),
    "page_expand": (f"GET Document ?expand={EXPAND} (admin)", "admin"),
    "nav3": ("GET @navigation?expand.navigation.depth=3", "anon"),
    "folder_anon": ("GET folder listing (summaries), anonymous", "anon"),
    "doc_editor": ("GET Document as an editor holding local roles in 3 subtrees", "editor"),
    "folder_editor": ("GET folder listing as that editor", "editor"),
    "children": ("GET @search children of the big folder by position, b_size 25", "anon"),
    "subtree": ("GET @search below the subtree: published News Items by effective, b_size 25", "anon"),
    "text_common": ("GET @search SearchableText=<common word>, b_size 25", "anon"),
    "text_rare": ("GET @search SearchableText=<rare word>, b_size 25", "anon"),
    "text_cold": ("GET @search SearchableText=<common word> OR <new word per request>, b_size 25", "anon"),
    "listing": ("POST @querystring-search: News Items below the subtree by effective, b_size 25", "anon"),
    "create": ("POST create Document ~4 KB (admin)", "admin"),
    "trivial": ("GET /healthz (cairn only)", "anon"),
}
CATALOG = ["children", "subtree", "text_common", "text_cold", "text_rare", "listing"]
# GET shapes whose URL holds __N__, replaced by a new token on every request.
TEMPLATE_SHAPES = ("text_cold",)
DISPLAY_ORDER = ["doc", "doc_editor", "folder_anon", "folder_editor", "folder_full", "page_expand", "nav3",
                 *CATALOG, "create", "trivial"]
RUN_ORDER = ["doc", "doc_editor", "folder_anon", "folder_editor", "folder_full", "page_expand", "nav3", *CATALOG,
             "trivial", "create"]  # writes last
# POST shapes: their body is a file wrk sends (the create body's __TITLE__ is made unique per request).
POST_SHAPES = ("create", "listing")
EDITOR = ("bench-editor", "bench-editor-password-1")


class SetupError(Exception):
    pass


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- HTTP


def http(method, url, auth=None, payload=None, timeout=120, extra=None, answer_headers=None):
    """(status, body); the answer's headers go into the dict answer_headers when given."""
    headers = {"Accept": "application/json", **(extra or {})}
    if auth:
        headers["Authorization"] = auth
    data = None
    if payload is not None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            if answer_headers is not None:
                answer_headers.update({k.lower(): v for k, v in r.headers.items()})
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
        return 0, str(e).encode()


def short(body, n=300):
    return body[:n].decode("utf-8", "replace").replace("\n", " ")


# cairn's rendered-response cache answers repeated anonymous reads; a CDN in front
# does the same, so the headline figures ask cairn for a fresh rendering each time.
NO_CACHE = {"Cache-Control": "no-cache"}
CACHE_HEADER = "x-cairn-cache"


class Target:
    def __init__(self, name, base, user, password, pid=None, has_trivial=False, catalog=None, extra=None):
        self.name = name
        # Headers sent with every request of this target (cairn: Cache-Control: no-cache).
        self.extra = extra or {}
        self.base = base.rstrip("/")
        u = urlsplit(self.base)
        if u.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SetupError(f"{name}: {base} is not a loopback URL; this benchmark stays on 127.0.0.1")
        self.root = f"{u.scheme}://{u.netloc}"
        self.site_path = u.path.rstrip("/")
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.pid = pid or pid_listening_on(u.port or 80)
        self.has_trivial = has_trivial
        self.folder = self.doc = None
        self.folder_items = None
        self.writes = None
        self.other_folders = []
        self.editor_auth = "Basic " + base64.b64encode(f"{EDITOR[0]}:{EDITOR[1]}".encode()).decode()
        # Catalog shapes: (big folder or None for the discovered one, subtree, common word, rare word).
        self.big_folder, self.subtree, self.common, self.rare = catalog or (None, "", "Kanton", "Einbürgerung")
        self.bodies = {}
        self.rss_max = self.anon_max = None

    def auth_for(self, kind):
        return {"anon": None, "admin": self.auth, "editor": self.editor_auth}[kind]

    def rel(self, at_id):
        """Absolute @id -> path below the site ('/a/b')."""
        if at_id.startswith(self.base):
            return at_id[len(self.base):] or "/"
        p = urlsplit(at_id).path
        if self.site_path and p.startswith(self.site_path + "/"):
            p = p[len(self.site_path):]
        return p

    def url(self, shape):
        if shape in ("doc", "doc_editor"):
            return self.base + self.doc
        if shape in ("folder_anon", "folder_editor"):
            return self.base + self.folder
        if shape == "folder_full":
            return self.base + self.folder + "?fullobjects=1"
        if shape == "page_expand":
            return self.base + self.doc + "?expand=" + EXPAND
        if shape == "nav3":
            return self.base + "/@navigation?expand.navigation.depth=3"
        if shape == "children":
            return (self.base + (self.big_folder or self.folder)
                    + "/@search?path.depth=1&sort_on=getObjPositionInParent&b_size=25")
        if shape == "subtree":
            return (self.base + self.subtree + "/@search?portal_type=News%20Item&review_state=published"
                    "&sort_on=effective&sort_order=descending&b_size=25")
        if shape in ("text_common", "text_rare"):
            word = self.common if shape == "text_common" else self.rare
            return self.base + "/@search?SearchableText=" + urllib.parse.quote(word) + "&b_size=25"
        if shape == "text_cold":
            return (self.base + "/@search?SearchableText=" + urllib.parse.quote(self.common + " OR ")
                    + "__N__&b_size=25")
        if shape == "listing":
            return self.base + self.subtree + "/@querystring-search"
        if shape == "create":
            return self.base + "/" + self.writes
        if shape == "trivial":
            return self.root + "/healthz" if self.has_trivial else None
        raise KeyError(shape)


def discover(t):
    """Pick the folder and the Document to read on target t."""
    st, body = http("GET", t.base, t.auth)
    if st != 200:
        raise SetupError(f"{t.name}: GET {t.base} as admin answered {st}: {short(body)}")
    tried = []
    cands = []
    st, body = http("GET", t.base + "/@search?portal_type=Folder&b_size=1000", t.auth)
    search_note = f"@search answered {st}"
    if st == 200:
        try:
            paths = [t.rel(i["@id"]) for i in json.loads(body).get("items", [])]
        except (ValueError, KeyError, TypeError, AttributeError):
            paths = []
            search_note = "@search answered 200 with an unexpected body"
        pref = [p for p in paths if p.rstrip("/").endswith(PREFERRED_FOLDER)]
        other = sorted((p for p in paths if p not in pref), key=lambda p: (p.count("/") != 2, p))
        cands = pref + other[:10]
    if PREFERRED_FOLDER not in cands:
        cands.append(PREFERRED_FOLDER)  # in case @search is missing or incomplete
    for path in cands:
        st, body = http("GET", t.base + path, t.auth)
        tried.append(f"{path} ({st})")
        if st != 200:
            continue
        try:
            j = json.loads(body)
            items = j.get("items") or []
        except (ValueError, AttributeError):
            continue
        docs = [i for i in items if isinstance(i, dict) and i.get("@type") == "Document" and "@id" in i]
        if docs:
            t.folder = path
            t.doc = t.rel(docs[0]["@id"])
            t.folder_items = j.get("items_total", len(items))
            t.other_folders = [c for c in cands if c != path][:2]
            return
    raise SetupError(f"{t.name}: found no folder listing a Document ({search_note}; tried "
                     f"{', '.join(tried[:6])}). Is the site populated?")


def prepare_writes(t):
    """(Re)create the folder the create shape writes into; returns its id."""
    st, _ = http("GET", t.base + "/" + WRITES_FOLDER, t.auth)
    name = WRITES_FOLDER
    if st == 200:
        t0 = time.time()
        dst, dbody = http("DELETE", t.base + "/" + WRITES_FOLDER, t.auth, timeout=900)
        if dst in (200, 204):
            log(f"{t.name}: deleted the old /{WRITES_FOLDER} in {time.time() - t0:.1f} s")
        else:
            name = f"{WRITES_FOLDER}-{int(time.time())}"
            log(f"{t.name}: DELETE /{WRITES_FOLDER} answered {dst}; writing into /{name} instead")
    st, body = http("POST", t.base, t.auth, {"@type": "Folder", "id": name, "title": "Benchmark writes",
                                             "exclude_from_nav": True})
    if st != 201:
        raise SetupError(f"{t.name}: creating /{name} answered {st}: {short(body)}")
    return name


def prepare_editor(t):
    """A Member holding the local Editor role on the benchmark folder and two others."""
    st, body = http("POST", t.base + "/@users", t.auth,
                    {"username": EDITOR[0], "password": EDITOR[1], "email": "editor@example.com",
                     "fullname": "Bench Editor", "roles": ["Member"]})
    if st not in (200, 201, 400):
        raise SetupError(f"{t.name}: creating the editor answered {st}: {short(body)}")
    for folder in [t.folder] + t.other_folders:
        st, body = http("POST", t.base + folder + "/@sharing", t.auth,
                        {"entries": [{"id": EDITOR[0], "type": "user", "roles": {"Editor": True}}]})
        if st not in (200, 204):
            raise SetupError(f"{t.name}: sharing {folder} with the editor answered {st}: {short(body)}")


def workflow_tree(t, n):
    """Seconds to publish a folder with n descendants using include_children."""
    from concurrent.futures import ThreadPoolExecutor
    name = f"bench-wf-{int(time.time())}"
    st, body = http("POST", t.base, t.auth, {"@type": "Folder", "id": name, "title": "Workflow tree",
                                             "exclude_from_nav": True})
    if st != 201:
        raise SetupError(f"{t.name}: creating /{name} answered {st}: {short(body)}")
    per = max(1, n // 10)
    subs = [f"sub-{i}" for i in range((n + per) // (per + 1))]
    for sub in subs:
        http("POST", f"{t.base}/{name}", t.auth, {"@type": "Folder", "id": sub, "title": sub})
    docs = n - len(subs)

    def make(i):
        sub = subs[i % len(subs)]
        return http("POST", f"{t.base}/{name}/{sub}", t.auth, {"@type": "Document", "title": f"Seite {i}"})[0]

    with ThreadPoolExecutor(4) as pool:
        failed = [i for i, s in zip(range(docs), pool.map(make, range(docs))) if s != 201]
    # Plone answers some concurrent creates with write conflicts; retry those one by one.
    failed = [i for i in failed if make(i) != 201]
    if len(failed) > docs // 10:
        raise SetupError(f"{t.name}: {len(failed)} of {docs} creates failed for the workflow tree")
    docs -= len(failed)
    t0 = time.time()
    st, body = http("POST", f"{t.base}/{name}/@workflow/publish", t.auth, {"include_children": True}, timeout=900)
    seconds = time.time() - t0
    if st != 200:
        raise SetupError(f"{t.name}: publish with include_children answered {st}: {short(body)}")
    http("DELETE", f"{t.base}/{name}", t.auth, timeout=900)
    return {"descendants": len(subs) + docs, "seconds": round(seconds, 3)}


def create_body():
    paras = [
        "Die Fachstelle informiert die Bevölkerung über das neue Verfahren für Bewilligungen. "
        "Gesuche können ab sofort elektronisch über den Online-Schalter eingereicht werden.",
        "Für die Prüfung werden ein vollständiges Formular, die Pläne und eine Kopie des "
        "Ausweises benötigt. Unvollständige Unterlagen verzögern das Verfahren.",
        "Die Gebühr richtet sich nach dem Aufwand und beträgt in der Regel zwischen 50 und "
        "400 Franken. Sie wird mit dem Entscheid in Rechnung gestellt.",
        "Bei Fragen hilft Ihnen die Auskunftsstelle gerne weiter: Montag bis Freitag von "
        "8 bis 12 Uhr und von 13.30 bis 17 Uhr.",
    ]
    parts, i = [], 0
    while sum(len(p.encode()) + 1 for p in parts) < 3900:
        p = paras[i % len(paras)]
        if i % 5 == 0:
            parts.append(f"<h2>Abschnitt {i // 5 + 1}</h2>")
        parts.append(f"<p>{p}</p>" if i % 3 else f"<p><strong>Hinweis:</strong> {p}</p>")
        i += 1
    return json.dumps({"@type": "Document", "title": "__TITLE__",
                       "description": "Dokument aus dem Schreib-Benchmark",
                       "text": {"data": "\n".join(parts), "content-type": "text/html", "encoding": "utf-8"}},
                      ensure_ascii=False)


def listing_body():
    op = "plone.app.querystring.operation."
    return json.dumps({"query": [
        {"i": "portal_type", "o": op + "selection.any", "v": ["News Item"]},
        {"i": "path", "o": op + "string.relativePath", "v": "."},
    ], "sort_on": "effective", "sort_order": "descending", "b_size": 25})


# --------------------------------------------------------------------------- process stats


def pid_listening_on(port):
    """PID of the process holding a listening TCP socket on port (needs /proc; best effort)."""
    try:
        inodes = set()
        for f in ("/proc/net/tcp", "/proc/net/tcp6"):
            if not os.path.exists(f):
                continue
            for line in open(f).read().splitlines()[1:]:
                parts = line.split()
                if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{parts[9]}]")
        if not inodes:
            return None
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                        return int(pid)
            except OSError:
                continue
    except Exception:
        return None
    return None


def cpu_ticks(pid):
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])
    except Exception:
        return None


def user_cpu_ticks(user):
    """CPU ticks of every process of `user` (the database server's, when
    cairn runs on PostgreSQL: its work per request belongs to the figure)."""
    if not user:
        return None
    import pwd
    try:
        uid = pwd.getpwnam(user).pw_uid
    except KeyError:
        return None
    total = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat(f"/proc/{pid}").st_uid == uid:
                    total += cpu_ticks(pid) or 0
            except OSError:
                pass
    return total


def rss_mb(pid, field="VmRSS"):
    """Resident memory in MB; field RssAnon is the process's own memory, without the
    file pages it maps (cairn maps its database, which the page cache holds anyway)."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except Exception:
        return None


# --------------------------------------------------------------------------- wrk


RUN_NO = [0]


def run_wrk(url, conc, duration, threads, auth=None, body_file=None, count_status=False, extra=None):
    RUN_NO[0] += 1
    template = ""
    if "__N__" in url:
        parts = urlsplit(url)
        template = parts.path + "?" + parts.query
        url = url.replace("__N__", "start")
    cmd = ["wrk", f"-t{max(1, min(threads, conc))}", f"-c{conc}", f"-d{duration}s", "--timeout", "30s",
           "-s", str(LUA), "-H", "Accept: application/json"]
    for k, v in (extra or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    if auth:
        cmd += ["-H", f"Authorization: {auth}"]
    if body_file:
        cmd += ["-H", "Content-Type: application/json"]
    cmd.append(url)
    env = dict(os.environ, BENCH_BODY_FILE=str(body_file or ""), BENCH_PATH_TEMPLATE=template,
               BENCH_RUN_TAG=f"{int(time.time())}-{os.getpid()}-{RUN_NO[0]}",
               BENCH_STATUS_COUNTS="1" if count_status else "0")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=duration + 120)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"wrk did not finish: {' '.join(cmd)}")
    m = re.search(r"BENCHJSON (\{.*\})", p.stdout)
    if not m:
        raise RuntimeError(f"wrk gave no BENCHJSON line (exit {p.returncode}) for {url}\n"
                           f"stdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-2000:]}")
    return json.loads(m.group(1))


def measure(t, shape, url, conc, args, cached=False):
    """One wrk run; `cached` leaves out the target's no-cache header (cairn's cached figures)."""
    desc, kind = SHAPES[shape]
    auth = t.auth_for(kind)
    is_write = shape == "create"
    body = t.bodies.get(shape) if shape in POST_SHAPES else None
    extra = {} if cached else t.extra
    if args.warmup > 0 and not is_write:
        run_wrk(url, conc, args.warmup, args.threads, auth, body, extra=extra)
    tick = os.sysconf("SC_CLK_TCK")
    db_user = os.environ.get("BENCH_DB_USER") if t.name == "cairn" else None
    c0, d0 = (cpu_ticks(t.pid) if t.pid else None), user_cpu_ticks(db_user)
    w = run_wrk(url, conc, args.duration, args.threads, auth, body, is_write, extra=extra)
    c1, d1 = (cpu_ticks(t.pid) if t.pid else None), user_cpu_ticks(db_user)
    rss = rss_mb(t.pid) if t.pid else None
    anon = rss_mb(t.pid, "RssAnon") if t.pid else None
    t.rss_max = max(t.rss_max or 0, rss or 0) or None
    t.anon_max = max(t.anon_max or 0, anon or 0) or None
    n = max(w["requests"], 1)
    if is_write:
        non2xx = sum(v for k, v in w["statuses"].items() if not 200 <= int(k) < 300)
    else:
        non2xx = w["err_status"]  # wrk counts statuses >= 400; the pre-flight check ruled out 3xx
    return {
        "server": t.name + (" cached" if cached else ""), "shape": shape, "conc": conc, "url": url,
        "auth": kind, "rss_mb": rss, "rss_anon_mb": anon,
        "rps": round(w["requests"] / (w["duration_us"] / 1e6), 1),
        "p50_ms": w["p50_ms"], "p95_ms": w["p95_ms"], "p99_ms": w["p99_ms"],
        "mean_ms": w["mean_ms"], "max_ms": w["max_ms"], "requests": w["requests"],
        "non2xx": non2xx, "statuses": w["statuses"] or None,
        "socket_errors": w["err_connect"] + w["err_read"] + w["err_write"], "timeouts": w["err_timeout"],
        "resp_bytes": t.check[shape]["bytes"], "check_status": t.check[shape]["status"],
        "server_cpu_ms_per_req": (round((c1 - c0) * 1000 / tick / n, 3)
                                  if c0 is not None and c1 is not None else None),
        "wrk_bytes_per_req": round(w["bytes"] / n),
        "db_cpu_ms_per_req": (round((d1 - d0) * 1000 / tick / n, 3)
                              if d0 is not None and d1 is not None else None),
    }


def preflight(t, shape, url, body_text):
    """One request with the benchmark's method/headers; returns {'status','bytes','ok','note'}."""
    desc, kind = SHAPES[shape]
    if shape == "create":
        payload = body_text.replace("__TITLE__", f"Benchmark check {int(time.time())}").encode()
        st, body = http("POST", url, t.auth, payload)
        return {"status": st, "bytes": len(payload), "ok": st == 201,
                "note": None if st == 201 else f"POST answered {st}: {short(body, 200)}"}
    answer = {}
    url = url.replace("__N__", f"check{int(time.time())}")
    if shape == "listing":
        st, body = http("POST", url, None, listing_body().encode(), extra=t.extra, answer_headers=answer)
    else:
        st, body = http("GET", url, t.auth_for(kind), extra=t.extra, answer_headers=answer)
    note = None
    ok = 200 <= st < 300
    # Proof that the uncached figures are uncached: cairn says how it made the answer.
    if ok and t.extra and kind == "anon" and shape != "trivial" and answer.get(CACHE_HEADER) != "bypass":
        ok, note = False, (f"asked with no-cache, answered with {CACHE_HEADER}: "
                           f"{answer.get(CACHE_HEADER, '(none: an older cairn?)')}")
    if ok and shape != "trivial":
        try:
            json.loads(body)
        except ValueError:
            note = "answered 2xx but not JSON"
    elif not ok:
        note = f"answered {st}: {short(body, 200)}"
    return {"status": st, "bytes": len(body), "ok": ok, "note": note}


def cached_check(t, shape, url):
    """Whether a repeated request of an anonymous shape is answered from cairn's cache."""
    if t.name != "cairn" or SHAPES[shape][1] != "anon" or shape in ("create", "trivial", *TEMPLATE_SHAPES):
        return False
    payload = listing_body().encode() if shape == "listing" else None
    method = "POST" if shape == "listing" else "GET"
    answer = {}
    for _ in range(2):
        http(method, url, None, payload, answer_headers=answer)
    return answer.get(CACHE_HEADER) == "hit"


# --------------------------------------------------------------------------- report


def fmt_n(x):
    if x is None:
        return "–"
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def fmt_ms(x):
    if x is None:
        return "–"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def fmt_ratio(a, b, digits=2):
    if a is None or b is None or b == 0:
        return "–"
    r = a / b
    return f"{r:.{digits}f}" if r < 10 else f"{r:.0f}"


def lat(r):
    return f"{fmt_ms(r['p50_ms'])} / {fmt_ms(r['p95_ms'])} / {fmt_ms(r['p99_ms'])}" if r else "–"


def render(meta, targets, results, skipped, concs):
    idx = {(r["server"], r["shape"], r["conc"]): r for r in results}
    names = [t.name for t in targets]
    two = len(targets) == 2
    out = [f"# cairn benchmark, {meta['when']}", ""]
    out.append(f"wrk {meta['wrk']} -t{meta['threads']}, keep-alive, loopback; {meta['duration_s']} s per run "
               f"after {meta['warmup_s']} s warm-up (none for create); {meta['nproc']} CPUs; "
               f"load after: {' '.join(meta['loadavg_after'])}.")
    out.append("")
    for t in targets:
        tm = meta["targets"][t.name]
        out.append(f"- **{t.name}** {t.base}: document `{t.doc}`, folder `{t.folder}` "
                   f"({t.folder_items} items), server pid {t.pid or '?'}, RSS after {tm['rss_mb_after'] or '?'} MB, "
                   f"highest after a run {tm.get('rss_mb_max') or '?'} MB, of it the process's own "
                   f"(RssAnon, without mapped file pages) {tm.get('rss_anon_mb_max') or '?'} MB")
    if any(t.extra for t in targets):
        out.append("- cairn's figures in the main table are **uncached**: every request says "
                   "`Cache-Control: no-cache`, so cairn renders each answer afresh (its `X-Cairn-Cache: bypass` "
                   "header was checked), as for the requests a CDN lets through. Its rendered-response "
                   "cache is in the second table.")
    g = meta.get("git") or {}
    out.append(f"- cairn source: commit {g.get('commit') or '(none)'}{' + local changes' if g.get('dirty') else ''}")
    pop = meta.get("populate")
    if pop and pop.get("items"):
        out.append(f"- cairn populate: {pop['folders']['count']} folders at {pop['folders']['items_per_s']}/s, "
                   f"{sum(pop['items']['counts'].values())} items at {pop['items']['items_per_s']} items/s "
                   f"(concurrency {pop['items']['concurrency']}), workflow "
                   f"{'available' if pop.get('workflow_available') else 'NOT available (nothing published)'}")
    out.append("")
    if two:
        a, b = names
        out.append(f"Ratios are {a}/{b}: above 1 is better for req/s, below 1 is better for p50 and CPU.")
        out.append("")
        out.append(f"| shape | c | {a} req/s | {b} req/s | req/s × | {a} p50/p95/p99 ms | {b} p50/p95/p99 ms "
                   f"| p50 × | errors {a} / {b} | CPU ms/req {a} / {b} | CPU × | bytes {a} / {b} |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    else:
        a = names[0]
        out.append("| shape | c | req/s | p50 / p95 / p99 ms | non-2xx | socket err | CPU ms/req | bytes |")
        out.append("|---|---|---|---|---|---|---|---|")
    for shape in DISPLAY_ORDER:
        for c in concs:
            ra = idx.get((a, shape, c))
            if two:
                rb = idx.get((b, shape, c))
                if not ra and not rb:
                    continue
                out.append(
                    f"| {shape} | {c} | {fmt_n(ra and ra['rps'])} | {fmt_n(rb and rb['rps'])} | "
                    f"{fmt_ratio(ra and ra['rps'], rb and rb['rps'])} | {lat(ra)} | {lat(rb)} | "
                    f"{fmt_ratio(ra and ra['p50_ms'], rb and rb['p50_ms'], 3)} | "
                    f"{ra['non2xx'] + ra['socket_errors'] if ra else '–'} / "
                    f"{rb['non2xx'] + rb['socket_errors'] if rb else '–'} | "
                    f"{fmt_ms(ra and ra['server_cpu_ms_per_req'])} / {fmt_ms(rb and rb['server_cpu_ms_per_req'])} | "
                    f"{fmt_ratio(ra and ra['server_cpu_ms_per_req'], rb and rb['server_cpu_ms_per_req'], 3)} | "
                    f"{ra['resp_bytes'] if ra else '–'} / {rb['resp_bytes'] if rb else '–'} |")
            elif ra:
                out.append(f"| {shape} | {c} | {fmt_n(ra['rps'])} | {lat(ra)} | {ra['non2xx']} | "
                           f"{ra['socket_errors'] + ra['timeouts']} | {fmt_ms(ra['server_cpu_ms_per_req'])} | "
                           f"{ra['resp_bytes']} |")
    out.append("")
    cached_rows = [(shape, c) for shape in DISPLAY_ORDER for c in concs if ("cairn cached", shape, c) in idx]
    if cached_rows:
        out.append("cairn's rendered-response cache (anonymous repeats, what cairn answers without a CDN in front):")
        out.append("")
        out.append("| shape | c | uncached req/s | cached req/s | × | cached p50/p95/p99 ms | cached CPU ms/req |")
        out.append("|---|---|---|---|---|---|---|")
        for shape, c in cached_rows:
            u, k = idx.get(("cairn", shape, c)), idx[("cairn cached", shape, c)]
            out.append(f"| {shape} | {c} | {fmt_n(u and u['rps'])} | {fmt_n(k['rps'])} | "
                       f"{fmt_ratio(k['rps'], u and u['rps'])} | {lat(k)} | {fmt_ms(k['server_cpu_ms_per_req'])} |")
        out.append("")
    notes = []
    for c in concs:
        d, tr = idx.get(("cairn", "doc", c)), idx.get(("cairn", "trivial", c))
        if d and tr and tr["rps"]:
            notes.append(f"c={c}: cairn serves the Document at {100 * d['rps'] / tr['rps']:.0f} % of the "
                         f"/healthz rate (p50 {fmt_ms(d['p50_ms'])} vs {fmt_ms(tr['p50_ms'])} ms)")
    if notes:
        out.append("Document GET against the trivial endpoint: " + "; ".join(notes) + ".")
        out.append("")
    for r in results:
        if r["statuses"]:
            out.append(f"- statuses {r['server']} {r['shape']} c={r['conc']}: "
                       + ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items())))
    for s in skipped:
        out.append(f"- **SKIPPED** {s['server']} {s['shape']}: {s['reason']}")
    out.append("")
    out.append("non-2xx: responses with status >= 400 as counted by wrk (exact per-status counts for create); "
               "errors = non-2xx + socket errors. Each shape's URL was checked for a 2xx answer before it was "
               "timed. CPU ms/req: the server process's user+system CPU time over the run divided by its "
               "requests. bytes: size of the checked response (for create: of the request body). "
               "Shapes: " + "; ".join(f"{k} = {v[0]}" for k, v in SHAPES.items()) + ".")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def git_info():
    try:
        rev = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip() or None
        dirty = subprocess.run(["git", "-C", str(HERE.parent), "status", "--porcelain"],
                               capture_output=True, text=True).stdout.strip() != ""
        return {"commit": rev, "dirty": dirty}
    except Exception:
        return {"commit": None, "dirty": None}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cairn", required=True, help="cairn site URL, e.g. http://127.0.0.1:PORT/Plone")
    ap.add_argument("--cairn-user", default="admin")
    ap.add_argument("--cairn-password", default=os.environ.get("BENCH_CAIRN_PASSWORD"))
    ap.add_argument("--cairn-pid", type=int, default=None)
    ap.add_argument("--plone", default=None, help="Plone anchor site URL, e.g. http://127.0.0.1:8080/Plone")
    ap.add_argument("--plone-user", default="admin")
    ap.add_argument("--plone-password", default=os.environ.get("BENCH_PLONE_PASSWORD", "admin"))
    ap.add_argument("--plone-pid", type=int, default=None, help="default: the process listening on its port")
    for who in ("cairn", "plone"):
        ap.add_argument(f"--{who}-big-folder", default=None,
                        help="folder whose children the children shape pages through (default: the read folder)")
        ap.add_argument(f"--{who}-subtree", default="", help="site-relative subtree of the subtree and listing "
                        "shapes, e.g. /de/s3 (default: the whole site)")
        ap.add_argument(f"--{who}-words", default="Kanton,Einbürgerung",
                        help="common,rare word for the full-text shapes (defaults suit the anchor's content)")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--conc", default="1,8")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads (the anchor figures use 1)")
    ap.add_argument("--only", default="", help="comma list of shapes (default: all)")
    ap.add_argument("--results", default=str(HERE / "results"))
    ap.add_argument("--populate-json", default=None, help="populate.py summary to include in the report")
    ap.add_argument("--no-cached", dest="cached", action="store_false",
                    help="skip the runs of anonymous shapes answered from cairn's response cache")
    ap.add_argument("--wf-tree", type=int, default=1000,
                    help="descendants of the folder published with include_children (0: skip)")
    args = ap.parse_args()

    concs = [int(c) for c in args.conc.split(",") if c.strip()]
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    for s in only:
        if s not in SHAPES and s != "wf_tree":
            log(f"unknown shape {s!r}; known: {', '.join(DISPLAY_ORDER)}")
            return 2
    if args.cairn_password is None:
        log("no cairn password: pass --cairn-password or set BENCH_CAIRN_PASSWORD")
        return 2
    try:
        wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    except FileNotFoundError:
        log("wrk is not installed (apt-get install -y wrk)")
        return 2
    wrk_version = (re.search(r"wrk (\S+)", wrk_version) or [None, "?"])[1]

    try:
        def catalog(who):
            common, _, rare = getattr(args, f"{who}_words").partition(",")
            return getattr(args, f"{who}_big_folder"), getattr(args, f"{who}_subtree").rstrip("/"), common, rare
        targets = [Target("cairn", args.cairn, args.cairn_user, args.cairn_password, args.cairn_pid, True,
                          catalog("cairn"), NO_CACHE)]
        if args.plone:
            targets.append(Target("Plone", args.plone, args.plone_user, args.plone_password, args.plone_pid,
                                  catalog=catalog("plone")))
        for t in targets:
            discover(t)
            if not only or {"doc_editor", "folder_editor"} & set(only):
                prepare_editor(t)
            log(f"{t.name}: document {t.doc}, folder {t.folder} ({t.folder_items} items), pid {t.pid}")
    except SetupError as e:
        log(f"ERROR: {e}")
        return 2

    results_dir = Path(args.results)
    results_dir.mkdir(parents=True, exist_ok=True)
    body_text = create_body()
    body_file = results_dir / "create_body.json"
    body_file.write_text(body_text, encoding="utf-8")
    listing_file = results_dir / "listing_body.json"
    listing_file.write_text(listing_body(), encoding="utf-8")
    for t in targets:
        t.bodies = {"create": body_file, "listing": listing_file}

    shapes = [s for s in RUN_ORDER if not only or s in only]
    results, skipped = [], []
    started = time.time()
    for t in targets:
        t.check = {}
    try:
        for shape in shapes:
            for t in targets:
                if shape == "create":
                    t.writes = prepare_writes(t)
                url = t.url(shape)
                if url is None:
                    continue
                chk = preflight(t, shape, url, body_text)
                t.check[shape] = chk
                if not chk["ok"]:
                    skipped.append({"server": t.name, "shape": shape, "url": url, "reason": chk["note"]})
                    log(f"SKIP {t.name} {shape}: {url} {chk['note']}")
                elif chk["note"]:
                    log(f"warning: {t.name} {shape}: {chk['note']}")
            for c in concs:
                for t in targets:
                    url = t.url(shape)
                    if url is None or not t.check[shape]["ok"]:
                        continue
                    runs = [False] + ([True] if args.cached and cached_check(t, shape, url) else [])
                    for cached in runs:
                        r = measure(t, shape, url, c, args, cached)
                        results.append(r)
                        log(f"{r['server']:12} {shape:11} c={c:<3} {r['rps']:>9.1f} req/s  p50 {r['p50_ms']:.2f}  "
                            f"p95 {r['p95_ms']:.2f}  p99 {r['p99_ms']:.2f} ms  non-2xx {r['non2xx']}  "
                            f"sock-err {r['socket_errors']}  cpu/req {r['server_cpu_ms_per_req']}  rss {r['rss_mb']}")
        wf_tree = {}
        if args.wf_tree > 0 and (not only or "wf_tree" in only):
            for t in targets:
                wf_tree[t.name] = workflow_tree(t, args.wf_tree)
                log(f"{t.name}: publish with include_children over {wf_tree[t.name]['descendants']} "
                    f"descendants took {wf_tree[t.name]['seconds']} s")
    except (SetupError, RuntimeError) as e:
        log(f"ERROR: {e}")
        return 2

    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"), "seconds": round(time.time() - started, 1),
        "duration_s": args.duration, "warmup_s": args.warmup, "concurrency": concs,
        "threads": args.threads, "wrk": wrk_version, "nproc": os.cpu_count(),
        "loadavg_after": open("/proc/loadavg").read().split()[:3], "git": git_info(),
        "targets": {t.name: {"base": t.base, "document": t.doc, "folder": t.folder,
                             "folder_items": t.folder_items, "pid": t.pid, "rss_mb_after": rss_mb(t.pid),
                             "rss_mb_max": t.rss_max, "rss_anon_mb_max": t.anon_max,
                             "checks": t.check} for t in targets},
    }
    if args.populate_json and os.path.exists(args.populate_json):
        meta["populate"] = json.load(open(args.populate_json, encoding="utf-8"))
    comparison = []
    if len(targets) == 2:
        idx = {(r["server"], r["shape"], r["conc"]): r for r in results}
        for shape in DISPLAY_ORDER:
            for c in concs:
                ra, rb = idx.get(("cairn", shape, c)), idx.get(("Plone", shape, c))
                if ra and rb:
                    comparison.append({
                        "shape": shape, "conc": c,
                        "rps_ratio": round(ra["rps"] / rb["rps"], 3) if rb["rps"] else None,
                        "p50_ratio": round(ra["p50_ms"] / rb["p50_ms"], 4) if rb["p50_ms"] else None,
                        "cpu_ratio": (round(ra["server_cpu_ms_per_req"] / rb["server_cpu_ms_per_req"], 4)
                                      if ra["server_cpu_ms_per_req"] and rb["server_cpu_ms_per_req"] else None)})
    meta["workflow_tree"] = wf_tree
    md = render(meta, targets, results, skipped, concs)
    if wf_tree:
        md += "\n## Workflow transition with include_children\n\n| server | descendants | seconds |\n|---|---|---|\n"
        md += "".join(f"| {k} | {v['descendants']} | {v['seconds']} |\n" for k, v in wf_tree.items())
    (results_dir / "latest.md").write_text(md, encoding="utf-8")
    (results_dir / "latest.json").write_text(json.dumps(
        {"meta": meta, "results": results, "comparison": comparison, "skipped": skipped},
        indent=1, ensure_ascii=False), encoding="utf-8")
    print(md)
    log(f"results written to {results_dir}/latest.md and latest.json")

    bad = [s for s in skipped if s["server"] == "cairn"]
    bad += [r for r in results if r["server"].startswith("cairn") and (r["non2xx"] or r["socket_errors"] or r["timeouts"])]
    if bad:
        log(f"ATTENTION: {len(bad)} cairn shape runs were skipped or had errors (see the report)")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
