//! Throwaway databases for tests (feature `scratch`): SQLite in a temporary folder, or a fresh
//! schema of the PostgreSQL named by `ANIREC_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`). A test that asks for PostgreSQL fails, never
//! skips, when it cannot be reached.

use sqlx::Connection;

use crate::Store;

/// The PostgreSQL of the tests.
pub fn postgres_url() -> String {
    std::env::var("ANIREC_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A database of one engine, open, removed by [`Scratch::remove`].
pub struct Scratch {
    /// The store on it.
    pub store: Store,
    /// Its URL (to open it again, as another replica would).
    pub url: String,
    schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Scratch {
    /// A SQLite file in a new temporary folder.
    pub async fn sqlite() -> Scratch {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("accounts.db").display());
        Scratch {
            store: Store::open(&url).await.expect("SQLite store"),
            url,
            schema: None,
            _dir: Some(dir),
        }
    }

    /// A new schema of the tests' PostgreSQL.
    pub async fn postgres() -> Scratch {
        sqlx::any::install_default_drivers();
        let base = postgres_url();
        let mut admin = sqlx::AnyConnection::connect(&base)
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL at {base} is needed by this test and cannot be reached: {e}")
            });
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes).expect("random bytes");
        let schema = format!(
            "anirec_test_{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .await
            .expect("a test schema");
        let _ = admin.close().await;
        let url = format!("{base}?options=-c%20search_path%3D{schema}");
        Scratch {
            store: Store::open(&url).await.expect("PostgreSQL store"),
            url,
            schema: Some(schema),
            _dir: None,
        }
    }

    /// SQLite, then PostgreSQL.
    pub async fn both() -> [Scratch; 2] {
        [Scratch::sqlite().await, Scratch::postgres().await]
    }

    /// Closes the store and removes the database.
    pub async fn remove(self) {
        self.store.close().await;
        if let Some(schema) = self.schema {
            let mut admin = sqlx::AnyConnection::connect(&postgres_url())
                .await
                .expect("PostgreSQL for cleanup");
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&mut admin)
                .await
                .expect("test schema dropped");
        }
    }
}
