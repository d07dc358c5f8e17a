#!/usr/bin/env python3
"""Fill a plone.restapi site (cairn or Plone) with the benchmark content shape.

Standard library only. Usage:
    python3 bench/populate.py --base http://127.0.0.1:PORT/Plone --user admin --password PW \
        [--concurrency 4] [--seed 7] [--out results/populate.json]

Shape (the same as the Plone anchor's populate script, generated independently):
  20 top-level Folders, each with 5 sub-Folders                      = 120 Folders
  per sub-Folder: 8 Documents, 2 News Items (with a lead image), 1 Image
                                                                      = 800 + 200 + 100
German rich text of 2-5 KB per Document / News Item. Everything except Images is
published with POST <url>/@workflow/publish. When the server has no workflow
endpoint (404/405/501) publishing is switched off after the first try; 400 (e.g.
"already published") is tolerated and counted.

Content is deterministic for a given --seed: titles, texts, subjects and pictures
are generated before any request is sent, and each sub-folder is filled by one
worker in a fixed order, so positions inside folders are reproducible too.
Exit status: 0 when every create succeeded, 1 otherwise (2 on bad setup).
"""
import argparse
import base64
import json
import random
import struct
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

# --------------------------------------------------------------------------- content

# (id, title) of the top-level sections. "steuern" / "dienstleistungen" also exist in
# the anchor site: bench.py prefers /steuern/dienstleistungen as its folder on both.
SECTIONS = [
    ("staat", "Staat und Behörden"), ("steuern", "Steuern"), ("bildung", "Bildung"),
    ("gesundheit", "Gesundheit"), ("sicherheit", "Sicherheit und Justiz"), ("umwelt", "Umwelt"),
    ("mobilitaet", "Mobilität"), ("arbeit", "Arbeit und Wirtschaft"), ("kultur", "Kultur"),
    ("soziales", "Soziales"), ("bauen", "Bauen und Wohnen"), ("gerichte", "Gerichte"),
    ("finanzen", "Finanzen"), ("natur", "Landwirtschaft und Natur"), ("energie", "Energie"),
    ("raum", "Raum und Geodaten"), ("migration", "Migration"), ("freizeit", "Sport und Freizeit"),
    ("tourismus", "Tourismus"), ("politik", "Politik und Wahlen"),
]
SUBSECTIONS = [
    ("dienstleistungen", "Dienstleistungen"), ("formulare", "Formulare und Merkblätter"),
    ("publikationen", "Publikationen"), ("organisation", "Organisation und Kontakt"),
    ("grundlagen", "Rechtliche Grundlagen"),
]

FILLER = (
    "der die das den dem des ein eine einer und oder sowie aber auch nur noch bereits "
    "für mit von bei nach aus vor zum zur im am auf über unter durch gegen innerhalb "
    "Kanton Gemeinden Bund Bevölkerung Einwohnerinnen Einwohner Gesuchstellende Fachstelle "
    "Amt Abteilung Direktion Regierung Parlament Verwaltung Behörden Kommission "
    "Gesetz Verordnung Reglement Weisung Richtlinie Entscheid Verfügung Beschluss "
    "Gesuch Antrag Meldung Bewilligung Frist Gebühr Beitrag Kosten Tarif Rechnung "
    "Auskunft Beratung Unterlagen Nachweis Bestätigung Merkblatt Schalter Termin "
    "Verfahren Prüfung Genehmigung Einsprache Rekurs Ausnahme Übergangsfrist "
    "Bericht Konzept Strategie Leitbild Projekt Massnahme Umsetzung Evaluation "
    "wird werden wurde kann können muss müssen darf sollen ist sind hat haben "
    "neu bisher künftig jährlich monatlich zuständig verbindlich elektronisch schriftlich "
    "öffentlich kantonal kommunal regional vollständig rechtzeitig kostenlos gebührenpflichtig"
).split()

