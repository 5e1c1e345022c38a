use std::io::Write as _;

use bytes::Bytes;
use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;

use super::*;

fn options(dir: &std::path::Path) -> SpoolOptions {
    SpoolOptions {
        dir: dir.to_owned(),
        segment_size: SpoolOptions::DEFAULT_SEGMENT_SIZE,
        max_backlog: SpoolOptions::DEFAULT_MAX_BACKLOG,
    }
}

fn submission(n: u64) -> Submission {
    Submission {
        kind: Kind::Event,
        project_id: ProjectId(n),
        received: Timestamp::now(),
        event_id: None,
        client_ip: None,
        payload: Bytes::from(format!("{{\"message\":\"{n}\"}}")),
    }
}

/// Reads what is there (waiting for at least one), as project ids.
async fn read(reader: &mut SpoolReader) -> (Vec<u64>, Option<Position>) {
    let batch = reader.next_batch(100, usize::MAX).await.unwrap();
    let next = batch.last().map(|spooled| spooled.next);
    let ids = batch
        .into_iter()
        .map(|spooled| spooled.submission.project_id.0)
        .collect();
    (ids, next)
}

fn segment_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".log")
        })
        .count()
}

#[tokio::test]
async fn what_is_committed_is_not_read_again_and_the_rest_is() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (spool, mut reader) = Spool::open(&options(dir.path())).unwrap();
        for n in 1..=3 {
            spool.append(&submission(n)).await.unwrap();
        }
        assert!(spool.backlog() > 0);
        let (ids, next) = read(&mut reader).await;
        assert_eq!(ids, [1, 2, 3]);
        reader.commit(next.unwrap()).unwrap();
        assert_eq!(spool.backlog(), 0);
        spool.append(&submission(4)).await.unwrap();
        // Read but not committed: as if the process died while storing it.
        assert_eq!(read(&mut reader).await.0, [4]);
    }
    let (spool, mut reader) = Spool::open(&options(dir.path())).unwrap();
    assert!(spool.backlog() > 0, "the uncommitted request is backlog");
    spool.append(&submission(5)).await.unwrap();
    let (ids, next) = read(&mut reader).await;
    assert_eq!(ids, [4, 5]);
    reader.commit(next.unwrap()).unwrap();
    assert_eq!(spool.backlog(), 0);
    assert_eq!(
        segment_files(dir.path()),
        1,
        "the processed segment is deleted"
    );
}

#[tokio::test]
async fn a_torn_tail_ends_its_segment() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (spool, _reader) = Spool::open(&options(dir.path())).unwrap();
        spool.append(&submission(1)).await.unwrap();
        spool.append(&submission(2)).await.unwrap();
    }
    // A crash in the middle of a write: half a frame, then nothing.
    let segment = segments::path(dir.path(), 1);
    let half = submission(3).to_frame();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&segment)
        .unwrap();
    file.write_all(&half[..half.len() / 2]).unwrap();
    drop(file);
    let (spool, mut reader) = Spool::open(&options(dir.path())).unwrap();
    spool.append(&submission(4)).await.unwrap();
    let (ids, next) = read(&mut reader).await;
    assert_eq!(ids, [1, 2, 4]);
    reader.commit(next.unwrap()).unwrap();
    assert_eq!(spool.backlog(), 0, "the torn bytes count as processed");
}

#[tokio::test]
async fn segments_roll_over_and_are_read_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let options = SpoolOptions {
        segment_size: 1,
        ..options(dir.path())
    };
    let (spool, mut reader) = Spool::open(&options).unwrap();
    for n in 1..=5 {
        spool.append(&submission(n)).await.unwrap();
    }
    assert_eq!(segment_files(dir.path()), 5, "one frame fills a segment");
    let mut ids = Vec::new();
    while ids.len() < 5 {
        let (more, next) = read(&mut reader).await;
        ids.extend(more);
        reader.commit(next.unwrap()).unwrap();
    }
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    assert_eq!(spool.backlog(), 0);
    assert_eq!(
        segment_files(dir.path()),
        1,
        "only the one being written stays"
    );
}

#[tokio::test]
async fn appends_past_the_backlog_bound_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let frame = submission(1).to_frame().len() as u64;
    let options = SpoolOptions {
        max_backlog: 2 * frame,
        ..options(dir.path())
    };
    let (spool, mut reader) = Spool::open(&options).unwrap();
    spool.append(&submission(1)).await.unwrap();
    spool.append(&submission(2)).await.unwrap();
    assert!(matches!(
        spool.append(&submission(3)).await,
        Err(SpoolError::Full { backlog }) if backlog == 2 * frame
    ));
    let (ids, next) = read(&mut reader).await;
    assert_eq!(ids, [1, 2]);
    reader.commit(next.unwrap()).unwrap();
    spool.append(&submission(3)).await.unwrap();
}

#[tokio::test]
async fn the_reader_ends_when_the_writer_stops() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, mut reader) = Spool::open(&options(dir.path())).unwrap();
    spool.append(&submission(1)).await.unwrap();
    drop(spool);
    assert_eq!(read(&mut reader).await.0, [1]);
    assert_eq!(read(&mut reader).await.0, Vec::<u64>::new());
}

#[tokio::test]
async fn a_batch_stops_at_its_byte_budget() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, mut reader) = Spool::open(&options(dir.path())).unwrap();
    for n in 1..=3 {
        spool.append(&submission(n)).await.unwrap();
    }
    let size = submission(1).payload.len();
    let first = reader.next_batch(100, size + 1).await.unwrap();
    assert_eq!(first.len(), 2, "the second submission passes the budget");
    let second = reader.next_batch(100, 1).await.unwrap();
    assert_eq!(
        second.len(),
        1,
        "a submission over the budget is read alone"
    );
}

#[tokio::test]
async fn appends_after_a_restart_behind_a_full_checkpoint_are_read() {
    // Everything of the first run is processed and committed; the second
    // run's writer starts a new segment past the checkpoint's, and what it
    // appends must still reach the reader (a reader that gave up at the
    // old segment's end would leave it unprocessed until the next restart).
    let dir = tempfile::tempdir().unwrap();
    {
        let (spool, mut reader) = Spool::open(&options(dir.path())).unwrap();
        spool.append(&submission(1)).await.unwrap();
        let (ids, next) = read(&mut reader).await;
        assert_eq!(ids, [1]);
        reader.commit(next.unwrap()).unwrap();
    }
    let (spool, mut reader) = Spool::open(&options(dir.path())).unwrap();
    let appended = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        spool.append(&submission(2)).await.unwrap();
        spool
    });
    let (ids, _) = tokio::time::timeout(std::time::Duration::from_secs(5), read(&mut reader))
        .await
        .expect("the reader waits for the new append");
    assert_eq!(ids, [2]);
    drop(appended.await.unwrap());
}
