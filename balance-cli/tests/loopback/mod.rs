//! A loopback "Twilio" for the process tests: a thread per connection, keep-alive, every
//! account's balance 1.00 USD after `hold`, and counters for what reached it.
#![allow(dead_code)] // each test file reads its own counters

use std::io::{BufRead, BufReader, Write};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Twilio {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The most requests it held at once.
    pub peak: Arc<AtomicUsize>,
    /// Requests answered.
    pub served: Arc<AtomicUsize>,
    /// Connections accepted.
    pub connections: Arc<AtomicUsize>,
    /// When each request arrived, and whether it was refused with 429.
    pub arrivals: Arc<Mutex<Vec<(Instant, bool)>>>,
}

impl Twilio {
    pub fn peak(&self) -> usize {
        self.peak.load(SeqCst)
    }

    pub fn served(&self) -> usize {
        self.served.load(SeqCst)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(SeqCst)
    }
}

/// Starts one; it runs until the test process ends.
pub fn twilio(hold: Duration) -> Twilio {
    throttling(hold, None)
}

/// Starts one that answers a request carrying `throttled` (an `Authorization` value) with 429
/// and `Retry-After: 3`, every time.
pub fn throttling(hold: Duration, throttled: Option<String>) -> Twilio {
    let throttled = throttled.map(|auth| auth.to_ascii_lowercase());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let counter = || Arc::new(AtomicUsize::new(0));
    let (now, peak, served, connections) = (counter(), counter(), counter(), counter());
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let shared = (
        peak.clone(),
        served.clone(),
        connections.clone(),
        arrivals.clone(),
    );
    std::thread::spawn(move || {
        let (peak, served, connections, arrivals) = shared;
        for stream in listener.incoming().map_while(Result::ok) {
            connections.fetch_add(1, SeqCst);
            let (now, peak, served) = (now.clone(), peak.clone(), served.clone());
            let (arrivals, throttled) = (arrivals.clone(), throttled.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                loop {
                    let mut head = String::new();
                    while reader.read_line(&mut head).is_ok_and(|n| n > 2) {}
                    let Some(sid) = head.split("/Accounts/").nth(1).and_then(|r| r.get(..34))
                    else {
                        return;
                    };
                    let refused = throttled
                        .as_ref()
                        .is_some_and(|auth| head.to_ascii_lowercase().contains(auth));
                    if let Ok(mut seen) = arrivals.lock() {
                        seen.push((Instant::now(), refused));
                    }
                    let (status, extra, body) = match refused {
                        true => (
                            "429 Too Many Requests",
                            "retry-after: 3\r\n",
                            String::from(
                                r#"{"code":20429,"message":"Too Many Requests","status":429}"#,
                            ),
                        ),
                        false => (
                            "200 OK",
                            "",
                            format!(
                                r#"{{"account_sid":"{sid}","balance":"1.00","currency":"USD"}}"#
                            ),
                        ),
                    };
                    peak.fetch_max(now.fetch_add(1, SeqCst) + 1, SeqCst);
                    std::thread::sleep(hold);
                    now.fetch_sub(1, SeqCst);
                    served.fetch_add(1, SeqCst);
                    let reply = format!(
                        "HTTP/1.1 {status}\r\n{extra}content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if reader.get_mut().write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Twilio {
        url,
        peak,
        served,
        connections,
        arrivals,
    }
}
