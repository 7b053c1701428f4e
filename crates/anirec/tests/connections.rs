//! Connections held against a real `anirec serve`: idle sockets and half-sent headers are
//! closed after the header timeout, connections past the cap are answered 503 at once (so
//! `/healthz` never waits behind idle sockets), and a shutdown closes what is still open after
//! its grace; a database that cannot be reached stops the start at once, its password unsaid.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::server::Server;
use common::{anirec, mini};

/// A server on the four-anime fixture with `extra` arguments.
fn start(cache: &std::path::Path, extra: &[&str]) -> Server {
    let data = mini();
    let mut args = vec![
        "--data",
        data.to_str().unwrap(),
        "--cache",
        cache.to_str().unwrap(),
        "--no-encoder",
    ];
    args.extend_from_slice(extra);
    let server = Server::start(&args);
    server.wait_for("ready in");
    server
}

/// Whether the server closes `stream` (end of file or a reset) before `within` passes, reading
/// and dropping whatever it sends first.
fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
}

#[test]
fn idle_and_slow_connections_are_closed_and_the_cap_answers_503() {
    let cache = tempfile::tempdir().unwrap();
    let server = start(
        cache.path(),
        &["--header-timeout-seconds", "1", "--max-connections", "8"],
    );
    // Seven idle sockets and one that sends half its headers fill the cap.
    let mut held: Vec<TcpStream> = (0..7)
        .map(|_| TcpStream::connect(&server.addr).unwrap())
        .collect();
    let mut slow = TcpStream::connect(&server.addr).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        .unwrap();
    // Give the server a moment to accept all eight before the ninth arrives.
    std::thread::sleep(Duration::from_millis(300));
    let (status, body) = server.request("GET", "/healthz", "");
    assert_eq!(status, 503, "{body}");
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("as many connections"),
        "{body}"
    );
    // The header timeout closes every one of them, and the server answers again.
    assert!(
        closed_by_server(&mut slow, Duration::from_secs(30)),
        "half-sent headers kept their connection open"
    );
    for stream in &mut held {
        assert!(
            closed_by_server(stream, Duration::from_secs(30)),
            "an idle connection was kept open"
        );
    }
    let (status, body) = server.request("GET", "/healthz", "");
    assert_eq!(status, 200, "{body}");

    // A keep-alive connection left idle after an answer is closed too.
    let mut kept = TcpStream::connect(&server.addr).unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 12];
    kept.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    assert!(
        closed_by_server(&mut kept, Duration::from_secs(30)),
        "an idle keep-alive connection was kept open"
    );
}

#[test]
fn shutdown_closes_connections_still_open_after_its_grace() {
    let cache = tempfile::tempdir().unwrap();
    // Headers may take ten minutes here: only the shutdown's grace can end this connection.
    let mut server = start(
        cache.path(),
        &[
            "--header-timeout-seconds",
            "600",
            "--shutdown-grace-seconds",
            "1",
        ],
    );
    let mut half = TcpStream::connect(&server.addr).unwrap();
    half.write_all(b"POST /api/v1/recommendations HTTP/1.1\r\nHost: test\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    server.signal("TERM");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server was still running a minute after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
    server.wait_for("stopped");
    assert!(closed_by_server(&mut half, Duration::from_secs(5)));
}

#[test]
fn an_unreachable_database_stops_the_start_and_keeps_its_password() {
    let cache = tempfile::tempdir().unwrap();
    let data = mini();
    // Port 1 on loopback: nothing listens there.
    let out = anirec(&[
        "serve",
        "--data",
        data.to_str().unwrap(),
        "--cache",
        cache.path().to_str().unwrap(),
        "--addr",
        "127.0.0.1:0",
        "--db",
        "postgres://fan@127.0.0.1:1/anirec?password=hunter2secret",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "opening the accounts database postgres://fan@127.0.0.1:1/anirec?password=***"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2secret"), "{stderr}");
    assert!(!stderr.contains("listening on"), "{stderr}");
}
