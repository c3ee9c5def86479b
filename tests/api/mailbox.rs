//! A real SMTP server on loopback (`mailin-embedded`), holding what it receives so a test can
//! read a mail and follow its link.

use std::io;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin_embedded::{Handler, Response, Server, response};

#[derive(Clone)]
struct Collector {
    current: Vec<u8>,
    delivered: Arc<Mutex<Vec<String>>>,
}

impl Handler for Collector {
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> Response {
        self.current.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let message = String::from_utf8_lossy(&self.current).into_owned();
        self.delivered.lock().unwrap().push(message);
        response::OK
    }
}

/// A running SMTP server; it runs until the test process ends.
pub struct Mailbox {
    pub port: u16,
    delivered: Arc<Mutex<Vec<String>>>,
}

impl Mailbox {
    /// Starts a server on `port` (one the test reserved earlier, e.g. to start it late).
    pub fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the SMTP port");
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let mut server = Server::new(Collector {
            current: Vec::new(),
            delivered: delivered.clone(),
        });
        server.with_name("mailbox.test").with_tcp_listener(listener);
        std::thread::spawn(move || {
            if let Err(error) = server.serve() {
                panic!("the SMTP server stopped: {error}");
            }
        });
        Self { port, delivered }
    }

    pub fn start() -> Self {
        Self::start_on(crate::helpers::free_port())
    }

    pub fn url(&self) -> String {
        smtp_url(self.port)
    }

    /// Every message received so far for `recipient`, decoded.
    pub fn messages_to(&self, recipient: &str) -> Vec<String> {
        self.messages(recipient, "")
    }

    /// The messages for `recipient` whose subject starts with `subject`, decoded.
    pub fn messages(&self, recipient: &str, subject: &str) -> Vec<String> {
        self.delivered
            .lock()
            .unwrap()
            .iter()
            .filter(|message| {
                message
                    .lines()
                    .any(|line| line.starts_with("To: ") && line.contains(recipient))
            })
            .filter(|message| message.contains(&format!("Subject: {subject}")))
            .map(|message| decode_quoted_printable(message))
            .collect()
    }

    /// Waits until `recipient` has `count` messages whose subject starts with `subject` ("" for
    /// any), failing after `within`; then waits a moment more to catch a duplicate, and returns
    /// them all.
    pub async fn wait_for(
        &self,
        recipient: &str,
        subject: &str,
        count: usize,
        within: Duration,
    ) -> Vec<String> {
        let started = Instant::now();
        while self.messages(recipient, subject).len() < count {
            assert!(
                started.elapsed() < within,
                "{recipient} got {} of {count} messages `{subject}` within {within:?}",
                self.messages(recipient, subject).len()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        self.messages(recipient, subject)
    }
}

/// `SMTP_URL` for a plain-text server on loopback (no `?tls=`: no STARTTLS).
pub fn smtp_url(port: u16) -> String {
    format!("smtp://127.0.0.1:{port}")
}

/// Soft line breaks joined and `=XX` escapes decoded (RFC 2045 §6.7), enough to read links.
fn decode_quoted_printable(message: &str) -> String {
    let joined = message.replace("=\r\n", "").replace("=\n", "");
    let mut decoded = String::with_capacity(joined.len());
    let mut rest = joined.as_str();
    while let Some(at) = rest.find('=') {
        decoded.push_str(&rest[..at]);
        let hex = rest.get(at + 1..at + 3);
        match hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
            Some(byte) => {
                decoded.push(byte as char);
                rest = &rest[at + 3..];
            }
            None => {
                decoded.push('=');
                rest = &rest[at + 1..];
            }
        }
    }
    decoded.push_str(rest);
    decoded
}

/// The token of the (first) reset link in `message`.
pub fn reset_token(message: &str) -> String {
    token_after(message, "#reset-password=")
}

/// The token of the (first) verification link in `message`.
pub fn verification_token(message: &str) -> String {
    token_after(message, "#verify-email=")
}

fn token_after(message: &str, marker: &str) -> String {
    let start = message
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} link in: {message}"))
        + marker.len();
    message[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}
