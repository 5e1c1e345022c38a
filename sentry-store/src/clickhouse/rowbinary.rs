//! ClickHouse's `RowBinary` format, for the few types this backend uses.
//!
//! Rows are their columns back to back, with no row or column separators:
//! integers little-endian at their width (`Date` is a `UInt16` of days
//! since 1970-01-01), `FixedString(N)` as N raw bytes, `String` as a LEB128
//! length and the bytes, `Array(T)` as a LEB128 count and the elements.
//! The format is the same from 18.16 to current releases.

use super::error::ChError;

/// Appends rows in `RowBinary`.
#[derive(Debug, Default)]
pub(super) struct RowWriter {
    buffer: Vec<u8>,
}

impl RowWriter {
    /// Starts a buffer with room for about `capacity` bytes.
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Self {
            buffer: Vec::with_capacity(capacity),
        }
    }

    /// Writes a `UInt64`.
    pub(super) fn u64(&mut self, value: u64) {
        self.buffer.extend_from_slice(&value.to_le_bytes());
    }

    /// Writes an `Int64`.
    pub(super) fn i64(&mut self, value: i64) {
        self.buffer.extend_from_slice(&value.to_le_bytes());
    }

    /// Writes a `UInt16`, or a `Date` as days since the epoch.
    pub(super) fn u16(&mut self, value: u16) {
        self.buffer.extend_from_slice(&value.to_le_bytes());
    }

    /// Writes a `FixedString(N)` of exactly these bytes.
    pub(super) fn fixed(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Writes a `String`: any bytes, not only UTF-8.
    pub(super) fn string(&mut self, bytes: &[u8]) {
        self.length(bytes.len());
        self.buffer.extend_from_slice(bytes);
    }

    /// Writes an `Array(String)`.
    pub(super) fn strings<'a>(&mut self, items: impl ExactSizeIterator<Item = &'a str>) {
        self.length(items.len());
        for item in items {
            self.string(item.as_bytes());
        }
    }

    /// Writes a length as unsigned LEB128.
    fn length(&mut self, length: usize) {
        let mut rest = length as u64;
        loop {
            let low = (rest & 0x7f) as u8;
            rest >>= 7;
            if rest == 0 {
                self.buffer.push(low);
                return;
            }
            self.buffer.push(low | 0x80);
        }
    }

    /// Returns the bytes written.
    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.buffer
    }
}

/// Reads rows in `RowBinary`; every read checks that the bytes are there.
#[derive(Debug)]
pub(super) struct RowReader<'a> {
    rest: &'a [u8],
}

impl<'a> RowReader<'a> {
    /// Reads from the start of an answer.
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// Whether every byte was read.
    pub(super) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Reads rows until the end, each with `row`.
    pub(super) fn rows<T>(
        mut self,
        mut row: impl FnMut(&mut Self) -> Result<T, ChError>,
    ) -> Result<Vec<T>, ChError> {
        let mut rows = Vec::new();
        while !self.is_empty() {
            rows.push(row(&mut self)?);
        }
        Ok(rows)
    }

    fn take(&mut self, count: usize) -> Result<&'a [u8], ChError> {
        if self.rest.len() < count {
            return Err(ChError::Decode("answer ends inside a value"));
        }
        let (taken, rest) = self.rest.split_at(count);
        self.rest = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ChError> {
        let mut bytes = [0; N];
        bytes.copy_from_slice(self.take(N)?);
        Ok(bytes)
    }

    /// Reads a `UInt8`.
    pub(super) fn u8(&mut self) -> Result<u8, ChError> {
        Ok(u8::from_le_bytes(self.array()?))
    }

    /// Reads a `UInt64`.
    pub(super) fn u64(&mut self) -> Result<u64, ChError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Reads an `Int64`.
    pub(super) fn i64(&mut self) -> Result<i64, ChError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// Reads a `UInt16`, or a `Date` as days since the epoch.
    pub(super) fn u16(&mut self) -> Result<u16, ChError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    /// Reads a `UInt32`.
    pub(super) fn u32(&mut self) -> Result<u32, ChError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Reads a `FixedString(N)`.
    pub(super) fn fixed<const N: usize>(&mut self) -> Result<[u8; N], ChError> {
        self.array()
    }

