//! What the server knows about the request that carried an event: the
//! client's address and the envelope's `sent_at`, for normalization.
//!
//! The client address is the TCP peer's, unless the peer is a trusted
//! proxy (`[serve] trusted_proxies`): then it is the last address of
//! `X-Forwarded-For` that is not a trusted proxy's (each proxy appends the
//! address it got the request from, so the addresses before the last
//! untrusted one could have been written by the client itself).

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;
use sentry_core::envelope::EnvelopeHeaders;
use sentry_core::normalize::NormalizeConfig;
use sentry_core::protocol::Timestamp;

use crate::state::AppState;

/// The address of the client that sent a request, when the server runs
/// with connection info (tests driving the router directly have none).
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        Ok(Self(peer.map(|peer| {
            client_address(peer, &parts.headers, &state.trusted_proxies)
        })))
    }
}

/// The client's address: the peer's, or, when the peer is a trusted
/// proxy, the last address of `X-Forwarded-For` (all its headers, in
/// order) that is not a trusted proxy's; the peer's when the header names
/// none.
fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |address: &IpAddr| trusted.iter().any(|network| network.contains(address));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|address| address.trim().parse::<IpAddr>().ok())
        .map(|address| address.to_canonical())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|address| !is_trusted(address))
        .or_else(|| forwarded.first())
        .copied()
        .unwrap_or(peer)
}

/// The normalization config of an event received now: the envelope's
/// event id and `sent_at` (when it parses), and the client address.
pub fn normalize_config(
    received: Timestamp,
    headers: Option<&EnvelopeHeaders>,
    client_ip: ClientIp,
) -> NormalizeConfig {
    NormalizeConfig {
        envelope_event_id: headers.and_then(|headers| headers.event_id),
        sent_at: headers
            .and_then(|headers| headers.sent_at.as_deref())
            .and_then(Timestamp::parse_rfc3339),
        client_ip: client_ip.0,
        ..NormalizeConfig::new(received)
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let headers = forwarded(&["198.51.100.7"]);
        assert_eq!(
            client_address(ip("203.0.113.9"), &headers, &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &headers, &[]),
            ip("10.0.0.2"),
            "no proxy is trusted by default"
        );
    }

    #[test]
    fn behind_trusted_proxies_the_last_untrusted_forwarded_address_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        // The client wrote a fake first address; the edge proxy appended
        // the client's, the inner proxy the edge's.
        let headers = forwarded(&["1.2.3.4, 203.0.113.9", "10.1.2.3"]);
        assert_eq!(
            client_address(ip("10.0.0.2"), &headers, &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(
                ip("::ffff:10.0.0.2"),
                &forwarded(&["::ffff:203.0.113.9"]),
                &trusted
            ),
            ip("203.0.113.9"),
            "IPv4 in IPv6 as IPv4"
        );
        // Only proxies, or nothing usable: the first, else the peer.
        assert_eq!(
            client_address(ip("::1"), &forwarded(&["10.9.9.9, 10.8.8.8"]), &trusted),
            ip("10.9.9.9")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &forwarded(&["unknown"]), &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &HeaderMap::new(), &trusted),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn config_takes_sent_at_and_the_event_id_from_the_envelope() {
        let headers: EnvelopeHeaders = serde_json::from_str(
            r#"{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","sent_at":"2026-11-24T09:17:39.914422Z"}"#,
        )
        .unwrap();
        let received = Timestamp::now();
        let config = normalize_config(received, Some(&headers), ClientIp(None));
        assert_eq!(config.envelope_event_id, headers.event_id);
        assert_eq!(
            config
                .sent_at
                .map(|sent_at| sent_at.to_rfc3339())
                .as_deref(),
            Some("2026-11-24T09:17:39.914422Z")
        );
        let garbled: EnvelopeHeaders = serde_json::from_str(r#"{"sent_at":"yesterday"}"#).unwrap();
        assert_eq!(
            normalize_config(received, Some(&garbled), ClientIp(None)).sent_at,
            None
        );
    }
}
