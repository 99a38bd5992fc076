//! A real HTTP/1.1 server on 127.0.0.1 that receives what the program under test sends
//! (webhook POSTs, heartbeat GETs) and keeps every request for the test to check; the
//! test chooses the answer's status and delay, and can close and reopen the port.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::common::wait_until;

tests![
    a_json_post_is_recorded_with_its_headers,
    json_of_a_non_json_body_panics_with_the_body,
    set_status_500_answers_500_and_still_records,
    set_delay_delays_the_answer_not_the_record_nor_other_connections,
    stop_refuses_connections_and_restart_listens_on_the_same_port,
    a_chunked_body_is_decoded,
];

/// How long a socket may stay silent before the connection is given up.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the (non-blocking) listener is polled, so `stop()` is noticed quickly.
const POLL: Duration = Duration::from_millis(20);

/// One request as received: method, path (with its query), headers, decoded body.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target as sent, query included (`/hook?x=1`).
    pub path: String,
    /// In the order sent; names lower-cased, values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked when it was sent with `Transfer-Encoding: chunked`.
    pub body: Vec<u8>,
    /// When the request had been read in full.
    pub at: Instant,
}

impl Request {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the body if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("request body is not JSON ({e}): {:?}", self.text()))
    }
}

/// State shared by the test, the accept thread and the connection threads.
struct Shared {
    requests: Mutex<Vec<Request>>,
    status: AtomicU16,
    delay: Mutex<Duration>,
    /// Set by `Drop`: delays are cut short and the connections closed.
    closing: AtomicBool,
    /// Open connections (a clone of each socket), so `Drop` can close them.
    open: Mutex<HashMap<u64, TcpStream>>,
    next_id: AtomicU64,
    /// Connection threads, joined by `Drop`.
    workers: Mutex<Vec<JoinHandle<()>>>,
}

/// The accept thread of one listening period (between `start`/`restart` and `stop`).
struct Listening {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// The server. Dropping it closes the port and ends its threads.
pub struct Receiver {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    listening: Mutex<Option<Listening>>,
}

impl Receiver {
    /// Binds 127.0.0.1 on a free port and serves on a background thread; answers 200.
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            requests: Mutex::new(Vec::new()),
            status: AtomicU16::new(200),
            delay: Mutex::new(Duration::ZERO),
            closing: AtomicBool::new(false),
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            workers: Mutex::new(Vec::new()),
        });
        let listening = listen(listener, &shared);
        Receiver {
            url: format!("http://{addr}"),
            addr,
            shared,
            listening: Mutex::new(Some(listening)),
        }
    }

    /// Everything received so far, in order of arrival.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The status of the answers to the requests that follow (default 200). A 2xx
    /// answer's body is `ok`; any other's is the reason phrase.
    pub fn set_status(&self, code: u16) {
        self.shared.status.store(code, Ordering::SeqCst);
    }

    /// How long to wait, after a request is received (and recorded), before answering.
    pub fn set_delay(&self, d: Duration) {
        *self.shared.delay.lock().unwrap() = d;
    }

    /// Closes the port: once this returns, connecting is refused. Requests already
    /// received are kept, and answers already under way are still sent.
    pub fn stop(&self) {
        if let Some(l) = self.listening.lock().unwrap().take() {
            l.stop.store(true, Ordering::SeqCst);
            l.thread.join().expect("the receiver's accept thread panicked");
        }
    }

    /// Listens again on the same port (after `stop`); retries binding for up to 10 s.
    pub fn restart(&self) {
        let mut listening = self.listening.lock().unwrap();
        if listening.is_some() {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        // std sets SO_REUSEADDR on Unix, so the port's TIME_WAIT sockets do not block this.
        let listener = loop {
            match TcpListener::bind(self.addr) {
                Ok(l) => break l,
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => panic!("could not listen again on {}: {e}", self.addr),
            }
        };
        *listening = Some(listen(listener, &self.shared));
    }

    /// Polls until `cond` holds for the requests received so far (panics naming `what`
    /// after `secs` seconds) and returns them.
    pub fn wait_for(&self, secs: u64, what: &str, cond: impl Fn(&[Request]) -> bool) -> Vec<Request> {
        wait_until(secs, what, || cond(&self.shared.requests.lock().unwrap()));
        self.requests()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shared.closing.store(true, Ordering::SeqCst);
        self.stop();
        for s in self.shared.open.lock().unwrap().values() {
            let _ = s.shutdown(Shutdown::Both);
        }
        let workers = std::mem::take(&mut *self.shared.workers.lock().unwrap());
        for w in workers {
            let _ = w.join();
        }
    }
}

