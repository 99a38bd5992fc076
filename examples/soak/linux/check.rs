//! The verdict, as pure functions of what the ledger recorded and what the backup and
//! the bucket hold at the end: each recording copied, explained, or lost; what is left
//! that should not be; how soon the copies came.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use super::faults::Kind;
use super::ledger::{Cut, Finished, Ledger};

/// A file in the backup: its size and hash.
pub type Held = HashMap<String, (u64, blake3::Hash)>;

/// A fault while it lasted.
#[derive(Debug, Clone, Copy)]
pub struct Outage {
    pub kind: Kind,
    pub from: Instant,
    pub to: Instant,
}

/// Why a recording missing from the backup could not have been saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Excuse {
    /// Wiped less than `YOUNG` after it finished.
    WipedYoung,
    /// Wiped while the daemon or the backup disk was away since it finished.
    WipedInOutage,
    /// Its copy holds what it held at one of its frames; a wipe (young, or while the
    /// daemon or the disk was away) took the rest before the copy caught up.
    PartWiped,
}

/// A recording wiped sooner than this after it finished had no fair chance.
pub const YOUNG: Duration = Duration::from_secs(1);

/// The local backup's side of the verdict.
#[derive(Debug, Default)]
pub struct Local {
    pub in_window: usize,
    pub copied: usize,
    pub excused: HashMap<Excuse, usize>,
    pub lost: Vec<String>,
    pub different: Vec<String>,
    pub unknown: Vec<String>,
    /// Recordings cut short by a wipe whose copy took its final name once they stood
    /// still (`settle_secs`): each byte for byte what the recording held at one frame.
    pub cut_kept: usize,
    pub beyond_window: Vec<String>,
}

/// Compares the finished recordings dated on or after `cutoff` with `finals` (the
/// backup's final names) and `partials`; `outages` excuse a loss to a wipe.
pub fn local(ledger: &Ledger, finals: &Held, partials: &[String], cutoff: NaiveDate, outages: &[Outage]) -> Local {
    let mut v = Local::default();
    let known: HashMap<&str, &Finished> = ledger.finished.iter().map(|f| (f.rel.as_str(), f)).collect();
    for f in ledger.finished.iter().filter(|f| f.date >= cutoff) {
        v.in_window += 1;
        match finals.get(&f.rel) {
            Some(&(size, hash)) if size == f.size && hash == f.blake3 => v.copied += 1,
            Some(held) => match excuse(f, &ledger.wipes, outages) {
                Some(_) if was_held(ledger, &f.rel, held) => *v.excused.entry(Excuse::PartWiped).or_default() += 1,
                _ => v.different.push(f.rel.clone()),
            },
            None => match excuse(f, &ledger.wipes, outages) {
                Some(e) => *v.excused.entry(e).or_default() += 1,
                None => v.lost.push(f.rel.clone()),
            },
        }
    }
    let cut: HashMap<&str, &Cut> = ledger.cut.iter().map(|c| (c.rel.as_str(), c)).collect();
    for (rel, held) in finals.iter().filter(|(r, _)| !known.contains_key(r.as_str())) {
        match cut.get(rel.as_str()) {
            Some(c) if c.prefixes.contains(held) => v.cut_kept += 1,
            _ => v.unknown.push(rel.clone()),
        }
    }
    for rel in finals.keys().chain(partials) {
        if date_of(rel).is_some_and(|d| d < cutoff) {
            v.beyond_window.push(rel.clone());
        }
    }
    v.lost.sort();
    v.unknown.sort();
    v.beyond_window.sort();
    v
}

/// Whether `rel` held exactly `held` after one of its frames.
fn was_held(ledger: &Ledger, rel: &str, held: &(u64, blake3::Hash)) -> bool {
    ledger.unsaved.get(rel).is_some_and(|p| p.contains(held))
}

/// Why `f` may be missing: the first wipe after it finished came too soon, or while
/// the daemon or the disk was away.
fn excuse(f: &Finished, wipes: &[Instant], outages: &[Outage]) -> Option<Excuse> {
    let wipe = wipes.iter().copied().filter(|w| *w >= f.at).min()?;
    if wipe.duration_since(f.at) < YOUNG {
        return Some(Excuse::WipedYoung);
    }
    let away = outages
        .iter()
        .any(|o| o.kind.stops_local_copies() && o.from <= wipe && o.to >= f.at);
    away.then_some(Excuse::WipedInOutage)
}

