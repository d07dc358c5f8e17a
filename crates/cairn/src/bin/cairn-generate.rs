//! `cairn-generate`: fills a data folder with a large synthetic site for the
//! catalog benchmark (`bench/large.sh`). The tree is deep and in four
//! languages (de, fr, it, en, weighted like a Swiss canton's site), with
//! pages, news, events and links, three in four published, and one folder
//! of exactly 1,000 pages. Everything goes through the core's bulk loader
//! (the checks of a single create: validation, ids, positions, permissions,
//! the initial version, the outbox; written a batch per transaction), and
//! the full-text index is built alongside by the server's own indexer, so
//! the rate it prints is that of an import into a searchable site.
//!
//! The words follow a Zipf-like law over per-language word lists, so some
//! words are on most pages and others on a few; every page carries its
//! language's `common` word, and one page in 50,000 carries `RARE`.

use std::time::Instant;

use anyhow::Context;
use cairn_core::Principal;
use cairn_core::repo::{self, bulk::Loader};
use cairn_model::ContentPath;
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

/// The word a rare-word query looks for (in one page of 50,000).
const RARE: &str = "Zebrastreifenbewilligung";
/// Pages in the folder the "children of a big folder" shape lists.
const BIG_FOLDER_ITEMS: usize = 1000;

#[derive(Parser)]
#[command(name = "cairn-generate", about = "Fill a data folder with a large synthetic site")]
struct Cli {
    /// Data folder (a new one; the site must not exist yet).
    #[arg(long)]
    data: std::path::PathBuf,
    /// Objects to create, folders included.
    #[arg(long, default_value_t = 1_000_000)]
    objects: usize,
    /// Seed for the random choices (same seed, same site).
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Objects written per transaction.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Write into PostgreSQL (scale-out mode) instead of the data folder's
    /// SQLite file; full text then goes to the shared database too.
    #[arg(long, env = "CAIRN_DATABASE_URL")]
    database_url: Option<String>,
}

struct Lang {
    code: &'static str,
    share: f64,
    common: &'static str,
    section: &'static str,
    words: &'static [&'static str],
}

const LANGS: [Lang; 4] = [
    Lang {
        code: "de",
        share: 0.60,
        common: "Kanton",
        section: "Bereich",
        words: &[
            "Steuern",
            "Gemeinde",
            "Verwaltung",
            "Bewilligung",
            "Gesuch",
            "Formular",
            "Schule",
            "Gesundheit",
            "Verkehr",
            "Strasse",
            "Umwelt",
            "Wasser",
            "Energie",
            "Wald",
            "Landwirtschaft",
            "Polizei",
            "Gericht",
            "Bildung",
            "Kultur",
            "Sport",
            "Arbeit",
            "Wirtschaft",
            "Finanzen",
            "Budget",
            "Rechnung",
            "Gebühren",
            "Baugesuch",
            "Planung",
            "Zonenplan",
            "Wahlen",
            "Abstimmung",
            "Parlament",
            "Regierung",
            "Departement",
            "Amt",
            "Dienststelle",
            "Öffnungszeiten",
            "Schalter",
            "Ausweis",
            "Pass",
            "Fahrzeug",
            "Führerausweis",
            "Prüfung",
            "Spital",
            "Pflege",
            "Alter",
            "Familie",
            "Kinder",
            "Jugend",
            "Sozialhilfe",
            "Migration",
            "Einbürgerung",
            "Datenschutz",
            "Archiv",
            "Statistik",
            "Vernehmlassung",
            "Medienmitteilung",
            "Veranstaltung",
            "Beratung",
            "Anmeldung",
            "Frist",
            "Entscheid",
            "Beschwerde",
            "Verordnung",
            "Gesetz",
            "Richtlinie",
            "Merkblatt",
            "Antrag",
            "Bericht",
            "Projekt",
            "Förderung",
            "Beitrag",
            "Subvention",
            "Naturschutz",
            "Jagd",
            "Fischerei",
            "Hochwasser",
            "Brücke",
            "Tunnel",
            "Bahnhof",
            "Velo",
            "Parkplatz",
        ],
    },
    Lang {
        code: "fr",
        share: 0.25,
        common: "canton",
        section: "domaine",
        words: &[
            "impôts",
            "commune",
            "administration",
            "autorisation",
            "demande",
            "formulaire",
            "école",
            "santé",
            "transports",
            "route",
            "environnement",
            "eau",
            "énergie",
            "forêt",
            "agriculture",
            "police",
            "tribunal",
            "formation",
            "culture",
            "sport",
            "emploi",
            "économie",
            "finances",
            "budget",
            "comptes",
            "émoluments",
            "construction",
            "aménagement",
            "élections",
            "votation",
            "parlement",
            "gouvernement",
            "département",
            "service",
            "horaires",
            "guichet",
            "passeport",
            "véhicule",
            "permis",
            "examen",
            "hôpital",
            "soins",
            "famille",
            "enfants",
            "jeunesse",
            "migration",
            "naturalisation",
            "archives",
            "statistique",
            "consultation",
            "communiqué",
            "manifestation",
            "conseil",
            "inscription",
            "délai",
            "décision",
            "recours",
            "ordonnance",
            "loi",
            "directive",
            "rapport",
            "projet",
            "subvention",
            "nature",
            "chasse",
            "pêche",
        ],
    },
    Lang {
        code: "it",
        share: 0.10,
        common: "cantone",
        section: "settore",
        words: &[
            "imposte",
            "comune",
            "amministrazione",
            "autorizzazione",
            "domanda",
            "modulo",
            "scuola",
            "sanità",
            "trasporti",
            "strada",
            "ambiente",
            "acqua",
            "energia",
            "bosco",
            "agricoltura",
            "polizia",
            "tribunale",
            "formazione",
            "cultura",
            "sport",
            "lavoro",
            "economia",
            "finanze",
            "bilancio",
            "tasse",
            "costruzione",
            "pianificazione",
            "elezioni",
            "votazione",
            "parlamento",
            "governo",
            "dipartimento",
            "ufficio",
            "orari",
            "sportello",
            "passaporto",
            "veicolo",
            "licenza",
            "esame",
            "ospedale",
            "cure",
            "famiglia",
            "bambini",
            "giovani",
            "migrazione",
            "archivio",
            "statistica",
            "consultazione",
            "comunicato",
            "evento",
            "consulenza",
        ],
    },
    Lang {
        code: "en",
        share: 0.05,
        common: "canton",
        section: "area",
        words: &[
            "taxes",
            "municipality",
            "administration",
            "permit",
            "application",
            "form",
            "school",
            "health",
            "transport",
            "road",
            "environment",
            "water",
            "energy",
            "forest",
            "agriculture",
            "police",
            "court",
            "education",
            "culture",
            "sport",
            "employment",
            "economy",
            "finance",
            "budget",
            "fees",
            "building",
            "planning",
            "elections",
            "vote",
            "parliament",
            "government",
            "department",
            "office",
            "hours",
            "counter",
            "passport",
            "vehicle",
            "licence",
            "exam",
            "hospital",
            "care",
            "family",
            "children",
            "youth",
        ],
    },
];

