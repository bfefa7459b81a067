// `.await` in a plain function, as `await` outside `async def` in Python. Refused: only an
// `async` function or block can pause there and be resumed.
use std::time::Duration;

fn main() {
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!("Hello");
}
