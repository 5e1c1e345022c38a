//! The reports about a host's TLS setup: HTTP Public Key Pinning (RFC
//! 7469), Expect-CT and Expect-Staple. Each names the host it failed for,
//! which is the culprit, the URL and the first tag.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::EventParts;

/// Reads an RFC 3339 date and writes it back in one form
/// (`2014-04-06T13:00:50+00:00`), as Relay does.
fn date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(&text)
        .map(|date| Some(date.with_timezone(&Utc).to_rfc3339()))
        .map_err(serde::de::Error::custom)
}

/// Reads a string that must be one of a few values.
fn one_of<'de, D: Deserializer<'de>>(
    deserializer: D,
    allowed: &'static [&'static str],
) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    match value {
        Some(text) if !allowed.contains(&text.as_str()) => {
            Err(serde::de::Error::unknown_variant(&text, allowed))
        }
        value => Ok(value),
    }
}

/// The tags all three share: the host name and, when sent, the port.
fn host_tags(hostname: &str, port: Option<i64>) -> Vec<(String, String)> {
    let mut tags = vec![("hostname".to_owned(), hostname.to_owned())];
    if let Some(port) = port {
        tags.push(("port".to_owned(), port.to_string()));
    }
    tags
}

fn parts(
    message: String,
    hostname: &str,
    tags: Vec<(String, String)>,
    interface: &impl Serialize,
) -> EventParts {
    EventParts {
        message,
        culprit: hostname.to_owned(),
        tags,
        url: Some(hostname.to_owned()),
        headers: Vec::new(),
        interface: serde_json::to_value(interface).unwrap_or_default(),
    }
}

/// An HPKP pin validation failure report (RFC 7469, section 3), sent as a
/// bare object; also the `hpkp` interface.
#[serde_with::skip_serializing_none]
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(deserialize = "kebab-case"))]
pub(super) struct Hpkp {
    #[serde(default, deserialize_with = "date")]
    date_time: Option<String>,
    hostname: String,
    port: Option<i64>,
    #[serde(default, deserialize_with = "date")]
    effective_expiration_date: Option<String>,
    include_subdomains: Option<bool>,
    noted_hostname: Option<String>,
    served_certificate_chain: Option<Vec<String>>,
    validated_certificate_chain: Option<Vec<String>>,
    known_pins: Vec<String>,
    #[serde(flatten)]
    other: serde_json::Map<String, Value>,
}

impl Hpkp {
    pub(super) fn into_parts(self) -> EventParts {
        let mut tags = host_tags(&self.hostname, self.port);
        if let Some(include) = self.include_subdomains {
            tags.push(("include-subdomains".to_owned(), include.to_string()));
        }
        let message = format!(
            "Public key pinning validation failed for '{}'",
            self.hostname
        );
        parts(message, &self.hostname, tags, &self)
    }
}

/// An Expect-CT failure report, sent as `{"expect-ct-report": {...}}`;
/// also the `expectct` interface.
#[serde_with::skip_serializing_none]
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(deserialize = "kebab-case"))]
pub(super) struct ExpectCt {
    #[serde(default, deserialize_with = "date")]
    date_time: Option<String>,
    hostname: String,
    port: Option<i64>,
    scheme: Option<String>,
    #[serde(default, deserialize_with = "date")]
    effective_expiration_date: Option<String>,
    #[serde(default)]
    served_certificate_chain: Vec<String>,
    #[serde(default)]
    validated_certificate_chain: Vec<String>,
    scts: Option<Vec<SignedCertificateTimestamp>>,
    failure_mode: Option<String>,
    test_report: Option<bool>,
}

/// One SCT of an Expect-CT report.
#[serde_with::skip_serializing_none]
#[derive(Debug, Deserialize, Serialize)]
struct SignedCertificateTimestamp {
    version: Option<i64>,
    #[serde(default, deserialize_with = "sct_status")]
    status: Option<String>,
    #[serde(default, deserialize_with = "sct_source")]
    source: Option<String>,
    serialized_sct: Option<String>,
}

fn sct_status<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    one_of(deserializer, &["unknown", "valid", "invalid"])
}

fn sct_source<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    one_of(deserializer, &["tls-extension", "ocsp", "embedded"])
}

impl ExpectCt {
    pub(super) fn into_parts(self) -> EventParts {
        let tags = host_tags(&self.hostname, self.port);
        let message = format!("Expect-CT failed for '{}'", self.hostname);
        parts(message, &self.hostname, tags, &self)
    }
}

/// An Expect-Staple (OCSP stapling) failure report, sent as
/// `{"expect-staple-report": {...}}`; also the `expectstaple` interface.
#[serde_with::skip_serializing_none]
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(deserialize = "kebab-case"))]
pub(super) struct ExpectStaple {
    #[serde(default, deserialize_with = "date")]
    date_time: Option<String>,
    hostname: String,
    port: Option<i64>,
    #[serde(default, deserialize_with = "date")]
    effective_expiration_date: Option<String>,
    #[serde(default, deserialize_with = "response_status")]
    response_status: Option<String>,
    ocsp_response: Option<Value>,
    #[serde(default, deserialize_with = "cert_status")]
    cert_status: Option<String>,
    served_certificate_chain: Option<Vec<String>>,
    validated_certificate_chain: Option<Vec<String>>,
}

fn response_status<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    one_of(
        deserializer,
        &[
            "MISSING",
            "PROVIDED",
            "ERROR_RESPONSE",
            "BAD_PRODUCED_AT",
            "NO_MATCHING_RESPONSE",
            "INVALID_DATE",
            "PARSE_RESPONSE_ERROR",
            "PARSE_RESPONSE_DATA_ERROR",
        ],
    )
}

fn cert_status<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    one_of(deserializer, &["GOOD", "REVOKED", "UNKNOWN"])
}

impl ExpectStaple {
    pub(super) fn into_parts(self) -> EventParts {
        let mut tags = host_tags(&self.hostname, self.port);
        if let Some(status) = &self.response_status {
            tags.push(("response_status".to_owned(), status.clone()));
        }
        if let Some(status) = &self.cert_status {
            tags.push(("cert_status".to_owned(), status.clone()));
        }
        let message = format!("Expect-Staple failed for '{}'", self.hostname);
        parts(message, &self.hostname, tags, &self)
    }
}