/// The date a backup path says (`YYYY/MM/DD/…`).
pub fn date_of(rel: &str) -> Option<NaiveDate> {
    let mut p = rel.split('/');
    let (y, m, d) = (
        p.next()?.parse().ok()?,
        p.next()?.parse().ok()?,
        p.next()?.parse().ok()?,
    );
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The recordings the bucket should hold but does not: finished, in the window, and in
/// the backup (what never reached the backup cannot go offsite), at the backup copy's
/// size. A recording that grew after its upload counts under its newest `.grown-N` key.
pub fn offsite_missing(
    ledger: &Ledger,
    finals: &Held,
    bucket: &HashMap<String, u64>,
    cutoff: NaiveDate,
) -> Vec<String> {
    let mut v: Vec<String> = ledger
        .finished
        .iter()
        .filter(|f| f.date >= cutoff)
        .filter(|f| {
            finals
                .get(&f.rel)
                .is_some_and(|(size, _)| super::bucket::holding(bucket, &f.rel, *size).is_none())
        })
        .map(|f| f.rel.clone())
        .collect();
    v.sort();
    v
}

/// Lags from a recording's end to its whole copy, in real milliseconds, of those no
/// fault touched between the two.
pub fn lags(ledger: &Ledger, outages: &[Outage]) -> Vec<u64> {
    let mut v: Vec<u64> = ledger
        .finished
        .iter()
        .filter_map(|f| Some((f.at, *ledger.seen.get(&f.rel)?)))
        .filter(|(from, to)| {
            !outages
                .iter()
                .any(|o| o.kind.stops_local_copies() && o.from <= *to && o.to >= *from)
        })
        .map(|(from, to)| to.duration_since(from).as_millis() as u64)
        .collect();
    v.sort_unstable();
    v
}

/// Alert kinds raised and not cleared since; `source_wipe` is excused while its cause
/// stands (`wipe_recent`: a wipe in the last two simulated days).
pub fn uncleared(events: &[(String, Option<String>)], wipe_recent: bool) -> Vec<String> {
    let mut last: HashMap<&str, &str> = HashMap::new();
    for (event, kind) in events {
        if let Some(k) = kind {
            if event == "raised" || event == "cleared" {
                last.insert(k, event);
            }
        }
    }
    let mut v: Vec<String> = last
        .into_iter()
        .filter(|(k, e)| *e == "raised" && !(wipe_recent && *k == "source_wipe"))
        .map(|(k, _)| k.to_string())
        .collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fin(rel: &str, at: Instant) -> Finished {
        Finished {
            rel: rel.into(),
            date: date_of(rel).unwrap(),
            size: 3,
            blake3: blake3::hash(b"abc"),
            at,
        }
    }

    #[test]
    fn a_recording_is_copied_excused_or_lost() {
        let t = Instant::now();
        let s = Duration::from_secs(1);
        let l = Ledger {
            finished: vec![
                fin("2027/02/02/ch01/a.dav", t),
                fin("2027/02/02/ch01/b.dav", t),
                fin("2027/02/02/ch01/c.dav", t + 10 * s),
                fin("2027/02/02/ch01/d.dav", t + 20 * s),
                fin("2027/02/01/ch01/old.dav", t),
            ],
            wipes: vec![t + 5 * s, t + 20 * s],
            ..Default::default()
        };
        let mut finals = Held::new();
        finals.insert("2027/02/02/ch01/a.dav".into(), (3, blake3::hash(b"abc")));
        finals.insert("2027/02/01/ch01/old.dav".into(), (3, blake3::hash(b"abc")));
        finals.insert("2027/02/02/ch01/z.dav".into(), (1, blake3::hash(b"z")));
        let outage = Outage {
            kind: Kind::Unmount,
            from: t + 11 * s,
            to: t + 12 * s,
        };
        let cutoff = NaiveDate::from_ymd_opt(2027, 2, 2).unwrap();
        let v = local(&l, &finals, &[], cutoff, &[outage]);
        assert_eq!((v.in_window, v.copied), (4, 1));
        assert_eq!(v.lost, vec!["2027/02/02/ch01/b.dav"], "wiped 5 s after, nothing away");
        assert_eq!(
            v.excused[&Excuse::WipedInOutage],
            1,
            "c: the disk was away before the wipe"
        );
        assert_eq!(v.excused[&Excuse::WipedYoung], 1, "d: wiped as it finished");
        assert_eq!(v.unknown, vec!["2027/02/02/ch01/z.dav"]);
        assert_eq!(v.beyond_window, vec!["2027/02/01/ch01/old.dav"]);
    }

    #[test]
    fn a_copy_cut_short_by_a_wipe_is_excused_only_at_a_frame_and_in_an_outage() {
        let t = Instant::now();
        let s = Duration::from_secs(1);
        let frame = (1, blake3::hash(b"a"));
        let mut l = Ledger {
            finished: ["e", "f", "g"]
                .map(|n| fin(&format!("2027/02/02/ch01/{n}.dav"), t))
                .to_vec(),
            wipes: vec![t + 5 * s],
            ..Default::default()
        };
        let mut finals = Held::new();
        for n in ["e", "f", "g"] {
            let rel = format!("2027/02/02/ch01/{n}.dav");
            l.unsaved.insert(rel.clone(), vec![frame, (3, blake3::hash(b"abc"))]);
            finals.insert(rel, frame);
        }
        // g holds two bytes: no frame ended there.
        finals.insert("2027/02/02/ch01/g.dav".into(), (2, blake3::hash(b"ab")));
        let cutoff = NaiveDate::from_ymd_opt(2027, 2, 2).unwrap();
        let away = |from, to| Outage {
            kind: Kind::Pause,
            from,
            to,
        };
        let v = local(&l, &finals, &[], cutoff, &[away(t + s, t + 6 * s)]);
        assert_eq!(v.excused[&Excuse::PartWiped], 2, "e and f: one frame, wiped while away");
        assert_eq!(v.different, vec!["2027/02/02/ch01/g.dav"]);
        let v = local(&l, &finals, &[], cutoff, &[away(t + 6 * s, t + 7 * s)]);
        assert_eq!(v.different.len(), 3, "nothing was away when the wipe came");
    }

    #[test]
    fn an_alert_raised_and_not_cleared_is_named() {
        let e = |ev: &str, k: &str| (ev.to_string(), Some(k.to_string()));
        let events = vec![
            e("raised", "a"),
            e("cleared", "a"),
            e("raised", "b"),
            e("reminder", "b"),
            e("raised", "source_wipe"),
        ];
        assert_eq!(uncleared(&events, false), vec!["b", "source_wipe"]);
        assert_eq!(uncleared(&events, true), vec!["b"]);
    }
}
