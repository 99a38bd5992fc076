//! The bucket as the tier reads it: each object under its recording's key and size.
//! An encrypted object `NAME.dav.age` reads as `NAME.dav` of its recording's size:
//! learned from its metadata once read (`Known`), else worked out from the size of
//! the object and the recipient count (`rules::sealed::plain_size`).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::client::{Client, Head, Listed};
use rules::sealed::{plain_key, plain_size};

/// One object of a listing, as a recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The recording's key: the object's, without `.age`.
    pub key: String,
    /// The recording's size.
    pub size: u64,
    /// The object's own key and size.
    pub real: String,
    pub stored: u64,
}

/// The recording sizes read from encrypted objects' metadata, by object key and
/// object size: an object sealed to other recipients than today's is read once.
#[derive(Debug, Default)]
pub struct Known(Mutex<HashMap<String, (u64, u64)>>);

impl Known {
    /// The object at `real`, of `size` bytes, holds a recording of `plain` bytes.
    pub fn learn(&self, real: &str, size: u64, plain: u64) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(real.to_string(), (size, plain));
    }

    fn get(&self, real: &str, size: u64) -> Option<u64> {
        let known = self.0.lock().unwrap_or_else(|p| p.into_inner());
        known.get(real).filter(|(s, _)| *s == size).map(|(_, plain)| *plain)
    }
}

/// The listing as recordings; `recipients`: how many the site encrypts to today. A
/// size worked out for an object sealed to another count is wrong: it reads as a
/// recording of another size, which an upload then checks by its metadata.
pub fn seen(listed: Vec<Listed>, recipients: usize, known: &Known) -> Vec<Seen> {
    listed
        .into_iter()
        .map(|l| match plain_key(&l.key) {
            None => Seen {
                key: l.key.clone(),
                size: l.size,
                real: l.key,
                stored: l.size,
            },
            Some(plain) => Seen {
                key: plain.to_string(),
                size: known
                    .get(&l.key, l.size)
                    .or_else(|| plain_size(l.size, recipients.max(1)))
                    .unwrap_or(l.size),
                real: l.key,
                stored: l.size,
            },
        })
        .collect()
}

/// Reads the metadata of each encrypted object whose worked-out size differs from its
/// recording's in the backup (`local`, by recording key), once: sealed to other
/// recipients than today's, it was wrong. What is read goes into `known`; an object
/// that cannot be read keeps the size worked out.
pub fn confirm(client: &Client, seen: &mut [Seen], local: impl Fn(&str) -> Option<u64>, known: &Known) {
    for s in seen.iter_mut().filter(|s| s.real != s.key) {
        let differs = local(&s.key).is_some_and(|size| size != s.size);
        if !differs || known.get(&s.real, s.stored).is_some() {
            continue;
        }
        if let Some(size) = client.head(&s.real).ok().flatten().and_then(|h| plain_len(&s.real, &h)) {
            known.learn(&s.real, s.stored, size);
            s.size = size;
        }
    }
}

/// The key of the recording an object holds: `NAME.dav` for `NAME.dav.age`.
pub fn recording_key(key: &str) -> &str {
    plain_key(key).unwrap_or(key)
}

/// The recording's size an object holds: its own in clear, its metadata's when
/// encrypted (None when that is missing).
pub fn plain_len(real: &str, head: &Head) -> Option<u64> {
    match plain_key(real) {
        None => Some(head.size),
        Some(_) => head.meta.get("size").and_then(|s| s.parse().ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rules::sealed::sealed_size;

    fn listed(key: &str, size: u64) -> Listed {
        Listed { key: key.into(), size }
    }

    #[test]
    fn an_encrypted_object_reads_as_its_recording() {
        let known = Known::default();
        let s = seen(
            vec![listed("a.dav", 10), listed("b.dav.age", sealed_size(1000, 2))],
            2,
            &known,
        );
        assert_eq!(
            s[0],
            Seen {
                key: "a.dav".into(),
                size: 10,
                real: "a.dav".into(),
                stored: 10,
            }
        );
        assert_eq!(
            s[1],
            Seen {
                key: "b.dav".into(),
                size: 1000,
                real: "b.dav.age".into(),
                stored: sealed_size(1000, 2),
            }
        );
        // Sealed to one recipient, read with two: wrong until its metadata is known.
        let one = sealed_size(5000, 1);
        assert_ne!(seen(vec![listed("c.dav.age", one)], 2, &known)[0].size, 5000);
        known.learn("c.dav.age", one, 5000);
        assert_eq!(seen(vec![listed("c.dav.age", one)], 2, &known)[0].size, 5000);
        assert_ne!(
            seen(vec![listed("c.dav.age", one + 1)], 2, &known)[0].size,
            5000,
            "learned for that size only"
        );
    }
}
