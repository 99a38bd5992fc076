//! The offsite sweep after each pass: list the prefix of the bucket (encrypted
//! objects read as their recordings, `crate::view`), offer the
//! backlog every finished recording of the backup the bucket lacks or holds with
//! another size (`rules::offsite::uploads`), and carry out offsite retention
//! (`rules::offsite::expiry`), logging each deletion with its reason. What it decides
//! comes from the bucket's listing and the backup's; a source wipe or a lost backup
//! never deletes an object.

use std::collections::HashMap;
use std::path::Path;

use chrono::Local;

use crate::backlog::Item;
use crate::client::{Listed, S3Error};
use crate::lock::{delete_all_versions, Removal};
use crate::site::PrefixClaim;
use crate::view::{self, recording_key};
use crate::worker::Shared;
use rules::listing::Recordings;
use rules::offsite::{expiry, key_of, superseded, uploads, Object, Why};
use rules::window::Window;
use store::manifest;

/// What a sweep needs besides the shared parts.
pub struct Rules {
    pub retention_days: u32,
    pub allow_mass_delete: bool,
    /// This site, whose marker must name it before retention runs.
    pub site: PrefixClaim,
}

/// Lists the bucket, offers what it lacks, deletes what expired. `local`: the
/// backup's finished recordings after the pass.
pub fn sweep(shared: &Shared, rules: &Rules, local: &Recordings) {
    let listed = match shared.client.list(&shared.prefix) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("offsite sweep: cannot list the bucket: {e}");
            if e.is_outage() {
                shared.outage(&e);
            }
            return;
        }
    };
    shared.reachable();
    let sizes: HashMap<String, u64> = local
        .iter()
        .map(|(rel, r)| (key_of(&shared.prefix, rel), r.meta.size))
        .collect();
    let (remote, reals) = recordings(shared, listed, &sizes);
    shared
        .state
        .listed(remote.iter().map(|o| (o.key.clone(), o.size)).collect());
    let today = Local::now().date_naive();
    let newest = local.values().map(|r| r.date).max();
    let window = Window::new(today, rules.retention_days, newest);
    let wanted = uploads(
        local.iter().map(|(rel, r)| (&**rel, r.meta.size, r.date)),
        &remote,
        &shared.prefix,
        &window,
    );
    offer(shared, local, &wanted);
    tidy(shared, &sizes, &remote, &reals);
    expire(shared, rules, (&remote, &reals), today);
}

/// The object keys under each recording key: one, or two when a recording was
/// uploaded both in clear and encrypted.
type Reals = HashMap<String, Vec<String>>;

/// The listing as recordings (`offsite::view`), their sizes checked against the
/// backup's (`sizes`, by key); with the object keys of each.
fn recordings(shared: &Shared, listed: Vec<Listed>, sizes: &HashMap<String, u64>) -> (Vec<Object>, Reals) {
    let mut seen = view::seen(listed, shared.recipients.len(), &shared.known);
    view::confirm(&shared.client, &mut seen, |k| sizes.get(k).copied(), &shared.known);
    let mut reals: Reals = HashMap::new();
    for s in &seen {
        reals.entry(s.key.clone()).or_default().push(s.real.clone());
    }
    let remote = seen
        .into_iter()
        .map(|s| Object {
            key: s.key,
            size: s.size,
        })
        .collect();
    (remote, reals)
}

/// The object keys of the recording key `key`.
fn reals_of<'a>(reals: &'a Reals, key: &'a str) -> impl Iterator<Item = &'a str> {
    let found = reals.get(key).map(|r| r.iter().map(String::as_str));
    found.into_iter().flatten()
}

