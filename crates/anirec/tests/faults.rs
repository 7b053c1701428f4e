//! Faults the accounts database meets while fans write, against a real `anirec serve`: on SQLite
//! a commit that fails (the files made immutable), a disk that fills (a small tmpfs), the
//! database's folder moved away and back; on PostgreSQL its backends terminated. Four writers keep
//! saving list entries through each fault and after it. Then every write that got a 2xx is in
//! the database, as a separate reader sees it right after the fault and as a restarted server
//! sees it; every other write got a 503 that says why; `/readyz` fails during the fault and
//! recovers after it by itself. A folder deleted for good takes no write at all.
//!
//! The SQLite faults need root (`chattr +i`, `mount -t tmpfs`): these tests fail, never skip,
//! without it, as CI runs them.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anirec_store::scratch::Scratch;
use common::server::{Server, request_to};
use sqlx::Connection;

/// The fixture's anime: one writer each.
const ANIME: [u32; 4] = [10, 20, 30, 40];

/// One write's answer: the anime, the episodes it set, the status (`None`: no answer).
#[derive(Debug, Clone)]
struct Answer {
    anime: u32,
    episodes: u32,
    status: Option<u16>,
    body: String,
}

/// Four writers, one per anime, each setting its anime's episodes to 1, 2, 3, ... in turn.
struct Writers {
    answers: Arc<Mutex<Vec<Answer>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Writers {
    /// Starts writing through `server` as the holder of `token`, from episode `from` on.
    fn start(server: &Server, token: &str, from: u32) -> Writers {
        let answers = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = ANIME
            .iter()
            .map(|&anime| {
                let (addr, token) = (server.addr.clone(), token.to_owned());
                let (answers, stop) = (answers.clone(), stop.clone());
                std::thread::spawn(move || {
                    // Bounded: a writer stops by itself after this many writes.
                    for episodes in from..from + 20_000 {
                        if stop.load(Ordering::SeqCst) {
                            return;
                        }
                        let body = format!(
                            r#"{{"score": 8, "status": "watching", "episodes": {episodes}}}"#
                        );
                        let answer = request_to(
                            &addr,
                            Some(&token),
                            "PUT",
                            &format!("/api/v1/me/list/{anime}"),
                            &body,
                        );
                        answers.lock().unwrap().push(Answer {
                            anime,
                            episodes,
                            status: answer.as_ref().map(|a| a.0),
                            body: answer.map(|a| a.1).unwrap_or_default(),
                        });
                        std::thread::sleep(Duration::from_millis(2));
                    }
                })
            })
            .collect();
        Writers {
            answers,
            stop,
            threads,
        }
    }

    /// Answers so far that match `keep`.
    fn count(&self, keep: impl Fn(&Answer) -> bool) -> usize {
        self.answers
            .lock()
            .unwrap()
            .iter()
            .filter(|a| keep(a))
            .count()
    }

    /// Waits (at most `within`) until `enough` answers match `keep`; false if they never did.
    fn wait_for(&self, enough: usize, within: Duration, keep: impl Fn(&Answer) -> bool) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.count(&keep) >= enough {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Stops the writers and returns every answer.
    fn stop(self) -> Vec<Answer> {
        self.stop.store(true, Ordering::SeqCst);
        for thread in self.threads {
            thread.join().unwrap();
        }
        Arc::try_unwrap(self.answers).unwrap().into_inner().unwrap()
    }
}

fn acknowledged(a: &Answer) -> bool {
    a.status.is_some_and(|s| (200..300).contains(&s))
}

/// Every answer was a 2xx, or a 503 problem that says why.
fn check_refusals(answers: &[Answer]) {
    for a in answers.iter().filter(|a| !acknowledged(a)) {
        assert_eq!(
            a.status,
            Some(503),
            "a write of anime {} was answered {:?}: {}",
            a.anime,
            a.status,
            a.body
        );
        let problem: serde_json::Value = serde_json::from_str(&a.body).unwrap();
        let detail = problem["detail"].as_str().unwrap_or("");
        assert!(
            detail.contains("accounts database"),
            "a refusal that does not say why: {}",
            a.body
        );
    }
}

/// Each anime's last acknowledged episodes, and the highest sent.
fn last_acknowledged(answers: &[Answer]) -> (HashMap<u32, u32>, HashMap<u32, u32>) {
    let mut acked = HashMap::new();
    let mut sent = HashMap::new();
    for a in answers {
        let top = sent.entry(a.anime).or_insert(0);
        *top = a.episodes.max(*top);
        if acknowledged(a) {
            let last = acked.entry(a.anime).or_insert(0);
            *last = a.episodes.max(*last);
        }
    }
    (acked, sent)
}

/// Asserts that `stored` holds every acknowledged write: each anime's episodes are its last
/// acknowledged ones or a later write's that was refused (and may have been made all the same).
fn assert_kept(stored: &HashMap<u32, u32>, answers: &[Answer], seen_by: &str) {
    let (acked, sent) = last_acknowledged(answers);
    for (anime, &ack) in &acked {
        let got = stored.get(anime).copied().unwrap_or(0);
        assert!(
            got >= ack && got <= sent[anime],
            "{seen_by}: anime {anime} holds {got} episodes; {ack} was acknowledged, {} the last sent",
            sent[anime]
        );
    }
}

/// The list as a separate SQLite connection reads it from the file.
fn read_sqlite(path: &Path, account: &str) -> HashMap<u32, u32> {
    let url = format!("sqlite://{}?mode=ro", path.display());
    runtime().block_on(async {
        let mut conn = sqlx::SqliteConnection::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("a reader of {url}: {e}"));
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT l.anime_id, l.episodes FROM list_entries l \
             JOIN accounts a ON a.id = l.account_id WHERE a.username = ?",
        )
        .bind(account)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        rows.into_iter()
            .map(|(a, e)| (a as u32, e as u32))
            .collect()
    })
}

