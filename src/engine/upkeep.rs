//! The work after a pass that needs its listings: refreshing `log_dir/coverage.json`
//! and `coverage.html` from them (no second walk). Runs off the async threads; a
//! failure is one log line, never the pass's.

use std::sync::{Arc, Mutex};

use chrono::Local;

use crate::config::Config;
use crate::engine::pass::Listings;
use crate::report::coverage;
use crate::store::spans::SpanCache;

/// What upkeep keeps between passes: the spans read from frames.
#[derive(Default)]
pub struct Upkeep {
    spans: Arc<Mutex<SpanCache>>,
}

impl Upkeep {
    /// Rewrites the coverage files from a pass's listings.
    pub async fn after_pass(&self, cfg: &Arc<Config>, listings: Option<Listings>) {
        let Some(l) = listings else {
            return;
        };
        let (cfg, spans) = (cfg.clone(), self.spans.clone());
        let done = tokio::task::spawn_blocking(move || {
            let mut cache = spans.lock().unwrap_or_else(|p| p.into_inner());
            let started = std::time::Instant::now();
            let doc = coverage::build(
                &cfg,
                (&l.backup, Some(&l.source)),
                &mut cache,
                Local::now(),
                cfg.retention_days,
            );
            coverage::write_files(&cfg.log_dir, &doc).map(|()| (doc, started.elapsed()))
        })
        .await;
        match done {
            Ok(Ok((doc, took))) => tracing::info!(
                complete = doc.verdict.counts.complete,
                gaps = doc.verdict.counts.gaps,
                missing_secs = doc.verdict.counts.missing_secs,
                duration_ms = took.as_millis() as u64,
                "coverage: {}",
                doc.verdict.sentence
            ),
            Ok(Err(e)) => tracing::warn!("cannot write the coverage report in the log folder: {e}"),
            Err(e) => tracing::warn!("the coverage report failed: {e}"),
        }
    }
}
