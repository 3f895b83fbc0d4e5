//! The tracing setup: the log level from the flags, and log events made safe for a CI log.

use std::io::Write as _;

use zhijian_model::text::{json_for_log, log_lines};

use crate::cli::{Cli, LogFormat};

/// Log events for stderr when it is not a terminal (a CI or scheduler log): each event is
/// written at once after its text is made safe for such a log — in text lines every `::` and
/// `##[` broken and control characters escaped (see [`log_lines`]), in JSON lines `##[`
/// written `#\u0023[` ([`json_for_log`]) — so an event that quotes an input cell cannot
/// forge a workflow command.
#[derive(Debug, Clone, Copy)]
struct SafeLog {
    json: bool,
}

/// One event's text, written to stderr when dropped (tracing writes each event whole).
#[derive(Debug)]
struct SafeLogEvent {
    json: bool,
    text: Vec<u8>,
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for SafeLog {
    type Writer = SafeLogEvent;

    fn make_writer(&'a self) -> SafeLogEvent {
        SafeLogEvent { json: self.json, text: Vec::new() }
    }
}

impl std::io::Write for SafeLogEvent {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for SafeLogEvent {
    fn drop(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.text);
        let safe = if self.json { json_for_log(&text) } else { log_lines(&text) };
        // A log line that cannot be written has nowhere else to go.
        let _ = std::io::stderr().lock().write_all(safe.as_bytes());
    }
}

/// Installs the global tracing subscriber for stderr, at the level `-q`, `-v` or RUST_LOG ask for.
pub(crate) fn init(cli: &Cli) {
    let default = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Spans (the run) close with their durations at -v; each stage logs its own.
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(terminal)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE);
    // On a terminal tracing escapes the terminal controls in values itself and the colours are
    // ours; a log file or a CI log gets every event made safe for it.
    let json = matches!(cli.log_format, LogFormat::Json);
    match (json, terminal) {
        (false, true) => builder.with_writer(std::io::stderr).init(),
        (false, false) => builder.with_writer(SafeLog { json }).init(),
        (true, true) => builder.json().with_writer(std::io::stderr).init(),
        (true, false) => builder.json().with_writer(SafeLog { json }).init(),
    }
}
