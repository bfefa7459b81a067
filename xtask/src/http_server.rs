//! The local HTTP server `cargo xtask verify` checks `async_fetch` against, so that its
//! checks need no network: plain HTTP/1.1 on std's blocking sockets, a thread per
//! connection, one request per connection, listening on 127.0.0.1 at a port the OS picks,
//! and gone when the [`Server`] is dropped.
//!
//! - `/page/{n}` for n in 0..[`PAGES`]: [`page_body`]`(n)`, sent after [`delay`]`(n)`. Later
//!   pages come sooner, so the bodies arrive in the reverse of their URLs' order: a client
//!   that prints them as they arrive, not in URL order, is caught.
//! - `/fail`: status 500.
//! - `/not-utf8`: [`NOT_UTF8_BODY`], a body that is not valid UTF-8, as `text/plain` with no
//!   charset.
//! - Any other path: 404; a method other than GET: 405; a request that is not HTTP/1.x: 400.
//!
//! It also holds a port on which a socket is bound but not listening, so connecting to
//! [`Server::refused_url`] is refused, and no other process can take that port meanwhile.
//! [`Server::requests`] lists every request it answered, with when it came and went.
//!
//! Every wait is bounded: a connection that sends no request is dropped after
//! [`IO_TIMEOUT`], and dropping the server ends the page delays still running.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::Context;
use socket2::{Domain, Socket, Type};

/// How many pages `/page/{n}` serves.
pub const PAGES: usize = 3;

/// How long page `n` takes: 1.5 s, 1 s, 0.5 s.
pub fn delay(n: usize) -> Duration {
    Duration::from_millis(500 * (PAGES - n) as u64)
}

/// Page `n`'s body: one line, the same whatever port the server has.
pub fn page_body(n: usize) -> String {
    format!("<p>page {n}, sent after {} ms</p>\n", delay(n).as_millis())
}

/// What `/not-utf8` serves: Latin-1 text, whose `é` (byte 0xE9) is not valid UTF-8.
pub const NOT_UTF8_BODY: &[u8] = b"<p>caf\xe9, in Latin-1</p>\n";

/// The longest a connection may take to send its request, or to take the answer.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the accepting thread looks for a new connection or a stop.
const ACCEPT_POLL: Duration = Duration::from_millis(5);

/// The most a request's head may hold; a longer one gets 400.
const MAX_HEAD: usize = 8 * 1024;

/// One request the server answered.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The request target as sent, such as `/page/0`; empty if none could be read.
    pub path: String,
    /// When the request's head had been read.
    pub arrived: Instant,
    /// When the whole response had been written.
    pub answered: Instant,
    pub status: u16,
}

