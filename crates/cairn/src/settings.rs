//! The one settings struct, layered: defaults → `cairn.toml` → `CAIRN_*` env
//! vars (nested keys with `__`, e.g. `CAIRN_LIMITS__MAX_BATCH_SIZE`) → CLI flags.

use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// One site of the deployment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SiteSettings {
    pub id: String,
    #[serde(default = "default_title")]
    pub title: String,
    /// Public URL of the site root for `@id`s; default `http://<listen>/<id>`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// JWT signing secret; generated and stored in the database when unset.
    #[serde(default)]
    pub jwt_secret: Option<String>,
    /// Secrets used before the current one, still accepted to verify tokens
    /// until they expire: rotate by moving the old secret here.
    #[serde(default)]
    pub jwt_previous_secrets: Vec<String>,
    #[serde(default = "default_language")]
    pub default_language: String,
    #[serde(default = "default_languages")]
    pub available_languages: Vec<String>,
    /// Type profile: `volto` (blocks, folderish pages) or `classic`.
    #[serde(default = "default_profile")]
    pub profile: String,
}

fn default_title() -> String {
    "Plone site".into()
}
fn default_language() -> String {
    "de".into()
}
fn default_languages() -> Vec<String> {
    vec!["de".into(), "fr".into(), "it".into(), "en".into()]
}
fn default_profile() -> String {
    "volto".into()
}

/// Request limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LimitSettings {
    pub max_body_bytes: usize,
    pub max_batch_size: usize,
    /// Memory for rendered anonymous responses, in bytes (0 turns it off).
    pub response_cache_bytes: u64,
    /// Origins allowed to call the API from browsers (CORS), e.g.
    /// `["https://www.example.ch"]`; `["*"]` allows any origin without credentials.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// Full-text hits considered per query, best first.
    #[serde(default = "default_text_hits")]
    pub max_text_hits: usize,
    /// Largest image accepted (width × height); bigger uploads are refused
    /// before decoding, stored ones are never scaled.
    #[serde(default = "default_image_pixels")]
    pub max_image_pixels: u64,
}

fn default_text_hits() -> usize {
    1000
}
fn default_image_pixels() -> u64 {
    cairn_core::images::DEFAULT_MAX_PIXELS
}

/// Everything `cairn serve` needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub listen: String,
    /// Folder for the database and blobs.
    pub data: PathBuf,
    /// Folder with a site's own `types/`, `behaviors/` and `profiles/`.
    pub config_dir: Option<PathBuf>,
    /// Password of `admin`; generated and printed once when unset on first start.
    pub admin_password: Option<String>,
    /// Fill a new site with sample content.
    pub sample_content: bool,
    /// Token lifetime in seconds.
    pub token_timeout: u64,
    /// Decoded objects kept in memory (dropped on every write).
    pub cache_objects: u64,
    /// Requests handled at once (the rest wait their turn); 0: twice the CPUs.
    #[serde(default)]
    pub workers: usize,
    pub limits: LimitSettings,
    pub sites: Vec<SiteSettings>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data: PathBuf::from("var"),
            config_dir: None,
            admin_password: None,
            sample_content: true,
            token_timeout: 43_200,
            cache_objects: 20_000,
            workers: 0,
            limits: LimitSettings {
                max_body_bytes: 64 * 1024 * 1024,
                max_batch_size: 1000,
                response_cache_bytes: 128 * 1024 * 1024,
                cors_origins: Vec::new(),
                max_text_hits: default_text_hits(),
                max_image_pixels: default_image_pixels(),
            },
            sites: vec![SiteSettings {
                id: "Plone".into(),
                title: "Kanton Aarwald".into(),
                public_url: None,
                jwt_secret: None,
                jwt_previous_secrets: Vec::new(),
                default_language: default_language(),
                available_languages: default_languages(),
                profile: default_profile(),
            }],
        }
    }
}

impl Settings {
    /// How many requests run at once: `workers`, or twice the CPUs.
    pub fn worker_threads(&self) -> usize {
        match self.workers {
            0 => 2 * std::thread::available_parallelism().map_or(2, usize::from),
            n => n,
        }
    }

    /// Loads the layers; `file` defaults to `cairn.toml` in the working folder.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, Box<figment::Error>> {
        let file = file.map(PathBuf::from).unwrap_or_else(|| PathBuf::from("cairn.toml"));
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("CAIRN_").split("__"))
            .extract()
            .map_err(Box::new)
    }
}
