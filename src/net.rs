//! The one HTTP client: every request CineCut sends to a server (llama-server,
//! Jamendo) goes through [`HttpClient`], which bounds how long an exchange may
//! take and how much of an answer is read, and retries only what can pass.
//!
//! Callers branch on [`NetError`]'s variants and turn them into their own
//! errors and messages; nothing here knows what the servers are for.

use std::io::Read;
use std::time::Duration;

/// Doublings of the backoff before it stops growing (8x the first pause).
const MAX_BACKOFF_DOUBLINGS: u32 = 3;
/// Each pause is stretched by up to this fraction at random, so clients that
/// failed together do not all come back at the same instant. Small, so a
/// test's configured backoff stays what it says.
const JITTER: f64 = 0.25;
/// A `Retry-After` up to this long is waited for; a longer one (or a date)
/// is not trusted to be meant for a client that runs once, and the usual
/// backoff applies instead.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// Of an error answer only the start is kept: enough for a message.
const MAX_ERROR_BODY_BYTES: u64 = 64 * 1024;

/// Why an exchange failed. [`is_transient`](NetError::is_transient) says
/// which are retried; the text of each is the underlying detail, so callers
/// can quote it.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// Nothing answers at the address (refused, unreachable, connect timeout).
    #[error("{detail}")]
    Connect { url: String, detail: String },
    /// No complete answer within the configured time.
    #[error("{detail}")]
    Timeout { url: String, detail: String },
    /// The connection broke before the answer's head (reset, closed, DNS).
    #[error("{detail}")]
    Transport { url: String, detail: String },
    /// The answer's body stopped before its announced end.
    #[error("reading answer: {detail}")]
    CutOff { url: String, detail: String },
    /// The request cannot succeed as sent (bad URL, scheme, garbled answer).
    #[error("{detail}")]
    Request { url: String, detail: String },
    /// The server answered with a status outside 2xx.
    #[error("HTTP {status} from {url}")]
    Status {
        url: String,
        status: u16,
        /// The start of the answer's body (lossy UTF-8), empty if unreadable.
        body: String,
        /// A `Retry-After` in seconds, as the server sent it.
        retry_after: Option<Duration>,
    },
    /// The answer is larger than the cap; `declared` when Content-Length said so.
    #[error("{}", too_large_text(*declared, *limit))]
    TooLarge {
        url: String,
        limit: u64,
        declared: Option<u64>,
    },
}

fn too_large_text(declared: Option<u64>, limit: u64) -> String {
    match declared {
        Some(len) => format!("answer of {len} bytes exceeds the {limit}-byte cap"),
        None => format!("answer exceeds the {limit}-byte cap"),
    }
}

impl NetError {
    /// Whether the same request could succeed a moment later: the server
    /// busy, loading or restarting, or the network hiccupping.
    pub fn is_transient(&self) -> bool {
        match self {
            NetError::Connect { .. }
            | NetError::Timeout { .. }
            | NetError::Transport { .. }
            | NetError::CutOff { .. } => true,
            NetError::Status { status, .. } => *status == 429 || *status >= 500,
            NetError::Request { .. } | NetError::TooLarge { .. } => false,
        }
    }

    /// The address the failed request went to.
    pub fn url(&self) -> &str {
        match self {
            NetError::Connect { url, .. }
            | NetError::Timeout { url, .. }
            | NetError::Transport { url, .. }
            | NetError::CutOff { url, .. }
            | NetError::Request { url, .. }
            | NetError::Status { url, .. }
            | NetError::TooLarge { url, .. } => url,
        }
    }
}

/// How long an exchange may take once connected. ureq lets a whole-request
/// deadline override a per-read one, so a client has one or the other.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Patience {
    /// From connect to the last byte of the body.
    WholeRequest(Duration),
    /// Any one read; a long download that keeps moving is never cut.
    EachRead(Duration),
}

/// Everything an [`HttpClient`] is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    pub connect_timeout: Duration,
    pub patience: Patience,
    /// Extra attempts after the first, for transient failures only.
    pub retries: u32,
    /// First pause between attempts; doubled after each (capped at 8x), plus
    /// up to a quarter at random.
    pub backoff: Duration,
    /// Largest body read; a request may ask for another cap.
    pub max_body_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// One request: method, address, query, body and its size cap.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    method: Method,
    url: &'a str,
    query: Vec<(&'a str, &'a str)>,
    json_body: Option<&'a str>,
    max_body_bytes: Option<u64>,
}

