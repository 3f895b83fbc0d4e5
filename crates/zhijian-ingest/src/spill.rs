//! Rows on disk: the frames of a cache entry, laid out so that a bucket of a source is read
//! without copying the rest.
//!
//! A frame is one record's outcome: its payload length (u32 LE), its bucket key (u64 LE, see
//! [`bucket_key`]) and the postcard payload. A rows file is a sequence of chunks, one per batch
//! of records normalised together; within a chunk the frames are ordered by the top
//! [`PARTITION_BITS`] bits of their key (stably, so record order holds within a partition),
//! and the entry's head lists each chunk's runs: which partitions it holds, with how many
//! frames and bytes ([`RowsIndex`]).
//!
//! A source too large to assemble at once is assembled in `2^k` buckets: bucket `b` holds the
//! partitions `b·P/2^k .. (b+1)·P/2^k`, so in every chunk of every file it is one contiguous
//! range of bytes, read with one seek. No row is copied to another file before it is
//! assembled, and the buckets of a cached file are read straight from its entry. All rows of
//! a sample, and the rejects that name it, share a key and so a bucket.
//!
//! A cache entry's rows file is checked before it is used: its length, frame count and CRC-32
//! are in the entry's head, so a power loss leaves either no entry, or one that [`verify`]
//! rejects (it is parsed again), never rows that silently stop early. The rows file is
//! therefore not synced (see [`FrameWriter::finish`]); the small head is.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::IngestError;
use crate::read::ColumnIndex;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IngestError + '_ {
    move |source| IngestError::Io { path: path.to_path_buf(), source }
}

fn damaged(path: &Path, why: String) -> IngestError {
    IngestError::CacheDamaged { path: path.to_path_buf(), why }
}

/// Bits of a bucket key that choose its partition.
pub(crate) const PARTITION_BITS: u32 = 10;

/// Partitions of a chunk; also the most buckets a source is assembled in.
pub(crate) const PARTITIONS: usize = 1 << PARTITION_BITS;

/// The partition of a bucket key: its top bits.
fn partition(key: u64) -> u16 {
    (key >> (64 - PARTITION_BITS)) as u16
}

/// The partitions of bucket `bucket` of `buckets` (a power of two, at most [`PARTITIONS`]).
pub(crate) fn bucket_partitions(bucket: usize, buckets: usize) -> Range<u16> {
    let width = PARTITIONS / buckets.clamp(1, PARTITIONS);
    (bucket * width) as u16..((bucket + 1) * width).min(PARTITIONS) as u16
}

/// The frames of one partition in one chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Run {
    pub(crate) partition: u16,
    pub(crate) frames: u32,
    pub(crate) bytes: u32,
    /// CRC-32 of its bytes, checked whenever it is read.
    pub(crate) crc32: u32,
}

/// What a rows file must hold — its length, its number of frames and the CRC-32 of its bytes —
/// and where each chunk's partitions are in it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct RowsIndex {
    pub(crate) bytes: u64,
    pub(crate) frames: u64,
    pub(crate) crc32: u32,
    /// Per chunk, in file order, its runs in partition order.
    pub(crate) chunks: Vec<Vec<Run>>,
    /// The bucket keys of the samples its rows and rejects name, sorted, each once: which
    /// files share a sample is known without reading their rows (see `write`'s segments).
    pub(crate) samples: Vec<u64>,
}

impl RowsIndex {
    /// Frames of the partitions in `range`, in all chunks.
    pub(crate) fn frames_in(&self, range: &Range<u16>) -> u64 {
        self.chunks.iter().flatten().filter(|run| range.contains(&run.partition)).map(|run| u64::from(run.frames)).sum()
    }
}

/// Writes chunks of frames to a temporary file beside `path`, renamed into place by
/// [`Self::finish`], so a killed run leaves no partial entry under the real name.
pub(crate) struct FrameWriter {
    path: PathBuf,
    temporary: PathBuf,
    out: BufWriter<File>,
    index: RowsIndex,
    crc: crc32fast::Hasher,
}

impl FrameWriter {
    pub(crate) fn create(path: &Path) -> Result<Self, IngestError> {
        let temporary = zhijian_store::temporary_path(path);
        let file = File::create(&temporary).map_err(io(&temporary))?;
        Ok(FrameWriter {
            path: path.to_path_buf(),
            temporary,
            out: BufWriter::with_capacity(1 << 20, file),
            index: RowsIndex { bytes: 0, frames: 0, crc32: 0, chunks: Vec::new(), samples: Vec::new() },
            crc: crc32fast::Hasher::new(),
        })
    }

