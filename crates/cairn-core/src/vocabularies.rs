//! Named vocabularies (`@vocabularies`): the token/title lists Volto's select,
//! token and autocomplete widgets read, computed from the site's data.

use crate::error::{CoreError, CoreResult};
use crate::ports::PrincipalQuery;
use crate::principals::{ROLES, may_manage};
use crate::security::Principal;
use crate::site::Site;

/// One entry of a vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub token: String,
    pub title: String,
}

fn term(token: impl Into<String>, title: impl Into<String>) -> Term {
    Term {
        token: token.into(),
        title: title.into(),
    }
}

/// Every vocabulary cairn provides.
pub const NAMES: [&str; 27] = [
    "plone.app.vocabularies.Keywords",
    "plone.app.vocabularies.AvailableContentLanguages",
    "plone.app.vocabularies.SupportedContentLanguages",
    "plone.app.vocabularies.Roles",
    "plone.app.vocabularies.AllowedContentTypes",
    "plone.app.vocabularies.AllowableContentTypes",
    "plone.app.vocabularies.PortalTypes",
    "plone.app.vocabularies.ReallyUserFriendlyTypes",
    "plone.app.vocabularies.UserFriendlyTypes",
    "plone.app.vocabularies.Workflows",
    "plone.app.vocabularies.WorkflowStates",
    "plone.app.vocabularies.WorkflowTransitions",
    "plone.app.vocabularies.Users",
    "plone.app.vocabularies.Groups",
    "plone.app.vocabularies.Principals",
    "plone.app.vocabularies.ImagesScales",
    "plone.app.vocabularies.Weekdays",
    "plone.app.vocabularies.CommonTimezones",
    "plone.app.vocabularies.AvailableTimezones",
    "plone.app.vocabularies.Timezones",
    "plone.app.vocabularies.WeekdaysAbbr",
    "plone.app.vocabularies.WeekdaysShort",
    "plone.app.vocabularies.Month",
    "plone.app.vocabularies.MonthAbbr",
    "Behaviors",
    "plone.app.vocabularies.MetadataFields",
    "Fields",
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The metadata columns a summary can carry (`metadata_fields`), with
/// Plone's labels.
pub const METADATA: [(&str, &str); 30] = [
    ("CreationDate", "Created on"),
    ("Creator", "Creator"),
    ("Date", "Effective date"),
    ("Description", "Description"),
    ("EffectiveDate", "Publication date"),
    ("ExpirationDate", "Expiration date"),
    ("ModificationDate", "Last modified"),
    ("Subject", "Tags"),
    ("Title", "Title"),
    ("Type", "Type"),
    ("UID", "UID"),
    ("created", "Created on"),
    ("effective", "Publication date"),
    ("end", "End Date"),
    ("exclude_from_nav", "Excluded from navigation"),
    ("expires", "Expiration date"),
    ("getIcon", "Icon"),
    ("getId", "ID"),
    ("getObjSize", "Object Size"),
    ("getRemoteUrl", "Remote URL"),
    ("id", "ID"),
    ("image_field", "Image field"),
    ("image_scales", "Image scales"),
    ("is_folderish", "Folder"),
    ("listCreators", "Creators"),
    ("location", "Location"),
    ("mime_type", "MIME type"),
    ("modified", "Last modified"),
    ("portal_type", "Type"),
    ("review_state", "Review state"),
];

/// The languages cairn knows the names of (the Language panel's choices).
pub const LANGUAGES: [&str; 8] = ["de", "fr", "it", "rm", "en", "es", "pt", "nl"];

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The name of a language cairn knows, in that language.
pub fn language_name(code: &str) -> Option<&'static str> {
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

/// The name of a language, or its code when unknown.
pub fn language_title(code: &str) -> &str {
    language_name(code).unwrap_or(code)
}

/// The terms of vocabulary `name` as `who` may see them; `editor` says
/// whether `who` may modify the object the vocabulary is asked on, which
/// opens the user and group lists to editors as Plone's "Modify portal
/// content" rule does.
pub fn terms(site: &Site, who: &Principal, name: &str, editor: bool) -> CoreResult<Vec<Term>> {
    let short = name.strip_prefix("plone.app.vocabularies.").unwrap_or(name);
    Ok(match short {
        // Every language a site may choose; those it has chosen.
        "AvailableContentLanguages" => LANGUAGES.iter().map(|l| term(*l, language_title(l))).collect(),
        "SupportedContentLanguages" => crate::records::strings(site, "plone.available_languages")?
            .iter()
            .map(|l| term(l.clone(), language_title(l)))
            .collect(),
        // The IANA time zones (bundled with the binary).
        "CommonTimezones" | "AvailableTimezones" | "Timezones" => {
            let mut zones: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
            zones.sort();
            zones.into_iter().map(|z| term(z.clone(), z)).collect()
        }
        "Roles" => ROLES.iter().map(|r| term(*r, *r)).collect(),
        // Only keywords of what the reader may see: no leak of private tags.
        "Keywords" => {
            let filter = crate::security::view_filter(site, who);
            site.store
                .keywords(&site.id, &filter)?
                .into_iter()
                .map(|k| term(k.clone(), k))
                .collect()
        }
        "AllowedContentTypes"
        | "AllowableContentTypes"
        | "PortalTypes"
        | "ReallyUserFriendlyTypes"
        | "UserFriendlyTypes" => site
            .types()
            .all()
            .filter(|t| t.def.id != "Plone Site")
            .map(|t| term(t.def.id.clone(), t.def.title.clone()))
            .collect(),
        "Workflows" => {
            let mut out: Vec<Term> = Vec::new();
            for t in site.types().all() {
                if let Some(wf) = site.workflow_for(&t.def.id)
                    && !out.iter().any(|x| x.token == wf.id)
                {
                    out.push(term(wf.id.clone(), wf.title.clone()));
                }
            }
            out
        }
        "WorkflowStates" | "WorkflowTransitions" => {
            let mut out: Vec<Term> = Vec::new();
            for t in site.types().all() {
                let Some(wf) = site.workflow_for(&t.def.id) else {
                    continue;
                };
                let items: Vec<(String, String)> = if short == "WorkflowStates" {
                    wf.states.iter().map(|s| (s.id.clone(), s.title.clone())).collect()
                } else {
                    wf.transitions.iter().map(|x| (x.id.clone(), x.title.clone())).collect()
                };
                for (id, title) in items {
                    if !out.iter().any(|x| x.token == id) {
                        out.push(term(id, format!("{title} [{}]", wf.title)));
                    }
                }
            }
            out
        }
        "Users" | "Groups" | "Principals" => {
            if !editor && !may_manage(site, who) {
                return Err(CoreError::Forbidden(format!(
                    "You are not allowed to access the vocabulary '{name}'"
                )));
            }
            let q = PrincipalQuery {
                limit: 10_000,
                ..Default::default()
            };
            let mut out = Vec::new();
            if short != "Groups" {
                let users = site.principals.find_users(&site.id, &q)?;
                out.extend(users.into_iter().map(|u| {
                    let title = if u.fullname.is_empty() {
                        u.id.clone()
                    } else {
                        u.fullname.clone()
                    };
                    term(u.id, title)
                }));
            }
            if short != "Users" {
                out.extend(
                    site.principals
                        .find_groups(&site.id, &q)?
                        .into_iter()
                        .map(|g| term(g.id, g.title)),
                );
            }
            out
        }
        "ImagesScales" => site
            .settings
            .scales
            .iter()
            .map(|(n, w, h)| term(n.clone(), format!("{n} ({w}, {h})")))
            .collect(),
        "Weekdays" => WEEKDAYS
            .iter()
            .enumerate()
            .map(|(i, d)| term(i.to_string(), *d))
            .collect(),
        "WeekdaysAbbr" | "WeekdaysShort" => WEEKDAYS
            .iter()
            .enumerate()
            .map(|(i, d)| term(i.to_string(), &d[..if short == "WeekdaysAbbr" { 3 } else { 2 }]))
            .collect(),
        "Month" | "MonthAbbr" => MONTHS
            .iter()
            .enumerate()
            .map(|(i, m)| term(i.to_string(), if short == "Month" { m } else { &m[..3] }))
            .collect(),
        // Who may edit types needs them; the list says nothing about content.
        "Behaviors" => site
            .types()
            .behaviors
            .iter()
            .map(|b| term(b.name.clone(), b.title.clone()))
            .collect(),
        // The field kinds the schema editor can add (`@types` POST `factory`).
        "Fields" => cairn_model::schema::editing::FACTORIES
            .iter()
            .map(|f| term(f.token, f.title))
            .collect(),
        "MetadataFields" => METADATA.iter().map(|(t, title)| term(*t, *title)).collect(),
        _ => return Err(CoreError::NotFound),
    })
}