TOPICS = {
    "staat": "Staatskanzlei Staatsarchiv Amtsblatt Kommunikation Personalamt Informatik Signatur Vernehmlassung",
    "steuern": "Steuererklärung Veranlagung Quellensteuer Vermögenssteuer Einkommenssteuer Grundstückgewinn Steuerbezug Ratenzahlung",
    "bildung": "Volksschule Kindergarten Mittelschule Maturität Lehrbetrieb Berufsfachschule Stipendium Schulweg",
    "gesundheit": "Spitalversorgung Spitex Impfprogramm Prävention Apotheken Hausarztmedizin Prämienverbilligung Pflegeheim",
    "sicherheit": "Kantonspolizei Feuerwehr Zivilschutz Notruf Strafverfolgung Jugendanwaltschaft Waffenerwerb Prävention",
    "umwelt": "Gewässerschutz Grundwasser Abfallwirtschaft Luftqualität Lärmschutz Altlasten Artenvielfalt Klimaanpassung",
    "mobilitaet": "Kantonsstrassen Veloroute Regionalverkehr Fahrplan Baustelle Parkplatz Signalisation Motorfahrzeugkontrolle",
    "arbeit": "Arbeitsvermittlung Handelsregister Wirtschaftsförderung Arbeitsinspektorat Kurzarbeit Gewerbe Startup Fachkräfte",
    "kultur": "Kantonsbibliothek Museum Denkmalpflege Archäologie Kulturpreis Theater Kulturerbe Förderbeitrag",
    "soziales": "Sozialhilfe Kindesschutz Familienzulagen Altersvorsorge Behinderung Opferhilfe Ergänzungsleistungen Schuldenberatung",
    "bauen": "Baugesuch Baubewilligung Zonenplan Grenzabstand Energienachweis Brandschutz Baulinie Hochbauamt",
    "gerichte": "Obergericht Bezirksgericht Schlichtungsbehörde Grundbuchamt Betreibungsamt Konkursamt Notariat Mediation",
    "finanzen": "Staatsrechnung Voranschlag Finanzplan Finanzausgleich Beteiligungen Verpflichtungskredit Finanzkontrolle Schuldenbremse",
    "natur": "Direktzahlungen Forstdienst Jagdpatent Fischereipatent Veterinärdienst Tierschutz Bodenschutz Sömmerung",
    "energie": "Photovoltaik Gebäudesanierung Wärmepumpe Fernwärme Energieberatung Wasserkraft Stromnetz Effizienz",
    "raum": "Richtplan Nutzungsplanung Geoportal Vermessung Siedlungsentwicklung Landschaft Grundstück Katasterplan",
    "migration": "Aufenthaltsbewilligung Niederlassung Einbürgerung Asylverfahren Integration Deutschkurs Visum Familiennachzug",
    "freizeit": "Sportförderung Jugendsport Sporthalle Hallenbad Wanderweg Sportverein Lotteriefonds Veranstaltungsbewilligung",
    "tourismus": "Gastgewerbe Hotellerie Ausflugsziel Bergbahn Kurtaxe Ferienwohnung Gästekarte Wirtepatent",
    "politik": "Volksabstimmung Wahlen Volksinitiative Referendum Stimmregister Wahlkreis Kantonsrat Stimmrechtsausweis",
}


def sentence(rnd, topic):
    words = [rnd.choice(topic) if rnd.random() < 0.3 else rnd.choice(FILLER)
             for _ in range(rnd.randint(7, 17))]
    s = " ".join(words)
    return s[0].upper() + s[1:] + "."


def rich_text(rnd, topic, title, lo=2000, hi=5000):
    """German-looking HTML of lo..hi bytes (UTF-8) with h2, p, ul, strong and links."""
    target = rnd.randint(lo, hi)
    parts = [f"<p><strong>{title}:</strong> {sentence(rnd, topic)} {sentence(rnd, topic)}</p>"]
    size = len(parts[0].encode())
    n = 0
    while size < target:
        r = rnd.random()
        if r < 0.14:
            frag = "<h2>" + " ".join(rnd.choice(topic) for _ in range(rnd.randint(1, 3))) + "</h2>"
        elif r < 0.30:
            frag = "<ul>" + "".join(f"<li>{sentence(rnd, topic)}</li>" for _ in range(rnd.randint(2, 5))) + "</ul>"
        else:
            text = " ".join(sentence(rnd, topic) for _ in range(rnd.randint(2, 6)))
            if rnd.random() < 0.35:
                text += (f' Details dazu finden Sie im <a href="https://www.example.ch/merkblatt/{n}">'
                         f'Merkblatt {rnd.choice(topic)}</a>.')
            if rnd.random() < 0.2:
                text = f"<strong>{rnd.choice(topic)}</strong>: " + text
            frag = f"<p>{text}</p>"
        flen = len(frag.encode()) + 1
        if size + flen > hi:
            if size >= lo:
                break
            continue  # too long for the remaining room: draw another fragment
        parts.append(frag)
        size += flen
        n += 1
    return "\n".join(parts)


def png(rnd, w, h):
    """A small RGB PNG: a diagonal gradient between two random colours."""
    c1 = [rnd.randint(0, 255) for _ in range(3)]
    c2 = [rnd.randint(0, 255) for _ in range(3)]
    span = max(w + h - 2, 1)
    # pixel (x, y) has colour strip[x + y]: each row is the strip shifted by one pixel
    strip = b"".join(bytes(int(a + (b - a) * i / span) for a, b in zip(c1, c2)) for i in range(w + h - 1))
    raw = bytearray()
    for y in range(h):
        raw.append(0)  # filter: none
        raw += strip[3 * y:3 * (y + w)]

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))


