//! The end of a run: the catch-up after the last fault, the figures, and the verdict
//! line by line, printed and written to `figures.json`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use serde_json::json;

use super::check::{self, Excuse, Held};
use super::faults::KINDS;
use super::ledger::{Ledger, Shared};
use super::options::Options;
use super::rig::Rig;
use super::{bucket, sampler, wait_for};

/// How long each catch-up took, in real seconds (None: not within its limit).
#[derive(Debug, Default, Clone, Copy)]
pub struct CatchUp {
    pub local: Option<f64>,
    pub offsite: Option<f64>,
    pub alerts: Option<f64>,
}

/// The window's first day at the end: retention's rule (the earlier of today and the
/// newest recording, less `retention_days`), from the ledger's dates.
fn cutoff(o: &Options, ledger: &Ledger, today: NaiveDate) -> NaiveDate {
    let newest = ledger.finished.iter().map(|f| f.date).max().unwrap_or(today);
    newest.min(today) - Days::new(o.retention_days.into())
}

/// Waits for the backup, then the bucket, then the alerts to catch up, and one more
/// pass after that.
pub fn catch_up(o: &Options, rig: &mut Rig, ledger: &Shared) -> CatchUp {
    let mut c = CatchUp::default();
    let today = rig.clock.now().date();
    let cut = cutoff(o, &ledger.lock().unwrap(), today);
    let t = Instant::now();
    let backup = rig.paths.backup.clone();
    let local_done = |l: &Ledger| {
        let (finals, partials, _) = listing(&backup, false);
        let whole = l
            .finished
            .iter()
            .filter(|f| f.date >= cut)
            .all(|f| finals.get(&f.rel).is_some_and(|(s, _)| *s == f.size) || l.wipes.iter().any(|w| *w >= f.at));
        whole && check::local(l, &finals, &partials, cut, &[]).beyond_window.is_empty()
    };
    let secs = |ok: bool| ok.then(|| t.elapsed().as_secs_f64());
    c.local = secs(waiting(rig, Duration::from_secs(180), || {
        local_done(&ledger.lock().unwrap())
    }));
    println!("soak: the backup caught up: {:?} s", c.local);
    let direct = rig.s3.direct.clone();
    let missing = || {
        let (finals, _, _) = listing(&backup, false);
        let bucket = bucket::list(&direct).ok()?;
        Some(check::offsite_missing(&ledger.lock().unwrap(), &finals, &bucket, cut).len())
    };
    c.offsite = secs(while_progressing(rig, Duration::from_secs(120), missing));
    println!("soak: the bucket caught up: {:?} s", c.offsite);
    let events = rig.receiver.events.clone();
    let wipe_recent = recent_wipe(o, &ledger.lock().unwrap());
    c.alerts = secs(waiting(rig, Duration::from_secs(120), || {
        check::uncleared(&pairs(&events.lock().unwrap()), wipe_recent).is_empty()
    }));
    println!("soak: the alerts cleared: {:?} s", c.alerts);
    let pass = Duration::from_secs_f64(1800.0 / f64::from(o.speed));
    rig.idle(pass * 2 + Duration::from_secs(1));
    c
}

/// Waits while `left` (what is still missing) falls, until it is 0; gives up after
/// `stall` without progress. At x1440 the uploads take real time while a simulated
/// day passes each minute, so the bucket's catch-up is judged by progress, not a clock.
fn while_progressing(rig: &mut Rig, stall: Duration, mut left: impl FnMut() -> Option<usize>) -> bool {
    let (mut best, mut since, mut said) = (usize::MAX, Instant::now(), Instant::now());
    loop {
        match left() {
            Some(0) => return true,
            Some(n) if n < best => (best, since) = (n, Instant::now()),
            _ => {}
        }
        if since.elapsed() > stall {
            return false;
        }
        if said.elapsed() > Duration::from_secs(30) {
            println!("soak: {best} recordings still to reach the bucket");
            said = Instant::now();
        }
        rig.idle(Duration::from_secs(2));
    }
}

/// Keeps the rig running while it waits, up to `d`, for `done`.
fn waiting(rig: &mut Rig, d: Duration, mut done: impl FnMut() -> bool) -> bool {
    wait_for(d, || {
        rig.idle(Duration::from_millis(1));
        done()
    })
}

fn recent_wipe(o: &Options, l: &Ledger) -> bool {
    let two_days = Duration::from_secs_f64(2.0 * 86_400.0 / f64::from(o.speed));
    l.wipes
        .iter()
        .any(|w| w.elapsed() < two_days + Duration::from_secs(600))
}

fn pairs(events: &[super::receiver::Event]) -> Vec<(String, Option<String>)> {
    events.iter().map(|e| (e.event.clone(), e.kind.clone())).collect()
}

