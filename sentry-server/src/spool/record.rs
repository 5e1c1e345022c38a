//! What one request puts in the spool, and how it is framed on disk.
//!
//! A frame is the length of its body (u32, little endian), the CRC-32 of
//! the body, then the body. A body is a format version, the kind of
//! submission, the project, the receive time, the event id the client was
//! answered with (all zeros for none), the client address and the request
//! payload, decoded. A frame whose length or checksum does not hold marks
//! the end of what was written whole.

use std::net::IpAddr;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use sentry_core::protocol::Timestamp;
use sentry_core::{EventId, ProjectId};

/// The bytes before a frame's body: its length and checksum.
pub const FRAME_HEADER: usize = 8;

/// The format version of a body.
const VERSION: u8 = 1;

/// What a request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An envelope (`/envelope/`).
    Envelope,
    /// A bare event's JSON (`/store/`).
    Event,
}

/// One accepted request, as the spool keeps it until it is processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// What the payload is.
    pub kind: Kind,
    /// The project it was sent to.
    pub project_id: ProjectId,
    /// When the server received it.
    pub received: Timestamp,
    /// The id of its event, as answered to the client, when it has one.
    pub event_id: Option<EventId>,
    /// The address of the client.
    pub client_ip: Option<IpAddr>,
    /// The payload, decoded.
    pub payload: Bytes,
}

/// Why a frame could not be read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The bytes end inside the frame: a write that did not finish.
    #[error("the frame is cut short")]
    Truncated,
    /// The checksum does not match the body.
    #[error("the frame's checksum does not match")]
    Checksum,
    /// The body is not a submission of a known version.
    #[error("the frame's body is not a submission")]
    Malformed,
}

impl Submission {
    /// Frames the submission for the spool.
    pub fn to_frame(&self) -> Vec<u8> {
        // An address is at most 45 characters; anything longer is dropped.
        let ip = self
            .client_ip
            .map(|ip| ip.to_string())
            .filter(|ip| ip.len() <= usize::from(u8::MAX))
            .unwrap_or_default();
        let mut body = BytesMut::with_capacity(40 + ip.len() + self.payload.len());
        body.put_u8(VERSION);
        body.put_u8(match self.kind {
            Kind::Envelope => 0,
            Kind::Event => 1,
        });
        body.put_u64_le(self.project_id.0);
        body.put_i64_le(self.received.as_unix_micros());
        body.put_slice(
            self.event_id
                .map_or([0; 16], |id| *id.as_bytes())
                .as_slice(),
        );
        body.put_u8(u8::try_from(ip.len()).unwrap_or(0));
        body.put_slice(ip.as_bytes());
        body.put_slice(&self.payload);
        let mut frame = Vec::with_capacity(FRAME_HEADER + body.len());
        // The spool refuses payloads near 4 GiB long before they get here.
        frame.put_u32_le(u32::try_from(body.len()).unwrap_or(u32::MAX));
        frame.put_u32_le(crc32fast::hash(&body));
        frame.extend_from_slice(&body);
        frame
    }

    /// Reads the frame at the start of `bytes`; returns the submission and
    /// the frame's length.
    ///
    /// # Errors
    ///
    /// [`FrameError`] when the bytes do not start with a whole, intact frame.
    pub fn from_frame(bytes: &[u8]) -> Result<(Self, usize), FrameError> {
        let header: [u8; FRAME_HEADER] = bytes
            .get(..FRAME_HEADER)
            .and_then(|header| header.try_into().ok())
            .ok_or(FrameError::Truncated)?;
        let (length, checksum) = frame_header(header);
        let body = bytes
            .get(FRAME_HEADER..FRAME_HEADER + length)
            .ok_or(FrameError::Truncated)?;
        Ok((Self::from_body(checksum, body)?, FRAME_HEADER + length))
    }

    /// Reads a frame's body, given the checksum from its header.
    ///
    /// # Errors
    ///
    /// [`FrameError`] when the checksum does not match or the body is not a
    /// submission.
    pub fn from_body(checksum: u32, body: &[u8]) -> Result<Self, FrameError> {
        if crc32fast::hash(body) != checksum {
            return Err(FrameError::Checksum);
        }
        Self::decode(body)
    }

    fn decode(mut body: &[u8]) -> Result<Self, FrameError> {
        if body.remaining() < 35 || body.get_u8() != VERSION {
            return Err(FrameError::Malformed);
        }
        let kind = match body.get_u8() {
            0 => Kind::Envelope,
            1 => Kind::Event,
            _ => return Err(FrameError::Malformed),
        };
        let project_id = ProjectId(body.get_u64_le());
        let received =
            Timestamp::from_unix_micros(body.get_i64_le()).ok_or(FrameError::Malformed)?;
        let mut id = [0; 16];
        body.copy_to_slice(&mut id);
        let event_id = (id != [0; 16]).then(|| EventId::from_bytes(id));
        let ip_length = usize::from(body.get_u8());
        let ip = body.get(..ip_length).ok_or(FrameError::Malformed)?;
        let client_ip = std::str::from_utf8(ip).ok().and_then(|ip| ip.parse().ok());
        let payload = Bytes::copy_from_slice(&body[ip_length..]);
        Ok(Self {
            kind,
            project_id,
            received,
            event_id,
            client_ip,
            payload,
        })
    }
}

/// Reads a frame header: the length of the body and its checksum.
pub fn frame_header(header: [u8; FRAME_HEADER]) -> (usize, u32) {
    let mut bytes = &header[..];
    (bytes.get_u32_le() as usize, bytes.get_u32_le())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submission() -> Submission {
        Submission {
            kind: Kind::Envelope,
            project_id: ProjectId(42),
            received: Timestamp::from_unix_micros(1_700_000_000_123_456).unwrap(),
            event_id: Some(EventId::new_random()),
            client_ip: Some("2001:db8::1".parse().unwrap()),
            payload: Bytes::from_static(b"{}\n{\"type\":\"event\"}\n{}\n"),
        }
    }

    #[test]
    fn a_frame_reads_back_as_written() {
        let written = submission();
        let mut frame = written.to_frame();
        frame.extend_from_slice(b"next frame");
        let (read, length) = Submission::from_frame(&frame).unwrap();
        assert_eq!(read, written);
        assert_eq!(&frame[length..], b"next frame");
        let bare = Submission {
            kind: Kind::Event,
            event_id: None,
            client_ip: None,
            ..written
        };
        assert_eq!(Submission::from_frame(&bare.to_frame()).unwrap().0, bare);
    }

    #[test]
    fn a_cut_or_damaged_frame_is_refused() {
        let frame = submission().to_frame();
        for cut in [0, 3, FRAME_HEADER, frame.len() - 1] {
            assert_eq!(
                Submission::from_frame(&frame[..cut]),
                Err(FrameError::Truncated),
                "cut at {cut}"
            );
        }
        let mut damaged = frame.clone();
        damaged[FRAME_HEADER + 20] ^= 1;
        assert_eq!(Submission::from_frame(&damaged), Err(FrameError::Checksum));
        let mut zeros = vec![0; 64];
        zeros[0] = 4;
        assert_eq!(
            Submission::from_frame(&zeros),
            Err(FrameError::Checksum),
            "zeros after a crash are no frame"
        );
    }
}