def image_field(data, filename):
    return {"data": base64.b64encode(data).decode(), "encoding": "base64",
            "filename": filename, "content-type": "image/png"}


def build_plan(seed, docs_per_sub, news_per_sub):
    """Everything to create, generated up front. Returns (folders, jobs):
    folders: [(parent_rel_path, payload)] in creation order;
    jobs: one list per sub-folder of (parent_rel_path, payload, publish)."""
    rnd = random.Random(seed)
    folders, jobs = [], []
    img_no = 0
    for sid, stitle in SECTIONS:
        folders.append(("", {"@type": "Folder", "id": sid, "title": stitle,
                             "description": f"Alles zum Thema {stitle}: Angebote, Zuständigkeiten und Unterlagen."}))
        topic = TOPICS[sid].split()
        for subid, subtitle in SUBSECTIONS:
            folders.append((sid, {"@type": "Folder", "id": subid, "title": subtitle,
                                  "description": f"{subtitle} zum Thema {stitle}."}))
            parent = f"{sid}/{subid}"
            lst = []
            for k in range(docs_per_sub + news_per_sub):
                is_news = k >= docs_per_sub
                words = [rnd.choice(topic + FILLER[40:]) for _ in range(rnd.randint(3, 6))]
                title = " ".join(words)
                title = title[0].upper() + title[1:]
                payload = {
                    "@type": "News Item" if is_news else "Document",
                    "title": title,
                    "description": " ".join(sentence(rnd, topic) for _ in range(2))[:250],
                    "subjects": rnd.sample(topic, k=rnd.randint(1, 3)),
                    "text": {"data": rich_text(rnd, topic, title), "content-type": "text/html",
                             "encoding": "utf-8"},
                }
                if is_news:
                    payload["image"] = image_field(png(rnd, 200, 150), f"lead-{subid}-{k}.png")
                    payload["image_caption"] = sentence(rnd, topic)
                lst.append((parent, payload, True))
            img_no += 1
            lst.append((parent, {"@type": "Image", "title": f"Bild {stitle} {img_no}",
                                 "description": "Generiertes Testbild",
                                 "image": image_field(png(rnd, 400, 300), f"bild-{img_no}.png")}, False))
            jobs.append(lst)
    return folders, jobs


# --------------------------------------------------------------------------- HTTP


