//! `anirec serve` as a process: it trains and caches a model for `--data`, answers over real
//! HTTP with the same fold-in results as `anirec recommend`, passes `anirec probe`, reloads on
//! SIGHUP and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn mini() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../anirec-data/tests/fixtures/mal2020_mini")
}

/// A running server, its address, and its stderr lines as they come.
struct Server {
    child: Child,
    addr: String,
    lines: mpsc::Receiver<String>,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_anirec"))
            .arg("serve")
            .args(args)
            .args(["--addr", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start anirec serve");
        let (tx, lines) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut server = Server {
            child,
            addr: String::new(),
            lines,
        };
        let line = server.wait_for("listening on http://");
        server.addr = line.rsplit("http://").next().unwrap().trim().to_owned();
        server
    }

    /// Waits for a stderr line containing `text` (at most a minute), returning it.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(_) => panic!("the server never printed {text:?}"),
            }
        }
    }

    /// One HTTP/1.1 request; returns the status and the body.
    fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        let status = reply[9..12].parse().unwrap();
        let (head, rest) = reply.split_once("\r\n\r\n").unwrap();
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(rest)
        } else {
            rest.to_owned()
        };
        (status, body)
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&tail[..n]);
        rest = &tail[n + 2..];
    }
    out
}

#[test]
fn serve_trains_caches_answers_like_the_cli_reloads_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (data, cache_s) = (mini(), cache.to_str().unwrap().to_owned());
    let data_s = data.to_str().unwrap();

    // First start: trains on the data and caches the bundle.
    let server = Server::start(&["--data", data_s, "--cache", &cache_s]);
    server.wait_for("ready in");
    let (status, ready) = server.request("GET", "/readyz", "");
    assert_eq!(status, 200, "{ready}");
    // The container health check: `anirec probe` succeeds on 2xx only.
    let probe = |path: &str| {
        Command::new(env!("CARGO_BIN_EXE_anirec"))
            .args(["probe", &format!("http://{}{path}", server.addr)])
            .output()
            .unwrap()
    };
    assert!(probe("/readyz").status.success());
    let missing = probe("/api/v1/nothing");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("answered 404"));

    // The fold-in endpoint gives the CLI's list for the same ratings.
    let (status, body) = server.request(
        "POST",
        "/api/v1/recommendations?k=5&explain=true",
        r#"{"ratings": [{"anime_id": 10, "rating": 9}]}"#,
    );
    assert_eq!(status, 200, "{body}");
    let served: serde_json::Value = serde_json::from_str(&body).unwrap();
    let model = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("manifest.json").is_file())
        .expect("a cached bundle");
    let ratings = dir.path().join("mine.csv");
    std::fs::write(&ratings, "anime_id,rating\n10,9\n").unwrap();
    let cli = Command::new(env!("CARGO_BIN_EXE_anirec"))
        .args(["recommend", "--model", model.to_str().unwrap(), "--ratings"])
        .arg(&ratings)
        .args(["--k", "5", "--explain", "--json"])
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let cli: serde_json::Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert!(!cli.as_array().unwrap().is_empty());
    assert_eq!(served["items"], cli);

    // SIGHUP reloads; the server keeps answering; SIGTERM stops it cleanly.
    server.signal("HUP");
    server.wait_for("reloaded: model");
    assert_eq!(server.request("GET", "/api/v1/anime/10", "").0, 200);
    server.signal("TERM");
    server.wait_for("stopped");
    let mut server = server;
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status}");

    // Second start on the same data: the cached model is used, no training.
    let again = Server::start(&["--data", data_s, "--cache", &cache_s]);
    again.wait_for("using the model trained earlier");
    again.wait_for("ready in");
    assert_eq!(again.request("GET", "/healthz", "").0, 200);
}

#[test]
fn serve_refuses_a_missing_model() {
    let out = Command::new(env!("CARGO_BIN_EXE_anirec"))
        .args([
            "serve",
            "--model",
            "/nonexistent/bundle",
            "--addr",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/bundle"), "{err}");
}
