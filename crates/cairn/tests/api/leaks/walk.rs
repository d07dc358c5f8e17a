//! Every GET and refused write, as anonymous and as a Member, checked for
//! the secrets of the site built in `mod.rs`.

use serde_json::json;

use super::{MEMBER, SECRETS, site_with_secrets};
use crate::helpers::Auth;

const EXPAND_ALL: &str = "expand=actions,aliases,breadcrumbs,contextnavigation,navigation,navroot,types,workflow,inherit\
     &expand.navigation.depth=5&expand.inherit.behaviors=plone.navigationroot,plone.dublincore";

/// Every GET a frontend or a curious visitor might send.
fn reads() -> Vec<String> {
    let mut urls: Vec<String> = [
        "",
        "?fullobjects=1&metadata_fields=_all",
        "/@navigation?expand.navigation.depth=6",
        "/@breadcrumbs",
        "/@actions",
        "/@types",
        "/@types/Document",
        "/@site",
        "/@navroot",
        "/@inherit?expand.inherit.behaviors=plone.dublincore",
        "/@contextnavigation?expand.contextnavigation.topLevel=0&expand.contextnavigation.bottomLevel=6",
        "/@workflow",
        "/@lock",
        "/@sharing",
        "/@aliases",
        "/@aliases?query=/",
        "/@history",
        "/@search?metadata_fields=_all&b_size=100",
        "/@search?fullobjects=1&b_size=100",
        "/@search?SearchableText=GEHEIMTEXT",
        "/@search?Subject=GEHEIMSCHLAGWORT",
        "/@search?Creator=autorin&metadata_fields=_all",
        "/@search?review_state=private",
        "/@search?review_state=pending",
        "/@search?path.query=/geheimordner&path.depth=1",
        "/@search?UID=00000000000000000000000000000000",
        "/@querystring",
        "/@relations",
        "/@controlpanels",
        "/@controlpanels/mail",
        "/@registry",
        "/@registry/plone.smtp_pass",
        "/@system",
        "/@database",
        "/@upgrade",
        "/@addons",
        "/@jobs",
        "/@relations?relation=relatedItems",
        "/@relations?relation=isReferencing",
        "/@relations?source=/geheimordner/geheimdok",
        "/@relations?target=/geheimordner/geheimdok",
        "/@relations?query_source=GEHEIM&relation=isReferencing",
        "/@relations?onlyBroken=1",
        "/@querystring-search?query=%7B%22query%22%3A%5B%7B%22i%22%3A%22portal_type%22%2C%22o%22%3A%22plone.app.querystring.operation.selection.any%22%2C%22v%22%3A%5B%22Document%22%5D%7D%5D%2C%22metadata_fields%22%3A%22_all%22%2C%22fullobjects%22%3Atrue%7D",
        "/@vocabularies",
        "/@vocabularies/plone.app.vocabularies.Keywords",
        "/@vocabularies/plone.app.vocabularies.Users",
        "/@vocabularies/plone.app.vocabularies.Groups",
        "/@vocabularies/plone.app.vocabularies.Principals",
        "/@vocabularies/plone.app.vocabularies.Roles",
        "/@vocabularies/plone.app.vocabularies.Catalog",
        "/@vocabularies/plone.app.vocabularies.Catalog?title=geheim",
        "/@vocabularies/Fields",
        "/@vocabularies/Behaviors",
        "/@controlpanels/dexterity-types",
        "/@controlpanels/dexterity-types/Document",
        "/@controlpanels/search",
        "/@controlpanels/caching",
        "/@users",
        "/@users/autorin",
        "/@users/sperrer",
        "/@users?query=geheim",
        "/@groups",
        "/@groups/AuthenticatedUsers",
        "/@principals?search=geheim",
        "/@principals?search=vertraute",
        "/@portrait/autorin",
        "/@userschema",
        "/@roles",
        "/seitenkurz",
        "/kurzlink",
        "/kurzlink/@workflow",
        "/geheimordner/altname",
        "/geheimordner/altname/@history",
        "/geheimordner/nothing-here",
        "/huelle/offen?expand=breadcrumbs,navigation,contextnavigation,inherit&expand.inherit.behaviors=plone.dublincore",
        "/huelle/offen/@breadcrumbs",
        "/huelle/offen/@workingcopy",
        "/huelle/copy_of_offen",
        "/huelle/copy_of_offen/@workingcopy",
        "/huelle/copy_of_offen?fullobjects=1",
        "/huelle/offen/@lock",
        "/huelle/offen/@contextnavigation",
        "/huelle/offen/@inherit?expand.inherit.behaviors=plone.dublincore,plone.navigationroot",
        "/oeffentlich?fullobjects=1&metadata_fields=_all",
        "/oeffentlich/@navigation?expand.navigation.depth=3",
        "/oeffentlich/@contextnavigation",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let seite = "/oeffentlich/seite";
    urls.push(format!("{seite}?{EXPAND_ALL}"));
    urls.push(format!("{seite}?fullobjects=1&metadata_fields=_all"));
    for service in [
        "@workflow",
        "@history",
        "@history/0",
        "@lock",
        "@sharing",
        "@sharing?search=vertraute",
        "@aliases",
        "@actions",
        "@types",
        "@breadcrumbs",
        "@navigation",
        "@contextnavigation",
    ] {
        urls.push(format!("{seite}/{service}"));
    }
    for private in [
        "/geheimordner",
        "/geheimordner/geheimdok",
        "/oeffentlich/entwurf",
        "/geheimordner/bild",
    ] {
        urls.push(private.to_string());
        urls.push(format!("{private}?{EXPAND_ALL}"));
        for service in [
            "@workflow",
            "@history",
            "@lock",
            "@sharing",
            "@aliases",
            "@breadcrumbs",
            "@navigation",
            "@contextnavigation",
            "@actions",
            "@types",
            "@inherit?expand.inherit.behaviors=plone.dublincore",
            "@search",
            "@querystring",
            "@querystring-search?query=%7B%22query%22%3A%5B%5D%7D",
            "@@images/image",
            "@@images/image/thumb",
            "@@download/image",
            "@@display-file/image",
        ] {
            urls.push(format!("{private}/{service}"));
        }
    }
    urls
}

/// Whether `url` points at or below something the reader may not see.
fn addresses_private(url: &str) -> bool {
    let path = url.split('?').next().unwrap_or("");
    [
        "/geheimordner",
        "/oeffentlich/entwurf",
        "/kurzlink",
        "/huelle/copy_of_offen",
    ]
    .iter()
    .any(|p| path.starts_with(p))
        && !path.starts_with("/huelle/offen")
}

/// The body without the echo of the request: a search's `@id` and
/// `batching` links repeat the query that was sent.
fn without_echo(r: &crate::helpers::Resp) -> String {
    match serde_json::from_slice::<serde_json::Value>(&r.body) {
        Ok(serde_json::Value::Object(mut o)) => {
            o.remove("@id");
            o.remove("batching");
            serde_json::Value::Object(o).to_string()
        }
        _ => String::from_utf8_lossy(&r.body).to_string(),
    }
}

/// The secrets `r` reveals, as lines for the failure report.
fn leaked(url: &str, r: &crate::helpers::Resp) -> Vec<String> {
    let body = String::from_utf8_lossy(&r.body);
    let unechoed = without_echo(r);
    let location = r.header("Location").unwrap_or("");
    SECRETS
        .iter()
        // A 404 for a private URL names only the URL that was asked for.
        .filter(|s| !(r.status == 404 && url.contains(*s)))
        .filter(|s| unechoed.contains(*s) || location.contains(*s))
        .map(|s| format!("{url} answered {} {location} and leaked '{s}': {body}", r.status))
        .collect()
}

#[test]
fn no_endpoint_or_expander_leaks_private_data_to_anonymous_or_members() {
    let app = site_with_secrets();
    let mut failures = Vec::new();
    for (name, who) in [("anonymous", Auth::Anonymous), ("member", MEMBER)] {
        for url in reads() {
            let r = app.get(&url, who);
            if addresses_private(&url) && !matches!(r.status, 401 | 403 | 404) {
                failures.push(format!("{name}: {url} answered {}", r.status));
            }
            failures.extend(leaked(&url, &r).into_iter().map(|l| format!("{name}: {l}")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} leaks:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn counts_include_only_what_the_reader_may_see() {
    let app = site_with_secrets();
    let counts = [
        ("", 1),
        ("/oeffentlich", 1),
        ("/@search?Subject=GEHEIMSCHLAGWORT", 0),
        ("/@search?SearchableText=GEHEIMTEXT", 0),
        ("/@search?review_state=pending", 0),
        ("/@search?path.query=/geheimordner", 0),
        ("/@search?portal_type=Document", 2),
        ("/@vocabularies/plone.app.vocabularies.Keywords", 1),
        ("/@vocabularies/plone.app.vocabularies.Catalog?title=geheim", 0),
    ];
    for who in [Auth::Anonymous, MEMBER] {
        for (url, total) in counts {
            let body = app.get(url, who).json();
            assert_eq!(body["items_total"], total, "{url}: {body}");
        }
    }
}

/// Writes a visitor may try: each must be refused without naming what it hit.
fn writes(private_uid: &str) -> Vec<(&'static str, String, serde_json::Value)> {
    let doc = "/geheimordner/geheimdok";
    vec![
        ("POST", format!("{doc}/@workflow/publish"), json!({})),
        ("POST", "/oeffentlich/seite/@workflow/retract".into(), json!({})),
        ("PATCH", doc.into(), json!({"title": "x"})),
        ("DELETE", doc.into(), json!({})),
        (
            "POST",
            "/geheimordner".into(),
            json!({"@type": "Document", "title": "x"}),
        ),
        ("POST", "/oeffentlich/@copy".into(), json!({"source": doc})),
        ("POST", "/oeffentlich/@copy".into(), json!({"source": private_uid})),
        ("POST", "/oeffentlich/@move".into(), json!({"source": private_uid})),
        ("POST", format!("{doc}/@lock"), json!({})),
        ("DELETE", "/oeffentlich/seite/@lock".into(), json!({"force": true})),
        ("POST", format!("{doc}/@sharing"), json!({"entries": []})),
        ("POST", format!("{doc}/@aliases"), json!({"items": [{"path": "/x"}]})),
        ("PATCH", format!("{doc}/@history"), json!({"version": 0})),
        ("POST", "/huelle/offen/@workingcopy".into(), json!({})),
        ("PATCH", "/@controlpanels/site".into(), json!({"site_title": "x"})),
        ("PATCH", "/@registry".into(), json!({"plone.site_title": "x"})),
        ("POST", "/@upgrade".into(), json!({"dry_run": false})),
        (
            "POST",
            "/@email-send".into(),
            json!({"to": "a@example.org", "from": "b@example.org", "message": "x"}),
        ),
        ("PATCH", "/huelle/offen/@workingcopy".into(), json!({})),
        ("DELETE", "/huelle/offen/@workingcopy".into(), json!({})),
        ("PATCH", "/huelle/copy_of_offen".into(), json!({"title": "x"})),
        ("POST", "/oeffentlich/seite/@workingcopy".into(), json!({})),
        (
            "POST",
            "/@querystring-search".into(),
            json!({"query": [{"i": "path", "o": "plone.app.querystring.operation.string.absolutePath",
                "v": format!("{private_uid}::1")}], "metadata_fields": "_all"}),
        ),
        (
            "POST",
            "/@querystring-search".into(),
            json!({"query": [{"i": "SearchableText", "o": "plone.app.querystring.operation.string.contains",
                "v": "GEHEIMTEXT"}], "fullobjects": true}),
        ),
    ]
}

#[test]
fn refused_writes_name_nothing_private() {
    let app = site_with_secrets();
    let uid = app.get("/geheimordner/geheimdok", Auth::Admin).json()["UID"]
        .as_str()
        .unwrap()
        .to_string();
    let mut failures = Vec::new();
    for (name, who) in [("anonymous", Auth::Anonymous), ("member", MEMBER)] {
        for (method, url, body) in writes(&uid) {
            let r = app.send(method, &url, who, Some(body.to_string().as_bytes()), &[]);
            if r.status < 300 && !url.contains("querystring-search") {
                failures.push(format!("{name}: {method} {url} answered {}", r.status));
            }
            failures.extend(leaked(&url, &r).into_iter().map(|l| format!("{name}: {method} {l}")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} leaks:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let seite = app.get("/oeffentlich/seite/@lock", Auth::Admin).json();
    assert_eq!(seite["locked"], true, "nobody but editors may lift the lock");
}
