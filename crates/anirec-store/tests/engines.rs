//! The store against both engines over real connections ([`Scratch`]: SQLite in a temporary
//! folder, and the PostgreSQL on loopback, each test in a schema of its own). A test fails, never
//! skips, when PostgreSQL cannot be reached.

use anirec_data::{MalId, Score, WatchStatus};
use anirec_store::scratch::Scratch;
use anirec_store::secret::{hash_password, verify_password};
use anirec_store::{ListEntry, ListTitle, Store, StoreError, Taste, Username};
use sqlx::Connection;

/// Runs a check against SQLite, then PostgreSQL.
macro_rules! on_both_engines {
    ($check:ident) => {
        for db in Scratch::both().await {
            $check(&db).await;
            db.remove().await;
        }
    };
}

fn name(text: &str) -> Username {
    Username::parse(text).unwrap()
}

fn entry(anime: u32, score: u8, status: WatchStatus) -> ListEntry {
    ListEntry {
        anime_id: MalId(anime),
        score: Score::new(score).unwrap(),
        status,
        episodes: 3,
    }
}

async fn accounts_are_unique_by_name_and_hold_a_hash(db: &Scratch) {
    let store = &db.store;
    let hash = hash_password("hunter2hunter2").unwrap();
    let fan = store.create_account(&name("Fan"), &hash).await.unwrap();
    assert_eq!(fan.username, "Fan");
    match store.create_account(&name("fan"), &hash).await {
        Err(StoreError::UsernameTaken(n)) => assert_eq!(n, "fan"),
        other => panic!("{} accepted a second 'fan': {other:?}", db.url),
    }
    let (found, stored_hash) = store.sign_in_record(&name("FAN")).await.unwrap().unwrap();
    assert_eq!(found, fan);
    assert!(verify_password("hunter2hunter2", &stored_hash));
    assert!(
        store
            .sign_in_record(&name("nobody"))
            .await
            .unwrap()
            .is_none()
    );

    // A new password ends every session and revokes every API token.
    let session = store.create_session(fan.id, 3600).await.unwrap();
    let (_, old_token) = store.create_token(fan.id, "before").await.unwrap();
    assert_eq!(
        store.session_account(&session).await.unwrap(),
        Some(fan.clone())
    );
    store
        .set_password(fan.id, &hash_password("a new password").unwrap())
        .await
        .unwrap();
    assert_eq!(store.session_account(&session).await.unwrap(), None);
    assert_eq!(store.token_account(&old_token).await.unwrap(), None);
    assert!(store.tokens(fan.id).await.unwrap().is_empty());
    let new_hash = store.password_hash(fan.id).await.unwrap().unwrap();
    assert!(verify_password("a new password", &new_hash));

    // Deleting an account deletes what it owns, and nothing of another account.
    let other = store.create_account(&name("other"), &hash).await.unwrap();
    for id in [fan.id, other.id] {
        store
            .put_entry(id, &entry(1, 9, WatchStatus::Completed))
            .await
            .unwrap();
        store.hide(id, MalId(2)).await.unwrap();
    }
    let (_, token) = store.create_token(fan.id, "script").await.unwrap();
    store.delete_account(fan.id).await.unwrap();
    assert!(store.sign_in_record(&name("fan")).await.unwrap().is_none());
    assert_eq!(store.token_account(&token).await.unwrap(), None);
    assert!(store.list(fan.id).await.unwrap().is_empty());
    assert_eq!(store.list(other.id).await.unwrap().len(), 1);
    assert_eq!(store.hidden(other.id).await.unwrap(), [MalId(2)]);
}

#[tokio::test]
async fn accounts_on_both_engines() {
    on_both_engines!(accounts_are_unique_by_name_and_hold_a_hash);
}