    /// One outcome's frame, for [`Self::write_chunk`]; pure, so frames can be made on any
    /// thread.
    pub(crate) fn frame(
        &self,
        outcome: &Result<crate::normalise::Row, Box<crate::normalise::Reject>>,
    ) -> Result<Frame, IngestError> {
        let key = bucket_key(outcome);
        let of_sample = !matches!(outcome, Err(reject) if reject.sample_id.is_none());
        let mut header = Vec::with_capacity(512);
        header.resize(FRAME_HEADER, 0);
        let mut frame = postcard::to_extend(outcome, header)
            .map_err(|e| IngestError::Io { path: self.path.clone(), source: std::io::Error::other(e) })?;
        let length = frame.len() - FRAME_HEADER;
        let length = u32::try_from(length).map_err(|_| IngestError::Io {
            path: self.path.clone(),
            source: std::io::Error::other("a record of over 4 GiB"),
        })?;
        frame[..4].copy_from_slice(&length.to_le_bytes());
        frame[4..FRAME_HEADER].copy_from_slice(&key.to_le_bytes());
        Ok(Frame { bytes: frame, of_sample })
    }

    /// Appends one chunk: the frames of records normalised together, in record order; they
    /// are written grouped by partition.
    pub(crate) fn write_chunk(&mut self, frames: &[Frame]) -> Result<(), IngestError> {
        if frames.is_empty() {
            return Ok(());
        }
        self.index.samples.extend(frames.iter().filter(|f| f.of_sample).map(|f| tag(&f.bytes)));
        let mut order: Vec<(u16, usize)> =
            frames.iter().enumerate().map(|(i, f)| (partition(tag(&f.bytes)), i)).collect();
        // Stable: record order within a partition.
        order.sort_by_key(|&(partition, _)| partition);
        let mut runs: Vec<Run> = Vec::new();
        let mut run_crc = crc32fast::Hasher::new();
        for (partition, i) in order {
            let frame = &frames[i].bytes;
            match runs.last_mut() {
                Some(run) if run.partition == partition => {
                    run.frames += 1;
                    run.bytes = run.bytes.checked_add(frame.len() as u32).ok_or_else(|| IngestError::Io {
                        path: self.path.clone(),
                        source: std::io::Error::other("a chunk of over 4 GiB"),
                    })?;
                }
                last => {
                    if let Some(run) = last {
                        run.crc32 = std::mem::take(&mut run_crc).finalize();
                    }
                    runs.push(Run { partition, frames: 1, bytes: frame.len() as u32, crc32: 0 });
                }
            }
            run_crc.update(frame);
            self.crc.update(frame);
            self.index.bytes += frame.len() as u64;
            self.index.frames += 1;
            self.out.write_all(frame).map_err(io(&self.temporary))?;
        }
        if let Some(run) = runs.last_mut() {
            run.crc32 = run_crc.finalize();
        }
        self.index.chunks.push(runs);
        Ok(())
    }

    /// Flushes the file and renames it into place; returns what [`verify`] will check and
    /// where the partitions are.
    ///
    /// The file is not synced: a run killed at any moment leaves the kernel the whole file,
    /// and after a power loss an entry whose rows did not reach the disk fails [`verify`]
    /// (length, frame count, CRC) and its file is parsed again. Syncing cost the run a second
    /// of waiting on the disk for a 600 MB entry, for a cache.
    pub(crate) fn finish(mut self) -> Result<RowsIndex, IngestError> {
        let file = self
            .out
            .into_inner()
            .map_err(|e| IngestError::Io { path: self.temporary.clone(), source: e.into_error() })?;
        drop(file);
        std::fs::rename(&self.temporary, &self.path).map_err(io(&self.path))?;
        self.index.crc32 = self.crc.finalize();
        self.index.samples.sort_unstable();
        self.index.samples.dedup();
        Ok(self.index)
    }
}

/// One record's frame, made by [`FrameWriter::frame`].
pub(crate) struct Frame {
    bytes: Vec<u8>,
    /// Its key is a sample's (a row, or a reject naming a sample), not a record number's.
    of_sample: bool,
}

/// The bucket key in a frame's header.
fn tag(frame: &[u8]) -> u64 {
    let mut key = [0u8; 8];
    key.copy_from_slice(&frame[4..FRAME_HEADER]);
    u64::from_le_bytes(key)
}