/// Starts the accept thread: polls the non-blocking listener until told to stop, then
/// drops it (which closes the port).
fn listen(listener: TcpListener, shared: &Arc<Shared>) -> Listening {
    listener.set_nonblocking(true).expect("non-blocking listener");
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let stop = stop.clone();
        let shared = shared.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => spawn_connection(stream, &shared),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
                    Err(_) => std::thread::sleep(POLL),
                }
            }
        })
    };
    Listening { stop, thread }
}

fn spawn_connection(stream: TcpStream, shared: &Arc<Shared>) {
    let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
    if let Ok(clone) = stream.try_clone() {
        shared.open.lock().unwrap().insert(id, clone);
    }
    let worker = {
        let shared = shared.clone();
        std::thread::spawn(move || {
            let _ = serve(stream, &shared);
            shared.open.lock().unwrap().remove(&id);
        })
    };
    let mut workers = shared.workers.lock().unwrap();
    workers.retain(|w| !w.is_finished());
    workers.push(worker);
}

/// One connection: read one request, record it, wait the delay, answer, close.
fn serve(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    // An accepted socket may inherit the listener's non-blocking mode on some systems.
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut reader = BufReader::new(&stream);
    let request = match read_request(&mut reader, &stream) {
        Ok(Some(r)) => r,
        // The client closed without sending a request (a connectivity probe).
        Ok(None) => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
            return respond(&stream, 400);
        }
        Err(e) => return Err(e),
    };
    let status = shared.status.load(Ordering::SeqCst);
    let delay = *shared.delay.lock().unwrap();
    shared.requests.lock().unwrap().push(request);

    let until = Instant::now() + delay;
    while Instant::now() < until {
        if shared.closing.load(Ordering::SeqCst) {
            return Ok(());
        }
        std::thread::sleep(
            until
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(10)),
        );
    }
    respond(&stream, status)
}

fn invalid(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// One CRLF- (or LF-) terminated line, without its terminator; `None` at end of stream.
fn read_line(reader: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    // Bounded, so a client that never sends a newline cannot grow this without limit.
    let n = reader.take(64 * 1024).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        return Err(invalid("line too long or cut short"));
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| invalid("line is not UTF-8"))
}

fn read_request(reader: &mut impl BufRead, stream: &TcpStream) -> io::Result<Option<Request>> {
    let Some(line) = read_line(reader)? else {
        return Ok(None);
    };
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid(format!("bad request line: {line:?}")));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(invalid(format!("not HTTP/1.x: {line:?}")));
    }
    let (method, path) = (method.to_string(), path.to_string());

    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or_else(|| invalid("headers cut short"))?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid(format!("bad header: {line:?}")))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());

    if header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        let mut w = stream;
        w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }

    let chunked = header("transfer-encoding").is_some_and(|v| {
        v.split(',')
            .next_back()
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
    });
    let body = if chunked {
        read_chunked(reader)?
    } else if let Some(len) = header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| invalid(format!("bad Content-Length: {len:?}")))?;
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        body
    } else {
        Vec::new()
    };
    Ok(Some(Request {
        method,
        path,
        headers,
        body,
        at: Instant::now(),
    }))
}

/// A chunked body: `SIZE[;ext]` lines each followed by that many bytes and CRLF, up to
/// a zero size, then optional trailers and an empty line.
fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or_else(|| invalid("chunk size cut short"))?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| invalid(format!("bad chunk size: {line:?}")))?;
        if size == 0 {
            break;
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let end = read_line(reader)?.ok_or_else(|| invalid("chunk cut short"))?;
        if !end.is_empty() {
            return Err(invalid("chunk longer than its size"));
        }
    }
    // Trailers, up to the empty line.
    while let Some(line) = read_line(reader)? {
        if line.is_empty() {
            break;
        }
    }
    Ok(body)
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn respond(stream: &TcpStream, code: u16) -> io::Result<()> {
    let body = if (200..300).contains(&code) { "ok" } else { reason(code) };
    let answer = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        reason(code),
        body.len()
    );
    let mut w = stream;
    w.write_all(answer.as_bytes())?;
    w.flush()?;
    stream.shutdown(Shutdown::Write)
}

// The receiver's own tests, with a plain TcpStream as the client.

/// Sends `raw` as is and reads the answer to its end: (status, headers, body).
fn send(receiver: &Receiver, raw: &[u8]) -> (u16, String, String) {
    let mut s = TcpStream::connect(receiver.addr).expect("connect to the receiver");
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.write_all(raw).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read the answer");
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of headers in {answer:?}"));
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    (code, head.to_string(), body.to_string())
}

fn post_json(receiver: &Receiver, path: &str, json: &str) -> (u16, String, String) {
    let raw = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
        json.len()
    );
    send(receiver, raw.as_bytes())
}