pub struct Server {
    addr: SocketAddr,
    refused: SocketAddr,
    _refuser: Socket,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// What the server's threads share: the stop flag (with a condvar to wake the delays
/// waiting on it) and the log of answered requests.
#[derive(Default)]
struct Shared {
    stopping: Mutex<bool>,
    stop: Condvar,
    log: Mutex<Vec<Request>>,
}

impl Shared {
    /// Waits up to `time`; true if the server is stopping.
    fn wait_for_stop(&self, time: Duration) -> bool {
        let stopping = lock(&self.stopping);
        let (stopping, _) = self
            .stop
            .wait_timeout_while(stopping, time, |stopping| !*stopping)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *stopping
    }
}

/// A poisoned lock only means a connection thread panicked; what it guards is still whole.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Server {
    pub fn start() -> anyhow::Result<Server> {
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let listener =
            TcpListener::bind(loopback).context("binding the test HTTP server's port")?;
        // Non-blocking, so the accepting thread can look at the stop flag between accepts.
        listener
            .set_nonblocking(true)
            .context("making the test HTTP server's socket non-blocking")?;
        let addr = listener.local_addr().context("reading the server's port")?;
        let refuser =
            Socket::new(Domain::IPV4, Type::STREAM, None).context("opening the refusing socket")?;
        refuser
            .bind(&loopback.into())
            .context("binding the refusing socket")?;
        let refused = refuser
            .local_addr()
            .context("reading the refused port")?
            .as_socket()
            .context("the refusing socket has no IP address")?;

        let shared = Arc::new(Shared::default());
        let thread = thread::Builder::new()
            .name("http-server".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || serve(listener, &shared)
            })
            .context("starting the test HTTP server's thread")?;
        Ok(Server {
            addr,
            refused,
            _refuser: refuser,
            shared,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, with no slash at the end.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/` where connecting is refused.
    pub fn refused_url(&self) -> String {
        format!("http://{}/", self.refused)
    }

    /// Every request answered so far, in the order they arrived.
    #[cfg_attr(
        not(target_os = "linux"),
        allow(dead_code, reason = "only `cargo xtask timeline` (Linux) reads it")
    )]
    pub fn requests(&self) -> Vec<Request> {
        let mut requests = lock(&self.shared.log).clone();
        requests.sort_by_key(|r| r.arrived);
        requests
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        *lock(&self.shared.stopping) = true;
        self.shared.stop.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accepts connections until the server stops, each answered on a thread of its own;
/// then closes the port and waits for those threads.
fn serve(listener: TcpListener, shared: &Arc<Shared>) {
    let mut connections: Vec<JoinHandle<()>> = Vec::new();
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                connections.retain(|c| !c.is_finished());
                let shared = Arc::clone(shared);
                // If no thread can be started, dropping the stream closes the connection.
                if let Ok(thread) = thread::Builder::new()
                    .name("http-connection".into())
                    .spawn(move || answer(stream, &shared))
                {
                    connections.push(thread);
                }
            }
            // No connection waiting (or a passing error such as too many open files):
            // look again shortly, unless the server is stopping.
            Err(_) => {
                if shared.wait_for_stop(ACCEPT_POLL) {
                    break;
                }
            }
        }
    }
    drop(listener);
    for connection in connections {
        let _ = connection.join();
    }
}

/// Reads one request, answers it, logs it; the connection closes when `stream` drops.
fn answer(mut stream: TcpStream, shared: &Shared) {
    // Accepted sockets inherit the listener's non-blocking mode on some systems (macOS).
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(Some(IO_TIMEOUT)).is_err()
        || stream.set_write_timeout(Some(IO_TIMEOUT)).is_err()
    {
        return;
    }
    // A connection that closes or times out before sending a whole head gets no answer.
    let Ok(head) = read_head(&mut stream) else {
        return;
    };
    let arrived = Instant::now();
    let (path, status, content_type, body) = match parse_request_line(&head) {
        Err(status) => (String::new(), status, UTF8, reason(status).into()),
        Ok((method, path)) => {
            let (status, content_type, body, wait) = route(method, path);
            if shared.wait_for_stop(wait) {
                return; // stopping: close without an answer
            }
            (path.to_string(), status, content_type, body)
        }
    };
    let head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(&body))
        .and_then(|()| stream.flush());
    lock(&shared.log).push(Request {
        path,
        arrived,
        answered: Instant::now(),
        status,
    });
}

/// The request's head, up to its blank line (any body is ignored: GET has none).
fn read_head(stream: &mut TcpStream) -> io::Result<String> {
    let mut head = Vec::new();
    let mut chunk = [0; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > MAX_HEAD {
            break; // answered with 400 by parse_request_line
        }
        match stream.read(&mut chunk)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => head.extend_from_slice(&chunk[..n]),
        }
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// `(method, target)` from `GET /page/0 HTTP/1.1`, or the status refusing it.
fn parse_request_line(head: &str) -> Result<(&str, &str), u16> {
    if head.len() > MAX_HEAD {
        return Err(400);
    }
    let line = head.lines().next().unwrap_or_default();
    match line.split(' ').collect::<Vec<_>>()[..] {
        [method, target, version] if target.starts_with('/') && version.starts_with("HTTP/1.") => {
            Ok((method, target))
        }
        _ => Err(400),
    }
}

/// The content type of every body but `/not-utf8`'s.
const UTF8: &str = "text/plain; charset=utf-8";

/// The status, content type and body for a request, and how long to wait before sending.
fn route(method: &str, target: &str) -> (u16, &'static str, Vec<u8>, Duration) {
    let now = |status: u16, body: &[u8]| (status, UTF8, body.to_vec(), Duration::ZERO);
    if method != "GET" {
        return now(405, reason(405).as_bytes());
    }
    let path = target.split('?').next().unwrap_or_default();
    if path == "/fail" {
        return now(500, b"failing on purpose\n");
    }
    if path == "/not-utf8" {
        // No charset: the bytes are what they are.
        return (200, "text/plain", NOT_UTF8_BODY.to_vec(), Duration::ZERO);
    }
    let page = path.strip_prefix("/page/").and_then(|n| n.parse().ok());
    match page {
        Some(n) if n < PAGES => (200, UTF8, page_body(n).into_bytes(), delay(n)),
        _ => now(404, reason(404).as_bytes()),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection to `addr` whose reads give up after 10 s, so no test can hang.
    fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(stream)
    }

    /// Sends `request` as is and returns the whole response, head and body.
    fn send(addr: SocketAddr, request: &str) -> io::Result<String> {
        let mut stream = connect(addr)?;
        stream.write_all(request.as_bytes())?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response)
    }

    fn get(addr: SocketAddr, path: &str) -> io::Result<String> {
        send(
            addr,
            &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
        )
    }

    #[test]
    fn not_utf8_serves_its_bytes_as_they_are() {
        let server = Server::start().unwrap();
        let mut stream = connect(server.addr).unwrap();
        let request = format!(
            "GET /not-utf8 HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            server.addr
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        assert!(response.starts_with(b"HTTP/1.1 200 OK\r\n"), "{response:?}");
        let no_charset = b"\r\ncontent-type: text/plain\r\n";
        assert!(
            response.windows(no_charset.len()).any(|w| w == no_charset),
            "{response:?}"
        );
        assert!(response.ends_with(NOT_UTF8_BODY), "{response:?}");
    }

    #[test]
    fn serves_pages_after_their_delay_and_fails_on_purpose() {
        let server = Server::start().unwrap();
        let started = Instant::now();
        let response = get(server.addr, "/page/2").unwrap();
        assert!(started.elapsed() >= delay(2), "{:?}", started.elapsed());
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        let body = page_body(2);
        assert!(
            response.contains(&format!("\r\ncontent-length: {}\r\n", body.len())),
            "{response}"
        );
        assert!(response.ends_with(&format!("\r\n\r\n{body}")), "{response}");
        let response = get(server.addr, "/fail").unwrap();
        assert!(response.starts_with("HTTP/1.1 500 "), "{response}");
        for missing in ["/page/3", "/page/x", "/", "/pages/0"] {
            let response = get(server.addr, missing).unwrap();
            assert!(
                response.starts_with("HTTP/1.1 404 "),
                "{missing}: {response}"
            );
        }
        let response = send(server.addr, "POST /page/2 HTTP/1.1\r\n\r\n").unwrap();
        assert!(response.starts_with("HTTP/1.1 405 "), "{response}");
        let response = send(server.addr, "hello\r\n\r\n").unwrap();
        assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    }

    /// Requests are answered at once, not one after another: page 2 (0.5 s), asked for
    /// after page 0 (1.5 s), is answered first.
    #[test]
    fn pages_are_served_concurrently() {
        let server = Server::start().unwrap();
        let ask = |path: &str| {
            let mut stream = connect(server.addr).unwrap();
            write!(stream, "GET {path} HTTP/1.1\r\n\r\n").unwrap();
            stream
        };
        let (mut slow, mut fast) = (ask("/page/0"), ask("/page/2"));
        let mut response = String::new();
        fast.read_to_string(&mut response).unwrap();
        assert!(response.ends_with(&page_body(2)), "{response}");
        slow.read_to_string(&mut response).unwrap();
        assert!(response.ends_with(&page_body(0)), "{response}");
        // Both connections are read on their own threads, so either head may be
        // read first; find each request by its path.
        let requests = server.requests();
        let find = |path: &str| requests.iter().find(|r| r.path == path);
        let (Some(slow_request), Some(fast_request)) = (find("/page/0"), find("/page/2")) else {
            panic!("both pages should be logged: {requests:?}");
        };
        assert_eq!(requests.len(), 2, "{requests:?}");
        assert!(
            fast_request.answered < slow_request.answered,
            "page 2 waited for page 0: {requests:?}"
        );
    }

    #[test]
    fn requests_lists_each_answered_request_in_arrival_order() {
        let server = Server::start().unwrap();
        assert_eq!(server.requests(), []);
        let started = Instant::now();
        for path in ["/page/2", "/fail", "/nothing"] {
            get(server.addr, path).unwrap();
        }
        send(server.addr, "nonsense\r\n\r\n").unwrap();
        // A connection that sends nothing is not a request.
        drop(TcpStream::connect(server.addr).unwrap());
        let requests = server.requests();
        let seen: Vec<(&str, u16)> = requests
            .iter()
            .map(|r| (r.path.as_str(), r.status))
            .collect();
        assert_eq!(
            seen,
            [
                ("/page/2", 200),
                ("/fail", 500),
                ("/nothing", 404),
                ("", 400)
            ]
        );
        let mut previous = started;
        for request in &requests {
            assert!(previous <= request.arrived, "{requests:?}");
            assert!(request.arrived <= request.answered, "{requests:?}");
            previous = request.answered;
        }
        let page = &requests[0];
        assert!(page.answered - page.arrived >= delay(2), "{page:?}");
    }

    #[test]
    fn the_refused_url_refuses_and_a_stopped_server_is_gone() {
        let server = Server::start().unwrap();
        let refused = server.refused_url();
        let refused = refused.trim_start_matches("http://").trim_end_matches('/');
        let err = TcpStream::connect(refused).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(server.base_url(), format!("http://{}", server.addr));
        assert!(server.addr.ip().is_loopback() && server.refused.ip().is_loopback());
        let addr = server.addr;
        drop(server);
        let err = TcpStream::connect(addr).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }

    /// Dropping the server ends a page's delay: the client gets the connection closed
    /// with no answer, where a server that waited the delay out would have sent the page.
    #[test]
    fn dropping_the_server_ends_a_delay_in_progress() {
        let server = Server::start().unwrap();
        let mut stream = connect(server.addr).unwrap();
        write!(stream, "GET /page/0 HTTP/1.1\r\n\r\n").unwrap();
        // The head has been read once the server is waiting: it is then in its delay.
        thread::sleep(Duration::from_millis(200));
        drop(server);
        // Closed (or, if the server stopped before accepting it, reset): either way, no answer.
        let mut response = String::new();
        let read = stream.read_to_string(&mut response);
        assert!(
            matches!(&read, Ok(0))
                || read
                    .as_ref()
                    .is_err_and(|e| e.kind() == io::ErrorKind::ConnectionReset),
            "{read:?} {response}"
        );
    }

    #[test]
    fn bodies_do_not_depend_on_the_port() {
        assert_eq!(page_body(0), "<p>page 0, sent after 1500 ms</p>\n");
    }
}