/// Checks a rows file against its index: length first (cheap), then every frame's header and
/// the CRC of all bytes, and that the chunks account for every byte. The message says what
/// differs.
pub(crate) fn verify(path: &Path, expected: &RowsIndex) -> Result<(), String> {
    verify_length(path, expected)?;
    let runs = expected.chunks.iter().flatten();
    let (frames_listed, bytes_listed) =
        runs.fold((0u64, 0u64), |(f, b), run| (f + u64::from(run.frames), b + u64::from(run.bytes)));
    if (frames_listed, bytes_listed) != (expected.frames, expected.bytes) {
        return Err(format!(
            "its index lists {frames_listed} frames in {bytes_listed} bytes, expected {} in {}",
            expected.frames, expected.bytes
        ));
    }
    let mut input = BufReader::with_capacity(1 << 20, File::open(path).map_err(|e| format!("cannot open it: {e}"))?);
    let mut crc = crc32fast::Hasher::new();
    let mut frames = 0u64;
    let mut buffer = Vec::new();
    let mut header = [0u8; FRAME_HEADER];
    loop {
        match read_header(&mut input, &mut header) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(format!("frame {frames}: {e}")),
        }
        let [a, b, c, d, ..] = header;
        buffer.resize(u32::from_le_bytes([a, b, c, d]) as usize, 0);
        input.read_exact(&mut buffer).map_err(|e| format!("frame {frames}: {e}"))?;
        crc.update(&header);
        crc.update(&buffer);
        frames += 1;
    }
    let crc = crc.finalize();
    if frames != expected.frames || crc != expected.crc32 {
        return Err(format!(
            "{frames} frames with CRC-32 {crc:08x}, expected {} with {:08x}",
            expected.frames, expected.crc32
        ));
    }
    Ok(())
}

/// Checks only a rows file's length against its index (see `cache::needs_check` for when that
/// is enough).
pub(crate) fn verify_length(path: &Path, expected: &RowsIndex) -> Result<(), String> {
    let length = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?.len();
    if length != expected.bytes {
        return Err(format!("{length} bytes, expected {}", expected.bytes));
    }
    Ok(())
}

