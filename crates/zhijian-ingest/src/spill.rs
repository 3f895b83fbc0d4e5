//! Rows on disk: the frames of a cache entry and the buckets a large source is assembled in.
//!
//! A frame is one record's outcome: its payload length (u32 LE), a tag (u64 LE) and the
//! postcard payload. In a cache entry the tag is the record's bucket key (see
//! [`bucket_key`]), so [`Buckets::spread`] routes frames by copying their bytes, without
//! decoding them; in a bucket file it is the number of the file the record came from.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::IngestError;
use crate::read::ColumnIndex;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IngestError + '_ {
    move |source| IngestError::Io { path: path.to_path_buf(), source }
}

fn encode<T: serde::Serialize>(value: &T, path: &Path) -> Result<Vec<u8>, IngestError> {
    postcard::to_stdvec(value)
        .map_err(|e| IngestError::Io { path: path.to_path_buf(), source: std::io::Error::other(e) })
}

/// Writes frames to a temporary file beside `path`, renamed into place by [`Self::finish`], so
/// a killed run leaves no partial entry under the real name.
pub(crate) struct FrameWriter {
    path: PathBuf,
    temporary: PathBuf,
    out: BufWriter<File>,
}

impl FrameWriter {
    pub(crate) fn create(path: &Path) -> Result<Self, IngestError> {
        let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
        let file = File::create(&temporary).map_err(io(&temporary))?;
        Ok(FrameWriter { path: path.to_path_buf(), temporary, out: BufWriter::with_capacity(1 << 20, file) })
    }

    /// One outcome's frame, tagged with its bucket key, for [`Self::write`]; pure, so frames
    /// can be made on any thread.
    pub(crate) fn frame(&self, outcome: &crate::Outcome) -> Result<Vec<u8>, IngestError> {
        let payload = encode(outcome, &self.path)?;
        let mut frame = Vec::with_capacity(FRAME_HEADER + payload.len());
        frame.extend_from_slice(&frame_header(payload.len(), bucket_key(outcome)));
        frame.extend_from_slice(&payload);
        Ok(frame)
    }

    /// Appends a frame made by [`Self::frame`].
    pub(crate) fn write(&mut self, frame: &[u8]) -> Result<(), IngestError> {
        self.out.write_all(frame).map_err(io(&self.temporary))
    }

    pub(crate) fn finish(self) -> Result<(), IngestError> {
        let file = self
            .out
            .into_inner()
            .map_err(|e| IngestError::Io { path: self.temporary.clone(), source: e.into_error() })?;
        drop(file);
        std::fs::rename(&self.temporary, &self.path).map_err(io(&self.path))
    }
}

/// Reads the frames of a file in order.
pub(crate) struct FrameReader {
    path: PathBuf,
    input: BufReader<File>,
    buffer: Vec<u8>,
}

impl FrameReader {
    pub(crate) fn open(path: &Path) -> Result<Self, IngestError> {
        let file = File::open(path).map_err(io(path))?;
        Ok(FrameReader { path: path.to_path_buf(), input: BufReader::with_capacity(1 << 20, file), buffer: Vec::new() })
    }

    /// The next frame's tag and payload; `None` at the end.
    fn next_frame(&mut self) -> Result<Option<(u64, &[u8])>, IngestError> {
        let mut header = [0u8; FRAME_HEADER];
        match self.input.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(io(&self.path)(e)),
        }
        let [a, b, c, d, tag @ ..] = header;
        self.buffer.resize(u32::from_le_bytes([a, b, c, d]) as usize, 0);
        self.input.read_exact(&mut self.buffer).map_err(io(&self.path))?;
        Ok(Some((u64::from_le_bytes(tag), &self.buffer)))
    }

    /// The next frame's tag and outcome; `None` at the end.
    pub(crate) fn next(&mut self) -> Result<Option<(u64, crate::Outcome)>, IngestError> {
        let Some((tag, _)) = self.next_frame()? else { return Ok(None) };
        let outcome = postcard::from_bytes(&self.buffer).map_err(|e| IngestError::Io {
            path: self.path.clone(),
            source: std::io::Error::other(format!("unreadable entry: {e}")),
        })?;
        Ok(Some((tag, outcome)))
    }
}

/// Bytes before a frame's payload: its length and its tag.
const FRAME_HEADER: usize = 12;

fn frame_header(length: usize, tag: u64) -> [u8; FRAME_HEADER] {
    let mut header = [0u8; FRAME_HEADER];
    header[..4].copy_from_slice(&(length as u32).to_le_bytes());
    header[4..].copy_from_slice(&tag.to_le_bytes());
    header
}