impl<'a> Request<'a> {
    pub fn get(url: &'a str) -> Self {
        Request {
            method: Method::Get,
            url,
            query: Vec::new(),
            json_body: None,
            max_body_bytes: None,
        }
    }

    /// A POST whose body is JSON text.
    pub fn post_json(url: &'a str, body: &'a str) -> Self {
        Request {
            method: Method::Post,
            json_body: Some(body),
            ..Request::get(url)
        }
    }

    /// Append `key=value` (URL-encoded) to the query string.
    pub fn query(mut self, key: &'a str, value: &'a str) -> Self {
        self.query.push((key, value));
        self
    }

    /// Read at most `limit` bytes of this answer instead of the client's cap.
    pub fn max_body_bytes(mut self, limit: u64) -> Self {
        self.max_body_bytes = Some(limit);
        self
    }
}

/// The HTTP client. Cheap to build; reuses connections while it lives.
#[derive(Debug, Clone)]
pub struct HttpClient {
    agent: ureq::Agent,
    config: HttpConfig,
}

impl HttpClient {
    pub fn new(config: HttpConfig) -> Self {
        let builder = ureq::AgentBuilder::new().timeout_connect(config.connect_timeout);
        let builder = match config.patience {
            Patience::WholeRequest(d) => builder.timeout(d),
            Patience::EachRead(d) => builder.timeout_read(d),
        };
        HttpClient {
            agent: builder.build(),
            config,
        }
    }

    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// The body of a 2xx answer, retrying transient failures with backoff.
    pub fn send(&self, req: &Request) -> Result<Vec<u8>, NetError> {
        self.send_with(req, |_| false)
    }

