//! A purpose-built HTTP/1.1 server for faults the sandbox cannot produce: answers cut mid-body,
//! truncated JSON, stalls, redirects, odd content types, exact status/header combinations. It can
//! sit in front of a sandbox and forward every request its rule does not claim, so a fault can be
//! aimed at one request of a real run (one table, the token endpoint) while the rest is served
//! normally.
//!
//! Every connection carries one request: answers say `Connection: close`, so the client never
//! reuses a connection this server is about to drop.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::rt;

/// One request as the server read it.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    /// Path without the query string.
    pub path: String,
    pub query: Option<String>,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The table of a Table API request (`/api/now/table/<table>[/<sys_id>]`).
    pub fn table(&self) -> Option<&str> {
        self.path
            .strip_prefix("/api/now/table/")
            .map(|rest| rest.split('/').next().unwrap_or(rest))
    }

    pub fn is_token(&self) -> bool {
        self.path == "/oauth_token.do"
    }
}

/// What to do with a request.
#[derive(Clone, Debug)]
pub enum Action {
    /// Pass it to the upstream server (a sandbox) and relay its answer.
    Forward,
    /// The same, after holding the request this long: a slow query.
    ForwardAfter(Duration),
    /// Write these bytes (a whole HTTP response, or anything at all) and close.
    Respond(Vec<u8>),
    /// Write these bytes, then reset the connection (RST, not an orderly close).
    Reset(Vec<u8>),
    /// Write these bytes, wait, then close: a stall before or in the middle of an answer.
    Stall(Vec<u8>, Duration),
    /// Close without writing anything.
    Close,
    /// Pass it to the upstream (which acts on it), then answer with these bytes instead of the
    /// upstream's answer: a write that happened but whose answer was lost or replaced.
    ForwardAndReplace(Vec<u8>),
    /// Pass it to the upstream (which acts on it), then reset the connection without answering.
    ForwardAndReset,
}

type Rule = dyn Fn(&Req) -> Action + Send + Sync;

/// A running fault server on 127.0.0.1. Its tasks live on the shared test runtime.
pub struct FaultServer {
    port: u16,
    seen: Arc<Mutex<Vec<Req>>>,
}

impl FaultServer {
    /// Serves `rule`'s actions; `Forward` goes to `upstream` (a port on 127.0.0.1), or gets a
    /// 502 when there is none.
    pub fn start(
        upstream: Option<u16>,
        rule: impl Fn(&Req) -> Action + Send + Sync + 'static,
    ) -> FaultServer {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let port = std_listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rule: Arc<Rule> = Arc::new(rule);
        let log = seen.clone();
        rt().spawn(async move {
            let listener = TcpListener::from_std(std_listener).expect("tokio listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let rule = rule.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, upstream, &*rule, &log).await;
                });
            }
        });
        FaultServer { port, seen }
    }

    /// A server that answers every request with the same bytes.
    pub fn always(bytes: Vec<u8>) -> FaultServer {
        FaultServer::start(None, move |_| Action::Respond(bytes.clone()))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request read so far, oldest first.
    pub fn requests(&self) -> Vec<Req> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

async fn serve(
    mut stream: TcpStream,
    upstream: Option<u16>,
    rule: &Rule,
    log: &Mutex<Vec<Req>>,
) -> std::io::Result<()> {
    let Some((req, raw)) = read_request(&mut stream).await? else {
        return Ok(());
    };
    log.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(req.clone());
    match rule(&req) {
        Action::ForwardAfter(wait) => {
            tokio::time::sleep(wait).await;
            let answer = match upstream {
                Some(port) => forward(port, &raw).await?,
                None => response(502, &[], b"no upstream"),
            };
            stream.write_all(&answer).await?;
            stream.shutdown().await
        }
        Action::Forward => {
            let answer = match upstream {
                Some(port) => forward(port, &raw).await?,
                None => response(502, &[], b"no upstream"),
            };
            stream.write_all(&answer).await?;
            stream.shutdown().await
        }
        Action::Respond(bytes) => {
            stream.write_all(&bytes).await?;
            stream.shutdown().await
        }
        Action::ForwardAndReplace(bytes) => {
            if let Some(port) = upstream {
                forward(port, &raw).await?;
            }
            stream.write_all(&bytes).await?;
            stream.shutdown().await
        }
        Action::ForwardAndReset => {
            if let Some(port) = upstream {
                forward(port, &raw).await?;
            }
            reset(stream).await
        }
        Action::Reset(bytes) => {
            stream.write_all(&bytes).await?;
            stream.flush().await?;
            // Give the bytes a moment to leave before the reset discards the send buffer.
            tokio::time::sleep(Duration::from_millis(50)).await;
            reset(stream).await
        }
        Action::Stall(bytes, wait) => {
            stream.write_all(&bytes).await?;
            stream.flush().await?;
            tokio::time::sleep(wait).await;
            Ok(())
        }
        Action::Close => Ok(()),
    }
}

/// Closes with a reset (RST) rather than an orderly close.
async fn reset(stream: TcpStream) -> std::io::Result<()> {
    // Deprecated because a non-zero linger blocks the dropping thread; a zero linger does not
    // wait at all, it makes the close a reset, which is the point here.
    #[allow(deprecated)]
    stream.set_linger(Some(Duration::ZERO))?;
    drop(stream);
    Ok(())
}

/// Reads one request (head and `Content-Length` body). Returns the parsed request and the raw
/// bytes, with `Connection: close` forced, ready to forward.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<(Req, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or("");
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let version = parts.next().unwrap_or("HTTP/1.1").to_string();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.clone(), None),
    };
    let mut raw = format!("{method} {target} {version}\r\n").into_bytes();
    for (k, v) in headers.iter().filter(|(k, _)| k != "connection") {
        raw.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    raw.extend_from_slice(b"connection: close\r\n\r\n");
    raw.extend_from_slice(&body);
    let req = Req {
        method,
        path,
        query,
        headers,
        body,
    };
    Ok(Some((req, raw)))
}

/// Sends `raw` to 127.0.0.1:`port` and reads the whole answer (the upstream closes after it,
/// because the request said `Connection: close`).
async fn forward(port: u16, raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut upstream = TcpStream::connect(("127.0.0.1", port)).await?;
    upstream.write_all(raw).await?;
    let mut answer = Vec::new();
    upstream.read_to_end(&mut answer).await?;
    Ok(answer)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A complete HTTP/1.1 response with `Content-Length` and `Connection: close`.
pub fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = head(status, headers, Some(body.len()));
    out.extend_from_slice(body);
    out
}

/// A response head alone. `length` is the `Content-Length` to announce (which the body that
/// follows may not honour: that is how truncation and resets mid-body are made).
pub fn head(status: u16, headers: &[(&str, &str)], length: Option<usize>) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(n) = length {
        out.push_str(&format!("content-length: {n}\r\n"));
    }
    out.push_str("connection: close\r\n\r\n");
    out.into_bytes()
}

/// ServiceNow's JSON error envelope with a status.
pub fn sn_error(
    status: u16,
    message: &str,
    detail: Option<&str>,
    headers: &[(&str, &str)],
) -> Vec<u8> {
    let body = serde_json::json!({
        "error": {"message": message, "detail": detail},
        "status": "failure"
    })
    .to_string();
    let mut all = vec![("content-type", "application/json;charset=UTF-8")];
    all.extend_from_slice(headers);
    response(status, &all, body.as_bytes())
}
