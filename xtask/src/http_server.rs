//! The local HTTP server `cargo xtask verify` checks `async_fetch` against, so that its
//! checks need no network: axum on a tokio runtime on a background thread, listening on
//! 127.0.0.1 at a port the OS picks, and gone when the [`Server`] is dropped.
//!
//! - `/page/{n}` for n in 0..[`PAGES`]: [`page_body`]`(n)`, sent after [`delay`]`(n)`. Later
//!   pages come sooner, so the bodies arrive in the reverse of their URLs' order: a client
//!   that prints them as they arrive, not in URL order, is caught.
//! - `/fail`: status 500.
//! - `/not-utf8`: [`NOT_UTF8_BODY`], a body that is not valid UTF-8.
//!
//! It also holds a port on which a socket is bound but not listening, so connecting to
//! [`Server::refused_url`] is refused, and no other process can take that port meanwhile.

use std::future::IntoFuture;
use std::net::{SocketAddr, TcpListener};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::routing::get;
use tokio::net::TcpSocket;
use tokio::sync::oneshot;

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

pub struct Server {
    addr: SocketAddr,
    refused: SocketAddr,
    _refuser: TcpSocket,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start() -> anyhow::Result<Server> {
        let listener =
            TcpListener::bind("127.0.0.1:0").context("binding the test HTTP server's port")?;
        listener
            .set_nonblocking(true)
            .context("making the test HTTP server's socket non-blocking")?;
        let addr = listener.local_addr().context("reading the server's port")?;
        let refuser = TcpSocket::new_v4().context("opening the refusing socket")?;
        refuser
            .bind("127.0.0.1:0".parse().expect("a valid address"))
            .context("binding the refusing socket")?;
        let refused = refuser.local_addr().context("reading the refused port")?;

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the test HTTP server's tokio runtime")?;
        let listener = {
            let _in_runtime = runtime.enter();
            tokio::net::TcpListener::from_std(listener)
                .context("handing the server's socket to tokio")?
        };
        let (shutdown, stop) = oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name("http-server".into())
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::select! {
                        _ = axum::serve(listener, router()).into_future() => {}
                        _ = stop => {}
                    }
                });
                // Dropping the runtime here drops every connection still open.
            })
            .context("starting the test HTTP server's thread")?;
        Ok(Server {
            addr,
            refused,
            _refuser: refuser,
            shutdown: Some(shutdown),
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
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn router() -> Router {
    Router::new()
        .route("/page/{n}", get(page))
        .route("/fail", get(fail))
        .route("/not-utf8", get(not_utf8))
}

async fn not_utf8() -> ([(header::HeaderName, &'static str); 1], &'static [u8]) {
    ([(header::CONTENT_TYPE, "text/plain")], NOT_UTF8_BODY)
}

async fn fail() -> (StatusCode, &'static str) {
    (StatusCode::INTERNAL_SERVER_ERROR, "failing on purpose\n")
}

async fn page(Path(n): Path<usize>) -> Result<String, StatusCode> {
    if n >= PAGES {
        return Err(StatusCode::NOT_FOUND);
    }
    tokio::time::sleep(delay(n)).await;
    Ok(page_body(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{self, Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    /// A plain HTTP/1.1 GET: the whole response, head and body.
    fn get(addr: &str, path: &str) -> io::Result<String> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response)
    }

    #[test]
    fn serves_pages_after_their_delay_and_fails_on_purpose() {
        let server = Server::start().unwrap();
        let addr = server.base_url().trim_start_matches("http://").to_string();
        let started = Instant::now();
        let response = get(&addr, "/page/2").unwrap();
        assert!(started.elapsed() >= delay(2), "{:?}", started.elapsed());
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        assert!(response.ends_with(&page_body(2)), "{response}");
        let response = get(&addr, "/fail").unwrap();
        assert!(response.starts_with("HTTP/1.1 500"), "{response}");
        let response = get(&addr, "/page/3").unwrap();
        assert!(response.starts_with("HTTP/1.1 404"), "{response}");
    }

    #[test]
    fn not_utf8_serves_its_bytes_as_they_are() {
        let server = Server::start().unwrap();
        let addr = server.base_url().trim_start_matches("http://").to_string();
        let mut stream = TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET /not-utf8 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        assert!(response.starts_with(b"HTTP/1.1 200 OK"), "{response:?}");
        assert!(response.ends_with(NOT_UTF8_BODY), "{response:?}");
    }

    #[test]
    fn the_refused_url_refuses_and_a_stopped_server_is_gone() {
        let server = Server::start().unwrap();
        let refused = server.refused_url();
        let refused = refused.trim_start_matches("http://").trim_end_matches('/');
        let err = TcpStream::connect(refused).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        let addr = server.base_url().trim_start_matches("http://").to_string();
        drop(server);
        let err = TcpStream::connect(&addr).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }

    #[test]
    fn bodies_do_not_depend_on_the_port() {
        assert_eq!(page_body(0), "<p>page 0, sent after 1500 ms</p>\n");
    }
}
