//! Hostile uploads cannot stall the service: while several multi-megabyte MyAnimeList exports
//! are read and folded in, `/healthz` keeps answering within 100 ms (a liveness probe's budget),
//! and the server answers normal requests afterwards. Runs the real server over loopback TCP on a
//! two-thread runtime, like `anirec serve` on two cores; alone in its test binary so no other test
//! competes for the cores.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anirec_server::Config;
use common::*;

/// Hostile uploads in flight at once.
const UPLOADS: usize = 8;
/// The most a health check may take.
const HEALTH_BUDGET: Duration = Duration::from_millis(100);

/// An export of the most entries the reader takes, the many small entries that cost a reader
/// the most per byte: about 4 MB.
fn heavy_export() -> Vec<u8> {
    let title = "Densetsu no Yuusha no Densetsu ".repeat(2);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<myanimelist>\n");
    for i in 0..anirec_data::formats::malxml::MAX_ENTRIES {
        xml.push_str(&format!(
            "\t<anime>\n\t\t<series_animedb_id>{}</series_animedb_id>\n\t\t<series_title><![CDATA[{title}]]></series_title>\n\t\t<my_score>{}</my_score>\n\t\t<my_status>Completed</my_status>\n\t</anime>\n",
            mal_id((i % 36) as u32),
            1 + i % 10
        ));
    }
    xml.push_str("</myanimelist>\n");
    xml.into_bytes()
}

/// One HTTP/1.1 request over a fresh connection: the status and the body.
fn request(addr: SocketAddr, method: &str, path: &str, kind: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("an answer");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text.split_once("\r\n\r\n").map_or("", |p| p.1).to_owned();
    (status, body)
}

#[test]
fn hostile_uploads_never_stall_health_checks() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app_state = state(Config {
        compute_threads: 2,
        response_cache: 0,
        ..Config::default()
    });
    runtime.spawn(anirec_server::serve(
        listener,
        app_state,
        std::future::pending(),
    ));

    let export = Arc::new(heavy_export());
    assert!(export.len() > 3 << 20, "{} bytes", export.len());
    let done = Arc::new(AtomicUsize::new(0));
    let uploads: Vec<_> = (0..UPLOADS)
        .map(|_| {
            let (export, done) = (export.clone(), done.clone());
            std::thread::spawn(move || {
                let answer = request(
                    addr,
                    "POST",
                    "/api/v1/recommendations",
                    "application/xml",
                    &export,
                );
                done.fetch_add(1, Ordering::SeqCst);
                answer
            })
        })
        .collect();

    let mut polls = Vec::new();
    while done.load(Ordering::SeqCst) < UPLOADS {
        let started = Instant::now();
        let (status, _) = request(addr, "GET", "/healthz", "text/plain", b"");
        polls.push((status, started.elapsed()));
        std::thread::sleep(Duration::from_millis(10));
    }
    for upload in uploads {
        let (status, body) = upload.join().unwrap();
        assert_eq!(status, 200, "{body}");
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["subject"]["used"], 20_000, "{}", answer["subject"]);
    }
    assert!(polls.len() >= 3, "only {} health checks ran", polls.len());
    let slowest = polls.iter().map(|p| p.1).max().unwrap();
    assert!(
        polls.iter().all(|p| p.0 == 200),
        "a health check failed: {polls:?}"
    );
    assert!(
        slowest <= HEALTH_BUDGET,
        "the slowest of {} health checks took {slowest:?}",
        polls.len()
    );
    eprintln!("{} health checks, the slowest {slowest:?}", polls.len());
    // Normal requests are served afterwards.
    let (status, body) = request(
        addr,
        "GET",
        "/api/v1/users/4/recommendations",
        "text/plain",
        b"",
    );
    assert_eq!(status, 200, "{body}");
}
