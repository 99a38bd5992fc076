//! A small blocking S3 client for the offsite tier: requests signed by `rusty-s3`
//! (sans-IO, SigV4 presigned URLs) and sent by the same `ureq` agent kind as the
//! notifications, on rustls, so it runs in a blocking worker and in the Windows build
//! alike. Only what the tier needs: check the bucket, head, put, list, delete, and
//! multipart uploads that can be resumed (list the parts already sent). Every failure
//! is an `S3Error` that says which kind it is; the secret is never in one.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;

use crate::retention::Retention;
use md5::{Digest as _, Md5};
use rusty_s3::actions::{
    AbortMultipartUpload, CompleteMultipartUpload, CreateMultipartUpload, DeleteObject, GetObject, HeadObject,
    ListObjectsV2, ListParts, PutObject, S3Action, UploadPart,
};
use rusty_s3::{Bucket, Credentials, UrlStyle};

/// The condition that makes a write fail rather than replace an object.
const IF_NONE_MATCH: (&str, &str) = ("if-none-match", "*");
/// The most parts S3 lists in one page.
const MAX_PARTS_PAGE: u16 = 1000;
/// How long a signed request stays valid.
pub(crate) const SIGNED_FOR: Duration = Duration::from_secs(3600);
/// A connection not made in this time has failed.
const CONNECT: Duration = Duration::from_secs(30);
/// A connection that moves no byte either way for this long has failed. There is no
/// limit on a whole request: a large part over a slow link may take an hour and
/// still be making progress.
const STALLED: Duration = Duration::from_secs(120);
/// How long the server may take to answer once the request is sent (completing a
/// large multipart upload takes it a while).
const ANSWER: Duration = Duration::from_secs(300);

/// Where the objects go and who we are there.
#[derive(Debug, Clone)]
pub struct Target {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub path_style: bool,
    pub access_key_id: String,
    pub secret_access_key: config::secret::Redacted,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3Error {
    /// No connection, or no answer in time.
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
    /// 403: wrong key or secret, or not allowed.
    #[error("access denied (check access_key_id and the secret): {0}")]
    Denied(String),
    /// The bucket does not exist.
    #[error("the bucket does not exist: {0}")]
    NoBucket(String),
    /// 412 or 409 `ConditionalRequestConflict` to a write with `If-None-Match: *`:
    /// another writer put the key meanwhile.
    #[error("another writer put it meanwhile: {0}")]
    Taken(String),
    /// `NoSuchUpload`: the multipart upload is gone (completed, aborted or expired).
    #[error("the upload is gone: {0}")]
    NoUpload(String),
    /// Any other answer.
    #[error("the server answered {0}: {1}")]
    Status(u16, String),
}

impl S3Error {
    /// True when the bucket as a whole cannot be used now (no answer, refused
    /// credentials, no bucket, a failing or overloaded server), not this one object.
    pub fn is_outage(&self) -> bool {
        match self {
            S3Error::Unreachable(_) | S3Error::Denied(_) | S3Error::NoBucket(_) => true,
            S3Error::Status(code, _) => *code >= 500 || *code == 429,
            S3Error::NoUpload(_) | S3Error::Taken(_) => false,
        }
    }
}

/// An object's size, user metadata (`x-amz-meta-*`, names lower-case) and ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub size: u64,
    pub meta: BTreeMap<String, String>,
    pub etag: Option<String>,
    /// Encrypted with SSE-KMS or SSE-C: its ETag is then not an MD5 of its bytes.
    pub encrypted: bool,
    /// Under object lock: its mode and the date it is kept until, as the server says.
    pub lock: Option<(String, String)>,
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub size: u64,
}

/// A part already sent in a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub number: u16,
    pub etag: String,
    pub size: u64,
}

/// A request body read as it is sent (never held whole in memory), of a known length
/// and MD5: the server refuses a body that does not match (`BadDigest`).
pub struct RequestBody<'a> {
    reader: &'a mut dyn std::io::Read,
    len: u64,
    md5: [u8; 16],
}

