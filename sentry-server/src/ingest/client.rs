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
