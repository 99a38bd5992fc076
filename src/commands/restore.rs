//! `cctv-mirror restore --from-offsite`: recordings brought back from the bucket into
//! the backup's layout, each checked against the hash recorded at upload, never over a
//! file (docs/operations.md). Exit 0 all restored, 3 one not restored or kept beside
//! other bytes, 2 bad input, 1 the bucket cannot be listed.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use chrono::{Days, Local, NaiveDateTime};

use super::progress::Shown;
use crate::cli::local_time;
use crate::config::Config;
use crate::engine::exit;
use crate::engine::lock::{self, Probe};
use crate::offsite::identity::Identities;
use crate::offsite::restore::{fetch, held, recorded, Recorded};
use crate::offsite::view::{seen, Known};
use crate::offsite::{client::Client, probe};
use crate::report::runlog;
use crate::rules::export::Range;
use crate::rules::restore::{cameras, place, stored, Choice, Held, Place, Stored};
use crate::rules::sealed::plain_key;
use crate::store::manifest::{self, Entry};
use crate::store::volume::{self, human};
use crate::store::whereis;

/// The command line of `restore`.
pub struct Asked {
    pub from_offsite: bool,
    /// The age identity file that opens encrypted objects.
    pub identity: Option<PathBuf>,
    /// The folder, and with `from` the range's end.
    pub to: Vec<PathBuf>,
    pub days: Option<u32>,
    pub camera: Option<String>,
    pub from: Option<NaiveDateTime>,
}

pub fn run(cfg: &Config, asked: &Asked) -> ExitCode {
    let (dir, range) = match folder_and_range(asked) {
        Ok(v) => v,
        Err(why) => return fail(exit::BAD_CONFIG, &why),
    };
    let Some(o) = &cfg.offsite else {
        return fail(
            exit::BAD_CONFIG,
            "the configuration has no offsite section: there is no bucket to restore from",
        );
    };
    if whereis::really_within(&dir, &cfg.source_dir) || whereis::really_within(&cfg.source_dir, &dir) {
        return fail(
            exit::BAD_CONFIG,
            &format!(
                "restore into a folder outside the source folder {}, not {}",
                cfg.source_dir.display(),
                dir.display()
            ),
        );
    }
    let into_backup = whereis::really_within(&dir, &cfg.backup_dir) || whereis::really_within(&cfg.backup_dir, &dir);
    if let (true, Probe::Held(holder)) = (into_backup, lock::probe(&cfg.log_dir)) {
        let who = holder.map_or("a run of cctv-mirror".to_string(), |h| h.describe());
        return fail(
            exit::BAD_CONFIG,
            &format!(
                "{who} writes into the backup folder {}: stop it first (cctv-mirror service stop), then restore",
                cfg.backup_dir.display()
            ),
        );
    }
    let ids = match asked.identity.as_deref().map(Identities::from_file).transpose() {
        Ok(ids) => ids,
        Err(why) => return fail(exit::BAD_CONFIG, &why),
    };
    let client = match probe::client(o) {
        Ok(c) => c,
        Err(why) => return fail(exit::CANNOT_RUN, &why),
    };
    let listed = match client.list(&o.prefix) {
        Ok(l) => seen(l, o.recipients.len(), &Known::default())
            .into_iter()
            .map(|s| (s.real, s.size))
            .collect::<Vec<_>>(),
        Err(e) => return fail(exit::CANNOT_RUN, &format!("cannot list {}: {e}", probe::place(o))),
    };
    let all = stored(&listed, &o.prefix);
    let camera = match &asked.camera {
        None => None,
        Some(c) => match camera_named(&all, c) {
            Ok(c) => Some(c),
            Err(why) => return fail(exit::BAD_CONFIG, &why),
        },
    };
    let today = Local::now().date_naive();
    let choice = Choice {
        since: asked
            .days
            .and_then(|n| today.checked_sub_days(Days::new(u64::from(n.max(1) - 1)))),
        camera,
        range,
    };
    let chosen: Vec<Stored> = all.into_iter().filter(|s| choice.takes(s)).collect();
    if ids.is_none() && chosen.iter().any(|s| plain_key(&s.key).is_some()) {
        return fail(
            exit::BAD_CONFIG,
            &format!(
                "the bucket's recordings are encrypted: {}",
                crate::offsite::identity::WANTED
            ),
        );
    }
    let tally = restore_all(cfg, (&client, ids.as_ref()), &probe::place(o), &dir, &chosen);
    ExitCode::from(if tally.kept_beside + tally.failed == 0 {
        exit::OK
    } else {
        exit::PROBLEMS
    })
}

fn fail(code: u8, why: &str) -> ExitCode {
    eprintln!("error: {why}");
    ExitCode::from(code)
}

/// The folder to restore into, and the range when `--from` is given: then `--to` comes
/// twice, once a folder and once a time.
fn folder_and_range(asked: &Asked) -> Result<(PathBuf, Option<Range>), String> {
    if !asked.from_offsite {
        return Err("restore takes recordings from the offsite bucket: add --from-offsite".into());
    }
    let time = |p: &PathBuf| p.to_str().and_then(|s| local_time(s).ok());
    match (asked.from, asked.to.as_slice()) {
        (None, [dir]) if time(dir).is_none() => Ok((dir.clone(), None)),
        (Some(from), [a, b]) => {
            let (dir, end) = match (time(a), time(b)) {
                (None, Some(end)) => (a, end),
                (Some(end), None) => (b, end),
                _ => return Err(TWO_TOS.into()),
            };
            let range =
                Range::new(from, end).ok_or_else(|| format!("--from ({from}) must come before --to ({end})"))?;
            Ok((dir.clone(), Some(range)))
        }
        _ => Err(TWO_TOS.into()),
    }
}