async fn a_profile_is_private_until_its_owner_makes_it_public(db: &Scratch) {
    let store = &db.store;
    let fan = store.create_account(&name("Fan"), "x").await.unwrap();
    let other = store.create_account(&name("other"), "x").await.unwrap();
    assert_eq!(store.is_public(fan.id).await.unwrap(), Some(false));
    assert_eq!(store.public_account(&name("fan")).await.unwrap(), None);
    store.set_public(fan.id, true).await.unwrap();
    assert_eq!(store.is_public(fan.id).await.unwrap(), Some(true));
    // Found by any case of the name; the other account stays private.
    assert_eq!(
        store.public_account(&name("FAN")).await.unwrap(),
        Some(fan.clone())
    );
    assert_eq!(store.public_account(&name("other")).await.unwrap(), None);
    assert_eq!(store.is_public(other.id).await.unwrap(), Some(false));
    // A private profile and no account answer alike.
    assert_eq!(store.public_account(&name("nobody")).await.unwrap(), None);
    store.set_public(fan.id, false).await.unwrap();
    assert_eq!(store.public_account(&name("fan")).await.unwrap(), None);
    store.delete_account(other.id).await.unwrap();
    assert_eq!(store.is_public(other.id).await.unwrap(), None);
}

#[tokio::test]
async fn public_profiles_on_both_engines() {
    on_both_engines!(a_profile_is_private_until_its_owner_makes_it_public);
}

async fn sessions_and_tokens_are_stored_hashed_and_revocable(db: &Scratch) {
    let store = &db.store;
    let fan = store.create_account(&name("fan"), "x").await.unwrap();
    let other = store.create_account(&name("other"), "x").await.unwrap();

    let session = store.create_session(fan.id, 3600).await.unwrap();
    assert_eq!(
        store.session_account(&session).await.unwrap().unwrap().id,
        fan.id
    );
    store.end_session(&session).await.unwrap();
    assert_eq!(store.session_account(&session).await.unwrap(), None);
    // An expired session is no session; a forged one neither.
    let expired = store.create_session(fan.id, 0).await.unwrap();
    assert_eq!(store.session_account(&expired).await.unwrap(), None);
    let unknown = anirec_store::secret::SessionToken::parse(&"0".repeat(64)).unwrap();
    assert_eq!(store.session_account(&unknown).await.unwrap(), None);

    // Names are stored as given, SQL metacharacters and all.
    let evil = "'; DROP TABLE accounts; --";
    let (info, token) = store.create_token(fan.id, evil).await.unwrap();
    assert_eq!(
        store.token_account(&token).await.unwrap().unwrap().id,
        fan.id
    );
    assert_eq!(
        store.tokens(fan.id).await.unwrap(),
        std::slice::from_ref(&info)
    );
    assert_eq!(store.tokens(fan.id).await.unwrap()[0].name, evil);
    // Only the owner revokes a token.
    assert!(!store.revoke_token(other.id, info.id).await.unwrap());
    assert!(store.token_account(&token).await.unwrap().is_some());
    assert!(store.revoke_token(fan.id, info.id).await.unwrap());
    assert_eq!(store.token_account(&token).await.unwrap(), None);
    // Nothing secret is in the database: only digests.
    let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert!(stored.iter().all(|h| h != token.expose()));
    conn.close().await.unwrap();
}

#[tokio::test]
async fn sessions_and_tokens_on_both_engines() {
    on_both_engines!(sessions_and_tokens_are_stored_hashed_and_revocable);
}

