//! Whose prefix this is. The first sweep writes `PREFIX.cctv-mirror-site.json`, naming
//! this site (`site_name`), where none is. A prefix whose marker names another site is
//! shared by mistake: its dated keys would fall under this site's retention, so
//! retention refuses to run there and `check` says so. The marker has no date in its
//! key: retention never deletes it.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Local};
use serde::{Deserialize, Serialize};

use crate::client::{Client, S3Error};

/// The marker's name under the prefix.
pub const MARKER: &str = ".cctv-mirror-site.json";

/// The marker's content.
#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    site_name: String,
    written_at: DateTime<Local>,
}

/// Who the prefix belongs to, as its marker says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// No marker yet.
    Nobody,
    /// The marker names this site.
    Us,
    /// The marker names another site (or cannot be read as ours: shown as found).
    Other(String),
}

/// The marker's key under `prefix`.
pub fn key(prefix: &str) -> String {
    format!("{prefix}{MARKER}")
}

/// Reads the marker under `prefix`: whose it is, for the site `site_name`.
pub fn whose(client: &Client, prefix: &str, site_name: &str) -> Result<Owner, S3Error> {
    if client.head(&key(prefix))?.is_none() {
        return Ok(Owner::Nobody);
    }
    let body = client.get(&key(prefix))?;
    Ok(match serde_json::from_slice::<Marker>(&body) {
        Ok(m) if m.site_name == site_name => Owner::Us,
        Ok(m) => Owner::Other(m.site_name),
        Err(_) => Owner::Other(format!("an unreadable {MARKER} ({} bytes)", body.len())),
    })
}

/// This site's claim on its prefix, settled once its marker names it.
#[derive(Debug)]
pub struct PrefixClaim {
    pub name: String,
    ours: AtomicBool,
}

impl PrefixClaim {
    pub fn new(name: String) -> PrefixClaim {
        PrefixClaim {
            name,
            ours: AtomicBool::new(false),
        }
    }

    /// Ok once the prefix is known to be this site's, writing the marker where there
    /// is none; else why retention must not run there.
    pub fn claim(&self, client: &Client, prefix: &str) -> Result<(), String> {
        if self.ours.load(Ordering::Relaxed) {
            return Ok(());
        }
        let owner = whose(client, prefix, &self.name).map_err(|e| format!("cannot read {}: {e}", key(prefix)))?;
        match owner {
            Owner::Us => {}
            Owner::Nobody => {
                self.write(client, prefix)?;
                // Read back: of two sites that wrote at once, the one named there wins.
                let now = whose(client, prefix, &self.name).map_err(|e| format!("cannot read {}: {e}", key(prefix)))?;
                if now != Owner::Us {
                    return self.claim(client, prefix);
                }
            }
            Owner::Other(site) => {
                return Err(format!(
                    "{} names another site ({site:?}, this one is {:?}): two sites share this prefix; give each its own offsite.prefix",
                    key(prefix),
                    self.name
                ))
            }
        }
        self.ours.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn write(&self, client: &Client, prefix: &str) -> Result<(), String> {
        let marker = Marker {
            site_name: self.name.clone(),
            written_at: Local::now(),
        };
        let body = serde_json::to_vec_pretty(&marker).expect("a marker serializes");
        client
            .put(&key(prefix), &body, &[])
            .map_err(|e| format!("cannot write {}: {e}", key(prefix)))?;
        tracing::info!(
            key = key(prefix),
            site = self.name,
            "offsite prefix marked as this site's"
        );
        Ok(())
    }
}