impl<'a> RequestBody<'a> {
    pub fn of(reader: &'a mut dyn std::io::Read, len: u64, md5: [u8; 16]) -> RequestBody<'a> {
        RequestBody { reader, len, md5 }
    }

    /// A body in memory.
    fn bytes(bytes: &'a mut &[u8]) -> RequestBody<'a> {
        let (len, md5) = (bytes.len() as u64, Md5::digest(*bytes).into());
        RequestBody::of(bytes, len, md5)
    }

    /// Its `Content-MD5` header: the base64 of its MD5.
    fn content_md5(&self) -> (String, String) {
        (
            "content-md5".into(),
            base64::engine::general_purpose::STANDARD.encode(self.md5),
        )
    }

    /// Sends it with its length (S3 wants `Content-Length`, not a chunked body).
    fn send(
        self,
        req: ureq::RequestBuilder<ureq::typestate::WithBody>,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        req.header("content-length", self.len.to_string())
            .send(ureq::SendBody::from_reader(self.reader))
    }
}

pub struct Client {
    pub(crate) bucket: Bucket,
    pub(crate) credentials: Credentials,
    pub(crate) agent: ureq::Agent,
}

impl Client {
    /// A client for `target`; Err says which setting is wrong.
    pub fn new(target: &Target) -> Result<Client, String> {
        let endpoint = target
            .endpoint
            .parse()
            .map_err(|e| format!("endpoint {:?} is not a URL: {e}", target.endpoint))?;
        let style = if target.path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = Bucket::new(endpoint, style, target.bucket.clone(), target.region.clone()).map_err(|e| {
            format!(
                "endpoint {:?} cannot hold bucket {:?}: {e}",
                target.endpoint, target.bucket
            )
        })?;
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT))
            .timeout_per_read(Some(STALLED))
            .timeout_per_write(Some(STALLED))
            .timeout_recv_response(Some(ANSWER))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Client {
            bucket,
            credentials: Credentials::new(
                target.access_key_id.clone(),
                target.secret_access_key.expose().to_string(),
            ),
            agent,
        })
    }

    /// Reads one key of the bucket: the connection, the credentials and the bucket.
    pub fn check(&self) -> Result<(), S3Error> {
        self.list_page("", None, 1).map(|_| ())
    }

    /// The object at `key`, if there is one.
    pub fn head(&self, key: &str) -> Result<Option<Head>, S3Error> {
        let url = HeadObject::new(&self.bucket, Some(&self.credentials), key).sign(SIGNED_FOR);
        let resp = self.agent.head(url.as_str()).call().map_err(unreachable)?;
        if resp.status() == 404 {
            return Ok(None);
        }
        let resp = ok(resp)?;
        let size = header(&resp, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let meta = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| {
                let name = k.as_str().strip_prefix("x-amz-meta-")?;
                Some((name.to_string(), v.to_str().ok()?.to_string()))
            })
            .collect();
        let etag = header(&resp, "etag").map(str::to_string);
        let encrypted = header(&resp, "x-amz-server-side-encryption").is_some_and(|v| v.starts_with("aws:kms"))
            || header(&resp, "x-amz-server-side-encryption-customer-algorithm").is_some();
        let lock = header(&resp, "x-amz-object-lock-mode")
            .map(str::to_string)
            .zip(header(&resp, "x-amz-object-lock-retain-until-date").map(str::to_string));
        Ok(Some(Head {
            size,
            meta,
            etag,
            encrypted,
            lock,
        }))
    }

    /// Puts `body` at `key` with `meta` as its user metadata.
    pub fn put(&self, key: &str, body: &[u8], meta: &[(String, String)]) -> Result<(), S3Error> {
        self.put_from(key, RequestBody::bytes(&mut &body[..]), meta, None)
    }

    /// The same, the bytes read from `body` as they are sent.
    /// Never over an object already there (`If-None-Match: *`): `S3Error::Taken` then.
    /// Under object lock, `lock` keeps it until its retention ends.
    pub fn put_from(
        &self,
        key: &str,
        body: RequestBody,
        meta: &[(String, String)],
        lock: Option<&Retention>,
    ) -> Result<(), S3Error> {
        let mut headers = meta_headers(meta);
        headers.extend(lock.map(Retention::headers).into_iter().flatten());
        headers.push((IF_NONE_MATCH.0.into(), IF_NONE_MATCH.1.into()));
        headers.push(body.content_md5());
        let action = PutObject::new(&self.bucket, Some(&self.credentials), key);
        let req = self.with_headers(action, &headers, false);
        ok(body.send(req).map_err(unreachable)?).map(|_| ())
    }

    /// The whole object at `key`, in memory (for small objects and checks).
    pub fn get(&self, key: &str) -> Result<Vec<u8>, S3Error> {
        let mut bytes = Vec::new();
        self.get_into(key, &mut bytes)?;
        Ok(bytes)
    }

    /// Streams the object at `key` into `out` as it arrives; returns its length. A
    /// recording of many gigabytes is never held whole in memory.
    pub fn get_into(&self, key: &str, out: &mut dyn std::io::Write) -> Result<u64, S3Error> {
        let url = GetObject::new(&self.bucket, Some(&self.credentials), key).sign(SIGNED_FOR);
        let mut resp = ok(self.agent.get(url.as_str()).call().map_err(unreachable)?)?;
        let mut body = resp.body_mut().with_config().limit(u64::MAX).reader();
        std::io::copy(&mut body, out).map_err(|e| S3Error::Unreachable(format!("the answer was cut short: {e}")))
    }

    /// Streams the object at `key` from byte `from` on into `out`; returns the bytes
    /// received. A server that answers with the whole object instead is an error.
    pub fn get_from(&self, key: &str, from: u64, out: &mut dyn std::io::Write) -> Result<u64, S3Error> {
        let url = GetObject::new(&self.bucket, Some(&self.credentials), key).sign(SIGNED_FOR);
        let req = self.agent.get(url.as_str()).header("range", format!("bytes={from}-"));
        let mut resp = ok(req.call().map_err(unreachable)?)?;
        if from > 0 && resp.status().as_u16() != 206 {
            return Err(S3Error::Status(
                resp.status().as_u16(),
                format!("asked for the bytes from {from} on, the server sent the whole object"),
            ));
        }
        let mut body = resp.body_mut().with_config().limit(u64::MAX).reader();
        std::io::copy(&mut body, out).map_err(|e| S3Error::Unreachable(format!("the answer was cut short: {e}")))
    }

    /// Reads the object at `key` through `read`, its body as it arrives; returns what
    /// `read` returns. An error of `read` is told as the answer cut short.
    pub fn get_read<T>(
        &self,
        key: &str,
        read: impl FnOnce(&mut dyn std::io::Read) -> std::io::Result<T>,
    ) -> Result<T, S3Error> {
        let url = GetObject::new(&self.bucket, Some(&self.credentials), key).sign(SIGNED_FOR);
        let mut resp = ok(self.agent.get(url.as_str()).call().map_err(unreachable)?)?;
        let mut body = resp.body_mut().with_config().limit(u64::MAX).reader();
        read(&mut body).map_err(|e| S3Error::Unreachable(format!("the answer was cut short: {e}")))
    }

    /// Deletes the object at `key`.
    pub fn delete(&self, key: &str) -> Result<(), S3Error> {
        let url = DeleteObject::new(&self.bucket, Some(&self.credentials), key).sign(SIGNED_FOR);
        ok(self.agent.delete(url.as_str()).call().map_err(unreachable)?).map(|_| ())
    }

    /// Every object under `prefix`, page by page.
    pub fn list(&self, prefix: &str) -> Result<Vec<Listed>, S3Error> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let (page, next) = self.list_page(prefix, token.as_deref(), 1000)?;
            out.extend(page);
            match next {
                Some(t) => token = Some(t),
                None => return Ok(out),
            }
        }
    }

    fn list_page(
        &self,
        prefix: &str,
        token: Option<&str>,
        max: usize,
    ) -> Result<(Vec<Listed>, Option<String>), S3Error> {
        let mut action = ListObjectsV2::new(&self.bucket, Some(&self.credentials));
        action.with_prefix(prefix);
        action.with_max_keys(max);
        if let Some(t) = token {
            action.with_continuation_token(t);
        }
        let url = action.sign(SIGNED_FOR);
        let text = body(ok(self.agent.get(url.as_str()).call().map_err(unreachable)?)?)?;
        let parsed = ListObjectsV2::parse_response(&text)
            .map_err(|e| S3Error::Status(200, format!("unreadable listing: {e}")))?;
        let page = parsed
            .contents
            .into_iter()
            .map(|c| Listed {
                key: c.key,
                size: c.size.unwrap_or(0),
            })
            .collect();
        Ok((page, parsed.next_continuation_token))
    }

    /// Starts a multipart upload of `key` (kept under `lock` when given); its upload id.
    pub fn create_multipart(
        &self,
        key: &str,
        meta: &[(String, String)],
        lock: Option<&Retention>,
    ) -> Result<String, S3Error> {
        let mut headers = meta_headers(meta);
        headers.extend(lock.map(Retention::headers).into_iter().flatten());
        let action = CreateMultipartUpload::new(&self.bucket, Some(&self.credentials), key);
        let req = self.with_headers(action, &headers, true);
        let text = body(ok(req.send_empty().map_err(unreachable)?)?)?;
        let parsed = CreateMultipartUpload::parse_response(&text)
            .map_err(|e| S3Error::Status(200, format!("unreadable answer to a multipart upload: {e}")))?;
        Ok(parsed.upload_id().to_string())
    }

    /// Sends part `number` (from 1); its ETag.
    pub fn upload_part(&self, key: &str, upload_id: &str, number: u16, part: &[u8]) -> Result<String, S3Error> {
        self.upload_part_from(key, upload_id, number, RequestBody::bytes(&mut &part[..]))
    }

    /// The same, the part's bytes read from `body` as they are sent.
    pub fn upload_part_from(
        &self,
        key: &str,
        upload_id: &str,
        number: u16,
        body: RequestBody,
    ) -> Result<String, S3Error> {
        let headers = [body.content_md5()];
        let action = UploadPart::new(&self.bucket, Some(&self.credentials), key, number, upload_id);
        let resp = ok(body
            .send(self.with_headers(action, &headers, false))
            .map_err(unreachable)?)?;
        header(&resp, "etag")
            .map(str::to_string)
            .ok_or_else(|| S3Error::Status(200, "a part was taken without an ETag".into()))
    }

    /// The parts of an upload the server already has (to resume it), every page.
    pub fn list_parts(&self, key: &str, upload_id: &str) -> Result<Vec<Part>, S3Error> {
        self.list_parts_by(key, upload_id, MAX_PARTS_PAGE)
    }

    /// The same, asking for pages of at most `max` parts.
    pub fn list_parts_by(&self, key: &str, upload_id: &str, max: u16) -> Result<Vec<Part>, S3Error> {
        every_page(|marker| self.list_parts_page(key, upload_id, marker, max))
    }

    /// One page of parts, from after part `marker`; with the marker of the next page.
    fn list_parts_page(
        &self,
        key: &str,
        upload_id: &str,
        marker: Option<u16>,
        max: u16,
    ) -> Result<(Vec<Part>, Option<u16>), S3Error> {
        let mut action = ListParts::new(&self.bucket, Some(&self.credentials), key, upload_id);
        action.set_max_parts(max);
        if let Some(m) = marker {
            action.set_part_number_marker(m);
        }
        let url = action.sign(SIGNED_FOR);
        let text = body(ok(self.agent.get(url.as_str()).call().map_err(unreachable)?)?)?;
        parts_page(&text)
    }

    /// The multipart uploads not finished under `prefix`: key and upload id each (the
    /// first 1,000; for checks).
    pub fn list_uploads(&self, prefix: &str) -> Result<Vec<(String, String)>, S3Error> {
        let query = [("prefix", prefix), ("uploads", "")];
        let url = rusty_s3::signing::sign(
            &jiff::Timestamp::now(),
            rusty_s3::Method::Get,
            self.bucket.base_url().clone(),
            self.credentials.key(),
            self.credentials.secret(),
            None,
            self.bucket.region(),
            SIGNED_FOR.as_secs(),
            query.into_iter(),
            std::iter::empty(),
        );
        let text = body(ok(self.agent.get(url.as_str()).call().map_err(unreachable)?)?)?;
        Ok(text
            .split("<Upload>")
            .skip(1)
            .filter_map(|u| Some((between(u, "<Key>", "</Key>")?, between(u, "<UploadId>", "</UploadId>")?)))
            .collect())
    }

    /// Joins the parts into the object, never over an object already there
    /// (`If-None-Match: *`): `S3Error::Taken` then, and the upload is still open.
    pub fn complete(&self, key: &str, upload_id: &str, parts: &[Part]) -> Result<(), S3Error> {
        let etags = parts.iter().map(|p| p.etag.as_str());
        let mut action = CompleteMultipartUpload::new(&self.bucket, Some(&self.credentials), key, upload_id, etags);
        let (name, value) = IF_NONE_MATCH;
        action.headers_mut().insert(name, value);
        let url = action.sign(SIGNED_FOR);
        let req = self.agent.post(url.as_str()).header(name, value);
        let text = body(ok(req.send(action.body()).map_err(unreachable)?)?)?;
        // A 200 may still carry an error (S3 reports late failures in the body).
        if text.contains("<Error>") {
            return Err(S3Error::Status(200, first_line(&text)));
        }
        Ok(())
    }

    /// A request for `action` (POST, else PUT) carrying `headers`, signed into it as
    /// S3 requires of `x-amz-meta-*` and conditions.
    fn with_headers<'a, A: S3Action<'a>>(
        &self,
        mut action: A,
        headers: &'a [(String, String)],
        post: bool,
    ) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
        for (k, v) in headers {
            action.headers_mut().insert(k.as_str(), v.as_str());
        }
        let url = action.sign(SIGNED_FOR);
        let mut req = if post {
            self.agent.post(url.as_str())
        } else {
            self.agent.put(url.as_str())
        };
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        req
    }

    /// Gives up an upload and frees its parts.
    pub fn abort(&self, key: &str, upload_id: &str) -> Result<(), S3Error> {
        let url = AbortMultipartUpload::new(&self.bucket, Some(&self.credentials), key, upload_id).sign(SIGNED_FOR);
        ok(self.agent.delete(url.as_str()).call().map_err(unreachable)?).map(|_| ())
    }
}

