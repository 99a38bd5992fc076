//! Where an export finds a camera's recordings: the backup (names, or DHAV frames, give
//! their spans) and the offsite bucket (names only). A recording in both is taken from
//! the backup, unless `--from-offsite` asks for the bucket alone.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::config::Config;
use crate::offsite::client::Client;
use crate::offsite::identity::Identities;
use crate::offsite::probe;
use crate::offsite::view::{seen, Known};
use crate::report::export::Origin;
use crate::rules::coverage::Held;
use crate::rules::restore::stored;
use crate::rules::span::{self, Span};
use crate::store::scan;
use crate::store::spans::{self, SpanCache};

/// One recording an export may take.
#[derive(Debug, Clone)]
pub struct Found {
    pub rel: PathBuf,
    pub span: Option<Span>,
    pub date: NaiveDate,
    pub origin: Origin,
    /// Its object's key, when it comes from the bucket.
    pub key: Option<String>,
}

/// Every camera's recordings, by camera name.
pub type Cameras = BTreeMap<Arc<str>, Vec<Found>>;

/// Every camera of the backup, with its finished recordings.
pub fn in_backup(cfg: &Config) -> Result<Cameras, String> {
    let dir = cfg.backup_dir.display();
    if !crate::commands::backup_readable(cfg)? {
        return Err(format!("{dir} holds no backup yet"));
    }
    let listing = scan::scan(&cfg.backup_dir, &cfg.names).map_err(|e| format!("cannot list {dir}: {e}"))?;
    let mut by_camera = Cameras::new();
    spans::pieces(
        &cfg.backup_dir,
        (&listing, None),
        &mut SpanCache::default(),
        &mut |rel, p| {
            if p.held == Held::Backup {
                by_camera.entry(p.camera.clone()).or_default().push(Found {
                    rel: rel.to_path_buf(),
                    span: p.span,
                    date: p.date,
                    origin: Origin::Backup,
                    key: None,
                });
            }
        },
    );
    Ok(by_camera)
}

/// The offsite bucket, when the configuration has one: a client and its place.
pub struct Bucket {
    pub client: Client,
    pub place: String,
    pub prefix: String,
    /// How many recipients the site encrypts to today.
    pub recipients: usize,
    /// What opens its encrypted objects, when given.
    pub ids: Option<Identities>,
}

impl Bucket {
    pub fn of(cfg: &Config, ids: Option<Identities>) -> Option<Result<Bucket, String>> {
        let o = cfg.offsite.as_ref()?;
        Some(probe::client(o).map(|client| Bucket {
            client,
            place: probe::place(o),
            prefix: o.prefix.clone(),
            recipients: o.recipients.len(),
            ids,
        }))
    }

    /// Every camera's recordings in the bucket, each at its current version.
    pub fn cameras(&self) -> Result<Cameras, String> {
        let listed = self
            .client
            .list(&self.prefix)
            .map_err(|e| format!("cannot list {}: {e}", self.place))?;
        let pairs: Vec<(String, u64)> = seen(listed, self.recipients, &Known::default())
            .into_iter()
            .map(|s| (s.real, s.size))
            .collect();
        let mut by_camera = Cameras::new();
        for s in stored(&pairs, &self.prefix) {
            let Some(camera) = span::camera(&s.rel) else { continue };
            by_camera.entry(camera.into()).or_default().push(Found {
                span: span::from_name_on(&s.rel, Some(s.date)),
                rel: s.rel,
                date: s.date,
                origin: Origin::Offsite,
                key: Some(s.key),
            });
        }
        Ok(by_camera)
    }
}

/// The backup's recordings, with the bucket's where the backup lacks them.
pub fn merged(mut backup: Cameras, bucket: Cameras) -> Cameras {
    for (camera, recs) in bucket {
        let have = backup.entry(camera).or_default();
        let known: std::collections::HashSet<PathBuf> = have.iter().map(|f| f.rel.clone()).collect();
        have.extend(recs.into_iter().filter(|f| !known.contains(&f.rel)));
    }
    backup
}
