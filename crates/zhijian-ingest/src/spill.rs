//! Rows on disk: the frames of a cache entry and the buckets a large source is assembled in.
//!
//! A frame is one record's outcome: its payload length (u32 LE), a tag (u64 LE) and the
//! postcard payload. In a cache entry the tag is the record's bucket key (see
//! [`bucket_key`]), so [`Buckets::spread`] routes frames by copying their bytes, without
//! decoding them; in a bucket file it is the number of the file the record came from.
//!
//! A cache entry's rows file is checked before it is used: its length, frame count and CRC-32
//! are in the entry's head ([`RowsDigest`]), and the file is synced before its rename, so a
//! power loss leaves either no entry, or one that [`verify`] rejects (it is parsed again), never
//! rows that silently stop early.

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

/// What a rows file must hold: its length, its number of frames and the CRC-32 of its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct RowsDigest {
    pub(crate) bytes: u64,
    pub(crate) frames: u64,
    pub(crate) crc32: u32,
}

/// Writes frames to a temporary file beside `path`, renamed into place by [`Self::finish`], so
/// a killed run leaves no partial entry under the real name.
pub(crate) struct FrameWriter {
    path: PathBuf,
    temporary: PathBuf,
    out: BufWriter<File>,
    bytes: u64,
    frames: u64,
    crc: crc32fast::Hasher,
}

impl FrameWriter {
    pub(crate) fn create(path: &Path) -> Result<Self, IngestError> {
        let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
        let file = File::create(&temporary).map_err(io(&temporary))?;
        Ok(FrameWriter {
            path: path.to_path_buf(),
            temporary,
            out: BufWriter::with_capacity(1 << 20, file),
            bytes: 0,
            frames: 0,
            crc: crc32fast::Hasher::new(),
        })
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
        self.crc.update(frame);
        self.bytes += frame.len() as u64;
        self.frames += 1;
        self.out.write_all(frame).map_err(io(&self.temporary))
    }

    /// Flushes and syncs the file, renames it into place and syncs its folder; returns what
    /// [`verify`] will check.
    pub(crate) fn finish(self) -> Result<RowsDigest, IngestError> {
        let file = self
            .out
            .into_inner()
            .map_err(|e| IngestError::Io { path: self.temporary.clone(), source: e.into_error() })?;
        file.sync_all().map_err(io(&self.temporary))?;
        drop(file);
        std::fs::rename(&self.temporary, &self.path).map_err(io(&self.path))?;
        if let Some(dir) = self.path.parent() {
            File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
        }
        Ok(RowsDigest { bytes: self.bytes, frames: self.frames, crc32: self.crc.finalize() })
    }
}

/// Checks a rows file against its digest: length first (cheap), then every frame's header and
/// the CRC of all bytes. The message says what differs.
pub(crate) fn verify(path: &Path, expected: &RowsDigest) -> Result<(), String> {
    let length = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?.len();
    if length != expected.bytes {
        return Err(format!("{length} bytes, expected {}", expected.bytes));
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
        if !read_header(&mut self.input, &mut header).map_err(io(&self.path))? {
            return Ok(None);
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
