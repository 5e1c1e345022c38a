//! Reading the spool back, in order, up to what is durable.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;

use super::record::{FRAME_HEADER, Submission, frame_header};
use super::{Counters, Position, segments};

/// A submission read back, with the position just after it.
#[derive(Debug)]
pub struct Spooled {
    /// The submission.
    pub submission: Submission,
    /// Where the next frame starts.
    pub next: Position,
}

/// The processing side of the spool: reads submissions in the order they
/// were appended and records how far processing got.
pub struct SpoolReader {
    files: Arc<Mutex<Files>>,
    durable: watch::Receiver<Position>,
}

/// The synchronous part, used on the blocking pool.
struct Files {
    dir: PathBuf,
    /// The next frame to read.
    position: Position,
    /// The segment open for reading, at `position`.
    open: Option<BufReader<File>>,
    /// Where the last commit got to.
    committed: Position,
    /// The oldest segment not yet deleted.
    oldest: u64,
    counters: Arc<Counters>,
}

impl SpoolReader {
    pub(super) fn new(
        dir: PathBuf,
        checkpoint: Position,
        durable: watch::Receiver<Position>,
        counters: Arc<Counters>,
    ) -> Self {
        Self {
            files: Arc::new(Mutex::new(Files {
                dir,
                position: checkpoint,
                open: None,
                committed: checkpoint,
                oldest: checkpoint.segment,
                counters,
            })),
            durable,
        }
    }

    /// Waits until something durable is unread, then reads up to `max`
    /// submissions, stopping early once their payloads reach `max_bytes`
    /// (a larger submission is read alone); returns none once the writer
    /// has stopped and all is read.
    ///
    /// # Errors
    ///
    /// When a segment cannot be read.
    pub async fn next_batch(&mut self, max: usize, max_bytes: usize) -> io::Result<Vec<Spooled>> {
        loop {
            let durable = loop {
                let durable = *self.durable.borrow_and_update();
                if self.files()?.position < durable {
                    break durable;
                }
                if self.durable.changed().await.is_err() {
                    return Ok(Vec::new());
                }
            };
            let files = Arc::clone(&self.files);
            let batch = tokio::task::spawn_blocking(move || {
                files
                    .lock()
                    .map_err(|_| io::Error::other("the spool reader panicked"))?
                    .read(durable, max, max_bytes)
            })
            .await
            .map_err(io::Error::other)??;
            // Reading may only have stepped past the ends of segments (after
            // a restart, the writer starts a new one behind the checkpoint):
            // an empty batch means the writer stopped, so wait for more.
            if !batch.is_empty() {
                return Ok(batch);
            }
        }
    }

    /// Records that everything before `position` is processed; deletes
    /// the segments wholly behind it.
    ///
    /// # Errors
    ///
    /// When the checkpoint cannot be written.
    pub fn commit(&mut self, position: Position) -> io::Result<()> {
        let mut files = self.files()?;
        segments::write_checkpoint(&files.dir, position)?;
        let processed = files.distance(files.committed, position);
        files
            .counters
            .processed
            .fetch_add(processed, Ordering::AcqRel);
        files.committed = position;
        files.oldest = segments::delete(&files.dir, files.oldest, position.segment);
        Ok(())
    }

    fn files(&self) -> io::Result<MutexGuard<'_, Files>> {
        self.files
            .lock()
            .map_err(|_| io::Error::other("the spool reader panicked"))
    }
}

impl Files {
    /// Reads up to `max` submissions, or `max_bytes` of payload, before `durable`.
    fn read(
        &mut self,
        durable: Position,
        max: usize,
        max_bytes: usize,
    ) -> io::Result<Vec<Spooled>> {
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        while batch.len() < max && bytes < max_bytes && self.position < durable {
            let sealed = self.position.segment < durable.segment;
            let end = if sealed { u64::MAX } else { durable.offset };
            match self.read_frame(end)? {
                Some(submission) => {
                    bytes = bytes.saturating_add(submission.payload.len());
                    batch.push(Spooled {
                        submission,
                        next: self.position,
                    });
                }
                // The end of a sealed segment, whole or torn.
                None if sealed => self.next_segment(),
                None => break,
            }
        }
        Ok(batch)
    }

    /// Reads the frame at the position if it ends by `end`; `None` at the
    /// end of the segment or at a frame that is torn or damaged.
    fn read_frame(&mut self, end: u64) -> io::Result<Option<Submission>> {
        let reader = match self.open.as_mut() {
            Some(reader) => reader,
            None => {
                let mut file = match File::open(segments::path(&self.dir, self.position.segment)) {
                    Ok(file) => file,
                    Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(error) => return Err(error),
                };
                file.seek(SeekFrom::Start(self.position.offset))?;
                self.open.insert(BufReader::with_capacity(1 << 20, file))
            }
        };
        let mut header = [0; FRAME_HEADER];
        if !read_whole(reader, &mut header)? {
            return Ok(None);
        }
        let (length, checksum) = frame_header(header);
        let frame_end = self.position.offset + (FRAME_HEADER + length) as u64;
        if frame_end > end {
            return Ok(None);
        }
        let mut body = vec![0; length];
        if !read_whole(reader, &mut body)? {
            return Ok(None);
        }
        match Submission::from_body(checksum, &body) {
            Ok(submission) => {
                self.position.offset = frame_end;
                Ok(Some(submission))
            }
            Err(error) => {
                tracing::warn!(
                    %error,
                    segment = self.position.segment,
                    offset = self.position.offset,
                    "the rest of a spool segment is unreadable; skipping it"
                );
                Ok(None)
            }
        }
    }

    fn next_segment(&mut self) {
        self.open = None;
        self.position = Position {
            segment: self.position.segment + 1,
            offset: 0,
        };
    }

    /// The bytes between two positions, counting sealed segments whole.
    fn distance(&self, from: Position, to: Position) -> u64 {
        if from.segment == to.segment {
            return to.offset.saturating_sub(from.offset);
        }
        let length = |segment| {
            std::fs::metadata(segments::path(&self.dir, segment)).map_or(0, |meta| meta.len())
        };
        let first = length(from.segment).saturating_sub(from.offset);
        let middle: u64 = (from.segment + 1..to.segment).map(length).sum();
        first + middle + to.offset
    }
}

/// Fills `buffer`; `false` when the file ends first.
fn read_whole(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<bool> {
    match reader.read_exact(buffer) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(error) => Err(error),
    }
}