class Client:
    def __init__(self, base, user, password, timeout=120, retries=6):
        self.base = base.rstrip("/")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.headers = {"Accept": "application/json", "Content-Type": "application/json",
                        "Authorization": f"Basic {token}"}
        self.timeout = timeout
        self.retries = retries
        self.lock = threading.Lock()
        self.requests = 0
        self.retried = 0
        self.jitter = random.Random(12345)  # never touches the content generator

    def url(self, rel):
        return self.base + ("/" + rel.strip("/") if rel.strip("/") else "")

    def call(self, method, url, payload=None):
        """-> (status, body_bytes). Retries 5xx and connection errors with backoff."""
        data = None if payload is None else json.dumps(payload).encode()
        for attempt in range(self.retries):
            req = urllib.request.Request(url, data=data, method=method, headers=self.headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as r:
                    status, body = r.status, r.read()
            except urllib.error.HTTPError as e:
                status, body = e.code, e.read()
            except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
                status, body = 0, str(e).encode()
            with self.lock:
                self.requests += 1
            if status != 0 and status < 500:
                return status, body
            if attempt < self.retries - 1:
                with self.lock:
                    self.retried += 1
                    delay = self.jitter.uniform(0.05, 0.3) * (attempt + 1)
                time.sleep(delay)
        return status, body


class Populator:
    def __init__(self, client):
        self.c = client
        self.lock = threading.Lock()
        self.counts = {}
        self.errors = []
        self.publish_status = {}
        self.workflow = True  # switched off when the endpoint does not exist

    def create(self, parent_rel, payload, publish):
        parent_url = self.c.url(parent_rel)
        status, body = self.c.call("POST", parent_url, payload)
        if status != 201:
            with self.lock:
                self.errors.append({"url": parent_url, "type": payload.get("@type"),
                                    "title": payload.get("title"), "status": status,
                                    "body": body[:400].decode("utf-8", "replace")})
            return None
        try:
            new_id = json.loads(body)["id"]
        except (ValueError, KeyError, TypeError):
            with self.lock:
                self.errors.append({"url": parent_url, "status": status,
                                    "body": "201 without a JSON body holding 'id': " +
                                            body[:200].decode("utf-8", "replace")})
            return None
        with self.lock:
            self.counts[payload["@type"]] = self.counts.get(payload["@type"], 0) + 1
        rel = f"{parent_rel}/{new_id}".strip("/")
        if publish and self.workflow:
            pst, pbody = self.c.call("POST", self.c.url(rel) + "/@workflow/publish", {})
            with self.lock:
                self.publish_status[pst] = self.publish_status.get(pst, 0) + 1
                if pst in (404, 405, 501):
                    if self.workflow:
                        print(f"populate: @workflow/publish answered {pst}; publishing switched off",
                              file=sys.stderr, flush=True)
                    self.workflow = False
                elif pst not in (200, 201, 204, 400):
                    self.errors.append({"url": self.c.url(rel) + "/@workflow/publish", "status": pst,
                                        "body": pbody[:400].decode("utf-8", "replace")})
        return rel


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="site URL, e.g. http://127.0.0.1:8080/Plone")
    ap.add_argument("--user", default="admin")
    ap.add_argument("--password", default=None, help="default: $BENCH_PASSWORD or 'admin'")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--docs-per-sub", type=int, default=8)
    ap.add_argument("--news-per-sub", type=int, default=2)
    ap.add_argument("--out", default=None, help="write a JSON summary here")
    ap.add_argument("--plan-only", action="store_true", help="generate the content, print sizes, send nothing")
    args = ap.parse_args()
    import os
    password = args.password or os.environ.get("BENCH_PASSWORD") or "admin"

    host = urlsplit(args.base).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"populate: refusing non-loopback base {args.base}")

    t = time.perf_counter()
    folders, jobs = build_plan(args.seed, args.docs_per_sub, args.news_per_sub)
    gen_s = time.perf_counter() - t
    texts = [len(p["text"]["data"].encode()) for lst in jobs for _, p, _ in lst if "text" in p]
    bodies = [len(json.dumps(p).encode()) for lst in jobs for _, p, _ in lst]
    plan = {"folders": len(folders), "items": sum(len(l) for l in jobs),
            "text_bytes_min_mean_max": [min(texts), sum(texts) // len(texts), max(texts)],
            "request_body_bytes_total": sum(bodies), "generate_seconds": round(gen_s, 2)}
    print("populate: plan " + json.dumps(plan), flush=True)
    if args.plan_only:
        return 0

    c = Client(args.base, args.user, password)
    status, body = c.call("GET", c.base)
    if status != 200:
        print(f"populate: GET {c.base} as {args.user} answered {status}: "
              f"{body[:300].decode('utf-8', 'replace')}", file=sys.stderr)
        return 2
    pop = Populator(c)
    res = {"base": args.base, "seed": args.seed, "plan": plan}

    t0 = time.perf_counter()
    for parent, payload in folders:
        if pop.create(parent, payload, True) is None:
            e = pop.errors[-1] if pop.errors else {}
            print(f"populate: creating folder {parent}/{payload['id']} failed: {e}", file=sys.stderr)
            res["errors"] = pop.errors[:20]
            _write(args.out, res)
            return 1
    t1 = time.perf_counter()
    res["folders"] = {"count": len(folders), "seconds": round(t1 - t0, 2),
                      "items_per_s": round(len(folders) / (t1 - t0), 1), "concurrency": 1}
    print(f"populate: {len(folders)} folders in {t1 - t0:.1f} s ({len(folders) / (t1 - t0):.1f}/s)", flush=True)

    def fill(lst):
        for parent, payload, publish in lst:
            pop.create(parent, payload, publish)

    req_before = c.requests
    t2 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.concurrency) as ex:
        list(ex.map(fill, jobs))
    t3 = time.perf_counter()
    n = sum(v for k, v in pop.counts.items() if k != "Folder")
    res["items"] = {"counts": {k: v for k, v in pop.counts.items() if k != "Folder"},
                    "seconds": round(t3 - t2, 2), "items_per_s": round(n / (t3 - t2), 1),
                    "http_requests": c.requests - req_before,
                    "http_req_per_s": round((c.requests - req_before) / (t3 - t2), 1),
                    "concurrency": args.concurrency}
    res["publish_status_counts"] = {str(k): v for k, v in sorted(pop.publish_status.items())}
    res["workflow_available"] = pop.workflow
    res["retried_attempts"] = c.retried
    res["n_errors"] = len(pop.errors)
    res["errors"] = pop.errors[:20]
    print(f"populate: {n} items {res['items']['counts']} in {t3 - t2:.1f} s = {n / (t3 - t2):.1f} items/s "
          f"({res['items']['http_req_per_s']} req/s incl. publish), publish statuses "
          f"{res['publish_status_counts']}, retries {c.retried}", flush=True)
    _write(args.out, res)
    if pop.errors:
        print(f"populate: {len(pop.errors)} errors, first ones:", file=sys.stderr)
        for e in pop.errors[:5]:
            print("  " + json.dumps(e, ensure_ascii=False), file=sys.stderr)
        return 1
    return 0


def _write(path, res):
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    sys.exit(main())