const TWO_TOS: &str =
    "--to names the folder to restore into; with --from, a second --to gives the range's end (\"YYYY-MM-DD HH:MM\")";

/// The camera named `asked` in the bucket: as written, else the one that differs only
/// in case.
fn camera_named(all: &[Stored], asked: &str) -> Result<String, String> {
    let known = cameras(all);
    if known.contains(asked) {
        return Ok(asked.to_string());
    }
    let mut alike = known.iter().filter(|c| c.eq_ignore_ascii_case(asked));
    match (alike.next(), alike.next()) {
        (Some(c), None) => Ok(c.clone()),
        _ => Err(format!(
            "the bucket has no camera {asked:?}; its cameras: {}",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.into_iter().collect::<Vec<_>>().join(", ")
            }
        )),
    }
}

/// What a restore did.
#[derive(Debug, Default)]
struct Tally {
    restored: u64,
    bytes: u64,
    already: u64,
    kept_beside: u64,
    failed: u64,
}

/// Restores `chosen` into `dir`, logging each recording and a summary (on the console
/// and in a log file of `log_dir`).
fn restore_all(
    cfg: &Config,
    bucket: (&Client, Option<&Identities>),
    place: &str,
    dir: &Path,
    chosen: &[Stored],
) -> Tally {
    let mut shown = Shown::new("restore", "received", std::io::stderr().is_terminal());
    let console = shown.console();
    let log = runlog::init_with(false, move || console.clone());
    if let Err(e) = log.start(&cfg.log_dir, Local::now()) {
        eprintln!("note: no log file in {}: {e}", cfg.log_dir.display());
    }
    let total: u64 = chosen.iter().map(|s| s.size).sum();
    tracing::info!(from = place, to = %dir.display(), recordings = chosen.len(), bytes = total, "restore started");
    // Entries go into the manifest only of a marked backup folder.
    let marked = volume::marked(dir);
    let started = Instant::now();
    let (mut tally, mut base) = (Tally::default(), 0u64);
    for s in chosen {
        let mut got = 0;
        let mut progress = |n: u64| {
            got += n;
            shown.tick(base + got, total);
        };
        match one(bucket, dir, s, &mut progress) {
            Ok((p, _, None)) => {
                tally.already += 1;
                tracing::info!(path = %p.display(), "already there with the same bytes");
            }
            Ok((p, want, Some(bytes))) => {
                tally.restored += 1;
                tally.bytes += want.size;
                if p == s.rel {
                    tracing::info!(path = %p.display(), bytes, key = s.key, "restored");
                } else {
                    tally.kept_beside += 1;
                    tracing::warn!(path = %s.rel.display(), beside = %p.display(), bytes, "restored beside: the folder holds other bytes under its name, never overwritten");
                }
                if marked {
                    record(dir, &p, &want);
                }
            }
            Err(why) => {
                tally.failed += 1;
                tracing::warn!(path = %s.rel.display(), key = s.key, "not restored: {why}");
            }
        }
        base += s.size;
        shown.tick(base, total);
    }
    shown.done();
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(
        restored = tally.restored,
        already_there = tally.already,
        kept_beside = tally.kept_beside,
        not_restored = tally.failed,
        "restore finished: {} restored ({}), {} already there, {} beside other bytes, {} not restored, in {secs:.1} s{}",
        tally.restored,
        human(tally.bytes),
        tally.already,
        tally.kept_beside,
        tally.failed,
        if marked {
            String::new()
        } else {
            format!(
                "; {} has no backup marker: adopt-backup makes it the backup, verify then records their hashes",
                dir.display()
            )
        }
    );
    tally
}

/// Restores one recording; the name it is under, what the bucket recorded of it, and
/// the bytes received (None: it was there already).
fn one(
    (client, ids): (&Client, Option<&Identities>),
    dir: &Path,
    s: &Stored,
    progress: &mut dyn FnMut(u64),
) -> Result<(PathBuf, Recorded, Option<u64>), String> {
    let want = recorded(client, &s.key).map_err(|e| e.to_string())?;
    // A file that cannot be read counts as other bytes: it is never overwritten.
    let at = place(&s.rel, |p| held(&dir.join(p), &want).unwrap_or(Held::Other));
    let to = match at {
        Place::Already(p) => return Ok((p, want, None)),
        Place::NoRoom => return Err(format!("{} and every name beside it hold other bytes", s.rel.display())),
        Place::Own(p) | Place::Beside(p) => p,
    };
    let bytes = fetch(client, (&s.key, ids), &want, &dir.join(&to), progress).map_err(|e| e.to_string())?;
    Ok((to, want, Some(bytes)))
}

/// Records a restored recording in the backup's manifest: its bytes are those the
/// backup's copy held when it was uploaded.
fn record(dir: &Path, rel: &Path, want: &Recorded) {
    let entry = Entry::new(rel, want.size, want.blake3.clone());
    if let Err(e) = manifest::append(dir, &[entry]) {
        tracing::warn!(path = %rel.display(), "not recorded in the manifest: {e}");
    }
}
