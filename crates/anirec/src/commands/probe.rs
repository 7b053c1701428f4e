//! `anirec probe URL`: one HTTP GET that succeeds on a 2xx answer — a health check for images
//! that carry no curl (the Dockerfile's HEALTHCHECK uses it against `/readyz`).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, bail};

/// Arguments of `anirec probe`.
#[derive(clap::Args)]
pub struct Args {
    /// `http://HOST:PORT/PATH` (plain HTTP only).
    pub url: String,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 2)]
    pub timeout: u64,
}

/// Runs `anirec probe`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let rest = args
        .url
        .strip_prefix("http://")
        .with_context(|| format!("{}: only http:// URLs are probed", args.url))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let timeout = Duration::from_secs(args.timeout.max(1));
    let addr = authority
        .to_socket_addrs()
        .with_context(|| format!("{authority}: not a host:port"))?
        .next()
        .with_context(|| format!("{authority}: no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("connecting to {authority}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream
        .read_exact(&mut head)
        .with_context(|| format!("reading the answer of {}", args.url))?;
    let status = std::str::from_utf8(&head[9..12]).unwrap_or("");
    if !status.starts_with('2') {
        bail!("{} answered {status}", args.url);
    }
    Ok(())
}
