//! The address a request comes from, for the login throttle. Behind a reverse
//! proxy the TCP peer is the proxy, so its `X-Forwarded-For` is believed, but
//! only when the peer is one of the configured trusted proxies, and then only
//! up to the right-most hop that is not itself trusted: everything left of
//! that hop was written by the client and may be forged.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// Proxies (addresses or CIDR networks) whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

/// A `trusted_proxies` entry that is neither an IP address nor a CIDR network.
#[derive(Debug, thiserror::Error)]
#[error("'{0}' is neither an IP address nor a network such as 10.0.0.0/8")]
pub struct InvalidProxy(String);

/// An address as written in a header: bare, or with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse_addr(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let ip = s
        .parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))?;
    // An IPv4 client seen through an IPv6 socket is the same client.
    Some(ip.to_canonical())
}

impl TrustedProxies {
    /// Reads entries such as `"127.0.0.1"`, `"10.0.0.0/8"` or `"fd00::/8"`.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, InvalidProxy> {
        entries
            .iter()
            .map(|e| {
                let e = e.as_ref().trim();
                e.parse::<IpNet>()
                    .ok()
                    .or_else(|| e.parse::<IpAddr>().ok().map(IpNet::from))
                    .ok_or_else(|| InvalidProxy(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`: the right-most untrusted address of
    /// `X-Forwarded-For` when `peer` is a trusted proxy, else `peer` itself.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        // Several header lines count as one list, in order.
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        for hop in hops.iter().rev() {
            // A hop that is not an address ends what can be believed.
            let Some(ip) = parse_addr(hop) else { break };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn entries_are_addresses_or_networks() {
        assert!(TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"]).is_ok());
        assert!(TrustedProxies::parse(&["localhost"]).is_err());
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
    }

    #[test]
    fn the_header_of_an_untrusted_peer_is_ignored() {
        let t = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        assert_eq!(t.client(ip("192.0.2.1"), &headers(&["198.51.100.7"])), ip("192.0.2.1"));
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), &headers(&["198.51.100.7"])),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let t = TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8"]).unwrap();
        let forged = headers(&["203.0.113.1, 198.51.100.7", "10.0.0.5"]);
        assert_eq!(t.client(ip("127.0.0.1"), &forged), ip("198.51.100.7"));
        assert_eq!(
            t.client(ip("::ffff:127.0.0.1"), &headers(&["198.51.100.7:5000"])),
            ip("198.51.100.7")
        );
        assert_eq!(t.client(ip("127.0.0.1"), &headers(&[])), ip("127.0.0.1"));
        assert_eq!(
            t.client(ip("127.0.0.1"), &headers(&["garbage, 10.1.1.1"])),
            ip("10.1.1.1")
        );
    }
}