/// Reads a frame header: `Ok(false)` at a clean end (no byte left), an error for a header cut
/// short, which a clean end must never be taken for.
fn read_header(input: &mut impl Read, header: &mut [u8; FRAME_HEADER]) -> std::io::Result<bool> {
    let mut filled = 0;
    while filled < FRAME_HEADER {
        match input.read(&mut header[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("a frame header cut short after {filled} of {FRAME_HEADER} bytes"),
                ));
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// The outcomes of the partitions in `range` of a rows file, chunk after chunk, each run in
/// record order; every row gets its file's column headers back (they are stored once per
/// file). With `only`, frames whose key is not in it are passed over undecoded. A frame that
/// does not decode, or one of another partition, is an error naming the file: the entry was
/// verified when it was taken, so it changed since.
pub(crate) fn read_partitions(
    path: &Path,
    index: &RowsIndex,
    columns: &Arc<ColumnIndex>,
    range: Range<u16>,
    only: Option<&std::collections::HashSet<u64>>,
) -> Result<Vec<crate::Outcome>, IngestError> {
    let expected = index.frames_in(&range);
    let mut outcomes = Vec::with_capacity(if only.is_some() { 0 } else { expected as usize });
    let mut frames = 0u64;
    if expected == 0 {
        return Ok(outcomes);
    }
    let mut file = File::open(path).map_err(io(path))?;
    let mut buffer = Vec::new();
    let mut offset = 0u64;
    for runs in &index.chunks {
        let before: u64 = runs.iter().take_while(|r| r.partition < range.start).map(|r| u64::from(r.bytes)).sum();
        let inside: u64 = runs.iter().filter(|r| range.contains(&r.partition)).map(|r| u64::from(r.bytes)).sum();
        let chunk: u64 = runs.iter().map(|r| u64::from(r.bytes)).sum();
        if inside > 0 {
            file.seek(SeekFrom::Start(offset + before)).map_err(io(path))?;
            buffer.resize(inside as usize, 0);
            file.read_exact(&mut buffer).map_err(io(path))?;
            let mut at = 0usize;
            for run in runs.iter().filter(|r| range.contains(&r.partition)) {
                let bytes = &buffer[at..at + run.bytes as usize];
                if crc32fast::hash(bytes) != run.crc32 {
                    return Err(damaged(path, format!("the rows of partition {} fail their CRC-32", run.partition)));
                }
                at += run.bytes as usize;
            }
            let mut rest = buffer.as_slice();
            while !rest.is_empty() {
                let Some((header, tail)) = rest.split_at_checked(FRAME_HEADER) else {
                    return Err(damaged(path, "a frame header cut short".to_string()));
                };
                let length = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
                let Some((payload, tail)) = tail.split_at_checked(length as usize) else {
                    return Err(damaged(path, "a frame cut short".to_string()));
                };
                let key = tag(header);
                if !range.contains(&partition(key)) {
                    return Err(damaged(path, "a frame outside the partitions its index gives".to_string()));
                }
                frames += 1;
                rest = tail;
                if only.is_some_and(|keys| !keys.contains(&key)) {
                    continue;
                }
                let outcome: crate::Outcome =
                    postcard::from_bytes(payload).map_err(|e| damaged(path, e.to_string()))?;
                outcomes.push(outcome.map(|mut row| {
                    row.columns = columns.clone();
                    row
                }));
            }
        }
        offset += chunk;
    }
    if frames != expected {
        return Err(damaged(path, format!("{frames} rows where its index lists {expected}")));
    }
    Ok(outcomes)
}

/// Bytes before a frame's payload: its length and its bucket key.
const FRAME_HEADER: usize = 12;

/// FNV-1a: a hash that is the same on every machine and Rust version, so bucketing (and with
/// it the order of the outputs) is deterministic.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// What decides a row's bucket: its sample (the re-tested one for a re-test row), so every row
/// of a sample, and the rejects that name it, meet in one bucket; a reject without a sample id
/// goes by its record number.
pub(crate) fn bucket_key<R: std::borrow::Borrow<crate::normalise::Row>>(
    outcome: &Result<R, Box<crate::normalise::Reject>>,
) -> u64 {
    match outcome {
        Ok(row) => fnv1a(row.borrow().sample_key_id().as_bytes()),
        Err(reject) => match &reject.sample_id {
            Some(id) => fnv1a(id.as_bytes()),
            None => fnv1a(&reject.record.to_le_bytes()),
        },
    }
}

/// The number of buckets a source of `records` is assembled in, at most `batch_rows` records
/// each when its samples spread evenly: a power of two, at most [`PARTITIONS`].
pub(crate) fn buckets_for(records: u64, batch_rows: usize) -> usize {
    let needed = records.div_ceil(batch_rows.max(1) as u64).max(1);
    usize::try_from(needed).unwrap_or(usize::MAX).checked_next_power_of_two().unwrap_or(PARTITIONS).min(PARTITIONS)
}

/// Reads a cached string as bytes and checks its UTF-8 with simdutf8: postcard's own `str`
/// check was a twelfth of a run's CPU, on the cached rows' mostly Chinese text. The bytes on
/// disk are those of a `str` (a length, then UTF-8), so entries read either way.
pub(crate) fn text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_bytes(TextVisitor)
}

/// [`text`] for an optional string.
pub(crate) fn text_opt<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    struct OptionVisitor;
    impl<'de> serde::de::Visitor<'de> for OptionVisitor {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an optional string")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            text(deserializer).map(Some)
        }
    }
    deserializer.deserialize_option(OptionVisitor)
}

struct TextVisitor;

