//! `anirec probe [URL]`: one HTTP GET that succeeds on a 2xx answer — a health check for images
//! that carry no curl (the Dockerfile's HEALTHCHECK asks the server's own `/readyz`).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, bail};

/// Arguments of `anirec probe`.
#[derive(clap::Args)]
pub struct Args {
    /// `http://HOST:PORT/PATH` (plain HTTP only) [default: `/readyz` of the server at
    /// ANIREC_ADDR, as `serve` reads it, asked on loopback when it listens on every address]
    pub url: Option<String>,
    /// The server's address when no URL is given.
    #[arg(long, env = "ANIREC_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 2)]
    pub timeout: u64,
}

/// Runs `anirec probe`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let url = args
        .url
        .unwrap_or_else(|| format!("http://{}/readyz", on_loopback(args.addr)));
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("{url}: only http:// URLs are probed"))?;
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
        .with_context(|| format!("reading the answer of {url}"))?;
    let status = std::str::from_utf8(&head[9..12]).unwrap_or("");
    if !status.starts_with('2') {
        bail!("{url} answered {status}");
    }
    Ok(())
}

/// Where to reach a server listening on `addr`: on loopback when it listens on every address.
fn on_loopback(mut addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => addr.set_ip(Ipv4Addr::LOCALHOST.into()),
        IpAddr::V6(ip) if ip.is_unspecified() => addr.set_ip(Ipv6Addr::LOCALHOST.into()),
        _ => {}
    }
    addr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_on_every_address_is_asked_on_loopback() {
        let at = |s: &str| on_loopback(s.parse().unwrap()).to_string();
        assert_eq!(at("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(at("[::]:9000"), "[::1]:9000");
        assert_eq!(at("10.1.2.3:8080"), "10.1.2.3:8080");
    }
}
