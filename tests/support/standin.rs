//! A loopback HTTP/1.1 stand-in for the servers CineCut talks to (an
//! OpenAI-compatible LLM server, the Jamendo API and its downloads), used only
//! for faults and protocol checks. Every request is recorded so tests can count them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub body: String,
}

impl Req {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

pub enum Reply {
    /// Status and body, sent as application/json (the Jamendo client judges a
    /// download by its bytes, not by this header).
    Status(u16, Vec<u8>),
    /// Exact bytes, then the connection is closed.
    Raw(Vec<u8>),
    /// Wait, then send the inner reply.
    After(Duration, Box<Reply>),
}

/// An OpenAI chat completion whose message content is `content`.
pub fn chat(content: &str) -> Reply {
    let body = serde_json::json!({
        "id": "standin", "object": "chat.completion", "model": "standin-model",
        "choices": [{ "index": 0, "finish_reason": "stop",
                      "message": { "role": "assistant", "content": content } }]
    });
    Reply::Status(200, body.to_string().into())
}

type Handler = dyn Fn(&Req, usize) -> Reply + Send + Sync;

pub struct StandIn {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Req>>>,
    pub in_flight: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
}

impl StandIn {
    /// `handler(request, index)` decides each answer; index counts from 0.
    pub fn start(handler: impl Fn(&Req, usize) -> Reply + Send + Sync + 'static) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        {
            let (requests, stop, in_flight) = (requests.clone(), stop.clone(), in_flight.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (requests, handler, in_flight) =
                        (requests.clone(), handler.clone(), in_flight.clone());
                    std::thread::spawn(move || serve(conn, &requests, &*handler, &in_flight));
                }
            });
        }
        StandIn {
            url: format!("http://{addr}"),
            requests,
            in_flight,
            stop,
            addr,
        }
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
    pub fn bodies(&self) -> Vec<Req> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(conn: TcpStream, requests: &Mutex<Vec<Req>>, handler: &Handler, in_flight: &AtomicUsize) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut first = String::new();
    if reader.read_line(&mut first).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; len];
    let _ = reader.read_exact(&mut body);
    let req = Req {
        method,
        path,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let index = {
        let mut r = requests.lock().unwrap();
        r.push(req.clone());
        r.len() - 1
    };
    in_flight.fetch_add(1, Ordering::SeqCst);
    let mut reply = handler(&req, index);
    let mut conn = conn;
    loop {
        match reply {
            Reply::After(d, inner) => {
                std::thread::sleep(d);
                reply = *inner;
            }
            Reply::Status(code, body) => {
                let head = format!(
                    "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(&body);
                break;
            }
            Reply::Raw(bytes) => {
                let _ = conn.write_all(&bytes);
                break;
            }
        }
    }
    in_flight.fetch_sub(1, Ordering::SeqCst);
    let _ = conn.flush();
    let _ = conn.shutdown(std::net::Shutdown::Both);
}
