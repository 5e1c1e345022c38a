//! IP addresses: `{{auto}}` becomes the client's address, and an address
//! that does not parse is dropped.
//!
//! SDKs ask for the sender's address with the placeholder `{{auto}}` in
//! `user.ip_address` (and older ones in `request.env.REMOTE_ADDR`). Browser
//! and Apple SDKs that send no address at all get the client's address
//! too, as Relay does for those platforms.

use std::net::IpAddr;

use serde_json::Value;

use super::errors::{ErrorKind, ProcessingError};
use crate::protocol::{Event, User};

/// The placeholder SDKs send for "the address this request came from".
pub const AUTO_IP: &str = "{{auto}}";

/// Platforms whose events get the client's address when they send none.
const INFER_IP_PLATFORMS: [&str; 3] = ["javascript", "cocoa", "objc"];

/// Fills `{{auto}}` with the client address and drops invalid addresses.
pub(crate) fn normalize_ip_addresses(
    event: &mut Event,
    client_ip: Option<IpAddr>,
    errors: &mut Vec<ProcessingError>,
) {
    let client_ip = client_ip.map(|ip| ip.to_string());
    if let Some(env) = event
        .request
        .as_mut()
        .and_then(|request| request.env.as_mut())
        .and_then(Value::as_object_mut)
    {
        if env.get("REMOTE_ADDR").and_then(Value::as_str) == Some(AUTO_IP) {
            match &client_ip {
                Some(ip) => {
                    env.insert("REMOTE_ADDR".to_owned(), ip.clone().into());
                }
                None => {
                    env.remove("REMOTE_ADDR");
                }
            }
        }
    }

    let infer = event
        .platform
        .as_deref()
        .is_some_and(|platform| INFER_IP_PLATFORMS.contains(&platform));
    let user_ip = event
        .user
        .as_ref()
        .and_then(|user| user.ip_address.as_deref());
    let wants_client_ip = match user_ip {
        Some(ip) => ip == AUTO_IP,
        None => infer,
    };
    if wants_client_ip {
        if let Some(ip) = client_ip {
            event.user.get_or_insert_with(User::default).ip_address = Some(ip);
        } else if let Some(user) = event.user.as_mut() {
            user.ip_address = None;
        }
    }

    if let Some(user) = event.user.as_mut() {
        if let Some(ip) = user.ip_address.take() {
            if ip.trim().parse::<IpAddr>().is_ok() {
                user.ip_address = Some(ip.trim().to_owned());
            } else {
                errors.push(
                    ProcessingError::new(ErrorKind::InvalidData, "user.ip_address").with_value(ip),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn client() -> Option<IpAddr> {
        "203.0.113.7".parse().ok()
    }

    fn run(event: &mut Event, client_ip: Option<IpAddr>) -> Vec<ProcessingError> {
        let mut errors = Vec::new();
        normalize_ip_addresses(event, client_ip, &mut errors);
        errors
    }

    fn user_ip(event: &Event) -> Option<&str> {
        event.user.as_ref()?.ip_address.as_deref()
    }

    #[test]
    fn auto_becomes_client_address() {
        let mut event: Event = serde_json::from_value(json!({
            "user": {"ip_address": "{{auto}}"},
            "request": {"env": {"REMOTE_ADDR": "{{auto}}"}},
        }))
        .unwrap();
        assert!(run(&mut event, client()).is_empty());
        assert_eq!(user_ip(&event), Some("203.0.113.7"));
        let env = event.request.unwrap().env.unwrap();
        assert_eq!(env["REMOTE_ADDR"], "203.0.113.7");
    }

    #[test]
    fn auto_without_client_address_is_dropped() {
        let mut event: Event =
            serde_json::from_value(json!({"user": {"ip_address": "{{auto}}"}})).unwrap();
        assert!(run(&mut event, None).is_empty());
        assert_eq!(user_ip(&event), None);
    }

    #[test]
    fn explicit_address_is_kept() {
        let mut event: Event =
            serde_json::from_value(json!({"user": {"ip_address": "198.51.100.1"}})).unwrap();
        run(&mut event, client());
        assert_eq!(user_ip(&event), Some("198.51.100.1"));
    }

    #[test]
    fn browser_events_without_address_get_the_client_address() {
        let mut event: Event = serde_json::from_value(json!({"platform": "javascript"})).unwrap();
        run(&mut event, client());
        assert_eq!(user_ip(&event), Some("203.0.113.7"));
        let mut python: Event = serde_json::from_value(json!({"platform": "python"})).unwrap();
        run(&mut python, client());
        assert_eq!(python.user, None);
    }

    #[test]
    fn invalid_address_is_dropped_with_an_error() {
        let mut event: Event =
            serde_json::from_value(json!({"user": {"ip_address": "not an ip", "id": 1}})).unwrap();
        let errors = run(&mut event, client());
        assert_eq!(user_ip(&event), None);
        assert_eq!(
            errors[0].to_json(),
            json!({"type": "invalid_data", "name": "user.ip_address", "value": "not an ip"})
        );
    }
}