/// Deletes the older versions of recordings that grew, once the newest is there whole
/// (`rules::offsite::superseded`); one that cannot go yet is tried again at the next
/// sweep. Under object lock they stay until offsite retention takes them with their
/// newest version: the lock holds them as long.
fn tidy(shared: &Shared, sizes: &HashMap<String, u64>, remote: &[Object], reals: &Reals) {
    if shared.lock.is_some() {
        return;
    }
    let superseded = superseded(remote, |k| sizes.get(k).copied());
    for (old, newer) in superseded
        .iter()
        .flat_map(|(old, newer)| reals_of(reals, old).map(move |r| (r, newer)))
    {
        match shared.client.delete(old) {
            Ok(()) => {
                shared.state.deleted(recording_key(old));
                tracing::info!(
                    key = old,
                    newer,
                    "deleted from the offsite bucket: superseded by the newer version of its recording"
                );
            }
            Err(e) => tracing::warn!(
                key = old,
                newer,
                "superseded, not deleted yet (tried again at the next pass): {e}"
            ),
        }
    }
}

/// Offers the backlog each wanted upload not already waiting, with its manifest hash.
fn offer(shared: &Shared, local: &Recordings, wanted: &[rules::offsite::Upload]) {
    let fresh: Vec<_> = wanted.iter().filter(|u| !shared.backlog.holds(&u.rel)).collect();
    if fresh.is_empty() {
        return;
    }
    let hashes: HashMap<String, manifest::Entry> =
        manifest::load(&shared.backup_dir).map(|(m, _)| m).unwrap_or_default();
    let (mut offered, mut differ, mut full) = (0, 0, 0);
    for u in fresh {
        // `/` separates components on Windows too: the listing's own path matches.
        let Some(r) = local.get(Path::new(&u.rel)) else {
            continue;
        };
        let blake3 = hashes
            .get(&u.rel)
            .filter(|e| e.size == r.meta.size && !e.blake3.is_empty())
            .map(|e| e.blake3.clone());
        let item = Item {
            size: r.meta.size,
            mtime: r.meta.mtime,
            blake3,
        };
        if !shared.backlog.offer(u.rel.clone(), item) {
            full += 1;
            continue;
        }
        offered += 1;
        differ += usize::from(u.why == Why::Differs);
    }
    tracing::info!(
        offered,
        differ,
        not_queued_full = full,
        "offsite sweep: recordings the bucket lacks queued for upload"
    );
}

/// Offsite retention: deletes expired objects under the prefix, or says why not.
fn expire(shared: &Shared, rules: &Rules, (remote, reals): (&[Object], &Reals), today: chrono::NaiveDate) {
    if let Err(why) = rules.site.claim(&shared.client, &shared.prefix) {
        tracing::warn!(alert = "retention_refused", "offsite retention not run: {why}");
        shared.state.refused(Some(why));
        return;
    }
    let plan = expiry(
        remote,
        &shared.prefix,
        today,
        rules.retention_days,
        rules.allow_mass_delete,
    );
    if let Some(why) = &plan.refused {
        tracing::warn!(
            alert = "retention_refused",
            "{why}; run once with --allow-mass-delete if intended"
        );
    }
    shared.state.refused(plan.refused);
    let each = plan
        .delete
        .iter()
        .flat_map(|(key, why)| reals_of(reals, key).map(move |r| (r, why)));
    for (key, why) in each {
        match delete(shared, key) {
            Ok(Removal::Deleted) => {
                shared.state.deleted(recording_key(key));
                tracing::info!(key, reason = %why, "deleted from the offsite bucket (offsite retention)");
            }
            // Expected near midnight east of UTC: the lock ends on a UTC day.
            Ok(Removal::Kept(answer)) => tracing::info!(
                key,
                "kept by the bucket's object lock a little longer, deleted at a later pass ({answer})"
            ),
            Err(e) => tracing::warn!(
                key,
                "not deleted from the offsite bucket, tried again at the next pass: {e}"
            ),
        }
    }
}

/// Deletes `key`: every version of it under object lock, else the object.
fn delete(shared: &Shared, key: &str) -> Result<Removal, S3Error> {
    if shared.lock.is_some() {
        return delete_all_versions(&shared.client, key);
    }
    shared.client.delete(key).map(|()| Removal::Deleted)
}