    /// As [`send`](Self::send), but a failure for which `is_final` holds is
    /// not retried: the caller knows that this server, say, answers 500 to a
    /// request it will never accept.
    pub fn send_with(
        &self,
        req: &Request,
        is_final: impl Fn(&NetError) -> bool,
    ) -> Result<Vec<u8>, NetError> {
        let mut attempt = 0;
        loop {
            match self.send_once(req) {
                Err(e) if e.is_transient() && !is_final(&e) && attempt < self.config.retries => {
                    std::thread::sleep(pause_before_retry(
                        &self.config,
                        attempt,
                        &e,
                        fastrand::f64(),
                    ));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// One exchange, never retried (health probes that poll on their own).
    pub fn send_once(&self, req: &Request) -> Result<Vec<u8>, NetError> {
        let method = match req.method {
            Method::Get => "GET",
            Method::Post => "POST",
        };
        let mut call = self.agent.request(method, req.url);
        for (k, v) in &req.query {
            call = call.query(k, v);
        }
        let url = call.url().to_string();
        let result = match req.json_body {
            Some(body) => call
                .set("Content-Type", "application/json")
                .send_string(body),
            None => call.call(),
        };
        let limit = req.max_body_bytes.unwrap_or(self.config.max_body_bytes);
        match result {
            Ok(resp) => read_body(&url, resp, limit),
            Err(ureq::Error::Status(status, resp)) => Err(status_error(status, resp)),
            Err(ureq::Error::Transport(t)) => Err(transport_error(url, &t)),
        }
    }
}

/// The pause before retry number `attempt + 1`: the server's sane
/// `Retry-After`, else the exponential backoff; then stretched by up to
/// [`JITTER`] of itself as `unit` (0..1) says.
fn pause_before_retry(config: &HttpConfig, attempt: u32, err: &NetError, unit: f64) -> Duration {
    let asked = match err {
        NetError::Status {
            retry_after: Some(after),
            ..
        } if *after <= MAX_RETRY_AFTER => Some(*after),
        _ => None,
    };
    let base =
        asked.unwrap_or_else(|| config.backoff * 2u32.pow(attempt.min(MAX_BACKOFF_DOUBLINGS)));
    base + base.mul_f64(JITTER * unit.clamp(0.0, 1.0))
}

/// The body through the cap: a declared length over it is refused unread,
/// an undeclared one is read up to one byte past it.
fn read_body(url: &str, resp: ureq::Response, limit: u64) -> Result<Vec<u8>, NetError> {
    let declared = resp
        .header("Content-Length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    let too_large = |declared| NetError::TooLarge {
        url: url.to_string(),
        limit,
        declared,
    };
    if let Some(len) = declared.filter(|&len| len > limit) {
        return Err(too_large(Some(len)));
    }
    let mut buf = Vec::new();
    if let Err(e) = resp.into_reader().take(limit + 1).read_to_end(&mut buf) {
        let url = url.to_string();
        return Err(if is_timeout_io(&e) {
            NetError::Timeout {
                url,
                detail: format!("reading answer: {e}"),
            }
        } else {
            NetError::CutOff {
                url,
                detail: e.to_string(),
            }
        });
    }
    if buf.len() as u64 > limit {
        return Err(too_large(None));
    }
    Ok(buf)
}

/// A non-2xx answer with the start of its body, which says why.
fn status_error(status: u16, resp: ureq::Response) -> NetError {
    let url = resp.get_url().to_string();
    let retry_after = resp
        .header("Retry-After")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let mut start = Vec::new();
    let body = match resp
        .into_reader()
        .take(MAX_ERROR_BODY_BYTES)
        .read_to_end(&mut start)
    {
        Ok(_) => String::from_utf8_lossy(&start).into_owned(),
        Err(_) => String::new(),
    };
    NetError::Status {
        url,
        status,
        body,
        retry_after,
    }
}

fn transport_error(url: String, t: &ureq::Transport) -> NetError {
    use ureq::ErrorKind as K;
    let detail = t.to_string();
    match t.kind() {
        K::ConnectionFailed => NetError::Connect { url, detail },
        _ if is_timeout(t) => NetError::Timeout { url, detail },
        K::Dns | K::Io | K::ProxyConnect => NetError::Transport { url, detail },
        _ => NetError::Request { url, detail },
    }
}

fn is_timeout(t: &ureq::Transport) -> bool {
    use std::error::Error as _;
    let mut src = t.source();
    while let Some(e) = src {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return is_timeout_io(io);
        }
        src = e.source();
    }
    t.to_string().contains("timed out")
}

fn is_timeout_io(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    ) || e.to_string().contains("timed out")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// What the loopback server does with one connection.
    enum Reply {
        /// Status, extra header lines, body; sent with its Content-Length.
        Full(u16, &'static str, Vec<u8>),
        /// A 200 whose body is ended by closing the connection (no length).
        Unsized(Vec<u8>),
        /// Wait this long, then answer 200 "late".
        Late(Duration),
        /// A 200 whose body is the request's Content-Type, a space, its body.
        Echo,
    }

    /// A loopback server answering the n-th connection with `replies[n]`
    /// (the last one repeated), each on its own thread; returns its base URL
    /// and the count of requests it has read.
    fn serve(replies: Vec<Reply>) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let replies = Arc::new(replies);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (counter, replies) = (counter.clone(), replies.clone());
                std::thread::spawn(move || answer(conn, &counter, &replies));
            }
        });
        (url, hits)
    }

    fn answer(mut conn: std::net::TcpStream, counter: &AtomicUsize, replies: &[Reply]) {
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let (mut length, mut content_type) = (0, String::new());
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
            if let Some((k, v)) = line.split_once(':') {
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => length = v.trim().parse().unwrap_or(0),
                    "content-type" => content_type = v.trim().to_string(),
                    _ => {}
                }
            }
            line.clear();
        }
        // Read the whole request: closing on unread bytes would reset the
        // connection under the answer.
        let mut request_body = vec![0; length];
        let _ = reader.read_exact(&mut request_body);
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let (status, headers, body, sized) = match &replies[n.min(replies.len() - 1)] {
            Reply::Full(status, headers, body) => (*status, *headers, body.clone(), true),
            Reply::Unsized(body) => (200, "", body.clone(), false),
            Reply::Late(pause) => {
                std::thread::sleep(*pause);
                (200, "", b"late".to_vec(), true)
            }
            Reply::Echo => {
                let mut echo = format!("{content_type} ").into_bytes();
                echo.extend(request_body);
                (200, "", echo, true)
            }
        };
        let length = if sized {
            format!("Content-Length: {}\r\n", body.len())
        } else {
            String::new()
        };
        let head = format!("HTTP/1.1 {status} X\r\n{headers}{length}Connection: close\r\n\r\n");
        let _ = conn.write_all(head.as_bytes());
        let _ = conn.write_all(&body);
    }

    fn client(retries: u32, patience: Patience, max_body_bytes: u64) -> HttpClient {
        HttpClient::new(HttpConfig {
            connect_timeout: Duration::from_secs(2),
            patience,
            retries,
            backoff: Duration::from_millis(5),
            max_body_bytes,
        })
    }

    fn patient() -> Patience {
        Patience::WholeRequest(Duration::from_secs(5))
    }

    #[test]
    fn a_503_is_retried_and_the_200_after_it_returned() {
        let (url, hits) = serve(vec![
            Reply::Full(503, "", b"loading".to_vec()),
            Reply::Full(200, "", b"ready".to_vec()),
        ]);
        let body = client(2, patient(), 1024)
            .send(&Request::get(&url))
            .unwrap();
        assert_eq!(body, b"ready");
        assert_eq!(hits.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_404_is_final_and_keeps_its_body() {
        let (url, hits) = serve(vec![Reply::Full(404, "", b"no such page".to_vec())]);
        let err = client(3, patient(), 1024)
            .send(&Request::get(&url).query("q", "a b"))
            .unwrap_err();
        match &err {
            NetError::Status {
                status: 404,
                body,
                url: at,
                ..
            } => {
                assert_eq!(body, "no such page");
                assert!(at.ends_with("/?q=a+b"), "{at}");
            }
            other => panic!("not a 404: {other:?}"),
        }
        assert!(!err.is_transient());
        assert_eq!(hits.load(Ordering::SeqCst), 1, "never retried");
    }

    #[test]
    fn a_caller_can_make_a_transient_failure_final() {
        let (url, hits) = serve(vec![Reply::Full(500, "", b"no mmproj".to_vec())]);
        let err = client(3, patient(), 1024)
            .send_with(
                &Request::get(&url),
                |e| matches!(e, NetError::Status { body, .. } if body.contains("mmproj")),
            )
            .unwrap_err();
        assert!(matches!(err, NetError::Status { status: 500, .. }));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn an_oversize_body_is_capped_and_not_retried() {
        // Declared too long: refused before reading.
        let (url, hits) = serve(vec![Reply::Full(200, "", vec![b'x'; 4096])]);
        let err = client(2, patient(), 1000)
            .send(&Request::get(&url))
            .unwrap_err();
        assert!(
            matches!(
                err,
                NetError::TooLarge {
                    limit: 1000,
                    declared: Some(4096),
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "answer of 4096 bytes exceeds the 1000-byte cap"
        );
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        // No length: read through the limit. A request's own cap wins.
        let (url, _) = serve(vec![Reply::Unsized(vec![b'x'; 4096])]);
        let c = client(0, patient(), 1 << 20);
        let err = c
            .send(&Request::get(&url).max_body_bytes(1000))
            .unwrap_err();
        assert!(
            matches!(err, NetError::TooLarge { declared: None, .. }),
            "{err:?}"
        );
        let (url, _) = serve(vec![Reply::Unsized(vec![b'x'; 1000])]);
        assert_eq!(
            c.send(&Request::get(&url).max_body_bytes(1000))
                .unwrap()
                .len(),
            1000
        );
    }

    #[test]
    fn a_read_timeout_is_a_timeout_and_is_retried() {
        let (url, hits) = serve(vec![Reply::Late(Duration::from_secs(2))]);
        let err = client(1, Patience::EachRead(Duration::from_millis(200)), 1024)
            .send(&Request::get(&url))
            .unwrap_err();
        assert!(matches!(err, NetError::Timeout { .. }), "{err:?}");
        assert!(err.is_transient());
        assert_eq!(hits.load(Ordering::SeqCst), 2, "one try and one retry");
        let (url, _) = serve(vec![Reply::Late(Duration::from_secs(2))]);
        let err = client(0, Patience::WholeRequest(Duration::from_millis(200)), 1024)
            .send(&Request::get(&url))
            .unwrap_err();
        assert!(matches!(err, NetError::Timeout { .. }), "{err:?}");
    }

    #[test]
    fn a_refused_connection_is_a_connect_error() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let url = format!("http://127.0.0.1:{port}/x");
        let err = client(0, patient(), 1024)
            .send(&Request::get(&url))
            .unwrap_err();
        assert!(matches!(err, NetError::Connect { .. }), "{err:?}");
        assert!(err.is_transient());
        assert_eq!(err.url(), url);
    }

    #[test]
    fn a_post_sends_its_json_and_a_bad_url_is_final() {
        let (url, hits) = serve(vec![Reply::Echo]);
        let c = client(2, patient(), 1024);
        let echo = c.send(&Request::post_json(&url, "{\"a\":1}")).unwrap();
        assert_eq!(echo, b"application/json {\"a\":1}");
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        let err = c.send(&Request::get("gopher://x/")).unwrap_err();
        assert!(matches!(err, NetError::Request { .. }), "{err:?}");
    }

    #[test]
    fn a_429_keeps_its_retry_after_and_is_retried() {
        let (url, hits) = serve(vec![
            Reply::Full(429, "Retry-After: 7\r\n", b"slow down".to_vec()),
            Reply::Full(429, "Retry-After: 0\r\n", b"slow down".to_vec()),
            Reply::Full(200, "", b"ok".to_vec()),
        ]);
        let c = client(1, patient(), 1024);
        let err = c.send_once(&Request::get(&url)).unwrap_err();
        assert!(
            matches!(err, NetError::Status { status: 429, retry_after: Some(d), .. } if d == Duration::from_secs(7)),
            "{err:?}"
        );
        assert_eq!(c.send(&Request::get(&url)).unwrap(), b"ok");
        assert_eq!(hits.load(Ordering::SeqCst), 3);
    }

    fn status(retry_after: Option<u64>) -> NetError {
        NetError::Status {
            url: "u".into(),
            status: 429,
            body: String::new(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn backoff_doubles_to_a_cap_and_jitter_only_stretches_it() {
        let config = HttpConfig {
            connect_timeout: Duration::from_secs(1),
            patience: patient(),
            retries: 9,
            backoff: Duration::from_millis(100),
            max_body_bytes: 1,
        };
        let ms =
            |attempt, unit| pause_before_retry(&config, attempt, &status(None), unit).as_millis();
        assert_eq!([ms(0, 0.0), ms(1, 0.0), ms(2, 0.0)], [100, 200, 400]);
        assert_eq!(ms(3, 0.0), 800);
        assert_eq!(ms(7, 0.0), 800, "capped at 8x");
        assert_eq!(ms(1, 1.0), 250, "at most a quarter more");
        assert_eq!(ms(1, 7.0), 250, "a bad unit is clamped");
        let zero = HttpConfig {
            backoff: Duration::ZERO,
            ..config.clone()
        };
        assert_eq!(
            pause_before_retry(&zero, 2, &status(None), 1.0),
            Duration::ZERO
        );
        // A sane Retry-After replaces the backoff; an absurd one is ignored.
        let after = |secs, unit| pause_before_retry(&config, 0, &status(Some(secs)), unit);
        assert_eq!(after(3, 0.0), Duration::from_secs(3));
        assert!(after(3, 1.0) <= Duration::from_millis(3750));
        assert_eq!(after(86_400, 0.0), Duration::from_millis(100));
    }

    #[test]
    fn transient_classification() {
        let code = |status| NetError::Status {
            url: "u".into(),
            status,
            body: String::new(),
            retry_after: None,
        };
        assert!(code(500).is_transient() && code(503).is_transient());
        assert!(code(429).is_transient());
        assert!(!code(400).is_transient() && !code(401).is_transient());
        let cut = NetError::CutOff {
            url: "u".into(),
            detail: "unexpected end".into(),
        };
        assert!(cut.is_transient());
        assert_eq!(cut.to_string(), "reading answer: unexpected end");
    }
}
