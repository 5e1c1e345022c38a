//! Segment files (`00000000000000000001.log`, numbered in the order they
//! were written) and the checkpoint (`checkpoint`: the segment and offset
//! processing has reached, 16 bytes).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::Position;

const CHECKPOINT: &str = "checkpoint";

/// The path of a segment file.
pub fn path(dir: &Path, segment: u64) -> PathBuf {
    dir.join(format!("{segment:020}.log"))
}

/// Creates a segment file and makes its name durable.
pub fn create(dir: &Path, segment: u64) -> io::Result<File> {
    let file = File::options()
        .create_new(true)
        .append(true)
        .open(path(dir, segment))?;
    File::open(dir)?.sync_all()?;
    Ok(file)
}

/// What opening the folder found.
#[derive(Debug)]
pub struct Found {
    /// Where processing resumes.
    pub checkpoint: Position,
    /// The number the writer's first segment gets.
    pub next_segment: u64,
    /// The bytes of the segments at or after the checkpoint not yet processed.
    pub backlog: u64,
}

/// Creates the folder if missing, reads the checkpoint and sizes the
/// backlog that the segments hold.
pub fn open(dir: &Path) -> io::Result<Found> {
    fs::create_dir_all(dir)?;
    let mut segments = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let number = name
            .to_str()
            .and_then(|name| name.strip_suffix(".log"))
            .and_then(|number| number.parse::<u64>().ok());
        if let Some(number) = number {
            segments.push((number, entry.metadata()?.len()));
        }
    }
    segments.sort_unstable();
    let first = segments.first().map_or(1, |&(number, _)| number);
    // A checkpoint behind the oldest segment (or none) starts at that segment.
    let checkpoint = read_checkpoint(dir)?.unwrap_or_default().max(Position {
        segment: first,
        offset: 0,
    });
    let backlog = segments
        .iter()
        .filter(|&&(number, _)| number >= checkpoint.segment)
        .map(|&(number, length)| {
            if number == checkpoint.segment {
                length.saturating_sub(checkpoint.offset)
            } else {
                length
            }
        })
        .sum();
    let next_segment = segments
        .last()
        .map_or(checkpoint.segment, |&(number, _)| number + 1)
        .max(checkpoint.segment);
    Ok(Found {
        checkpoint,
        next_segment,
        backlog,
    })
}

fn read_checkpoint(dir: &Path) -> io::Result<Option<Position>> {
    let bytes = match fs::read(dir.join(CHECKPOINT)) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    let number = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .and_then(|bytes| bytes.try_into().ok())
            .map(u64::from_le_bytes)
    };
    match (number(0..8), number(8..16)) {
        (Some(segment), Some(offset)) => Ok(Some(Position { segment, offset })),
        _ => {
            tracing::warn!(
                "the spool checkpoint is damaged; processing starts at the oldest segment"
            );
            Ok(None)
        }
    }
}

/// Records how far processing got: written aside, then renamed over the
/// old checkpoint. It is not synced: a checkpoint lost in a crash only
/// means that some requests are processed again, and event ids make that
/// harmless.
pub fn write_checkpoint(dir: &Path, position: Position) -> io::Result<()> {
    let aside = dir.join("checkpoint.new");
    let mut file = File::create(&aside)?;
    file.write_all(&position.segment.to_le_bytes())?;
    file.write_all(&position.offset.to_le_bytes())?;
    drop(file);
    fs::rename(aside, dir.join(CHECKPOINT))
}

/// Deletes the segments numbered from `from` up to, not including, `to`;
/// returns the first it did not delete.
pub fn delete(dir: &Path, from: u64, to: u64) -> u64 {
    for segment in from..to {
        match fs::remove_file(path(dir, segment)) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(%error, segment, "could not delete a processed spool segment");
                return segment;
            }
        }
    }
    to
}