type Response = ureq::http::Response<ureq::Body>;

/// User metadata as headers: `x-amz-meta-NAME`.
fn meta_headers(meta: &[(String, String)]) -> Vec<(String, String)> {
    meta.iter()
        .map(|(k, v)| (format!("x-amz-meta-{k}"), v.clone()))
        .collect()
}

fn header<'r>(resp: &'r Response, name: &str) -> Option<&'r str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A 2xx answer, or the error its status and body say.
pub(crate) fn ok(mut resp: Response) -> Result<Response, S3Error> {
    let status = resp.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(resp);
    }
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let code = between(&text, "<Code>", "</Code>").unwrap_or_default();
    let why = between(&text, "<Message>", "</Message>").map_or_else(|| code.clone(), |m| format!("{code}: {m}"));
    Err(match (status, code.as_str()) {
        (403, _) | (_, "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "AccessDenied") => S3Error::Denied(why),
        (_, "NoSuchBucket") => S3Error::NoBucket(why),
        (_, "NoSuchUpload") => S3Error::NoUpload(why),
        (412, _) | (409, "ConditionalRequestConflict") => S3Error::Taken(why),
        _ => S3Error::Status(status, if why.is_empty() { "no reason given".into() } else { why }),
    })
}

/// A page of `ListParts`: its parts, and the marker of the next page if truncated.
fn parts_page(text: &str) -> Result<(Vec<Part>, Option<u16>), S3Error> {
    let parsed =
        ListParts::parse_response(text).map_err(|e| S3Error::Status(200, format!("unreadable part list: {e}")))?;
    let parts = parsed
        .parts
        .into_iter()
        .map(|p| Part {
            number: p.number,
            etag: p.etag,
            size: p.size,
        })
        .collect();
    Ok((parts, parsed.next_part_number_marker))
}

