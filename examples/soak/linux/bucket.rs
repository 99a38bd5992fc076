//! What the bucket holds, read straight from the server (no cctv-mirror code): every key
//! under the site's prefix with its size, page by page, and an object's bytes.

use std::collections::HashMap;

use super::proxy::BUCKET;

/// The site's prefix in the bucket.
pub const PREFIX: &str = "soak/";

/// Every key under `PREFIX` (without it) and its size.
pub fn list(direct: &str) -> Result<HashMap<String, u64>, String> {
    let mut keys = HashMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut url = format!("{direct}/{BUCKET}?list-type=2&prefix={}", encode(PREFIX));
        if let Some(t) = &token {
            url += &format!("&continuation-token={}", encode(t));
        }
        let mut res = ureq::get(&url).call().map_err(|e| format!("list the bucket: {e}"))?;
        let xml = res
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("list the bucket: {e}"))?;
        for item in xml.split("<Contents>").skip(1) {
            let (Some(k), Some(s)) = (tag(item, "Key"), tag(item, "Size")) else {
                continue;
            };
            let key = k.replace("&amp;", "&");
            keys.insert(key.trim_start_matches(PREFIX).to_string(), s.parse().unwrap_or(0));
        }
        token = tag(&xml, "NextContinuationToken").map(str::to_string);
        if tag(&xml, "IsTruncated") != Some("true") || token.is_none() {
            return Ok(keys);
        }
    }
}

/// The bytes of object `key` (under the prefix).
pub fn get(direct: &str, key: &str) -> Result<Vec<u8>, String> {
    let url = format!("{direct}/{BUCKET}/{}", encode(&format!("{PREFIX}{key}")));
    let mut res = ureq::get(&url).call().map_err(|e| format!("get {key}: {e}"))?;
    res.body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .map_err(|e| format!("get {key}: {e}"))
}

/// The key holding recording `rel` whole (`size` bytes): its own, or the newest
/// `NAME.grown-N.dav` of a recording that grew after its upload.
pub fn holding<'a>(bucket: &'a HashMap<String, u64>, rel: &str, size: u64) -> Option<&'a str> {
    let stem = rel.strip_suffix(".dav")?;
    let grown = (1..=32).map(|n| format!("{stem}.grown-{n}.dav"));
    std::iter::once(rel.to_string()).chain(grown).find_map(|k| {
        bucket
            .get_key_value(&k)
            .filter(|(_, s)| **s == size)
            .map(|(k, _)| k.as_str())
    })
}

fn tag<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

/// Percent-encodes all but unreserved characters and `/`.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
