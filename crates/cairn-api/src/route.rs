//! Zope-style URL traversal: `/<site>[/++api++]/<path>[/@service/args…]`,
//! plus `@@images` / `@@download` views and the VirtualHostMonster prefix.

use cairn_model::ContentPath;

/// What a request addresses below a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// The object itself.
    Content,
    /// `@name/args…`
    Service { name: String, args: Vec<String> },
    /// `@@images/args…`
    Images(Vec<String>),
    /// `@@download/args…` or `@@display-file/args…` (`inline` for the latter).
    Download { args: Vec<String>, inline: bool },
}

/// A parsed request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub site: String,
    pub path: ContentPath,
    pub view: View,
    /// The request came through `++api++`.
    pub api: bool,
    /// Public base URL from a VirtualHostMonster prefix, overriding the configured one.
    pub vhm_base: Option<String>,
}

fn decode(seg: &str) -> String {
    percent_encoding::percent_decode_str(seg)
        .decode_utf8_lossy()
        .into_owned()
}

/// Splits a request path; `None` when it does not name a site at all.
pub fn parse(raw_path: &str) -> Option<Target> {
    let mut segs: Vec<String> = raw_path.split('/').filter(|s| !s.is_empty()).map(decode).collect();
    let mut vhm_base = None;
    // /VirtualHostBase/{proto}/{host:port}/{site}/++api++/VirtualHostRoot[/_vh_x…]/path
    if segs.first().map(String::as_str) == Some("VirtualHostBase") && segs.len() >= 3 {
        let proto = segs[1].clone();
        let host = segs[2].clone();
        let root_at = segs.iter().position(|s| s == "VirtualHostRoot")?;
        let inside: Vec<String> = segs[3..root_at].to_vec();
        let mut rest: Vec<String> = segs[root_at + 1..].to_vec();
        let mut sub = String::new();
        while rest.first().is_some_and(|s| s.starts_with("_vh_")) {
            sub.push('/');
            sub.push_str(&rest.remove(0)[4..]);
        }
        let host = host.trim_end_matches(":80").trim_end_matches(":443");
        vhm_base = Some(format!("{proto}://{host}{sub}"));
        segs = inside.into_iter().chain(rest).collect();
    }
    let site = segs.first()?.clone();
    if site.starts_with('@') || site.starts_with('+') {
        return None;
    }
    let mut api = false;
    let mut path: Vec<&str> = Vec::new();
    let mut view = View::Content;
    for (i, seg) in segs.iter().enumerate().skip(1) {
        if seg == "++api++" {
            api = true;
            continue;
        }
        if seg.starts_with('@') {
            let args: Vec<String> = segs[i + 1..].to_vec();
            view = match seg.as_str() {
                "@@images" => View::Images(args),
                "@@download" => View::Download { args, inline: false },
                "@@display-file" => View::Download { args, inline: true },
                name => View::Service {
                    name: name.trim_start_matches('@').to_string(),
                    args,
                },
            };
            break;
        }
        path.push(seg);
    }
    let path = ContentPath::parse(&path.join("/")).ok()?;
    Some(Target {
        site,
        path,
        view,
        api,
        vhm_base,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_and_paths_are_separated() {
        let t = parse("/Plone/++api++/a/b/@workflow/publish").unwrap();
        assert_eq!(t.site, "Plone");
        assert_eq!(t.path.as_str(), "/a/b");
        assert!(t.api);
        assert_eq!(
            t.view,
            View::Service {
                name: "workflow".into(),
                args: vec!["publish".into()]
            }
        );
        let t = parse("/Plone/img/@@images/image/preview").unwrap();
        assert_eq!(t.view, View::Images(vec!["image".into(), "preview".into()]));
        assert_eq!(parse("/Plone").unwrap().view, View::Content);
    }

    #[test]
    fn virtual_host_prefix_sets_the_public_base() {
        let t = parse("/VirtualHostBase/https/www.example.ch:443/Plone/++api++/VirtualHostRoot/a/@navigation").unwrap();
        assert_eq!(t.site, "Plone");
        assert_eq!(t.path.as_str(), "/a");
        assert_eq!(t.vhm_base.as_deref(), Some("https://www.example.ch"));
        assert!(t.api);
    }
}
