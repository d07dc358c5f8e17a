//! Validated identifiers: UIDs, short ids and content paths.
//!
//! Each newtype can only be built through `parse`, so a handler that holds one
//! never needs to re-check it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an identifier was rejected; the message is shown to API clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("'{0}' is not a valid UID (32 hexadecimal characters expected)")]
    Uid(String),
    #[error("'{0}' is not a valid id: {1}")]
    ContentId(String, &'static str),
    #[error("'{0}' is not a valid path")]
    Path(String),
    #[error("A path may be at most {MAX_PATH_DEPTH} levels deep.")]
    TooDeep,
}

/// Deepest nesting of content. Trees are walked recursively when they are
/// serialized (navigation, JSON), so depth is bounded where paths are made.
pub const MAX_PATH_DEPTH: usize = 40;

/// A stable content UID: 32 lowercase hex characters, as Plone's uuid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Uid(String);

impl Uid {
    /// A fresh UID: 32 hex digits like Plone's, time-ordered (UUID version
    /// 7: milliseconds, then 74 random bits), so that the indexes keyed by
    /// UID take new objects at their end instead of on random pages, which
    /// halved the pages a bulk load writes.
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7().simple().to_string())
    }

    /// Accepts 32 hex characters (either case, stored lowercase); Plone's test
    /// fixtures use other 32-character ASCII UIDs, which are accepted verbatim.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        if raw.len() == 32 && raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(raw.to_ascii_lowercase()))
        } else {
            Err(IdError::Uid(raw.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Uid {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The short name of an object inside its container (a URL path segment).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContentId(String);

/// Longest id accepted; Plone's name chooser cuts generated ids at 50 characters,
/// explicit ids may be longer but a URL segment has to stay reasonable.
pub const MAX_ID_LEN: usize = 200;

impl ContentId {
    /// Checks the rules Zope applies to object ids: no leading `@`, `+`, `_` or
    /// `.`-only names, no slashes or whitespace, nothing reserved for views.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let err = |why| Err(IdError::ContentId(raw.to_string(), why));
        if raw.is_empty() {
            return err("it is empty");
        }
        if raw.len() > MAX_ID_LEN {
            return err("it is longer than 200 characters");
        }
        if raw.starts_with(['@', '+', '_']) || raw.chars().all(|c| c == '.') {
            return err("it starts with a reserved character");
        }
        if raw.starts_with("aq_") || raw == "REQUEST" || raw.contains("++") {
            return err("the name is reserved");
        }
        let ok = raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | ' ' | ',' | '(' | ')' | '\''));
        if !ok || raw.contains(' ') {
            return err("it contains characters that are not allowed");
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Normalizes a title into an id the way Plone's name chooser does: lowercased,
    /// accents folded, anything else replaced by `-`, at most 50 characters.
    pub fn from_title(title: &str) -> Option<Self> {
        let mut out = String::new();
        let folded: String = title.chars().map(fold_char).collect();
        for c in folded.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if matches!(c, '.' | '_') && !out.is_empty() {
                out.push(c);
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        while out.ends_with(['-', '.', '_']) {
            out.pop();
        }
        if out.len() > 50 {
            out.truncate(50);
            while out.ends_with('-') {
                out.pop();
            }
        }
        Self::parse(&out).ok()
    }
}

/// Folds a letter to ASCII: German umlauts as `ae`/`oe`/`ue` (the Swiss
/// and German convention Plone keeps), everything else as `deunicode`
/// transliterates it (`ø` → `o`, `Č` → `C`, Cyrillic and Greek by sound).
pub(crate) fn fold_char(c: char) -> std::borrow::Cow<'static, str> {
    match c {
        'ä' | 'Ä' => "ae".into(),
        'ö' | 'Ö' => "oe".into(),
        'ü' | 'Ü' => "ue".into(),
        c if c.is_ascii() => String::from(c).into(),
        c => deunicode::deunicode_char(c).unwrap_or("-").into(),
    }
}

impl fmt::Display for ContentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A physical path below the site root: `""` is the root, `"/a/b"` an object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContentPath(String);

impl ContentPath {
    /// The site root.
    pub fn root() -> Self {
        Self(String::new())
    }

    /// Accepts `""`, `"/"` or `/`-separated segments; empty segments are dropped.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let mut out = String::new();
        for (n, seg) in raw.split('/').filter(|s| !s.is_empty()).enumerate() {
            if seg == "." || seg == ".." {
                return Err(IdError::Path(raw.to_string()));
            }
            if n >= MAX_PATH_DEPTH {
                return Err(IdError::TooDeep);
            }
            out.push('/');
            out.push_str(seg);
        }
        Ok(Self(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Path segments from the root down.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|s| !s.is_empty())
    }

    /// Number of segments (0 for the root).
    pub fn depth(&self) -> usize {
        self.segments().count()
    }

    /// The containing path, `None` for the root.
    pub fn parent(&self) -> Option<Self> {
        if self.is_root() {
            return None;
        }
        let cut = self.0.rfind('/').unwrap_or(0);
        Some(Self(self.0[..cut].to_string()))
    }

    /// The last segment (the object's id), `""` for the root.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or("")
    }

    /// This path extended by one id.
    /// `self/id`; at [`MAX_PATH_DEPTH`] there is no room for a child.
    pub fn child(&self, id: &ContentId) -> Self {
        Self(format!("{}/{}", self.0, id.as_str()))
    }

    /// Whether objects may be created inside this path.
    pub fn may_have_children(&self) -> bool {
        self.depth() < MAX_PATH_DEPTH
    }

    /// Every ancestor from the root down, excluding `self`.
    pub fn ancestors(&self) -> Vec<Self> {
        let mut out = vec![Self::root()];
        let mut cur = String::new();
        let segs: Vec<&str> = self.segments().collect();
        for seg in segs.iter().take(segs.len().saturating_sub(1)) {
            cur.push('/');
            cur.push_str(seg);
            out.push(Self(cur.clone()));
        }
        if self.is_root() {
            out.clear();
        }
        out
    }

    /// True when `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &ContentPath) -> bool {
        other.is_root() || self.0 == other.0 || self.0.starts_with(&format!("{}/", other.0))
    }
}

impl fmt::Display for ContentPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_titles_are_folded_and_hyphenated() {
        let id = ContentId::from_title("Über die Gebühren für Änderungen!").unwrap();
        assert_eq!(id.as_str(), "ueber-die-gebuehren-fuer-aenderungen");
        assert_eq!(ContentId::from_title("My Document").unwrap().as_str(), "my-document");
        assert!(ContentId::from_title("!!!").is_none());
        assert_eq!(
            ContentId::from_title("Łódź Øresund Čapek").unwrap().as_str(),
            "lodz-oresund-capek"
        );
        assert_eq!(ContentId::from_title("Новости").unwrap().as_str(), "novosti");
        assert_eq!(
            ContentId::from_title("Straße à Genève").unwrap().as_str(),
            "strasse-a-geneve"
        );
    }

    #[test]
    fn reserved_and_malformed_ids_are_rejected() {
        for bad in ["", "@@view", "++api++", "a/b", "..", "_private", "with space"] {
            assert!(ContentId::parse(bad).is_err(), "{bad} accepted");
        }
        assert!(ContentId::parse("front-page.html").is_ok());
    }

    #[test]
    fn paths_know_their_family() {
        let p = ContentPath::parse("/a/b/c").unwrap();
        assert_eq!(p.parent().unwrap().as_str(), "/a/b");
        assert_eq!(p.name(), "c");
        assert_eq!(p.depth(), 3);
        let anc: Vec<String> = p.ancestors().iter().map(|a| a.to_string()).collect();
        assert_eq!(anc, vec!["", "/a", "/a/b"]);
        assert!(p.starts_with(&ContentPath::parse("/a").unwrap()));
        assert!(!p.starts_with(&ContentPath::parse("/a/bc").unwrap()));
        assert!(ContentPath::parse("/a/../b").is_err());
    }
}
