//! Where log lines go: the console, and one file per pass,
//! `log_dir/YYYY/MM/DD/HH-MM-SS.log` named after the local time the pass started, as
//! the original scripts did. A daemon's file also receives whatever happens between
//! its pass and the next, so every line lands in exactly one file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Local};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{time::ChronoLocal, FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// The file the current pass writes to. Cloned into the tracing layer; `start` swaps
/// the file underneath it.
#[derive(Clone, Default)]
pub struct RunLog {
    current: Arc<Mutex<Option<File>>>,
}

/// The log file of a pass that starts at `at`.
pub fn file_for(log_dir: &Path, at: DateTime<Local>) -> PathBuf {
    log_dir.join(at.format("%Y/%m/%d/%H-%M-%S.log").to_string())
}

impl RunLog {
    /// Opens (appending, in case two passes start within one second) the file of a
    /// pass starting at `at` and sends the following lines there.
    pub fn start(&self, log_dir: &Path, at: DateTime<Local>) -> io::Result<PathBuf> {
        let path = file_for(log_dir, at);
        fs::create_dir_all(path.parent().expect("log file has a folder"))?;
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(file);
        Ok(path)
    }
}

/// Writes one formatted event to the current file, if any.
pub struct FileWriter(Arc<Mutex<Option<File>>>);

impl Write for FileWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(f) = self.0.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            // A log line that cannot be written must not stop a copy; the console has it.
            let _ = f.write_all(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for RunLog {
    type Writer = FileWriter;
    fn make_writer(&'a self) -> FileWriter {
        FileWriter(self.current.clone())
    }
}

/// Installs the console and file outputs for the whole process. `verbose` adds the
/// debug lines (every file found current, etc.). Under the systemd journal, console
/// lines carry no timestamp or colour of their own and start with their priority
/// (`<3>` error, `<4>` warning, `<6>` info, `<7>` debug), which journald reads.
pub fn init(verbose: bool) -> RunLog {
    init_with(verbose, io::stdout)
}

/// `init`, the console lines written through `console` (a command's progress bar
/// lifts itself for them).
pub fn init_with<W: Write + 'static>(verbose: bool, console: impl Fn() -> W + Send + Sync + 'static) -> RunLog {
    let log = RunLog::default();
    let level = if verbose { LevelFilter::DEBUG } else { LevelFilter::INFO };
    let journal = journald();
    let console = (!journal).then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(console)
            .with_ansi(io::stdout().is_terminal())
            .with_target(false)
            .with_timer(ChronoLocal::new("%Y-%m-%d %H:%M:%S".into()))
    });
    let journal = journal.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(io::stdout)
            .with_ansi(false)
            .event_format(Priority(
                tracing_subscriber::fmt::format()
                    .without_time()
                    .with_level(false)
                    .with_target(false),
            ))
    });
    let file = tracing_subscriber::fmt::layer()
        .with_writer(log.clone())
        .with_ansi(false)
        .with_target(false)
        .with_timer(ChronoLocal::new("%Y-%m-%dT%H:%M:%S%.3f%:z".into()));
    let _ = tracing_subscriber::registry()
        .with(level)
        .with(console)
        .with(journal)
        .with(file)
        .try_init();
    log
}

/// True when stdout goes to the systemd journal: systemd sets `JOURNAL_STREAM` (journald
/// then adds its own timestamp, and reads `<N>` line prefixes as priorities).
fn journald() -> bool {
    std::env::var_os("JOURNAL_STREAM").is_some_and(|v| !v.is_empty())
}

/// A line format that starts with the syslog priority of the event's level.
struct Priority<F>(F);

impl<S, N, F> FormatEvent<S, N> for Priority<F>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let p = match *event.metadata().level() {
            tracing::Level::ERROR => 3,
            tracing::Level::WARN => 4,
            tracing::Level::INFO => 6,
            _ => 7,
        };
        write!(w, "<{p}>")?;
        self.0.format_event(ctx, w, event)
    }
}