impl<'de> serde::de::Visitor<'de> for TextVisitor {
    type Value = String;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<String, E> {
        Ok(text.to_string())
    }
    fn visit_string<E: serde::de::Error>(self, text: String) -> Result<String, E> {
        Ok(text)
    }
    fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<String, E> {
        match simdutf8::basic::from_utf8(bytes) {
            Ok(text) => Ok(text.to_string()),
            Err(_) => Err(E::invalid_value(serde::de::Unexpected::Bytes(bytes), &self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_the_partitions_once_in_order() {
        for buckets in [1, 2, 4, 64, PARTITIONS] {
            let mut next = 0u16;
            for bucket in 0..buckets {
                let range = bucket_partitions(bucket, buckets);
                assert_eq!(range.start, next);
                assert!(range.end > range.start);
                next = range.end;
            }
            assert_eq!(usize::from(next), PARTITIONS);
        }
        assert_eq!(buckets_for(0, 100), 1);
        assert_eq!(buckets_for(100, 100), 1);
        assert_eq!(buckets_for(101, 100), 2);
        assert_eq!(buckets_for(720_000, 100_000), 8);
        assert_eq!(buckets_for(2_400_000, 100_000), 32);
        assert_eq!(buckets_for(u64::MAX, 1), PARTITIONS);
    }

    fn reject(record: u64, sample: Option<&str>) -> Result<crate::normalise::Row, Box<crate::normalise::Reject>> {
        Err(Box::new(crate::normalise::Reject {
            file: "f.csv".into(),
            record,
            line: record + 2,
            sample_id: sample.map(str::to_string),
            item: None,
            field: None,
            column: None,
            value: None,
            rule: zhijian_model::Rule::RequiredMissing,
            message: String::new(),
            raw_record: format!("row {record}"),
        }))
    }

    #[test]
    fn every_bucket_reads_its_rows_once_each_sample_in_record_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entry.rows");
        let mut writer = FrameWriter::create(&path).unwrap();
        // Three chunks; samples recur across chunks, some rows have no sample id.
        let outcomes: Vec<Result<crate::normalise::Row, Box<crate::normalise::Reject>>> = (0..3000u64)
            .map(|record| {
                let sample = format!("S{}", record % 700);
                reject(record, (record % 11 != 0).then_some(sample.as_str()))
            })
            .collect();
        for chunk in outcomes.chunks(1024) {
            let frames: Vec<Frame> = chunk.iter().map(|o| writer.frame(o).unwrap()).collect();
            writer.write_chunk(&frames).unwrap();
        }
        let index = writer.finish().unwrap();
        verify(&path, &index).unwrap();
        assert_eq!(index.chunks.len(), 3);
        let columns = Arc::new(ColumnIndex::default());
        for buckets in [1, 4, 64] {
            let mut seen = Vec::new();
            for bucket in 0..buckets {
                let range = bucket_partitions(bucket, buckets);
                let rows = read_partitions(&path, &index, &columns, range.clone(), None).unwrap();
                assert_eq!(rows.len() as u64, index.frames_in(&range));
                // Each sample's rows keep record order.
                let mut last: std::collections::HashMap<Option<String>, u64> = std::collections::HashMap::new();
                for outcome in &rows {
                    assert!(range.contains(&partition(bucket_key(outcome))));
                    let reject = outcome.as_ref().err().unwrap();
                    if let Some(earlier) = last.insert(reject.sample_id.clone(), reject.record) {
                        assert!(reject.sample_id.is_none() || earlier < reject.record, "bucket {bucket} of {buckets}");
                    }
                    seen.push(reject.record);
                }
            }
            seen.sort_unstable();
            assert_eq!(seen, (0..3000).collect::<Vec<_>>(), "{buckets} buckets");
        }
        // The entry lists the samples its rows name (not the records without one), and a read
        // for some of them decodes only theirs.
        let expected: std::collections::BTreeSet<u64> =
            (0..3000u64).filter(|r| r % 11 != 0).map(|r| fnv1a(format!("S{}", r % 700).as_bytes())).collect();
        assert_eq!(index.samples, expected.into_iter().collect::<Vec<_>>());
        let only: std::collections::HashSet<u64> = [fnv1a(b"S3"), fnv1a(b"S650")].into();
        let rows = read_partitions(&path, &index, &columns, 0..PARTITIONS as u16, Some(&only)).unwrap();
        let mut ids: Vec<String> = rows.iter().map(|o| o.as_ref().err().unwrap().sample_id.clone().unwrap()).collect();
        ids.dedup();
        let named = (0..3000u64).filter(|r| r % 11 != 0 && [3, 650].contains(&(r % 700))).count();
        assert_eq!(rows.len(), named, "{ids:?}");
        assert!(ids.iter().all(|id| id == "S3" || id == "S650"), "{ids:?}");
        // A byte changed on disk keeps the length, and is caught by the CRC of the rows read.
        let original = std::fs::read(&path).unwrap();
        let mut flipped = original.clone();
        flipped[original.len() / 2] ^= 0x01;
        std::fs::write(&path, &flipped).unwrap();
        assert!(verify_length(&path, &index).is_ok());
        let read = read_partitions(&path, &index, &columns, 0..PARTITIONS as u16, None);
        assert!(read.is_err_and(|e| e.to_string().contains("CRC-32")));
        std::fs::write(&path, &original).unwrap();
        // A file changed after it was verified is an error, never rows quietly lost.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 5);
        std::fs::write(&path, &bytes).unwrap();
        assert!(verify(&path, &index).is_err());
        let whole = read_partitions(&path, &index, &columns, 0..PARTITIONS as u16, None);
        assert!(matches!(whole, Err(IngestError::Io { .. } | IngestError::CacheDamaged { .. })), "{whole:?}");
    }
}