async fn lists_keep_entries_and_imports_merge_once(db: &Scratch) {
    let store = &db.store;
    let fan = store.create_account(&name("fan"), "x").await.unwrap();
    let other = store.create_account(&name("other"), "x").await.unwrap();
    store
        .put_entry(fan.id, &entry(5, 9, WatchStatus::Watching))
        .await
        .unwrap();
    let replaced = store
        .put_entry(fan.id, &entry(5, 10, WatchStatus::Completed))
        .await
        .unwrap();
    assert_eq!(store.entry(fan.id, MalId(5)).await.unwrap(), Some(replaced));
    assert_eq!(store.entry(other.id, MalId(5)).await.unwrap(), None);

    let export = [
        entry(5, 0, WatchStatus::Completed),
        entry(7, 8, WatchStatus::Dropped),
        entry(9, 0, WatchStatus::PlanToWatch),
    ];
    let first = store.import(fan.id, &export).await.unwrap();
    assert_eq!((first.added, first.changed, first.unchanged), (2, 0, 1));
    let after_first = store.list(fan.id).await.unwrap();
    // The import's 0 kept the 10; the rest as imported.
    assert_eq!(after_first[0].entry, entry(5, 10, WatchStatus::Completed));
    assert_eq!(after_first.len(), 3);
    let second = store.import(fan.id, &export).await.unwrap();
    assert_eq!((second.added, second.changed, second.unchanged), (0, 0, 3));
    assert_eq!(store.list(fan.id).await.unwrap(), after_first);

    assert!(store.delete_entry(fan.id, MalId(7)).await.unwrap());
    assert!(!store.delete_entry(fan.id, MalId(7)).await.unwrap());
    assert!(!store.delete_entry(other.id, MalId(5)).await.unwrap());

    // The cap: an import past it is refused whole.
    let huge: Vec<ListEntry> = (100..100 + anirec_store::list::MAX_ENTRIES as u32)
        .map(|a| entry(a, 7, WatchStatus::Completed))
        .collect();
    match store.import(fan.id, &huge).await {
        Err(StoreError::ListFull { would, .. }) => {
            assert_eq!(would, anirec_store::list::MAX_ENTRIES + 2)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.list(fan.id).await.unwrap().len(), 2);
    // A full list takes no new entry, but its entries still change.
    let full: Vec<ListEntry> = (100..98 + anirec_store::list::MAX_ENTRIES as u32)
        .map(|a| entry(a, 7, WatchStatus::Completed))
        .collect();
    store.import(other.id, &full).await.unwrap();
    store
        .put_entry(other.id, &entry(1, 6, WatchStatus::OnHold))
        .await
        .unwrap();
    store
        .put_entry(other.id, &entry(2, 6, WatchStatus::OnHold))
        .await
        .unwrap();
    assert!(matches!(
        store
            .put_entry(other.id, &entry(3, 6, WatchStatus::OnHold))
            .await,
        Err(StoreError::ListFull { .. })
    ));
    assert!(
        store
            .put_entry(other.id, &entry(2, 9, WatchStatus::Completed))
            .await
            .is_ok()
    );
    assert_eq!(
        store.list(other.id).await.unwrap().len(),
        anirec_store::list::MAX_ENTRIES
    );
    // What recommendations read, in one row: the same entries, even for a full list.
    let full_list: Vec<ListEntry> = store
        .list(other.id)
        .await
        .unwrap()
        .iter()
        .map(|s| s.entry)
        .collect();
    assert_eq!(store.taste(other.id).await.unwrap().list, full_list);
    store.delete_account(other.id).await.unwrap();
    let other = store.create_account(&name("other2"), "x").await.unwrap();
    assert_eq!(store.taste(other.id).await.unwrap(), Taste::default());

    store.hide(fan.id, MalId(30)).await.unwrap();
    store.hide(fan.id, MalId(30)).await.unwrap();
    store.hide(fan.id, MalId(20)).await.unwrap();
    assert_eq!(store.hidden(fan.id).await.unwrap(), [MalId(20), MalId(30)]);
    assert!(store.unhide(fan.id, MalId(30)).await.unwrap());
    assert_eq!(store.hidden(fan.id).await.unwrap(), [MalId(20)]);
    let taste = store.taste(fan.id).await.unwrap();
    let listed: Vec<ListEntry> = store
        .list(fan.id)
        .await
        .unwrap()
        .iter()
        .map(|s| s.entry)
        .collect();
    assert_eq!((taste.list.len(), taste.list), (2, listed));
    assert_eq!(taste.hidden, [MalId(20)]);

    store
        .put_entry(other.id, &entry(1, 6, WatchStatus::OnHold))
        .await
        .unwrap();
    let all = store.all_entries().await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.contains(&(other.id, entry(1, 6, WatchStatus::OnHold))));
}

#[tokio::test]
async fn lists_on_both_engines() {
    on_both_engines!(lists_keep_entries_and_imports_merge_once);
}

#[tokio::test]
async fn replicas_starting_together_migrate_once() {
    let db = Scratch::postgres().await;
    let (a, b, c) = tokio::join!(
        Store::open(&db.url),
        Store::open(&db.url),
        Store::open(&db.url)
    );
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    let fan = a.create_account(&name("fan"), "x").await.unwrap();
    assert!(b.sign_in_record(&name("fan")).await.unwrap().is_some());
    assert!(matches!(
        c.create_account(&name("FAN"), "x").await,
        Err(StoreError::UsernameTaken(_))
    ));
    a.put_entry(fan.id, &entry(1, 9, WatchStatus::Completed))
        .await
        .unwrap();
    assert_eq!(b.list(fan.id).await.unwrap().len(), 1);
    for s in [a, b, c] {
        s.close().await;
    }
    db.remove().await;
}