    /// Reads a `String` as bytes.
    pub(super) fn bytes(&mut self) -> Result<&'a [u8], ChError> {
        let length = self.length()?;
        self.take(length)
    }

    /// Reads a `String` that must be UTF-8.
    pub(super) fn string(&mut self) -> Result<String, ChError> {
        let bytes = self.bytes()?;
        String::from_utf8(bytes.to_vec()).map_err(|_| ChError::Decode("a string is not utf-8"))
    }

    /// Reads an `Array(String)` of UTF-8 strings.
    pub(super) fn strings(&mut self) -> Result<Vec<String>, ChError> {
        let count = self.length()?;
        // Each string takes at least its length byte: never reserve more
        // than the answer could hold.
        let mut items = Vec::with_capacity(count.min(self.rest.len()));
        for _ in 0..count {
            items.push(self.string()?);
        }
        Ok(items)
    }

    /// Reads an unsigned LEB128 length.
    fn length(&mut self) -> Result<usize, ChError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return usize::try_from(value).map_err(|_| ChError::Decode("length out of range"));
            }
        }
        Err(ChError::Decode("length has too many bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_lengths_as_leb128() {
        for (length, encoded) in [
            (0usize, vec![0x00u8]),
            (1, vec![0x01]),
            (127, vec![0x7f]),
            (128, vec![0x80, 0x01]),
            (300, vec![0xac, 0x02]),
            (16_384, vec![0x80, 0x80, 0x01]),
        ] {
            let mut writer = RowWriter::default();
            writer.length(length);
            assert_eq!(writer.into_bytes(), encoded, "length {length}");
        }
    }

    #[test]
    fn writes_integers_little_endian() {
        let mut writer = RowWriter::default();
        writer.u64(0x0102_0304_0506_0708);
        writer.i64(-2);
        writer.u16(0x0a0b);
        assert_eq!(
            writer.into_bytes(),
            [
                8, 7, 6, 5, 4, 3, 2, 1, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0b, 0x0a
            ]
        );
    }

    #[test]
    fn round_trips_every_type() {
        let long = "ü".repeat(10_000);
        let mut writer = RowWriter::with_capacity(16);
        writer.u64(u64::MAX);
        writer.i64(i64::MIN);
        writer.fixed(&[7; 16]);
        writer.string(b"\0\xff raw");
        writer.strings(["", "a'b\\c", long.as_str()].into_iter());
        writer.u16(65535);
        writer.u16(258);
        let bytes = writer.into_bytes();
        assert!(bytes.len() > 20_000);
        let mut reader = RowReader::new(&bytes);
        assert_eq!(reader.u64().unwrap(), u64::MAX);
        assert_eq!(reader.i64().unwrap(), i64::MIN);
        assert_eq!(reader.fixed::<16>().unwrap(), [7; 16]);
        assert_eq!(reader.bytes().unwrap(), b"\0\xff raw");
        assert_eq!(reader.strings().unwrap(), ["", "a'b\\c", long.as_str()]);
        assert_eq!(reader.u8().unwrap(), 0xff);
        assert_eq!(reader.u8().unwrap(), 0xff);
        assert_eq!(reader.u16().unwrap(), 258);
        assert!(reader.is_empty());
    }

    #[test]
    fn reads_rows_until_the_end() {
        let mut writer = RowWriter::default();
        for value in 1..=3 {
            writer.u64(value);
        }
        let bytes = writer.into_bytes();
        let rows = RowReader::new(&bytes).rows(RowReader::u64).unwrap();
        assert_eq!(rows, [1, 2, 3]);
    }

    #[test]
    fn rejects_truncated_and_malformed_answers() {
        assert!(RowReader::new(&[1, 2, 3]).u64().is_err());
        assert!(RowReader::new(&[5, b'a']).bytes().is_err());
        assert!(RowReader::new(&[0x80]).bytes().is_err());
        assert!(RowReader::new(&[0xff; 11]).bytes().is_err());
        assert!(RowReader::new(&[2, 0xc3, 0x28]).string().is_err());
        // A huge count with nothing behind it fails without reserving memory.
        assert!(
            RowReader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
                .strings()
                .is_err()
        );
        assert!(RowReader::new(&[1, 2, 3]).rows(RowReader::u64).is_err());
    }
}
