//! The size and count limits of an envelope, checked before it is
//! spooled. As in Relay, an envelope over any limit is refused whole
//! (413), so that an SDK learns of it at once.

use sentry_core::Envelope;
use sentry_core::envelope::ItemType;

use crate::config::IngestLimits;

/// Which limit an envelope is over, as the answer's detail says it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitExceeded {
    /// One item is too large.
    #[error("{item} item exceeds the limit of {limit} bytes")]
    ItemSize {
        /// The item type.
        item: String,
        /// The limit.
        limit: usize,
    },
    /// The attachments together are too large.
    #[error("attachments exceed the limit of {limit} bytes per envelope")]
    AttachmentsSize {
        /// The limit.
        limit: usize,
    },
    /// Too many items of a kind.
    #[error("envelope exceeds the limit of {limit} {what}")]
    Count {
        /// What is counted.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
}

/// The size limit of one item of a type.
pub fn item_limit(limits: &IngestLimits, ty: &ItemType) -> usize {
    match ty {
        ItemType::Event
        | ItemType::Transaction
        | ItemType::UserReport
        | ItemType::Feedback
        | ItemType::Security => limits.max_event_size,
        ItemType::Attachment => limits.max_attachment_size,
        ItemType::CheckIn => limits.max_check_in_size,
        _ => limits.max_item_size,
    }
}

/// Checks an envelope's items against the limits.
///
/// # Errors
///
/// The first limit the envelope is over.
pub fn check(limits: &IngestLimits, envelope: &Envelope) -> Result<(), LimitExceeded> {
    let mut attachments = 0usize;
    let mut attachment_bytes = 0usize;
    let mut sessions = 0usize;
    for item in &envelope.items {
        let limit = item_limit(limits, &item.headers.ty);
        if item.payload.len() > limit {
            return Err(LimitExceeded::ItemSize {
                item: item.headers.ty.as_str().to_owned(),
                limit,
            });
        }
        match item.headers.ty {
            ItemType::Attachment => {
                attachments += 1;
                attachment_bytes = attachment_bytes.saturating_add(item.payload.len());
            }
            ItemType::Session | ItemType::Sessions => sessions += 1,
            _ => {}
        }
    }
    if attachments > limits.max_attachments_per_envelope {
        return Err(LimitExceeded::Count {
            what: "attachments",
            limit: limits.max_attachments_per_envelope,
        });
    }
    if attachment_bytes > limits.max_attachments_size {
        return Err(LimitExceeded::AttachmentsSize {
            limit: limits.max_attachments_size,
        });
    }
    if sessions > limits.max_session_count {
        return Err(LimitExceeded::Count {
            what: "session items",
            limit: limits.max_session_count,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn envelope(items: &[(&str, usize)]) -> Envelope {
        let mut body = String::from("{}\n");
        for (ty, size) in items {
            body.push_str(&format!("{{\"type\":\"{ty}\",\"length\":{size}}}\n"));
            body.push_str(&"x".repeat(*size));
            body.push('\n');
        }
        Envelope::parse(Bytes::from(body)).unwrap()
    }

    fn limits() -> IngestLimits {
        IngestLimits {
            max_event_size: 10,
            max_attachment_size: 20,
            max_attachments_size: 30,
            max_attachments_per_envelope: 3,
            max_session_count: 2,
            max_check_in_size: 5,
            max_item_size: 8,
            ..IngestLimits::default()
        }
    }

    #[test]
    fn envelopes_within_the_limits_pass() {
        let within = envelope(&[
            ("event", 10),
            ("attachment", 20),
            ("attachment", 10),
            ("session", 1),
            ("sessions", 1),
            ("check_in", 5),
            ("client_report", 8),
        ]);
        assert_eq!(check(&limits(), &within), Ok(()));
    }

    #[test]
    fn each_limit_is_named() {
        let cases = [
            (
                envelope(&[("event", 11)]),
                "event item exceeds the limit of 10 bytes",
            ),
            (
                envelope(&[("check_in", 6)]),
                "check_in item exceeds the limit of 5 bytes",
            ),
            (
                envelope(&[("log", 9)]),
                "log item exceeds the limit of 8 bytes",
            ),
            (
                envelope(&[("attachment", 20), ("attachment", 20)]),
                "attachments exceed the limit of 30 bytes per envelope",
            ),
            (
                envelope(&[("attachment", 1); 4]),
                "envelope exceeds the limit of 3 attachments",
            ),
            (
                envelope(&[("session", 1), ("session", 1), ("sessions", 1)]),
                "envelope exceeds the limit of 2 session items",
            ),
        ];
        for (envelope, message) in cases {
            let error = check(&limits(), &envelope).unwrap_err();
            assert_eq!(error.to_string(), message);
        }
    }
}