/// The list as a server reads it.
fn read_served(server: &Server, token: &str) -> HashMap<u32, u32> {
    let (status, body) = server.request_as(Some(token), "GET", "/api/v1/me/list", "");
    assert_eq!(status, 200, "{body}");
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["anime_id"].as_u64().unwrap() as u32,
                i["episodes"].as_u64().unwrap() as u32,
            )
        })
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A server on the four-anime fixture (without episode counts: the writers write growing
/// numbers of episodes) with accounts at `db`, its model cached in `cache`.
fn start(db: &str, cache: &Path) -> Server {
    let data = common::without_episode_counts(cache);
    let server = Server::start(&[
        "--data",
        data.to_str().unwrap(),
        "--cache",
        cache.to_str().unwrap(),
        "--db",
        db,
        "--no-encoder",
    ]);
    server.wait_for("ready in");
    server
}

/// `/readyz`'s status, polled (at most `within`) until it is `want`; the last one seen.
fn readiness(server: &Server, want: u16, within: Duration) -> (u16, String) {
    let deadline = Instant::now() + within;
    loop {
        let (status, body) = server.request("GET", "/readyz", "");
        if status == want || Instant::now() >= deadline {
            return (status, body);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Stops a server with SIGTERM and waits for it to exit.
fn stop(mut server: Server) {
    server.signal("TERM");
    let status = server.child.wait().unwrap();
    assert!(status.success(), "the server exited with {status}");
}

/// Runs one SQLite fault: writes before it, `inject` it, writes through it (some must be
/// refused), `clear` it, checks the file with a separate reader, writes after it until the
/// server took one write of every anime, then checks the file again and a restarted server.
fn sqlite_fault(db_path: &Path, cache: &Path, inject: impl Fn(), clear: impl Fn()) {
    let db = format!("sqlite://{}", db_path.display());
    let server = start(&db, cache);
    let token = server.sign_up("faulted");
    let (status, body) = readiness(&server, 200, Duration::from_secs(10));
    assert_eq!(status, 200, "ready before the fault: {body}");

    let writers = Writers::start(&server, &token, 1);
    assert!(
        writers.wait_for(40, Duration::from_secs(30), acknowledged),
        "writes before the fault were not acknowledged"
    );
    inject();
    let refused_before = writers.count(|a| !acknowledged(a));
    let refused = writers.wait_for(refused_before + 20, Duration::from_secs(30), |a| {
        !acknowledged(a)
    });
    let (ready_status, ready_body) = readiness(&server, 503, Duration::from_secs(10));
    let during = writers.stop();
    clear();
    assert!(refused, "the fault refused no write");
    assert_eq!(ready_status, 503, "ready during the fault: {ready_body}");
    assert!(
        ready_body.contains("cannot take writes"),
        "readiness does not say why: {ready_body}"
    );
    check_refusals(&during);
    assert_kept(
        &read_sqlite(db_path, "faulted"),
        &during,
        "a separate reader after the fault",
    );

    // The server recovers by itself: writes are acknowledged again, and it is ready.
    let next = during.iter().map(|a| a.episodes).max().unwrap() + 1;
    let writers = Writers::start(&server, &token, next);
    let recovered = writers.wait_for(40, Duration::from_secs(30), |a| {
        acknowledged(a) && a.episodes >= next
    });
    let (ready_status, ready_body) = readiness(&server, 200, Duration::from_secs(10));
    let mut answers = during;
    answers.extend(writers.stop());
    assert!(
        recovered,
        "no write was acknowledged after the fault cleared"
    );
    assert_eq!(ready_status, 200, "not ready after the fault: {ready_body}");
    check_refusals(&answers);
    let (acked, _) = last_acknowledged(&answers);
    for anime in ANIME {
        assert!(
            acked.contains_key(&anime),
            "no write of {anime} was acknowledged"
        );
    }
    assert_kept(
        &read_sqlite(db_path, "faulted"),
        &answers,
        "a separate reader at the end",
    );
    stop(server);
    let restarted = start(&db, cache);
    assert_kept(
        &read_served(&restarted, &token),
        &answers,
        "the restarted server",
    );
}

/// Runs a command that must succeed (as root), naming it when it does not.
fn must(program: &str, args: &[&str]) {
    let status = Command::new(program).args(args).status();
    assert!(
        status.as_ref().is_ok_and(|s| s.success()),
        "`{program} {}` failed ({status:?}): these fault tests need root",
        args.join(" ")
    );
}

/// The database file and its write-ahead log.
fn db_files(db: &Path) -> [PathBuf; 2] {
    [
        db.to_owned(),
        PathBuf::from(format!("{}-wal", db.display())),
    ]
}

#[test]
fn sqlite_commits_that_fail_acknowledge_nothing_lost() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("accounts.db");
    let files = db_files(&db);
    let set = |flag: &str| {
        for f in &files {
            must("chattr", &[flag, f.to_str().unwrap()]);
        }
    };
    sqlite_fault(&db, dir.path(), || set("+i"), || set("-i"));
}

/// A small tmpfs, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        must(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={megabytes}m"),
                "tmpfs",
                dir.path().to_str().unwrap(),
            ],
        );
        SmallDisk { dir }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Fills the disk of `dir` with a file of its own.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut filler = std::fs::File::create(dir.join("filler")).unwrap();
    let block = vec![7u8; 64 << 10];
    while filler.write_all(&block).is_ok() {}
    let _ = filler.sync_all();
}

