//! The process queue's same-model peer for `cargo xtask bench`: an ipc-channel channel
//! between two processes, `bench_ipc_channel ipc_channel <n>`.
//!
//! The parent opens an `IpcOneShotServer` and starts this binary again as the child,
//! with the server's name (the way ipc-channel connects two processes it did not fork
//! itself). The child connects an `IpcSender<u64>` to it and `send`s 0..n, one message
//! per item, then drops the sender; the parent `recv`s until the channel is disconnected
//! and prints the sum.

use std::process::Command;

use anyhow::{Context, anyhow, bail};
use bench::{unknown, workload_args};
use ipc_channel::IpcError;
use ipc_channel::ipc::{IpcOneShotServer, IpcSender};

/// The child's first argument; then the server's name and n.
const CHILD: &str = "--child";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(CHILD) {
        let [_, server, n] = args.as_slice() else {
            bail!("usage: bench_ipc_channel {CHILD} <server name> <n>");
        };
        let n = n
            .parse()
            .with_context(|| format!("n must be a number, got `{n}`"))?;
        return child(server, n);
    }
    let (name, n) = workload_args()?;
    if name != "ipc_channel" {
        return Err(unknown(&name, &["ipc_channel"]));
    }
    println!("{}", ipc_channel(n)?);
    Ok(())
}

fn ipc_channel(n: u64) -> anyhow::Result<u64> {
    let (server, name) =
        IpcOneShotServer::<u64>::new().context("opening ipc-channel's one-shot server")?;
    let exe = std::env::current_exe().context("finding this binary to start the child")?;
    let mut child = Command::new(exe)
        .args([CHILD, &name, &n.to_string()])
        .spawn()
        .context("starting the child")?;
    let mut sum = 0;
    if n > 0 {
        // The child's first message comes with the connection.
        let (rx, first) = server
            .accept()
            .map_err(|e| anyhow!("accepting the child's connection: {e}"))?;
        sum += first;
        loop {
            match rx.recv() {
                Ok(item) => sum += item,
                Err(IpcError::Disconnected) => break,
                Err(e) => bail!("receiving from the child: {e}"),
            }
        }
    }
    let status = child.wait().context("waiting for the child")?;
    if !status.success() {
        bail!("the child failed: {status}");
    }
    Ok(sum)
}

fn child(server: &str, n: u64) -> anyhow::Result<()> {
    if n == 0 {
        return Ok(());
    }
    let tx = IpcSender::<u64>::connect(server.to_string())
        .context("connecting to the parent's server")?;
    for i in 0..n {
        tx.send(i).map_err(|e| anyhow!("sending item {i}: {e}"))?;
    }
    Ok(())
}