/// The backup's final recordings (size, and hash when asked), in-progress copies, and
/// anything else (temporaries, strays), by path under the backup with `/`.
pub fn listing(backup: &Path, hash: bool) -> (Held, Vec<String>, Vec<String>) {
    let (mut finals, mut partials, mut strays) = (Held::new(), vec![], vec![]);
    let mut stack: Vec<PathBuf> = vec![backup.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(backup).unwrap().to_string_lossy().replace('\\', "/");
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                stack.push(p);
            } else if rel.ends_with(".dav") {
                let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                let h = if hash {
                    blake3::hash(&std::fs::read(&p).unwrap_or_default())
                } else {
                    blake3::hash(b"")
                };
                finals.insert(rel, (size, h));
            } else if rel.ends_with(".dav.partial") {
                partials.push(rel);
            } else if rel != ".cctv-mirror-backup" && rel != ".cctv-mirror-manifest.jsonl" {
                strays.push(rel);
            }
        }
    }
    (finals, partials, strays)
}

/// Everything a run found.
pub struct Report {
    figures: serde_json::Value,
    problems: Vec<String>,
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    pub fn gather(
        o: &Options,
        rig: &Rig,
        l: &Ledger,
        c: CatchUp,
        ended: Instant,
        stopped: bool,
        verify: (Option<i32>, String),
    ) -> Result<Report, String> {
        let mut problems = rig.violations.clone();
        let today = rig.clock.now().date();
        let cut = cutoff(o, l, today);
        let (finals, partials, strays) = listing(&rig.paths.backup, true);
        let v = check::local(l, &finals, &partials, cut, &rig.outages);
        let mut list = |what: &str, items: &[String]| {
            if !items.is_empty() {
                problems.push(format!(
                    "{} {what}: {}",
                    items.len(),
                    items.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        };
        list("recordings LOST (in the window, not in the backup)", &v.lost);
        list("recordings whose backup copy differs", &v.different);
        list("final names in the backup that no finished recording has", &v.unknown);
        list("recordings left beyond the window", &v.beyond_window);
        list("temporaries or strays left in the backup", &strays);
        let bucket = bucket::list(&rig.s3.direct)?;
        let offsite_missing = check::offsite_missing(l, &finals, &bucket, cut);
        list("recordings missing offsite", &offsite_missing);
        let sample_bad = sample_offsite(rig, l, &bucket);
        list("offsite objects whose bytes differ", &sample_bad);
        let events = rig.receiver.events.lock().unwrap().clone();
        let uncleared = check::uncleared(&pairs(&events), recent_wipe(o, l));
        list("alerts raised and never cleared", &uncleared);
        list("daemon exits nobody asked for", &rig.daemon.crashes);
        if !stopped {
            problems.push("the daemon did not stop within 60 s of SIGTERM".into());
        }
        if verify.0 != Some(0) {
            problems.push(format!("verify exited {:?}: {}", verify.0, verify.1));
        }
        let young = v.excused.get(&Excuse::WipedYoung).copied().unwrap_or(0);
        if young * 100 > v.in_window {
            problems.push(format!(
                "{young} of {} recordings wiped within 1 s of their end: not rare",
                v.in_window
            ));
        }
        let resources = resources(o, &rig.samples, &mut problems);
        let lags = check::lags(l, &rig.outages);
        let pct = |p| crate::shared::percentile(&lags, p);
        let sim = |ms: Option<u64>| ms.map(|m| m * u64::from(o.speed) / 1000);
        let mut struck = BTreeMap::new();
        for k in KINDS {
            struck.insert(k.name(), rig.struck.get(&k).copied().unwrap_or(0));
        }
        let mut alerts: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        for e in &events {
            if let Some(k) = &e.kind {
                let a = alerts.entry(k.clone()).or_default();
                match e.event.as_str() {
                    "raised" => a.0 += 1,
                    "cleared" => a.1 += 1,
                    _ => {}
                }
            }
        }
        let figures = json!({
            "seed": o.seed, "cameras": o.cameras, "days": o.days, "speed": o.speed,
            "retention_days": o.retention_days,
            "faults": struck, "faults_total": rig.struck.values().sum::<u32>(),
            "daemon_starts": rig.daemon.starts,
            "recordings": {
                "started": l.started, "finished": l.finished.len(), "in_window": v.in_window,
                "copied": v.copied,
                "wiped_before_copy": {
                    "young": v.excused.get(&Excuse::WipedYoung).copied().unwrap_or(0),
                    "in_outage": v.excused.get(&Excuse::WipedInOutage).copied().unwrap_or(0),
                    "after_part_copied": v.excused.get(&Excuse::PartWiped).copied().unwrap_or(0),
                },
                "lost": v.lost.len(), "different": v.different.len(),
                "in_progress_copies_left": partials.len(),
                "cut_by_a_wipe": l.cut.len(), "cut_kept_under_final_name": v.cut_kept,
            },
            "wipes": l.wipes.len(),
            "lag_real_ms": {"count": lags.len(), "p50": pct(50.0), "p99": pct(99.0), "max": lags.last()},
            "lag_sim_s": {"p50": sim(pct(50.0)), "p99": sim(pct(99.0)), "max": sim(lags.last().copied())},
            "offsite": {"objects": bucket.len(), "missing": offsite_missing.len(),
                        "beyond_window": bucket.keys().filter(|k| check::date_of(k).is_some_and(|d| d < cut)).count()},
            "alerts": alerts,
            "catch_up_real_s": {"local": c.local, "offsite": c.offsite, "alerts": c.alerts,
                                "total": ended.elapsed().as_secs_f64()},
            "verify": verify.0,
            "resources": resources,
            "problems": problems,
        });
        Ok(Report { figures, problems })
    }

    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn print(&self) {
        println!("{}", serde_json::to_string_pretty(&self.figures).unwrap());
        if self.passed() {
            println!("soak: PASSED");
        } else {
            for p in &self.problems {
                println!("soak: PROBLEM: {p}");
            }
            println!("soak: FAILED ({} problems)", self.problems.len());
        }
    }

    pub fn write(&self, to: &Path) -> Result<(), String> {
        std::fs::write(to, serde_json::to_vec_pretty(&self.figures).unwrap())
            .map_err(|e| format!("{}: {e}", to.display()))
    }
}

/// Most threads tokio's runtime may hold: its 2 workers, and `copy_workers` (2, the
/// default the soak keeps) plus 32 blocking threads (`BLOCKING_BESIDE_COPIES` in
/// `crates/engine/src/app.rs`).
const RUNTIME_THREADS_MAX: u64 = 2 + 2 + 32;

/// Memory, files and threads once the window is full (from day `retention_days + 1`,
/// over up to a week) beside the last days of the run; each within 10 %, or a
/// problem, when both spans are a week (the full run). Before the window fills the
/// backup grows, and so does what a pass lists.
///
/// The runtime's idle blocking threads come and go with the work, so they are held to
/// the runtime's ceiling instead; the others (the watcher's, the offsite tier's, the
/// notifier's) to the 10 %.
fn resources(o: &Options, samples: &[sampler::Sample], problems: &mut Vec<String>) -> serde_json::Value {
    let full = o.retention_days + 1;
    let span = (o.days.saturating_sub(o.retention_days) / 2).clamp(1, 7);
    let first = sampler::median(samples, full, full + span);
    let last = sampler::median(samples, o.days + 1 - span, o.days + 1);
    let runtime_most = samples.iter().map(|s| s.runtime_threads).max().unwrap_or(0);
    if runtime_most > RUNTIME_THREADS_MAX {
        problems.push(format!(
            "the runtime held {runtime_most} threads, more than its ceiling of {RUNTIME_THREADS_MAX}"
        ));
    }
    if span < 7 {
        // A day against a day, with a restart or two between: noise, not a trend.
    } else if let (Some(a), Some(b)) = (first, last) {
        for (name, x, y) in [
            ("resident memory (KiB)", a.rss_kib, b.rss_kib),
            ("open files", a.files, b.files),
            ("threads outside the runtime", a.other_threads, b.other_threads),
        ] {
            if y as f64 > x as f64 * 1.10 {
                problems.push(format!(
                    "{name}: {y} over the last {span} days against {x} once the window was full: more than 10 % up"
                ));
            }
        }
    } else {
        problems.push("too few samples of the daemon's footprint".into());
    }
    let per_day: BTreeMap<u32, sampler::Medians> = (0..=o.days)
        .filter_map(|d| Some((d, sampler::median(samples, d, d + 1)?)))
        .collect();
    json!({"window_full": first, "last": last, "span_days": span, "runtime_threads_most": runtime_most, "per_day": per_day})
}

/// Twenty objects, spread over the run, read back whole and hashed.
fn sample_offsite(rig: &Rig, l: &Ledger, bucket: &HashMap<String, u64>) -> Vec<String> {
    let have: Vec<_> = l
        .finished
        .iter()
        .filter_map(|f| Some((f, bucket::holding(bucket, &f.rel, f.size)?)))
        .collect();
    let step = (have.len() / 20).max(1);
    have.iter()
        .step_by(step)
        .filter(|(f, key)| bucket::get(&rig.s3.direct, key).map_or(true, |b| blake3::hash(&b) != f.blake3))
        .map(|(f, _)| f.rel.clone())
        .collect()
}