/// Gives a cached row its file's column headers back (they are stored once per file).
pub(crate) fn with_columns(outcome: crate::Outcome, columns: &Arc<ColumnIndex>) -> crate::Outcome {
    outcome.map(|row| crate::normalise::Row { columns: columns.clone(), ..row })
}

/// FNV-1a: a hash that is the same on every machine and Rust version, so bucketing (and with
/// it the order of the outputs) is deterministic.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// What decides a row's bucket: its sample (the re-tested one for a re-test row), so every row
/// of a sample, and the rejects that name it, meet in one bucket; a reject without a sample id
/// goes by its record number.
pub(crate) fn bucket_key(outcome: &crate::Outcome) -> u64 {
    match outcome {
        Ok(row) => fnv1a(row.sample_key_id()),
        Err(reject) => match &reject.sample_id {
            Some(id) => fnv1a(id),
            None => reject.record,
        },
    }
}

/// Bucket files open at once while spreading.
const MAX_OPEN_BUCKETS: usize = 256;

/// A source's rows spread over bucket files by sample id; removed when dropped.
pub(crate) struct Buckets {
    dir: PathBuf,
    files: Vec<Arc<ColumnIndex>>,
    buckets: usize,
}

impl Buckets {
    /// Streams every file's rows (in file order) into `buckets` files. All rows of a sample,
    /// and the rejects that name it, go to one bucket.
    pub(crate) fn spread<'a>(
        cache_dir: &Path,
        files: impl Iterator<Item = (&'a PathBuf, &'a Arc<ColumnIndex>)>,
        buckets: usize,
    ) -> Result<Buckets, IngestError> {
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = cache_dir.join(format!("{}{}-{stamp}", crate::SPILL_PREFIX, std::process::id()));
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let files: Vec<(&PathBuf, &Arc<ColumnIndex>)> = files.collect();
        let this = Buckets { dir, files: files.iter().map(|(_, columns)| Arc::clone(columns)).collect(), buckets };
        // At most MAX_OPEN_BUCKETS files are open at once, so a low limit of open files is
        // never reached: with more buckets the input is read once per group of them.
        let mut first = 0;
        while first < buckets {
            let group = first..(first + MAX_OPEN_BUCKETS).min(buckets);
            this.spread_group(&files, group.clone())?;
            first = group.end;
        }
        Ok(this)
    }

    /// Writes the frames of the buckets in `group` (a range of bucket numbers).
    fn spread_group(
        &self,
        files: &[(&PathBuf, &Arc<ColumnIndex>)],
        group: std::ops::Range<usize>,
    ) -> Result<(), IngestError> {
        // The buffers share 4 MiB, so memory does not grow with the number of buckets.
        let buffer = ((4 << 20) / group.len().max(1)).clamp(4 << 10, 256 << 10);
        let mut writers = group
            .clone()
            .map(|b| {
                let path = self.bucket_path(b);
                File::create(&path).map(|f| BufWriter::with_capacity(buffer, f)).map_err(io(&path))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let buckets = self.buckets as u64;
        for (index, (rows_path, _)) in files.iter().enumerate() {
            let mut reader = FrameReader::open(rows_path)?;
            while let Some((key, bytes)) = reader.next_frame()? {
                let bucket = (key % buckets) as usize;
                if !group.contains(&bucket) {
                    continue;
                }
                let out = &mut writers[bucket - group.start];
                let written =
                    out.write_all(&frame_header(bytes.len(), index as u64)).and_then(|()| out.write_all(bytes));
                written.map_err(|source| IngestError::Io { path: self.bucket_path(bucket), source })?;
            }
        }
        for (bucket, writer) in group.zip(writers) {
            writer
                .into_inner()
                .map_err(|e| IngestError::Io { path: self.bucket_path(bucket), source: e.into_error() })?;
        }
        Ok(())
    }

    /// The number of buckets.
    pub(crate) fn len(&self) -> usize {
        self.buckets
    }

    fn bucket_path(&self, bucket: usize) -> PathBuf {
        self.dir.join(format!("bucket-{bucket:05}"))
    }

    /// One bucket's rows, per file in the order given to [`Self::spread`], each in file order.
    pub(crate) fn read(&self, bucket: usize) -> Result<Vec<Vec<crate::Outcome>>, IngestError> {
        let mut per_file: Vec<Vec<crate::Outcome>> = (0..self.files.len()).map(|_| Vec::new()).collect();
        let mut reader = FrameReader::open(&self.bucket_path(bucket))?;
        while let Some((file, outcome)) = reader.next()? {
            let file = file as usize;
            if let (Some(rows), Some(columns)) = (per_file.get_mut(file), self.files.get(file)) {
                rows.push(with_columns(outcome, columns));
            }
        }
        Ok(per_file)
    }
}

impl Drop for Buckets {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
