//! The progress bar of a run's input files on stderr.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::ProgressBar;

/// A progress bar of the input files on stderr, only when stderr is a terminal (a scheduler's
/// log gets none) and not with `-q`.
pub(crate) fn bar(quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(0), indicatif::ProgressDrawTarget::stderr());
    let style = indicatif::ProgressStyle::with_template("ingest [{bar:30}] {pos}/{len} files, {msg} {elapsed}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// The run's progress callback driving `bar`: the files found lengthen it, each file read
/// advances it and adds its rows to the count in its message.
pub(crate) fn reporter(bar: ProgressBar) -> Arc<dyn Fn(zhijian_run::Progress) + Send + Sync> {
    let rows = Arc::new(AtomicU64::new(0));
    Arc::new(move |event: zhijian_run::Progress| match event {
        zhijian_run::Progress::Files(n) => bar.inc_length(n),
        zhijian_run::Progress::FileDone { rows: read } => {
            let total = rows.fetch_add(read, Ordering::Relaxed) + read;
            bar.set_message(format!("{total} rows"));
            bar.inc(1);
        }
    })
}