/// Every item of a listing paged by part number: from the start, then from each
/// page's next marker until a page has none. A marker that does not move forward is
/// an error, not a loop for ever.
fn every_page<T>(
    mut page: impl FnMut(Option<u16>) -> Result<(Vec<T>, Option<u16>), S3Error>,
) -> Result<Vec<T>, S3Error> {
    let mut all = Vec::new();
    let mut marker = None;
    loop {
        let (items, next) = page(marker)?;
        all.extend(items);
        match next {
            None => return Ok(all),
            Some(n) if marker.is_some_and(|m| n <= m) => {
                return Err(S3Error::Status(
                    200,
                    format!("the part list does not move on after part {n}"),
                ))
            }
            Some(n) => marker = Some(n),
        }
    }
}

pub(crate) fn body(mut resp: Response) -> Result<String, S3Error> {
    resp.body_mut()
        .read_to_string()
        .map_err(|e| S3Error::Unreachable(format!("the answer was cut short: {e}")))
}

pub(crate) fn unreachable(e: ureq::Error) -> S3Error {
    S3Error::Unreachable(alert::notify::channel::http_error(e))
}

pub(crate) fn between(text: &str, open: &str, close: &str) -> Option<String> {
    let from = text.find(open)? + open.len();
    let to = text[from..].find(close)? + from;
    Some(text[from..to].to_string())
}