#[test]
fn sqlite_on_a_full_disk_acknowledges_nothing_lost() {
    let disk = SmallDisk::mount(16);
    let cache = tempfile::tempdir().unwrap();
    let db = disk.dir.path().join("accounts.db");
    let dir = disk.dir.path().to_owned();
    sqlite_fault(
        &db,
        cache.path(),
        || fill(&dir),
        || std::fs::remove_file(dir.join("filler")).unwrap(),
    );
}

#[test]
fn sqlite_with_its_folder_moved_away_acknowledges_nothing_lost() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("accounts");
    std::fs::create_dir(&folder).unwrap();
    let away = dir.path().join("accounts.moved");
    let db = folder.join("accounts.db");
    sqlite_fault(
        &db,
        dir.path(),
        || std::fs::rename(&folder, &away).unwrap(),
        || std::fs::rename(&away, &folder).unwrap(),
    );
}

#[test]
fn sqlite_with_its_folder_deleted_acknowledges_no_write() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("accounts");
    std::fs::create_dir(&folder).unwrap();
    let db = format!("sqlite://{}", folder.join("accounts.db").display());
    let server = start(&db, dir.path());
    let token = server.sign_up("orphaned");
    let writers = Writers::start(&server, &token, 1);
    assert!(
        writers.wait_for(40, Duration::from_secs(30), acknowledged),
        "writes before the fault were not acknowledged"
    );
    let before = writers.stop();
    std::fs::remove_dir_all(&folder).unwrap();
    // The open file is still writable, but gone: a write into it would be lost at the next
    // start, so none is acknowledged.
    let next = before.iter().map(|a| a.episodes).max().unwrap() + 1;
    let writers = Writers::start(&server, &token, next);
    writers.wait_for(40, Duration::from_secs(30), |_| true);
    let (status, body) = readiness(&server, 503, Duration::from_secs(10));
    let after = writers.stop();
    assert!(after.len() >= 40, "{} writes answered", after.len());
    assert!(
        !after.iter().any(acknowledged),
        "a write into the deleted database was acknowledged"
    );
    check_refusals(&after);
    assert_eq!(status, 503, "ready without its database: {body}");
}

