//! 异步I/O操作 (async I/O): fetch several URLs at once and print each body, in the order
//! the URLs were given, like `asyncio.gather`.
//!
//! Python's `aiohttp.ClientSession().get(url)` and `response.text()` become reqwest's
//! `Client::get(url).send()` and `Response::text()`; `create_task` + `gather` become a
//! `tokio::spawn` per URL and awaiting the `JoinHandle`s in URL order. The Python opens a
//! new session, so a new connection pool, for every URL; here one `Client` (a cheap `Arc`
//! to clone) serves every task, so connections are pooled and reused and TLS is set up once.
//! It has a connect timeout and an overall timeout, so a dead host cannot hang the run.
//! In the Python one failing URL raises out of `gather` and the other bodies are lost; here
//! each failure is reported on stderr with its URL and cause, the other bodies still print,
//! and the exit status is 1. The runtime is `current_thread`, one thread like asyncio's loop:
//! the requests wait on sockets concurrently, which needs no more threads.
//!
//! Run: `cargo run -p async --bin async_fetch [URL...]`
//! (with no URL it fetches http://example.com, http://example.org and http://example.net;
//! https works too: TLS is rustls with the ring crypto provider and the system's root
//! certificates).
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

use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::{Client, Url};

const DEFAULT_URLS: [&str; 3] = [
    "http://example.com",
    "http://example.org",
    "http://example.net",
];

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    shared::closed_stdout::end_quietly();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let urls = parse_urls(&args)?;
    // reqwest is built with rustls but no default crypto provider: ring is the one used.
    // An error here only means a provider is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
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
        match task.await.expect("a fetch task panicked") {
            Ok(body) => {
                print!("{body}");
                if !body.ends_with('\n') {
                    println!();
                }
            }
            Err(err) => {
                failed += 1;
                eprintln!("failed: {url}: {err:#}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} URLs could not be fetched", urls.len());
    }
    Ok(())
}

async fn fetch(client: Client, url: Url) -> anyhow::Result<String> {
    // The URL is printed with the error already, so reqwest's errors drop their copy.
    let response = client
        .get(url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(reqwest::Error::without_url)?;
    let body = response.text().await.map_err(reqwest::Error::without_url)?;
    Ok(body)
}

/// The URLs to fetch: the arguments, or with none the tutorial's three.
fn parse_urls(args: &[String]) -> anyhow::Result<Vec<Url>> {
    let urls: Vec<&str> = if args.is_empty() {
        DEFAULT_URLS.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };
    urls.into_iter()
        .map(|arg| {
            let url = Url::parse(arg).with_context(|| {
                format!("`{arg}` is not a URL (usage: async_fetch [http(s)://URL...])")
            })?;
            if !matches!(url.scheme(), "http" | "https") {
                bail!(
                    "`{arg}` is not an http or https URL (usage: async_fetch [http(s)://URL...])"
                );
            }
            Ok(url)
        })
        .collect()
}
