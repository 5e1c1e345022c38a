//! Reading an envelope from bytes.

use bytes::Bytes;

use super::{Envelope, EnvelopeHeaders, Item, ItemHeaders};

/// What is wrong with an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The body is empty.
    #[error("empty envelope")]
    Empty,
    /// The header line is not a JSON object of the expected shape.
    #[error("invalid envelope header")]
    InvalidHeader,
    /// An item header line is not a JSON object with a `type`.
    #[error("invalid item header")]
    InvalidItemHeader,
    /// An item's `length` runs past the end of the body.
    #[error("item length exceeds the envelope")]
    LengthExceedsBody,
    /// A sized payload is not followed by a newline.
    #[error("missing newline after item payload")]
    MissingNewline,
}

/// An envelope that could not be parsed, with the byte offset of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}{}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
pub struct ParseError {
    kind: ParseErrorKind,
    offset: usize,
    detail: Option<String>,
}

impl ParseError {
    fn new(kind: ParseErrorKind, offset: usize) -> Self {
        Self {
            kind,
            offset,
            detail: None,
        }
    }

    fn with_detail(kind: ParseErrorKind, offset: usize, detail: &serde_json::Error) -> Self {
        Self {
            kind,
            offset,
            detail: Some(detail.to_string()),
        }
    }

    /// Returns what is wrong.
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// Returns the byte offset at which the problem starts.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

/// Returns the line starting at `start` (without its newline) and the offset after it.
fn line(body: &[u8], start: usize) -> (&[u8], usize) {
    let rest = &body[start..];
    match rest.iter().position(|&b| b == b'\n') {
        Some(end) => (&rest[..end], start + end + 1),
        None => (rest, body.len()),
    }
}

#[derive(serde::Deserialize)]
struct SizedHeaders {
    length: Option<u64>,
    #[serde(flatten)]
    headers: ItemHeaders,
}

pub(super) fn parse(body: Bytes) -> Result<Envelope, ParseError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::new(ParseErrorKind::Empty, 0));
    }
    let (header_line, mut pos) = line(&body, 0);
    let headers: EnvelopeHeaders = serde_json::from_slice(header_line)
        .map_err(|e| ParseError::with_detail(ParseErrorKind::InvalidHeader, 0, &e))?;

    let mut items = Vec::new();
    while pos < body.len() {
        let item_start = pos;
        let (header_line, after_header) = line(&body, pos);
        if header_line.iter().all(u8::is_ascii_whitespace) {
            pos = after_header;
            continue;
        }
        let sized: SizedHeaders = serde_json::from_slice(header_line).map_err(|e| {
            ParseError::with_detail(ParseErrorKind::InvalidItemHeader, item_start, &e)
        })?;
        pos = after_header;
        let payload = match sized.length {
            Some(length) => {
                let end = usize::try_from(length)
                    .ok()
                    .and_then(|length| pos.checked_add(length))
                    .filter(|&end| end <= body.len())
                    .ok_or_else(|| {
                        ParseError::new(ParseErrorKind::LengthExceedsBody, item_start)
                    })?;
                let payload = body.slice(pos..end);
                pos = end;
                match body.get(pos) {
                    None => {}
                    Some(b'\n') => pos += 1,
                    Some(_) => return Err(ParseError::new(ParseErrorKind::MissingNewline, pos)),
                }
                payload
            }
            None => {
                let (payload, next) = line(&body, pos);
                let payload = body.slice(pos..pos + payload.len());
                pos = next;
                payload
            }
        };
        items.push(Item {
            headers: sized.headers,
            payload,
        });
    }
    Ok(Envelope { headers, items })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::ItemType;

    fn parse_str(text: &str) -> Result<Envelope, ParseError> {
        Envelope::parse(Bytes::copy_from_slice(text.as_bytes()))
    }

    #[test]
    fn reads_sized_and_unsized_items() {
        let envelope = parse_str(
            "{\"event_id\":\"9ec79c33-ec99-42ab-8353-589fcb2e04dc\"}\n{\"type\":\"event\"}\n{\"a\":1}\n{\"type\":\"attachment\",\"length\":3}\na\nb",
        )
        .unwrap();
        assert_eq!(
            envelope.headers.event_id.unwrap().to_string(),
            "9ec79c33ec9942ab8353589fcb2e04dc"
        );
        assert_eq!(envelope.items.len(), 2);
        assert_eq!(&envelope.items[0].payload[..], b"{\"a\":1}");
        assert_eq!(envelope.items[1].headers.ty, ItemType::Attachment);
        assert_eq!(&envelope.items[1].payload[..], b"a\nb");
    }

    #[test]
    fn reads_empty_header_and_unknown_types() {
        let envelope = parse_str("{}\n{\"type\":\"mystery\",\"length\":2}\nhi\n").unwrap();
        assert_eq!(envelope.headers, EnvelopeHeaders::default());
        assert_eq!(
            envelope.items[0].headers.ty,
            ItemType::Unknown("mystery".to_owned())
        );
    }

    #[test]
    fn payload_shares_the_body_buffer() {
        let body = Bytes::from_static(b"{}\n{\"type\":\"event\",\"length\":2}\n{}\n");
        let envelope = Envelope::parse(body.clone()).unwrap();
        let payload = &envelope.items[0].payload;
        assert_eq!(payload.as_ptr(), body[31..].as_ptr());
    }

    #[test]
    fn reports_offsets() {
        let err = parse_str("{}\n{\"type\":\"event\",\"length\":10}\nshort").unwrap_err();
        assert_eq!(err.kind(), ParseErrorKind::LengthExceedsBody);
        assert_eq!(err.offset(), 3);

        let err = parse_str("{}\n{\"type\":\"event\",\"length\":2}\nabc").unwrap_err();
        assert_eq!(err.kind(), ParseErrorKind::MissingNewline);
        assert_eq!(err.offset(), 33);

        let err = parse_str("{}\nnot json\n").unwrap_err();
        assert_eq!(err.kind(), ParseErrorKind::InvalidItemHeader);
        assert_eq!(err.offset(), 3);
        assert!(err.to_string().starts_with("invalid item header at byte 3"));

        let err = parse_str("[1]\n").unwrap_err();
        assert_eq!(err.kind(), ParseErrorKind::InvalidHeader);
        assert_eq!(parse_str("").unwrap_err().kind(), ParseErrorKind::Empty);
    }

    #[test]
    fn rejects_bad_event_id() {
        let err = parse_str("{\"event_id\":\"nope\"}\n").unwrap_err();
        assert_eq!(err.kind(), ParseErrorKind::InvalidHeader);
    }

    #[test]
    fn write_then_parse_is_identity() {
        let original = parse_str(
            "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"x\":[1]}\n{\"type\":\"event\"}\n{}\n{\"type\":\"attachment\",\"length\":3,\"filename\":\"f\"}\na\nb",
        )
        .unwrap();
        let written = original.to_bytes();
        assert_eq!(Envelope::parse(written).unwrap(), original);
    }
}