fn a_json_post_is_recorded_with_its_headers() {
    let r = Receiver::start();
    assert!(r.url.starts_with("http://127.0.0.1:"), "{}", r.url);
    let body = r#"{"event":"raised","kind":"disk_full"}"#;
    let raw = format!(
        "POST /hook?site=a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         X-Token:  secret \r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (code, head, text) = send(&r, raw.as_bytes());
    assert_eq!(code, 200, "{head}");
    assert_eq!(text, "ok");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("\r\nContent-Length: 2"), "{head}");
    assert!(head.contains("\r\nConnection: close"), "{head}");

    let got = r.wait_for(5, "the POST", |reqs| reqs.len() == 1);
    let req = &got[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/hook?site=a");
    assert_eq!(req.header("CONTENT-type"), Some("application/json"));
    assert_eq!(req.header("x-token"), Some("secret"));
    assert_eq!(req.header("x-missing"), None);
    assert!(req.headers.iter().any(|(n, _)| n == "x-token"), "{:?}", req.headers);
    assert_eq!(req.json()["kind"], "disk_full");
    assert_eq!(req.text(), body);

    // A heartbeat: a GET without a body.
    let (code, _, _) = send(&r, b"GET /ping/abc HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert_eq!(code, 200);
    let got = r.requests();
    assert_eq!(got.len(), 2);
    assert_eq!((got[1].method.as_str(), got[1].path.as_str()), ("GET", "/ping/abc"));
    assert!(got[1].body.is_empty());
}

fn json_of_a_non_json_body_panics_with_the_body() {
    let r = Receiver::start();
    post_json(&r, "/hook", "plain words");
    let req = r.requests().remove(0);
    let msg = crate::harness::expect_panic(move || req.json());
    assert!(msg.contains("not JSON") && msg.contains("plain words"), "{msg}");
}

fn set_status_500_answers_500_and_still_records() {
    let r = Receiver::start();
    r.set_status(500);
    let (code, head, _) = post_json(&r, "/hook", "{}");
    assert_eq!(code, 500, "{head}");
    assert!(head.starts_with("HTTP/1.1 500 Internal Server Error\r\n"), "{head}");
    assert_eq!(r.requests().len(), 1);
    r.set_status(200);
    assert_eq!(post_json(&r, "/hook", "{}").0, 200);
}

fn set_delay_delays_the_answer_not_the_record_nor_other_connections() {
    let r = Receiver::start();
    r.set_delay(Duration::from_millis(2500));
    let started = Instant::now();
    let slow = std::thread::scope(|s| {
        let slow = s.spawn(|| {
            let answer = post_json(&r, "/slow", "{}");
            (answer, Instant::now())
        });
        // Recorded before the delay: seen while the answer is still pending.
        r.wait_for(5, "the slow request to be recorded", |reqs| reqs.len() == 1);
        assert!(!slow.is_finished(), "answered before the delay was over");
        // Another connection is not held up by the slow one.
        r.set_delay(Duration::ZERO);
        let quick = Instant::now();
        assert_eq!(post_json(&r, "/quick", "{}").0, 200);
        assert!(quick.elapsed() < Duration::from_millis(1000), "{:?}", quick.elapsed());
        assert!(!slow.is_finished(), "the quick answer waited for the slow one");
        slow.join().unwrap()
    });
    let ((code, _, _), answered) = slow;
    assert_eq!(code, 200);
    assert!(started.elapsed() >= Duration::from_millis(2500));
    let reqs = r.requests();
    assert_eq!(reqs[0].path, "/slow");
    assert!(
        answered - reqs[0].at >= Duration::from_millis(2400),
        "{:?}",
        answered - reqs[0].at
    );
}

fn stop_refuses_connections_and_restart_listens_on_the_same_port() {
    let r = Receiver::start();
    assert_eq!(post_json(&r, "/one", "{}").0, 200);
    r.stop();
    let err = TcpStream::connect(r.addr).expect_err("connected to a stopped receiver");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    assert_eq!(r.requests().len(), 1, "requests kept across stop");

    r.restart();
    assert_eq!(r.url, format!("http://{}", r.addr));
    assert_eq!(post_json(&r, "/two", "{}").0, 200);
    let paths: Vec<String> = r.requests().into_iter().map(|q| q.path).collect();
    assert_eq!(paths, ["/one", "/two"]);
}

fn a_chunked_body_is_decoded() {
    let r = Receiver::start();
    let raw = b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n\
                5\r\nhello\r\n7;ext=1\r\n, world\r\nA\r\n and more.\r\n0\r\nX-Trailer: t\r\n\r\n";
    assert_eq!(send(&r, raw).0, 200);
    assert_eq!(r.requests()[0].text(), "hello, world and more.");
}
