//! 异步I/O操作 (async I/O): fetch several URLs at once and print each body, in the order
//! the URLs were given, like `asyncio.gather`.
//!
//! Python's `session.get(url)` and `response.text()` become reqwest's
//! `Client::get(url).send()` and `Response::bytes()`; `create_task` + `gather` become a
//! `tokio::spawn` per URL and awaiting the `JoinHandle`s in URL order. Each body is
//! printed as the bytes that came: aiohttp's `text()` decodes them (by the page's charset,
//! else as UTF-8) and raises `UnicodeDecodeError` on bytes it cannot decode, and reqwest's
//! `text()` would silently put U+FFFD in their place; printing the bytes alters nothing.
//! The Python opens a new session, so a new connection pool, for every URL; here one
//! `Client` (cloning it is cheap: it is an `Arc` inside) serves every task, so connections
//! are reused, and its connect and overall timeouts keep a dead host from hanging the run.
//! In the Python one failing URL raises out of `gather` and no body is printed; here each
//! failure is reported on stderr with its URL and cause, the other bodies still print, and
//! the exit status is 1. An HTTP error status (404, 500) counts as a failure here, where
//! aiohttp returns the error page's text. The runtime is `current_thread`, one thread like
//! asyncio's loop: the requests wait on sockets concurrently, which needs no more threads.
//!
//! Run: `cargo run -p async --bin async_fetch [URL...]`
//! (with no URL it fetches http://example.com, http://example.org and http://example.net).
//! Like the tutorial's URLs, it speaks plain HTTP: reqwest is built without a TLS library,
//! and an `https://` URL is refused with a message saying so (README, "Dependencies", says
//! which reqwest feature adds https).
//!
//! Given the pages of the local test server `cargo xtask verify` runs, which answer after
//! 1.5 s, 1 s and 0.5 s, it prints the three bodies in URL order, 1.5 s after it starts:
//!
//! ```text
//! <p>page 0, sent after 1500 ms</p>
//! <p>page 1, sent after 1000 ms</p>
//! <p>page 2, sent after 500 ms</p>
//! ```
//!
//! A URL that fails gets a line on stderr with the whole chain of causes, for example
//! `failed: http://127.0.0.1:9/: error sending request: client error (Connect): tcp connect
//! error: Connection refused (os error 111)`, and a last line
//! `Error: 1 of 3 URLs could not be fetched`.

use std::io::{self, Write};
use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::{Client, Url};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    shared::closed_stdout::end_quietly();
    let urls = urls_from_args()?;
    let client = http_client()?;
    let tasks: Vec<_> = urls
        .iter()
        .map(|url| tokio::spawn(fetch(client.clone(), url.clone())))
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("a fetch task panicked"));
    }
    print_results(&urls, results)
}

async fn fetch(client: Client, url: Url) -> reqwest::Result<Vec<u8>> {
    let response = client.get(url).send().await?.error_for_status()?;
    Ok(response.bytes().await?.to_vec())
}

/// Writes each body to stdout unchanged and each failure to stderr with its URL; an error
/// if any URL failed.
fn print_results(urls: &[Url], results: Vec<reqwest::Result<Vec<u8>>>) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    let mut failed = 0;
    for (url, result) in urls.iter().zip(results) {
        match result {
            Ok(body) => {
                stdout.write_all(&body).context("writing to stdout")?;
                // Python's `print` ends each body with a line end; this adds one only if
                // the body has none, so a page's last line is not followed by a blank one.
                if !body.ends_with(b"\n") {
                    stdout.write_all(b"\n").context("writing to stdout")?;
                }
            }
            Err(err) => {
                failed += 1;
                // The line starts with the URL, so reqwest's error drops its own copy.
                let err = anyhow::Error::from(err.without_url());
                eprintln!("failed: {url}: {err:#}");
            }
        }
    }
    stdout.flush().context("writing to stdout")?;
    if failed > 0 {
        bail!("{failed} of {} URLs could not be fetched", urls.len());
    }
    Ok(())
}

/// The URLs to fetch: the arguments, or with none the tutorial's three.
fn urls_from_args() -> anyhow::Result<Vec<Url>> {
    const USAGE: &str = "usage: async_fetch [http://URL...]";
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = if args.is_empty() {
        [
            "http://example.com",
            "http://example.org",
            "http://example.net",
        ]
        .map(String::from)
        .to_vec()
    } else {
        args
    };
    let mut urls = Vec::new();
    for arg in args {
        let url = Url::parse(&arg).with_context(|| format!("`{arg}` is not a URL ({USAGE})"))?;
        match url.scheme() {
            "http" => {}
            "https" => bail!(
                "`{arg}`: https is not built in; this client speaks plain HTTP, like the \
                 tutorial's URLs (add reqwest's `rustls` feature for https)"
            ),
            _ => bail!("`{arg}` is not an http URL ({USAGE})"),
        }
        urls.push(url);
    }
    Ok(urls)
}

/// One client for every request, with timeouts so that a dead host cannot hang the run.
fn http_client() -> anyhow::Result<Client> {
    Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .build()
        .context("setting up the HTTP client")
}
