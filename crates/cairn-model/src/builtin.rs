//! The standard content types, behaviors and profiles, compiled into the binary
//! from `crates/cairn-model/schema/`, plus loading of a site's own files.

use std::path::Path;

use include_dir::{Dir, include_dir};

use crate::schema::SchemaSources;
use crate::workflow::WorkflowSources;

static SCHEMA: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/schema");

fn collect(dir: Option<&Dir<'_>>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = dir
        .into_iter()
        .flat_map(|d| d.files())
        .filter(|f| f.path().extension().is_some_and(|e| e == "toml"))
        .filter_map(|f| {
            let name = f.path().file_name()?.to_string_lossy().to_string();
            Some((name, f.contents_utf8()?.to_string()))
        })
        .collect();
    out.sort();
    out
}

/// The shipped schema files.
pub fn sources() -> SchemaSources {
    SchemaSources {
        fieldsets: SCHEMA
            .get_file("fieldsets.toml")
            .and_then(|f| f.contents_utf8())
            .map(|t| vec![("fieldsets.toml".to_string(), t.to_string())])
            .unwrap_or_default(),
        behaviors: collect(SCHEMA.get_dir("behaviors")),
        types: collect(SCHEMA.get_dir("types")),
        profiles: collect(SCHEMA.get_dir("profiles")),
        web: Vec::new(),
    }
}

/// The types a multilingual site adds (the Language Root Folder).
pub fn multilingual_types() -> Vec<(String, String)> {
    collect(SCHEMA.get_dir("multilingual"))
}

/// The shipped control panel files, in Site Setup's order.
pub fn control_panel_sources() -> Vec<(String, String)> {
    let mut files = collect(SCHEMA.get_dir("controlpanels"));
    files.sort_by_key(|(name, _)| PANEL_ORDER.iter().position(|p| name.strip_suffix(".toml") == Some(*p)));
    files
}

/// Site Setup's order of the shipped panels.
const PANEL_ORDER: [&str; 10] = [
    "date-and-time",
    "language",
    "mail",
    "navigation",
    "search",
    "site",
    "editing",
    "usergroup",
    "security",
    "caching",
];

/// The shipped workflows, rolemap and bindings.
pub fn workflow_sources() -> WorkflowSources {
    WorkflowSources {
        files: collect(Some(&SCHEMA_WORKFLOWS)),
    }
}

static SCHEMA_WORKFLOWS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/workflows");

/// Adds a site's own `workflows/*.toml` from `dir` after the shipped ones.
pub fn add_local_workflows(src: &mut WorkflowSources, dir: &Path) -> std::io::Result<()> {
    let path = dir.join("workflows");
    if !path.is_dir() {
        return Ok(());
    }
    let mut files: Vec<_> = std::fs::read_dir(&path)?.collect::<Result<_, _>>()?;
    files.sort_by_key(|e| e.file_name());
    for e in files {
        if e.path().extension().is_some_and(|x| x == "toml") {
            let name = format!("{}/{}", path.display(), e.file_name().to_string_lossy());
            src.files.push((name, std::fs::read_to_string(e.path())?));
        }
    }
    Ok(())
}

/// Adds a site's own `types/`, `behaviors/` and `profiles/` files from `dir`
/// (missing folders are fine) after the shipped ones, so they win on name clashes.
pub fn add_local(src: &mut SchemaSources, dir: &Path) -> std::io::Result<()> {
    for (sub, target) in [
        ("behaviors", &mut src.behaviors),
        ("types", &mut src.types),
        ("profiles", &mut src.profiles),
    ] {
        let path = dir.join(sub);
        if !path.is_dir() {
            continue;
        }
        let mut files: Vec<_> = std::fs::read_dir(&path)?.collect::<Result<_, _>>()?;
        files.sort_by_key(|e| e.file_name());
        for e in files {
            if e.path().extension().is_some_and(|x| x == "toml") {
                let name = format!("{}/{}", path.display(), e.file_name().to_string_lossy());
                target.push((name, std::fs::read_to_string(e.path())?));
            }
        }
    }
    Ok(())
}
