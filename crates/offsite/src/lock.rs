//! Object lock (`offsite.object_lock`): the bucket keeps each object until its
//! retention ends (`retention`), whoever holds the keys. Under lock a bucket keeps versions:
//! a plain delete would only hide an object behind a marker, so deleting removes each
//! version of the key, and a refusal before the date is expected. `check` asks whether
//! the bucket has object lock at all.

use rusty_s3::actions::{DeleteObject, GetObject, S3Action};

use crate::client::{between, body, ok, unreachable, Client, S3Error, SIGNED_FOR};

/// What became of a key asked to be deleted under lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// Every version is gone.
    Deleted,
    /// The bucket refused (its lock holds): the server's words.
    Kept(String),
}

impl Client {
    /// Whether the bucket has object lock enabled.
    pub fn object_lock(&self) -> Result<bool, S3Error> {
        let mut action = GetObject::new(&self.bucket, Some(&self.credentials), "");
        action.query_mut().insert("object-lock", "");
        let resp = self
            .agent
            .get(action.sign(SIGNED_FOR).as_str())
            .call()
            .map_err(unreachable)?;
        match ok(resp) {
            Ok(resp) => Ok(body(resp)?.contains("<ObjectLockEnabled>Enabled</ObjectLockEnabled>")),
            Err(S3Error::Status(404, _)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The version ids of `key` (its delete markers too).
    pub fn versions(&self, key: &str) -> Result<Vec<String>, S3Error> {
        let mut action = GetObject::new(&self.bucket, Some(&self.credentials), "");
        action.query_mut().insert("versions", "");
        action.query_mut().insert("prefix", key);
        let resp = self
            .agent
            .get(action.sign(SIGNED_FOR).as_str())
            .call()
            .map_err(unreachable)?;
        let text = body(ok(resp)?)?;
        let mut ids = Vec::new();
        for tag in ["Version", "DeleteMarker"] {
            for chunk in text.split(&format!("<{tag}>")).skip(1) {
                let key_here = between(chunk, "<Key>", "</Key>").map(|k| unescape(&k));
                if key_here.as_deref() == Some(key) {
                    ids.extend(between(chunk, "<VersionId>", "</VersionId>"));
                }
            }
        }
        Ok(ids)
    }

    /// Deletes one version of `key`.
    pub fn delete_version(&self, key: &str, id: &str) -> Result<(), S3Error> {
        let mut action = DeleteObject::new(&self.bucket, Some(&self.credentials), key);
        action.query_mut().insert("versionId", id);
        ok(self
            .agent
            .delete(action.sign(SIGNED_FOR).as_str())
            .call()
            .map_err(unreachable)?)
        .map(|_| ())
    }
}

/// Deletes every version of `key` under lock; `Kept` when the bucket refuses one.
pub fn delete_all_versions(client: &Client, key: &str) -> Result<Removal, S3Error> {
    for id in client.versions(key)? {
        match client.delete_version(key, &id) {
            Ok(()) => {}
            // The listing worked with the same keys: a refusal here is the lock.
            Err(S3Error::Denied(why)) => return Ok(Removal::Kept(why)),
            Err(S3Error::Status(400, why)) if why.contains("lock") || why.contains("Lock") => {
                return Ok(Removal::Kept(why))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Removal::Deleted)
}

/// The five XML entities.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_entities_are_undone() {
        assert_eq!(unescape("a&amp;b&lt;"), "a&b<");
    }
}
