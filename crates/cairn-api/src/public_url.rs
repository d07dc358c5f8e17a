//! The public URL `@id`s are built from. A VirtualHostMonster prefix wins,
//! then a configured `public_url`; without one, the `Host` the request was
//! sent to, as Zope does: Volto reaching cairn as `http://backend:8080`
//! then gets links it can map back to its own URLs. A trusted proxy's
//! `X-Forwarded-Host` names the host instead, and the scheme is `https`
//! only when a trusted proxy says so (`X-Forwarded-Proto`).

use std::net::IpAddr;

use axum::http::{HeaderMap, header};
use cairn_core::Site;

use crate::client_addr::TrustedProxies;

/// The base URL of `site` for this request.
pub fn base(site: &Site, vhm: Option<&str>, headers: &HeaderMap, peer: IpAddr, proxies: &TrustedProxies) -> String {
    if let Some(vhm) = vhm {
        return vhm.to_string();
    }
    if !site.follows_host {
        return site.public_url.clone();
    }
    let trusted = proxies.trusts(peer);
    // A trusted proxy names the host the browser asked for; anyone else's
    // X-Forwarded-Host is ignored.
    let forwarded = trusted
        .then(|| headers.get("x-forwarded-host"))
        .flatten()
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split(',').next())
        .map(str::trim);
    let Some(host) = forwarded.filter(|h| is_host(h)).or_else(|| {
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| is_host(h))
    }) else {
        return site.public_url.clone();
    };
    let https = trusted
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    format!("{}://{host}/{}", if https { "https" } else { "http" }, site.id)
}

/// A host name, IPv4 or bracketed IPv6 address with an optional port, as
/// the `http` crate parses a URL's authority; no user info, nothing that
/// could break out of a URL.
fn is_host(h: &str) -> bool {
    h.len() <= 255
        && h.parse::<axum::http::uri::Authority>().is_ok_and(|a| {
            // A port, if any, must be a number a socket can have.
            let port_ok = !h.rsplit(']').next().unwrap_or(h).contains(':') || a.port_u16().is_some();
            !a.host().is_empty() && !h.contains('@') && port_ok
        })
}

#[cfg(test)]
mod tests {
    use super::is_host;

    #[test]
    fn only_plain_host_names_are_taken() {
        for ok in ["example.org", "backend:8080", "127.0.0.1:18300", "[::1]:8080"] {
            assert!(is_host(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.org/x",
            "a b",
            "x\"><script>",
            "user@host",
            "[::1",
            ":",
            "x:99999999",
            &"a".repeat(300),
        ] {
            assert!(!is_host(bad), "{bad}");
        }
    }
}
