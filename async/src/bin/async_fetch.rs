//! 异步I/O操作 (async I/O): fetch several URLs at once and print each body, in the order
//! the URLs were given.
//!
//! Python `session.get(url)`, `response.text()`, `create_task` + `gather` → Rust reqwest's
//! `client.get(url).send()`, `bytes()`, a `tokio::spawn` per URL and its `JoinHandle`
//! awaited in URL order. A URL that fails is reported with its cause, and the others still
//! print. The book's page says what differs (book/en/src/asyncio/fetch.md).
//!
//! Run: `cargo run -p async --bin async_fetch [URL...]`
//! (with no URL it fetches http://example.com, http://example.org and http://example.net;
//! plain HTTP only, like the tutorial's URLs).
//!
//! Given the pages of the local test server `cargo xtask verify` runs, which answer after
//! 1.5 s, 1 s and 0.5 s, it prints the three bodies in URL order, 1.5 s after it starts:
//!
//! ```text
//! <p>page 0, sent after 1500 ms</p>
//! <p>page 1, sent after 1000 ms</p>
//! <p>page 2, sent after 500 ms</p>
//! ```

use std::io::{self, Write};
use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::{Client, Url};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let urls = urls()?;
    // One client for every request (its connections are reused), with timeouts so that a
    // dead host cannot hang the run.
    let client = Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .build()
        .context("setting up the HTTP client")?;
    let tasks: Vec<_> = urls
        .iter()
        .map(|url| tokio::spawn(fetch(client.clone(), url.clone())))
        .collect();
    let mut failed = 0;
    for (url, task) in urls.iter().zip(tasks) {
        match task.await? {
            Ok(body) => print_body(&body)?,
            Err(err) => {
                failed += 1;
                eprintln!(
                    "failed: {url}: {:#}",
                    anyhow::Error::from(err.without_url())
                );
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} URLs could not be fetched", urls.len());
    }
    Ok(())
}

async fn fetch(client: Client, url: Url) -> reqwest::Result<Vec<u8>> {
    let response = client.get(url).send().await?.error_for_status()?;
    Ok(response.bytes().await?.to_vec())
}

/// The body as the bytes that came, and a line end if it has none, as `print` adds one.
fn print_body(body: &[u8]) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(body)?;
    if !body.ends_with(b"\n") {
        stdout.write_all(b"\n")?;
    }
    stdout.flush()
}

/// The URLs to fetch: the arguments, or with none the tutorial's three.
fn urls() -> anyhow::Result<Vec<Url>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        args = [
            "http://example.com",
            "http://example.org",
            "http://example.net",
        ]
        .map(String::from)
        .to_vec();
    }
    let parse = |arg: &String| {
        Url::parse(arg)
            .with_context(|| format!("`{arg}` is not a URL (usage: async_fetch [http://URL...])"))
    };
    args.iter().map(parse).collect()
}
