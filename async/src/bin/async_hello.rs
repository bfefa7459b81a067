//! 使用async和await定义异步函数 (async functions with async and await): an async function
//! sleeps a second without blocking, then prints `Hello`.
//!
//! Python `async def`, `await asyncio.sleep(1)`, `asyncio.run(main())` → Rust `async fn`,
//! `tokio::time::sleep(..).await`, `#[tokio::main]`. The book's page says what differs
//! (book/en/src/asyncio/hello.md).
//!
//! Run: `cargo run -p async --bin async_hello`
//!
//! Prints, after about a second:
//!
//! ```text
//! Hello
//! ```

use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    say_hello().await;
}

async fn say_hello() {
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!("Hello");
}
