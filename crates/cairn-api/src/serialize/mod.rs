//! plone.restapi serializations: full objects, summaries (catalog brains),
//! field values and the embeddable components.

pub mod components;
pub mod fields;
pub mod full;
pub mod navigation;
pub mod summary;

/// Human names of the languages the site offers (the language vocabulary).
pub fn language_title(code: &str) -> Option<&'static str> {
    Some(match code {
        "de" => "Deutsch",
        "fr" => "Français",
        "it" => "Italiano",
        "rm" => "Rumantsch",
        "en" => "English",
        "es" => "Español",
        "pt" => "Português",
        "nl" => "Nederlands",
        _ => return None,
    })
}
