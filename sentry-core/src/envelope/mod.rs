//! The envelope: the format SDKs send to `POST /api/<project_id>/envelope/`.
//!
//! An envelope is a header line followed by items. Each item is an item
//! header line and a payload:
//!
//! ```text
//! {"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","sent_at":"2026-11-24T09:12:33Z"}\n
//! {"type":"event","length":41}\n
//! {"message":"hello","level":"info","x":1}\n
//! {"type":"attachment","length":5,"filename":"a.txt"}\n
//! hello\n
//! ```
//!
//! - The envelope header is a JSON object on one line; it may be `{}`. Its
//!   `event_id` is 32 hex digits or a hyphenated UUID.
//! - An item header is a JSON object on one line with at least `type`. With
//!   `length`, the payload is exactly that many bytes and may contain
//!   newlines; without it, the payload runs to the next `\n` or the end.
//! - A newline follows each payload; after the last one it is optional.
//!
//! Parsing borrows payloads from the request body ([`bytes::Bytes::slice`]),
//! so nothing is copied. [`Envelope::to_bytes`] writes every item with its
//! `length`, and parsing what it writes gives the same envelope back.

mod item;
mod parse;

pub use self::item::{Item, ItemHeaders, ItemType};
pub use self::parse::{ParseError, ParseErrorKind};

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use crate::ids::EventId;
use crate::protocol::Other;

/// A parsed envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The envelope header.
    pub headers: EnvelopeHeaders,
    /// The items, in the order sent.
    pub items: Vec<Item>,
}

/// The first line of an envelope.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvelopeHeaders {
    /// The id of the event the envelope carries, if any.
    pub event_id: Option<EventId>,
    /// The DSN the SDK was configured with; an alternative to the auth header.
    pub dsn: Option<String>,
    /// When the SDK sent the envelope, RFC 3339.
    pub sent_at: Option<String>,
    /// The SDK that sent the envelope.
    pub sdk: Option<serde_json::Value>,
    /// The dynamic sampling context of the trace.
    pub trace: Option<serde_json::Value>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: Other,
}

impl Envelope {
    /// Parses an envelope without copying payloads.
    ///
    /// # Errors
    ///
    /// Fails with the byte offset of the first malformed header, a length
    /// past the end, or a missing newline after a sized payload.
    pub fn parse(body: Bytes) -> Result<Self, ParseError> {
        parse::parse(body)
    }

    /// Writes the envelope, every item with its `length` and a newline.
    pub fn to_bytes(&self) -> Bytes {
        let payload_len: usize = self.items.iter().map(|item| item.payload.len() + 64).sum();
        let mut out = BytesMut::with_capacity(payload_len + 256).writer();
        // Serializing plain maps and strings into memory cannot fail.
        let _ = serde_json::to_writer(&mut out, &self.headers);
        let mut out = out.into_inner();
        out.put_u8(b'\n');
        for item in &self.items {
            out.extend_from_slice(&item.headers.to_json_line(item.payload.len()));
            out.put_u8(b'\n');
            out.extend_from_slice(&item.payload);
            out.put_u8(b'\n');
        }
        out.freeze()
    }

    /// Returns the first item of a type.
    pub fn item(&self, ty: &ItemType) -> Option<&Item> {
        self.items.iter().find(|item| &item.headers.ty == ty)
    }
}
