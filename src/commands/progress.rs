//! Progress of a long command (`verify`, `restore`): a bar with bytes/s on a terminal,
//! a plain line every 10 s otherwise. Lines the command prints while the bar shows go
//! through `console`, which lifts the bar for them.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::store::volume::human;

pub struct Shown {
    bar: Option<ProgressBar>,
    last: Instant,
    /// The command, and what its bytes are ("read", "received").
    words: (&'static str, &'static str),
}

impl Shown {
    pub fn new(command: &'static str, done_word: &'static str, terminal: bool) -> Shown {
        let bar = terminal.then(|| {
            let bar = ProgressBar::new(0);
            let style = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Shown {
            bar,
            last: Instant::now(),
            words: (command, done_word),
        }
    }

    /// Shows the progress; always goes on (a console stops the command with Ctrl-C).
    pub fn tick(&mut self, done: u64, total: u64) -> bool {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
        } else if self.last.elapsed() >= Duration::from_secs(10) {
            self.last = Instant::now();
            let (command, word) = self.words;
            eprintln!("{command}: {} of {} {word}", human(done), human(total));
        }
        true
    }

    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Standard output, the bar lifted while a line is written.
    pub fn console(&self) -> Console {
        Console(self.bar.clone())
    }
}

/// Standard output beneath a progress bar.
#[derive(Clone)]
pub struct Console(Option<ProgressBar>);

impl Write for Console {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &self.0 {
            Some(bar) => bar.suspend(|| io::stdout().write(buf)),
            None => io::stdout().write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        io::stdout().flush()
    }
}
