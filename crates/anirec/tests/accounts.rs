//! Accounts with real `anirec serve` processes: two servers on one PostgreSQL share accounts
//! (a rating saved through one is in the other's next answer), and on SQLite every write that
//! was acknowledged survives a `kill -9`.

mod common;

use anirec_data::Score;
use std::collections::HashMap;

use anirec_store::scratch::Scratch;
use common::mini;
use common::server::Server;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A server on the four-anime fixture with accounts at `db`, its model cached in `cache`.
fn start(db: &str, cache: &std::path::Path) -> Server {
    start_on(&mini(), db, cache)
}

/// [`start`] on the data folder `data`.
fn start_on(data: &std::path::Path, db: &str, cache: &std::path::Path) -> Server {
    let server = Server::start(&[
        "--data",
        data.to_str().unwrap(),
        "--cache",
        cache.to_str().unwrap(),
        "--db",
        db,
    ]);
    server.wait_for("ready in");
    server
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn two_servers_on_one_postgres_share_accounts() {
    let rt = runtime();
    let db = rt.block_on(Scratch::postgres());
    let cache = tempfile::tempdir().unwrap();
    let a = start(&db.url, cache.path());
    let b = start(&db.url, cache.path());
    let t = a.sign_up("shared_fan");
    let me = |server: &Server| json(&server.request_as(Some(&t), "GET", "/api/v1/me", "").1);
    assert_eq!(me(&b)["username"], "shared_fan");

    let before = json(
        &b.request_as(Some(&t), "GET", "/api/v1/me/recommendations?k=4", "")
            .1,
    );
    let first = before["items"][0]["anime_id"].as_u64().unwrap();
    let (status, body) = a.request_as(
        Some(&t),
        "PUT",
        &format!("/api/v1/me/list/{first}"),
        r#"{"score": 9, "status": "completed", "episodes": 1}"#,
    );
    assert_eq!(status, 200, "{body}");
    // The other server's next answers know it.
    let list = json(&b.request_as(Some(&t), "GET", "/api/v1/me/list", "").1);
    assert_eq!(list["items"][0]["anime_id"], first);
    let after = json(
        &b.request_as(Some(&t), "GET", "/api/v1/me/recommendations?k=4", "")
            .1,
    );
    let ids: Vec<u64> = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["anime_id"].as_u64().unwrap())
        .collect();
    assert!(!ids.contains(&first), "{ids:?}");
    assert_eq!(after["subject"]["ratings"], 1);
    drop((a, b));
    rt.block_on(db.remove());
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("accounts.db").display());
    let data = common::without_episode_counts(dir.path());
    let start = |db: &str, cache: &std::path::Path| start_on(&data, db, cache);
    let server = start(&db, dir.path());
    let t = server.sign_up("durable");
    let anime = [10u32, 20, 30, 40];
    // One writer: write n sets anime[n % 4] to n episodes; note the writes acknowledged.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(HashMap::<u32, u32>::new()));
    let in_flight = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let writer = {
        let (addr, t, acknowledged, in_flight) = (
            server.addr.clone(),
            t.clone(),
            acknowledged.clone(),
            in_flight.clone(),
        );
        std::thread::spawn(move || {
            for n in 1..=5_000u32 {
                let a = anime[n as usize % 4];
                in_flight.store(n, std::sync::atomic::Ordering::SeqCst);
                let body = format!(r#"{{"score": 7, "status": "watching", "episodes": {n}}}"#);
                match common::server::request_to(
                    &addr,
                    Some(&t),
                    "PUT",
                    &format!("/api/v1/me/list/{a}"),
                    &body,
                ) {
                    Some((200, _)) => {
                        acknowledged.lock().unwrap().insert(a, n);
                    }
                    _ => return,
                }
            }
        })
    };
    // Let some writes through, then kill the server mid-stream.
    while acknowledged
        .lock()
        .unwrap()
        .values()
        .max()
        .copied()
        .unwrap_or(0)
        < 200
    {
        assert!(
            !writer.is_finished(),
            "the writer stopped before 200 writes were acknowledged: {:?}",
            acknowledged.lock().unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    server.signal("KILL");
    writer.join().unwrap();
    drop(server);
    let acked = acknowledged.lock().unwrap().clone();
    let last = in_flight.load(std::sync::atomic::Ordering::SeqCst);
    assert!(acked.len() == 4, "{acked:?}");

    let restarted = start(&db, dir.path());
    let list = json(
        &restarted
            .request_as(Some(&t), "GET", "/api/v1/me/list", "")
            .1,
    );
    for item in list["items"].as_array().unwrap() {
        let a = item["anime_id"].as_u64().unwrap() as u32;
        let stored = item["episodes"].as_u64().unwrap() as u32;
        let ack = acked[&a];
        // What was acknowledged is there; at most the one write in flight went further.
        assert!(
            stored == ack || (stored == last && anime[last as usize % 4] == a),
            "anime {a}: stored {stored}, acknowledged {ack}, in flight {last}"
        );
    }
    assert_eq!(list["items"].as_array().unwrap().len(), 4);
}

#[test]
fn training_learns_from_the_accounts_lists() {
    use anirec_data::{MalId, UserId, WatchStatus};
    use anirec_model::bundle::Bundle;
    use anirec_store::{ListEntry, Username};

    let rt = runtime();
    let db = rt.block_on(Scratch::sqlite());
    rt.block_on(async {
        for (name, score) in [("fan_one", 10), ("fan_two", 9)] {
            let account = db
                .store
                .create_account(&Username::parse(name).unwrap(), "x")
                .await
                .unwrap();
            for (anime, status) in [(40, WatchStatus::Completed), (10, WatchStatus::PlanToWatch)] {
                let entry = ListEntry {
                    anime_id: MalId(anime),
                    score: if status == WatchStatus::Completed {
                        Score::new(score).unwrap()
                    } else {
                        Score::NONE
                    },
                    status,
                    episodes: 0,
                };
                db.store.put_entry(account.id, &entry).await.unwrap();
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let data = mini();
    let train = |out: &str, db: Option<&str>| {
        let out = dir.path().join(out);
        let runs = dir.path().join("runs");
        let mut args = vec![
            "train",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--runs",
            runs.to_str().unwrap(),
        ];
        if let Some(db) = db {
            args.extend(["--db", db]);
        }
        let run = common::anirec(&args);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        (
            Bundle::load(&out).unwrap(),
            String::from_utf8_lossy(&run.stderr).into_owned(),
        )
    };
    let (without, _) = train("without", None);
    let (with, said) = train("with", Some(&db.url));
    assert!(
        said.contains("added 4 list entries of 2 accounts"),
        "{said}"
    );
    assert_eq!(with.ratings.n_users(), without.ratings.n_users() + 2);
    let forty = with.catalogue.index_of(MalId(40)).unwrap();
    assert_eq!(
        with.ratings.anime(forty).len(),
        without.ratings.anime(forty).len() + 2
    );
    // The accounts are users of the new model, apart from the dataset's ids.
    let fan = with.known_user(UserId(3_000_000_000)).unwrap();
    assert_eq!(fan.state.entries.len(), 2);
    assert!(without.known_user(UserId(3_000_000_000)).is_none());
    rt.block_on(db.remove());
}
