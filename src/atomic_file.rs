//! Writing a file whole or not at all: written beside its destination, then renamed into place.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;

use anyhow::Context as _;

/// Writes `path` through `write`: into `.NAME.zhijian-tmp` beside it, renamed over `path` once
/// `write` and the flush have succeeded.
pub(crate) fn write(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> anyhow::Result<()>) -> anyhow::Result<()> {
    // Written beside its destination and renamed into place: never a half-written file.
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.zhijian-tmp"));
    let mut file =
        BufWriter::new(File::create(&temporary).with_context(|| format!("cannot write `{}`", path.display()))?);
    write(&mut file)?;
    file.flush().with_context(|| format!("cannot write `{}`", path.display()))?;
    drop(file);
    std::fs::rename(&temporary, path).with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(())
}