/// A word drawn with probability falling off as 1/rank (Zipf).
fn zipf<'a>(rng: &mut StdRng, words: &[&'a str]) -> &'a str {
    let n = words.len() as f64;
    let u: f64 = rng.random();
    let rank = ((n + 1.0).powf(u) - 1.0).floor() as usize;
    words[rank.min(words.len() - 1)]
}

fn sentence(rng: &mut StdRng, lang: &Lang, words: usize) -> String {
    let mut out: Vec<&str> = (0..words).map(|_| zipf(rng, lang.words)).collect();
    if rng.random_bool(0.5) {
        out.push(lang.common);
    }
    out.join(" ")
}

struct Generator<'s> {
    loader: Loader<'s>,
    rng: StdRng,
    made: usize,
    started: Instant,
    pages: usize,
}

impl Generator<'_> {
    fn create(&mut self, parent: &ContentPath, body: Value, publish: bool) -> anyhow::Result<ContentPath> {
        let Value::Object(body) = body else {
            unreachable!("bodies are objects")
        };
        let path = self
            .loader
            .add(parent, &body, publish.then_some("publish"))
            .map_err(|e| anyhow::anyhow!("creating in {parent}: {e:?}"))?;
        self.made += 1;
        if self.made.is_multiple_of(50_000) {
            let secs = self.started.elapsed().as_secs_f64();
            eprintln!("{} objects, {:.0}/s", self.made, self.made as f64 / secs);
        }
        Ok(path)
    }

    fn folder(&mut self, parent: &ContentPath, id: &str, title: &str, lang: &Lang) -> anyhow::Result<ContentPath> {
        let body = json!({"@type": "Folder", "id": id, "title": title, "language": lang.code,
            "description": sentence(&mut self.rng, lang, 6)});
        self.create(parent, body, true)
    }

    /// One leaf item in `lang`: a page, news item, event or link.
    fn item(&mut self, parent: &ContentPath, lang: &Lang) -> anyhow::Result<()> {
        self.pages += 1;
        let rng = &mut self.rng;
        let title = format!("{} {}", zipf(rng, lang.words), zipf(rng, lang.words));
        let mut text = sentence(rng, lang, 40);
        text.push(' ');
        text.push_str(lang.common);
        if self.pages.is_multiple_of(50_000) {
            text.push(' ');
            text.push_str(RARE);
        }
        let subjects: Vec<&str> = (0..rng.random_range(0..3)).map(|_| zipf(rng, lang.words)).collect();
        let days_ago = rng.random_range(0..5 * 365);
        let effective = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days_ago);
        let blocks = json!({
            "t": {"@type": "title"},
            "s": {"@type": "slate", "plaintext": text, "value": [{"type": "p", "children": [{"text": text}]}]},
        });
        let mut body: Map<String, Value> = match rng.random_range(0..10) {
            0..6 => json!({"@type": "Document", "blocks": blocks, "blocks_layout": {"items": ["t", "s"]}}),
            6..8 => json!({"@type": "News Item", "blocks": blocks, "blocks_layout": {"items": ["t", "s"]}}),
            8 => {
                let start = effective + jiff::SignedDuration::from_hours(24 * 30);
                json!({"@type": "Event", "start": start.to_string(),
                    "end": (start + jiff::SignedDuration::from_hours(3)).to_string(), "text": {"data": format!("<p>{text}</p>"), "content-type": "text/html"}})
            }
            _ => json!({"@type": "Link", "remoteUrl": "https://www.example.ch/"}),
        }
        .as_object()
        .cloned()
        .unwrap_or_default();
        body.insert("title".into(), json!(title));
        body.insert("description".into(), json!(sentence(rng, lang, 12)));
        body.insert("subjects".into(), json!(subjects));
        body.insert("language".into(), json!(lang.code));
        body.insert("effective".into(), json!(effective.to_string()));
        let publish = rng.random_bool(0.75);
        self.create(parent, Value::Object(body), publish)?;
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = cairn::Settings {
        data: cli.data.clone(),
        database_url: cli.database_url.clone(),
        sample_content: false,
        admin_password: Some(std::env::var("CAIRN_ADMIN_PASSWORD").unwrap_or_else(|_| "admin".into())),
        ..cairn::Settings::default()
    };
    let opened = cairn::open_sites(&settings, "127.0.0.1:8080").context("while opening the data folder")?;
    let site = opened.sites.into_iter().next().context("no site configured")?;
    if repo::get(&site, &ContentPath::parse("/de")?).is_ok() {
        anyhow::bail!("{} already holds a generated site", cli.data.display());
    }
    // The server's indexer follows the writes on another thread, as it
    // would during an import into a running site: the engine the server
    // would use (the embedded index, or PostgreSQL's in scale-out mode).
    let (_, engine) = cairn::full_text_engines(&settings, opened.postgres.as_ref())?
        .into_iter()
        .find(|(id, _)| *id == site.id)
        .context("no full-text engine for the site")?;
    let indexing = cairn::indexing::Indexing::start(opened.store.clone(), vec![(site.id.clone(), engine.clone())])?;
    let admin = Principal {
        id: Some("admin".into()),
        fullname: "Administrator".into(),
        roles: vec!["Manager".into()],
        groups: Vec::new(),
    };
    let mut g = Generator {
        loader: Loader::new(&site, admin, cli.batch),
        rng: StdRng::seed_from_u64(cli.seed),
        made: 0,
        started: Instant::now(),
        pages: 0,
    };
    // Sections × subsections × topics per language: the folders.
    let (sections, subsections, topics) = (12, 10, 8);
    let folders_per_lang = 1 + sections * (1 + subsections * (1 + topics));
    let leaves = cli
        .objects
        .saturating_sub(LANGS.len() * folders_per_lang + 1 + BIG_FOLDER_ITEMS);
    let root = ContentPath::root();
    for (li, lang) in LANGS.iter().enumerate() {
        let lang_root = g.folder(&root, lang.code, &lang.code.to_uppercase(), lang)?;
        let per_topic = leaves as f64 * lang.share / (sections * subsections * topics) as f64;
        let mut owed = 0.0;
        for s in 0..sections {
            let title = format!("{} {}", lang.section, zipf(&mut g.rng, lang.words));
            let sp = g.folder(&lang_root, &format!("s{s}"), &title, lang)?;
            for u in 0..subsections {
                let title = zipf(&mut g.rng, lang.words).to_string();
                let up = g.folder(&sp, &format!("u{u}"), &title, lang)?;
                for t in 0..topics {
                    let title = zipf(&mut g.rng, lang.words).to_string();
                    let tp = g.folder(&up, &format!("t{t}"), &title, lang)?;
                    owed += per_topic;
                    while owed >= 1.0 {
                        g.item(&tp, lang)?;
                        owed -= 1.0;
                    }
                }
            }
        }
        if li == 0 {
            let big = g.folder(&lang_root, "gross", "Grosser Ordner", lang)?;
            for _ in 0..BIG_FOLDER_ITEMS {
                g.item(&big, lang)?;
            }
        }
    }
    g.loader.finish().context("while writing the last batch")?;
    let loaded = g.started.elapsed().as_secs_f64();
    // What the indexer has not taken in yet when the last batch is stored.
    drop(indexing);
    let lag = Instant::now();
    while engine.step(&*opened.store, &site.id)? > 0 {}
    let lag = lag.elapsed().as_secs_f64();
    let secs = g.started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"objects": g.made, "seconds": secs, "per_second": g.made as f64 / secs,
            "load_seconds": loaded, "index_lag_seconds": lag, "rare_word": RARE})
    );
    Ok(())
}
