//! The writer thread: group commit of appends to the current segment.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::{mpsc, watch};

use super::{Append, Counters, Position, segments};

/// The most bytes written between two syncs.
const MAX_GROUP_BYTES: usize = 8 << 20;

/// Starts the writer thread on a new segment; it stops when every
/// [`super::Spool`] is dropped.
pub fn start(
    dir: PathBuf,
    segment: u64,
    segment_size: u64,
    appends: mpsc::Receiver<Append>,
    durable: watch::Sender<Position>,
    counters: Arc<Counters>,
) -> io::Result<()> {
    let file = segments::create(&dir, segment)?;
    let writer = Writer {
        dir,
        segment_size,
        file: Some(file),
        position: Position { segment, offset: 0 },
        durable,
        counters,
    };
    std::thread::Builder::new()
        .name("spool-writer".to_owned())
        .spawn(move || writer.run(appends))?;
    Ok(())
}

struct Writer {
    dir: PathBuf,
    segment_size: u64,
    /// The current segment; `None` after a failure until a new one opens.
    file: Option<File>,
    position: Position,
    durable: watch::Sender<Position>,
    counters: Arc<Counters>,
}

impl Writer {
    fn run(mut self, mut appends: mpsc::Receiver<Append>) {
        let mut group = Vec::new();
        let mut bytes = Vec::with_capacity(MAX_GROUP_BYTES);
        while let Some(first) = appends.blocking_recv() {
            group.push(first);
            while bytes_of(&group) < MAX_GROUP_BYTES {
                match appends.try_recv() {
                    Ok(next) => group.push(next),
                    Err(_) => break,
                }
            }
            bytes.clear();
            for append in &group {
                bytes.extend_from_slice(&append.frame);
            }
            let result = self.write(&bytes).map_err(|error| {
                tracing::error!(%error, "spool write failed");
                self.counters
                    .admitted
                    .fetch_sub(bytes.len() as u64, Ordering::AcqRel);
                error.to_string()
            });
            for append in group.drain(..) {
                // An appender that went away needs no answer.
                let _ = append.done.send(result.clone());
            }
        }
    }

    /// Writes and syncs; then the bytes count as durable.
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.file.is_none() || self.position.offset >= self.segment_size {
            self.next_segment()?;
        }
        let Some(file) = self.file.as_mut() else {
            return Err(io::Error::other("no spool segment is open"));
        };
        let written = file.write_all(bytes).and_then(|()| file.sync_data());
        if let Err(error) = written {
            // What was half written stays behind the next segment, which
            // starts clean; the reader reads it as a torn tail.
            self.file = None;
            return Err(error);
        }
        self.position.offset += bytes.len() as u64;
        self.durable.send_replace(self.position);
        Ok(())
    }

    fn next_segment(&mut self) -> io::Result<()> {
        let segment = self.position.segment + 1;
        self.file = Some(segments::create(&self.dir, segment)?);
        self.position = Position { segment, offset: 0 };
        Ok(())
    }
}

fn bytes_of(group: &[Append]) -> usize {
    group.iter().map(|append| append.frame.len()).sum()
}