fn first_line(text: &str) -> String {
    between(text, "<Message>", "</Message>").unwrap_or_else(|| text.lines().next().unwrap_or("").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(numbers: &[u16], next: Option<u16>) -> String {
        let parts: String = numbers
            .iter()
            .map(|n| {
                format!("<Part><PartNumber>{n}</PartNumber><ETag>\"e{n}\"</ETag><LastModified>2026-12-06T00:00:00.000Z</LastModified><Size>5</Size></Part>")
            })
            .collect();
        let tail = next.map_or("<IsTruncated>false</IsTruncated>".to_string(), |n| {
            format!("<IsTruncated>true</IsTruncated><NextPartNumberMarker>{n}</NextPartNumberMarker>")
        });
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><MaxParts>2</MaxParts>{tail}{parts}</ListPartsResult>"#
        )
    }

    #[test]
    fn every_page_of_parts_is_followed_from_its_marker() {
        let pages = [page(&[1, 2], Some(2)), page(&[3, 4], Some(4)), page(&[5], None)];
        let mut asked = Vec::new();
        let all = every_page(|marker| {
            asked.push(marker);
            parts_page(&pages[asked.len() - 1])
        })
        .unwrap();
        assert_eq!(all.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        assert_eq!(asked, [None, Some(2), Some(4)]);
    }

    #[test]
    fn a_marker_that_does_not_move_on_is_an_error_not_a_loop() {
        let stuck = page(&[1, 2], Some(2));
        let mut asked = 0;
        let got = every_page(|_| {
            asked += 1;
            parts_page(&stuck)
        });
        assert!(got.is_err() && asked == 2, "{got:?}");
        let truncated_without_marker = page(&[1], None).replace("false", "true");
        assert!(parts_page(&truncated_without_marker).is_err());
    }
}
