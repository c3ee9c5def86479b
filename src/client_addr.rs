//! Who is calling, by network address: the socket's peer, or, when that peer is a proxy listed
//! in `TRUSTED_PROXIES`, the address the proxy forwarded in `X-Forwarded-For`.
//!
//! A forwarded header from anyone else is ignored: trusting it would let any client pick the
//! address that rate limits and session records see.

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    fn contains(&self, address: &IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(address))
    }

    /// The client's address. Walks `X-Forwarded-For` from the right (the entry our own proxy
    /// appended) past every trusted proxy; the first untrusted hop is the client. Entries that
    /// are not addresses are skipped: only a client can have put them there, to the left of
    /// what our proxy appended, and letting one end the walk would let a client step out of
    /// its own rate-limit bucket into the proxy's. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`,
    /// what a socket bound to `[::]` reports for IPv4 peers) count as the IPv4 address.
    pub fn client_ip(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let mut client = peer?.ip().to_canonical();
        if !self.contains(&client) {
            return Some(client);
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
            .map(|hop| hop.to_canonical())
            .collect();
        for hop in forwarded.into_iter().rev() {
            client = hop;
            if !self.contains(&client) {
                break;
            }
        }
        Some(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(forwarded: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_str(forwarded).unwrap(),
        );
        map
    }

    fn peer(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().unwrap(), 4000))
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|p| p.parse().unwrap()).collect())
    }

    #[test]
    fn without_trusted_proxies_the_socket_address_wins() {
        let ip = TrustedProxies::default().client_ip(peer("203.0.113.9"), &headers("1.2.3.4"));
        assert_eq!(ip, Some("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn a_trusted_proxy_forwards_the_client_address() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let ip = trusted.client_ip(peer("10.0.0.2"), &headers("198.51.100.7"));
        assert_eq!(ip, Some("198.51.100.7".parse().unwrap()));
    }

    #[test]
    fn addresses_a_client_prepends_are_not_believed() {
        // The client sent "X-Forwarded-For: 1.1.1.1"; our proxy appended the real address.
        let trusted = proxies(&["10.0.0.0/8"]);
        let ip = trusted.client_ip(
            peer("10.0.0.2"),
            &headers("1.1.1.1, 198.51.100.7, 10.0.0.3"),
        );
        assert_eq!(ip, Some("198.51.100.7".parse().unwrap()));
    }

    #[test]
    fn malformed_entries_a_client_prepends_are_skipped() {
        // Before: "garbage" ended the walk and the client was filed under the proxy's address.
        let trusted = proxies(&["10.0.0.0/8"]);
        for chain in ["unknown, 198.51.100.7", "garbage, 198.51.100.7, 10.0.0.3"] {
            let ip = trusted.client_ip(peer("10.0.0.2"), &headers(chain));
            assert_eq!(ip, Some("198.51.100.7".parse().unwrap()), "{chain}");
        }
        let only_garbage = trusted.client_ip(peer("10.0.0.2"), &headers("garbage"));
        assert_eq!(only_garbage, Some("10.0.0.2".parse().unwrap()));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_proxies() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let ip = trusted.client_ip(peer("::ffff:10.0.0.2"), &headers("198.51.100.7"));
        assert_eq!(ip, Some("198.51.100.7".parse().unwrap()));
        let direct =
            TrustedProxies::default().client_ip(peer("::ffff:203.0.113.9"), &HeaderMap::new());
        assert_eq!(direct, Some("203.0.113.9".parse().unwrap()));
    }
}
