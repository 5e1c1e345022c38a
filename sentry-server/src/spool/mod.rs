//! The spool: a write-ahead log of accepted requests, so that a request is
//! answered only once it is on disk, and processing runs behind it.
//!
//! Requests append [`Submission`]s; one writer thread takes every append
//! waiting, writes them to the current segment file in one go and fsyncs
//! once for all of them (group commit), then answers each. Processing
//! reads the segments back in order through a [`SpoolReader`] up to what
//! is durable, and records how far it got in a checkpoint file; segments
//! wholly behind the checkpoint are deleted. After a crash or a restart,
//! reading resumes at the checkpoint, so every acknowledged request is
//! processed at least once (event ids make that exactly once in the
//! stores).
//!
//! The backlog (bytes appended but not yet processed) is bounded: past
//! [`SpoolOptions::max_backlog`] appends are refused with
//! [`SpoolError::Full`], which ingest answers with 429.

mod reader;
pub mod record;
mod segments;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot, watch};

pub use reader::{SpoolReader, Spooled};
pub use record::{Kind, Submission};

/// Where in the spool: a segment file and a byte offset in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// The number of the segment file.
    pub segment: u64,
    /// The offset in it.
    pub offset: u64,
}

/// Where the spool lives and its bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolOptions {
    /// The folder of segment files and the checkpoint.
    pub dir: PathBuf,
    /// The size past which the writer starts a new segment file.
    pub segment_size: u64,
    /// The most bytes appended but not processed before appends are refused.
    pub max_backlog: u64,
}

impl SpoolOptions {
    /// The default segment size: 64 MiB.
    pub const DEFAULT_SEGMENT_SIZE: u64 = 64 << 20;
    /// The default backlog bound: 1 GiB.
    pub const DEFAULT_MAX_BACKLOG: u64 = 1 << 30;
}

/// Why an append failed.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The backlog is at its bound; the client should retry later.
    #[error("the spool's backlog of {backlog} bytes is at its bound")]
    Full {
        /// The backlog when the append was refused.
        backlog: u64,
    },
    /// Writing or syncing the segment failed, or the writer has stopped.
    #[error("the spool cannot be written: {0}")]
    Unavailable(String),
}

/// Counters shared by the writer, the reader and the appenders.
#[derive(Debug, Default)]
struct Counters {
    /// Bytes admitted (written, or waiting to be), less those whose write
    /// failed, plus the backlog found on opening.
    admitted: AtomicU64,
    /// Bytes processed.
    processed: AtomicU64,
}

impl Counters {
    fn backlog(&self) -> u64 {
        self.admitted
            .load(Ordering::Acquire)
            .saturating_sub(self.processed.load(Ordering::Acquire))
    }
}

/// One append waiting for the writer.
struct Append {
    frame: Vec<u8>,
    done: oneshot::Sender<Result<(), String>>,
}

/// The appending side of the spool; cheap to clone.
#[derive(Clone)]
pub struct Spool {
    appends: mpsc::Sender<Append>,
    counters: Arc<Counters>,
    max_backlog: u64,
}

impl Spool {
    /// Opens the spool in its folder (creating it), starts the writer
    /// thread on a new segment, and returns the appending side and the
    /// reader, positioned at the checkpoint.
    ///
    /// # Errors
    ///
    /// When the folder or the new segment cannot be created, or the
    /// checkpoint cannot be read.
    pub fn open(options: &SpoolOptions) -> std::io::Result<(Self, SpoolReader)> {
        let found = segments::open(&options.dir)?;
        let counters = Arc::new(Counters::default());
        counters.admitted.store(found.backlog, Ordering::Release);
        let start = Position {
            segment: found.next_segment,
            offset: 0,
        };
        let (durable_tx, durable_rx) = watch::channel(start);
        let (appends_tx, appends_rx) = mpsc::channel(4096);
        writer::start(
            options.dir.clone(),
            start.segment,
            options.segment_size,
            appends_rx,
            durable_tx,
            Arc::clone(&counters),
        )?;
        let reader = SpoolReader::new(
            options.dir.clone(),
            found.checkpoint,
            durable_rx,
            Arc::clone(&counters),
        );
        let spool = Self {
            appends: appends_tx,
            counters,
            max_backlog: options.max_backlog,
        };
        Ok((spool, reader))
    }

    /// Appends a submission; returns once it is on disk.
    ///
    /// # Errors
    ///
    /// [`SpoolError::Full`] past the backlog bound, else
    /// [`SpoolError::Unavailable`] when it could not be written.
    pub async fn append(&self, submission: &Submission) -> Result<(), SpoolError> {
        let frame = submission.to_frame();
        // Admitted before it is written, so that requests racing in cannot
        // together pass the bound.
        let size = frame.len() as u64;
        let admitted = self.counters.admitted.fetch_add(size, Ordering::AcqRel);
        let backlog = admitted.saturating_sub(self.counters.processed.load(Ordering::Acquire));
        if backlog >= self.max_backlog {
            self.counters.admitted.fetch_sub(size, Ordering::AcqRel);
            return Err(SpoolError::Full { backlog });
        }
        let (done, written) = oneshot::channel();
        let append = Append { frame, done };
        let stopped = || SpoolError::Unavailable("the spool writer has stopped".to_owned());
        self.appends.send(append).await.map_err(|_| stopped())?;
        written
            .await
            .map_err(|_| stopped())?
            .map_err(SpoolError::Unavailable)
    }

    /// Returns the bytes appended but not yet processed.
    pub fn backlog(&self) -> u64 {
        self.counters.backlog()
    }
}

#[cfg(test)]
mod tests;