#[tokio::test]
async fn a_bad_url_is_named() {
    let err = Store::open("mysql://localhost/db").await.unwrap_err();
    assert!(err.to_string().contains("mysql://localhost/db"), "{err}");
}

async fn concurrent_writes_all_land(db: &Scratch) {
    let store = &db.store;
    let fan = store.create_account(&name("busy"), "x").await.unwrap();
    let writes = (0..300u32).map(|a| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .put_entry(
                    fan.id,
                    &entry(a % 150, (a % 10) as u8 + 1, WatchStatus::Watching),
                )
                .await
        })
    });
    for w in writes.collect::<Vec<_>>() {
        w.await.unwrap().unwrap();
    }
    // Each anime was written twice; the list holds each once, and one of its two writes.
    let list = store.list(fan.id).await.unwrap();
    assert_eq!(list.len(), 150);
    for s in &list {
        let a = s.entry.anime_id.0;
        assert!([(a % 10) as u8 + 1, ((a + 150) % 10) as u8 + 1].contains(&s.entry.score.code()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_on_both_engines() {
    on_both_engines!(concurrent_writes_all_land);
}

#[tokio::test]
async fn sqlite_writes_ahead_and_syncs_every_commit() {
    let db = Scratch::sqlite().await;
    let fan = db.store.create_account(&name("wal"), "x").await.unwrap();
    db.store
        .put_entry(fan.id, &entry(1, 9, WatchStatus::Completed))
        .await
        .unwrap();
    let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    conn.close().await.unwrap();
    db.remove().await;
}

async fn long_imports_land_in_chunks_one_at_a_time(db: &Scratch) {
    let store = &db.store;
    let fan = store.create_account(&name("importer"), "x").await.unwrap();
    let n = 2 * anirec_store::IMPORT_CHUNK as u32 + 17;
    let entries: Vec<ListEntry> = (1..=n)
        .map(|a| entry(a, (a % 10) as u8 + 1, WatchStatus::Completed))
        .collect();
    // Two imports of one list at once: the second is told the first is running.
    let (first, second) = tokio::join!(
        store.import(fan.id, &entries),
        store.import(fan.id, &entries[..10])
    );
    assert_eq!(first.unwrap().added, n as usize);
    assert!(
        matches!(second, Err(StoreError::ImportRunning)),
        "{second:?}"
    );
    let list = store.list(fan.id).await.unwrap();
    assert_eq!(list.len(), n as usize);
    assert!(
        list.iter()
            .zip(&entries)
            .all(|(stored, sent)| stored.entry == *sent)
    );
    // The account is free again: the same file changes nothing now.
    let again = store.import(fan.id, &entries).await.unwrap();
    assert_eq!((again.added, again.unchanged), (0, n as usize));
    // Another account imports while this one's turn is held.
    let other = store.create_account(&name("neighbour"), "x").await.unwrap();
    let (mine, theirs) = tokio::join!(
        store.import(fan.id, &entries[..5]),
        store.import(other.id, &entries[..5])
    );
    assert_eq!(mine.unwrap().unchanged, 5);
    assert_eq!(theirs.unwrap().added, 5);
}

async fn imports_keep_the_titles_of_anime_the_catalogue_lacks(db: &Scratch) {
    let store = &db.store;
    let hash = hash_password("hunter2hunter2").unwrap();
    let fan = store.create_account(&name("Titled"), &hash).await.unwrap();
    let export = [
        entry(5, 8, WatchStatus::Completed),
        entry(48_561, 9, WatchStatus::Completed),
    ];
    let titles = [ListTitle {
        anime_id: MalId(48_561),
        title: "Jujutsu Kaisen 0 Movie".into(),
    }];
    let counts = store
        .import_titled(fan.id, &export, &titles, &[])
        .await
        .unwrap();
    assert_eq!(counts.added, 2);
    assert_eq!(store.titles(fan.id).await.unwrap(), titles);
    assert_eq!(store.list(fan.id).await.unwrap().len(), 2);
    // An edit, and an import that gives no title, keep it.
    store
        .put_entry(fan.id, &entry(48_561, 10, WatchStatus::Completed))
        .await
        .unwrap();
    store
        .import(fan.id, &[entry(48_561, 7, WatchStatus::Dropped)])
        .await
        .unwrap();
    assert_eq!(store.titles(fan.id).await.unwrap(), titles);
    assert_eq!(
        store
            .entry(fan.id, MalId(48_561))
            .await
            .unwrap()
            .unwrap()
            .entry,
        entry(48_561, 7, WatchStatus::Dropped)
    );
    // Removing the entry removes its title.
    assert!(store.delete_entry(fan.id, MalId(48_561)).await.unwrap());
    assert!(store.titles(fan.id).await.unwrap().is_empty());
}

async fn an_import_keeps_the_entries_its_export_says_not_to_update(db: &Scratch) {
    let store = &db.store;
    let hash = hash_password("hunter2hunter2").unwrap();
    let fan = store.create_account(&name("Keeper"), &hash).await.unwrap();
    // Edited in the app, then an export (MyAnimeList's update_on_import 0) with older values
    // for it and one anime the list lacks.
    let edited = entry(5, 10, WatchStatus::Completed);
    store.put_entry(fan.id, &edited).await.unwrap();
    let export = [
        entry(5, 6, WatchStatus::Dropped),
        entry(7, 8, WatchStatus::Watching),
    ];
    let counts = store
        .import_titled(fan.id, &export, &[], &[MalId(5), MalId(7)])
        .await
        .unwrap();
    assert_eq!((counts.added, counts.changed, counts.kept), (1, 0, 1));
    assert_eq!(
        store.entry(fan.id, MalId(5)).await.unwrap().unwrap().entry,
        edited,
        "the list's entry wins"
    );
    assert_eq!(
        store.entry(fan.id, MalId(7)).await.unwrap().unwrap().entry,
        entry(7, 8, WatchStatus::Watching),
        "a gap is filled"
    );
    // Without the flag the export's entry replaces it.
    let counts = store
        .import_titled(fan.id, &export[..1], &[], &[])
        .await
        .unwrap();
    assert_eq!((counts.changed, counts.kept), (1, 0));
    assert_eq!(
        store.entry(fan.id, MalId(5)).await.unwrap().unwrap().entry,
        entry(5, 6, WatchStatus::Dropped)
    );
}

#[tokio::test]
async fn import_titles_on_both_engines() {
    on_both_engines!(imports_keep_the_titles_of_anime_the_catalogue_lacks);
}

#[tokio::test]
async fn update_on_import_on_both_engines() {
    on_both_engines!(an_import_keeps_the_entries_its_export_says_not_to_update);
}

#[tokio::test]
async fn imports_on_both_engines() {
    on_both_engines!(long_imports_land_in_chunks_one_at_a_time);
}

#[tokio::test]
async fn readiness_probe_writes_and_a_moved_file_takes_no_write() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("db");
    std::fs::create_dir(&folder).unwrap();
    let url = format!("sqlite://{}", folder.join("accounts.db").display());
    let store = Store::open(&url).await.unwrap();
    store.probe_write().await.unwrap();
    let fan = store.create_account(&name("mover"), "x").await.unwrap();
    let away = dir.path().join("db.moved");
    std::fs::rename(&folder, &away).unwrap();
    for refused in [
        store.probe_write().await,
        store
            .put_entry(fan.id, &entry(1, 9, WatchStatus::Completed))
            .await
            .map(|_| ()),
        store.hide(fan.id, MalId(2)).await,
    ] {
        match refused {
            // A pooled connection still holds the moved file (the check after the commit
            // refuses it); a connection the pool opens anew finds no file at the path.
            Err(StoreError::Unwritable(why)) => assert!(
                why.contains("no longer at its path") || why.contains("could not be opened"),
                "{why}"
            ),
            other => panic!("a write to a moved database: {other:?}"),
        }
    }
    std::fs::rename(&away, &folder).unwrap();
    store.probe_write().await.unwrap();
    store
        .put_entry(fan.id, &entry(1, 9, WatchStatus::Completed))
        .await
        .unwrap();
    store.close().await;
}
