//! Whether the offsite bucket can be used now, for `check`: the secret can be read,
//! the server answers, the credentials and the bucket work (one listing of one key
//! under the prefix), and the prefix is not another site's (`site`). What is wrong is
//! said exactly, the secret never.

use crate::client::{Client, Target};
use crate::site::{self, Owner};
use config::offsite::{Offsite, SECRET_KEYS};

/// Where the tier writes, when it can; else why not.
pub fn probe(o: &Offsite, site_name: &str) -> Result<String, String> {
    let client = client(o)?;
    client.check().map_err(|e| format!("{}: {e}", place(o)))?;
    let owner = site::whose(&client, &o.prefix, site_name).map_err(|e| format!("{}: {e}", place(o)))?;
    let whose = match owner {
        Owner::Us => format!("marked as {site_name:?}'s"),
        Owner::Nobody => format!("the first run marks it as {site_name:?}'s"),
        Owner::Other(other) => {
            return Err(format!(
                "{}: the prefix is marked as another site's ({other:?}, this one is {site_name:?}): two sites would share it and offsite retention will not run; give each site its own offsite.prefix",
                place(o)
            ))
        }
    };
    let whole = if o.prefix.is_empty() {
        "; prefix \"\" gives this site the whole bucket"
    } else {
        ""
    };
    let lock = match o.object_lock {
        None => String::new(),
        Some(mode) => match client.object_lock() {
            Ok(true) => format!(
                "; object lock on: each object kept {} days after its recording's day + 1 ({})",
                o.retention_days,
                mode.word()
            ),
            Ok(false) => {
                return Err(format!(
                    "{}: offsite.object_lock is set, but the bucket has no object lock: create a bucket with object lock enabled, or remove offsite.object_lock",
                    place(o)
                ))
            }
            Err(e) => return Err(format!("{}: cannot read the bucket's object lock: {e}", place(o))),
        },
    };
    let rate = o
        .max_mbps
        .map_or("no bandwidth limit".into(), |m| format!("at most {m} Mbit/s"));
    Ok(format!(
        "{} (reachable, credentials accepted; {whose}{whole}{lock}); keeps {} days, {} upload worker(s), {rate}, {} MiB parts",
        place(o),
        o.retention_days,
        o.upload_workers,
        o.part_size >> 20
    ))
}

/// A client for the section, with its secret read now; else why not (never the secret).
pub fn client(o: &Offsite) -> Result<Client, String> {
    let secret = o.secret.read(SECRET_KEYS)?;
    let target = Target {
        endpoint: o.endpoint.clone(),
        region: o.region.clone(),
        bucket: o.bucket.clone(),
        path_style: o.path_style,
        access_key_id: o.access_key_id.clone(),
        secret_access_key: secret,
    };
    Client::new(&target)
}

/// `s3://bucket/prefix at endpoint`.
pub fn place(o: &Offsite) -> String {
    format!("s3://{}/{} at {}", o.bucket, o.prefix, o.endpoint)
}
