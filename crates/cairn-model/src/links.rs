//! Links that a browser would run as script. Any stored URL may end up in
//! an `href` or `src` of the frontend, so `javascript:`, `vbscript:` and
//! `data:` URLs are refused wherever a URL is written: Link targets, URI
//! fields and the links inside Volto blocks.

/// Schemes that make a link run code or carry a document of its own.
const REFUSED: [&str; 3] = ["javascript", "vbscript", "data"];

/// The scheme a browser sees in `url`, lowercased: browsers drop leading
/// spaces and control characters and every tab or line break first, so
/// `" java\tscript:"` is a `javascript:` URL.
fn scheme(url: &str) -> Option<String> {
    let cleaned: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .take(32)
        .collect();
    let (scheme, _) = cleaned.split_once(':')?;
    let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| scheme.to_ascii_lowercase())
}

/// Refuses a URL that would run as script; the message is shown to the client.
pub fn check(url: &str) -> Result<(), String> {
    match scheme(url) {
        Some(s) if REFUSED.contains(&s.as_str()) => Err(format!(
            "Links with the '{s}:' scheme are not allowed; use an http(s), mailto or tel URL or a path."
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn script_schemes_are_refused_however_they_are_disguised() {
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " \u{1}javascript:alert(1)",
            "java\tscript:alert(1)",
            "jav\nascript:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "vbscript:msgbox",
        ] {
            assert!(check(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn ordinary_links_pass() {
        for good in [
            "https://www.example.ch/a?b=c:d",
            "mailto:info@example.ch",
            "tel:+41000000000",
            "/steuern/formulare",
            "../relative:with-colon",
            "${portal_url}/resolveuid/0123456789abcdef0123456789abcdef",
            "",
        ] {
            assert!(check(good).is_ok(), "{good:?} must pass");
        }
    }
}