#[test]
fn postgres_backends_terminated_under_writes_lose_nothing_acknowledged() {
    let rt = runtime();
    let scratch = rt.block_on(Scratch::postgres());
    // The server's connections carry a name of their own, so that only they are terminated.
    let name = format!("anirec_faults_{}", std::process::id());
    let db = format!("{}&application_name={name}", scratch.url);
    let cache = tempfile::tempdir().unwrap();
    let server = start(&db, cache.path());
    let token = server.sign_up("faulted");
    let writers = Writers::start(&server, &token, 1);
    assert!(
        writers.wait_for(40, Duration::from_secs(30), acknowledged),
        "writes before the fault were not acknowledged"
    );
    let admin_url = anirec_store::scratch::postgres_url();
    let terminated: u64 = rt.block_on(async {
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        let mut terminated = 0;
        for _ in 0..10 {
            let killed: Vec<(bool,)> = sqlx::query_as(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE application_name = $1",
            )
            .bind(&name)
            .fetch_all(&mut admin)
            .await
            .unwrap();
            terminated += killed.iter().filter(|k| k.0).count() as u64;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        terminated
    });
    assert!(terminated > 0, "no backend of the server was terminated");
    let after = writers.count(|_| true);
    assert!(
        writers.wait_for(after + 40, Duration::from_secs(30), acknowledged),
        "writes were not acknowledged after the backends came back"
    );
    let answers = writers.stop();
    check_refusals(&answers);
    let (acked, _) = last_acknowledged(&answers);
    assert_eq!(acked.len(), ANIME.len(), "{acked:?}");
    let (status, body) = readiness(&server, 200, Duration::from_secs(10));
    assert_eq!(status, 200, "{body}");
    stop(server);
    // A separate connection, then a restarted server, hold every acknowledged write.
    let stored: HashMap<u32, u32> = rt.block_on(async {
        let mut conn = sqlx::PgConnection::connect(&scratch.url).await.unwrap();
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT l.anime_id, l.episodes FROM list_entries l \
             JOIN accounts a ON a.id = l.account_id WHERE a.username = $1",
        )
        .bind("faulted")
        .fetch_all(&mut conn)
        .await
        .unwrap();
        rows.into_iter()
            .map(|(a, e)| (a as u32, e as u32))
            .collect()
    });
    assert_kept(&stored, &answers, "a separate connection");
    let restarted = start(&db, cache.path());
    assert_kept(
        &read_served(&restarted, &token),
        &answers,
        "the restarted server",
    );
    drop(restarted);
    rt.block_on(scratch.remove());
}
