//! What the server knows about the request that carried an event: the
//! client's address and the envelope's `sent_at`, for normalization.
//!
//! The client address is the TCP peer's; a proxy in front of the server
//! would need a trusted-proxy setting to use `X-Forwarded-For`, which the
//! server does not have yet.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use sentry_core::envelope::EnvelopeHeaders;
use sentry_core::normalize::NormalizeConfig;
use sentry_core::protocol::Timestamp;

/// The address of the client that sent a request, when the server runs
/// with connection info (tests driving the router directly have none).
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip().to_canonical());
        Ok(Self(peer))
    }
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
    use axum::http::Request;

    use super::*;

    async fn client_ip_of(request: Request<()>) -> ClientIp {
        let (mut parts, ()) = request.into_parts();
        match ClientIp::from_request_parts(&mut parts, &()).await {
            Ok(ip) => ip,
            Err(never) => match never {},
        }
    }

    #[tokio::test]
    async fn client_ip_is_the_peer_address() {
        let peer: SocketAddr = "[::ffff:203.0.113.9]:5555".parse().unwrap();
        let request = Request::builder()
            .extension(ConnectInfo(peer))
            .body(())
            .unwrap();
        let ClientIp(ip) = client_ip_of(request).await;
        assert_eq!(ip, "203.0.113.9".parse().ok());
        let ClientIp(none) = client_ip_of(Request::new(())).await;
        assert_eq!(none, None);
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
