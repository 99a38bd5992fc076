//! The read-only HTTP endpoint, when `http_listen` is set: `GET /metrics`
//! (Prometheus's text format), `/` (the daemon's page), `/status.json` and
//! `/coverage.json` (the files in `log_dir`). One request per connection, answered and
//! closed; another method is 405, another path 404. It shows only what `status.json`
//! shows, so never a secret.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::Local;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::protection::Unprotected;
use crate::status_file::StatusFile;
use report::coverage::{self, Document};
use report::dashboard::{self, Dashboard};
use report::{metrics, status};

/// A request's head may be this long at most.
const HEAD_MAX: usize = 8 * 1024;
/// A client gets this long to send its request.
const READ_WITHIN: Duration = Duration::from_secs(10);

/// What the endpoint shows.
pub struct View {
    pub status_file: StatusFile,
    pub unprotected: Arc<Unprotected>,
    pub log_dir: PathBuf,
    pub site: String,
}

/// Listens on `addr`; the error in one line when it cannot.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("http_listen: cannot listen on {addr}: {e}"))
}

/// Answers requests until `stop`.
pub async fn serve(listener: TcpListener, view: Arc<View>, stop: CancellationToken) {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "serving /metrics, /, /status.json and /coverage.json");
    }
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    tokio::spawn(answer(stream, view.clone()));
                }
            }
            _ = stop.cancelled() => return,
        }
    }
}

/// An answer: status line, content type, body.
struct Answer {
    status: &'static str,
    kind: &'static str,
    body: Vec<u8>,
}

impl Answer {
    fn ok(kind: &'static str, body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            status: "200 OK",
            kind,
            body: body.into(),
        }
    }

    fn plain(status: &'static str, text: &str) -> Answer {
        Answer {
            status,
            kind: "text/plain; charset=utf-8",
            body: format!("{text}\n").into_bytes(),
        }
    }
}

async fn answer(mut stream: TcpStream, view: Arc<View>) {
    let Ok(Some(head)) = tokio::time::timeout(READ_WITHIN, read_head(&mut stream)).await else {
        return;
    };
    let mut words = head.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let answer = match method {
        "GET" | "HEAD" => route(path, &view).await,
        _ => Answer::plain("405 Method Not Allowed", "read-only: GET or HEAD"),
    };
    let header = format!(
        "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nAllow: GET, HEAD\r\nConnection: close\r\n\r\n",
        answer.status,
        answer.kind,
        answer.body.len()
    );
    let _ = stream.write_all(header.as_bytes()).await;
    if method != "HEAD" {
        let _ = stream.write_all(&answer.body).await;
    }
    let _ = stream.shutdown().await;
}

/// The request's head, up to its blank line; None when it is cut or too long.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() + n > HEAD_MAX {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(head).ok()
}

async fn route(path: &str, view: &View) -> Answer {
    match path {
        "/metrics" => {
            let text = metrics::render(
                &view.status_file.current(),
                &view.unprotected.figures(SystemTime::now()),
                Local::now(),
            );
            Answer::ok("text/plain; version=0.0.4; charset=utf-8", text)
        }
        "/" => {
            let cover = Document::read(&view.log_dir.join(coverage::JSON_FILE));
            let status = view.status_file.current();
            let page = dashboard::page(&Dashboard {
                site: &view.site,
                status: &status,
                protection: view.unprotected.figures(SystemTime::now()),
                coverage: cover.as_ref(),
                now: Local::now(),
            });
            Answer::ok("text/html; charset=utf-8", page)
        }
        "/status.json" => file(view, status::FILE_NAME).await,
        "/coverage.json" => file(view, coverage::JSON_FILE).await,
        _ => Answer::plain(
            "404 Not Found",
            "not found: try /, /metrics, /status.json or /coverage.json",
        ),
    }
}

/// A JSON file of `log_dir`, as it is there.
async fn file(view: &View, name: &str) -> Answer {
    match tokio::fs::read(view.log_dir.join(name)).await {
        Ok(bytes) => Answer::ok("application/json", bytes),
        Err(_) => Answer::plain("404 Not Found", &format!("no {name} yet")),
    }
}
