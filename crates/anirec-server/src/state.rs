//! The model being served and the server's settings. The model sits behind a lock that is held
//! only to clone an `Arc`: a reload builds the new model first and then swaps the pointer, so
//! requests in flight finish on the model they started with and none fails during the swap.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anirec_encoder::Encoder;
use anirec_model::bundle::Bundle;
use anirec_model::query::UserStats;
use anirec_model::search::TitleIndex;
use metrics_exporter_prometheus::PrometheusHandle;

use anirec_store::Store;

use crate::cache::ResponseCache;
use crate::compute::Compute;
use crate::problem::Problem;
use crate::query_encoder::QueryEncoder;
use crate::sign_in_limits::SignInLimits;
use crate::telemetry;
use crate::write_probe::{Unwritable, WriteProbe};
use anirec_model::filters::Vocabulary;

/// Settings of a server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Bearer token of the admin endpoints; `None` turns them off.
    pub admin_token: Option<String>,
    /// Largest JSON request body in bytes.
    pub max_body_bytes: usize,
    /// Largest MyAnimeList export upload in bytes (XML, gzip or a form upload; real exports
    /// run about 1 KB per entry, so the longest list the reader takes is about 20 MB).
    pub max_export_bytes: usize,
    /// Longest time a request may take.
    pub request_timeout: Duration,
    /// Known users' answers kept per model (0: none).
    pub response_cache: usize,
    /// Requests whose CPU work runs at once (default: one per core).
    pub compute_threads: usize,
    /// Requests that may wait for a turn beyond those; more are refused with 503.
    pub compute_queue: usize,
    /// How long a browser session lasts.
    pub session_lifetime: Duration,
    /// Mark the session cookie `Secure` (the server is reached over HTTPS, e.g. behind an
    /// ingress that terminates TLS).
    pub secure_cookies: bool,
    /// Failed sign-ins an account may see per 5 minutes.
    pub sign_ins_per_account: usize,
    /// Sign-in and sign-up attempts one client address may make per 5 minutes.
    pub sign_ins_per_address: usize,
    /// The header a trusted proxy puts the client's address in (`X-Forwarded-For`); `None`:
    /// the connection's peer is the client.
    pub client_ip_header: Option<String>,
    /// How connections are held (caps and timeouts).
    pub connections: crate::connections::Limits,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            admin_token: None,
            max_body_bytes: 4 << 20,
            max_export_bytes: anirec_data::formats::malxml::MAX_XML_BYTES,
            request_timeout: Duration::from_secs(10),
            response_cache: 4096,
            compute_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            compute_queue: 64,
            session_lifetime: Duration::from_secs(30 * 24 * 3600),
            secure_cookies: false,
            sign_ins_per_account: SignInLimits::PER_ACCOUNT,
            sign_ins_per_address: SignInLimits::PER_ADDRESS,
            client_ip_header: None,
            connections: Default::default(),
        }
    }
}

/// A loaded model bundle with what serving it needs.
#[derive(Debug)]
pub struct Served {
    /// The bundle.
    pub bundle: Bundle,
    /// Title search over its catalogue.
    pub titles: TitleIndex,
    /// The genres and types the filters accept.
    pub vocabulary: Vocabulary,
    /// The OpenAPI document with this model's genres and types (made by the route that serves
    /// it, on first request).
    pub openapi: std::sync::OnceLock<bytes::Bytes>,
    /// Where it was loaded from (reloads read it again), if from disk.
    pub path: Option<PathBuf>,
    /// A short version: the bundle's creation time and tensor checksum.
    pub version: String,
    /// When it was loaded, in seconds since the Unix epoch.
    pub loaded_at: u64,
    /// Answers computed with this model (set by [`AppState::install`] from the settings).
    pub cache: ResponseCache,
    /// The users' statistics for similar users, made on first use.
    user_stats: std::sync::OnceLock<UserStats>,
}

impl Served {
    /// Wraps a bundle, indexing its titles (and, when it has story vectors, the words of its
    /// synopses for story search).
    pub fn new(bundle: Bundle, path: Option<PathBuf>) -> Served {
        let crc = bundle
            .manifest
            .files
            .values()
            .fold(0u32, |acc, f| acc.rotate_left(5) ^ f.crc32);
        let version = format!("{}-{crc:08x}", bundle.manifest.created_at);
        let vocabulary = Vocabulary::of(&bundle.catalogue);
        if bundle.story().is_some() {
            // Story search's BM25 index, built here (off the async runtime) rather than on the
            // first search.
            bundle.lexical();
        }
        Served {
            titles: TitleIndex::new(&bundle.catalogue),
            openapi: std::sync::OnceLock::new(),
            vocabulary,
            bundle,
            path,
            version,
            loaded_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            cache: ResponseCache::default(),
            user_stats: std::sync::OnceLock::new(),
        }
    }

    /// The users' statistics of the bundle (computed on first use).
    pub fn user_stats(&self) -> &UserStats {
        self.user_stats
            .get_or_init(|| UserStats::of(&self.bundle.ratings))
    }

    /// Loads a bundle folder.
    pub fn load(path: &Path) -> Result<Served, anirec_model::bundle::BundleError> {
        Ok(Served::new(Bundle::load(path)?, Some(path.to_owned())))
    }
}

/// Why the server runs without a sentence encoder (story search then says so).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoEncoder {
    /// Started with `--no-encoder`.
    #[error("the server was started with --no-encoder")]
    TurnedOff,
    /// The encoder did not load (the message names the file).
    #[error("{0}")]
    Unloadable(String),
    /// The model with story embeddings could not be trained.
    #[error("training with story embeddings failed: {0}")]
    Training(String),
}

/// Why a reload left the model served as it was.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// No folder was named and the model served was not loaded from one.
    #[error("no model folder to reload from")]
    NoFolder,
    /// The blocking task that loads the bundle did not finish.
    #[error("the loading task failed: {0}")]
    Task(String),
    /// The bundle did not load.
    #[error(transparent)]
    Bundle(#[from] anirec_model::bundle::BundleError),
}

/// What a reload did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Reloaded {
    /// Version now served.
    pub version: String,
    /// Version served before.
    pub previous: Option<String>,
    /// Folder it was read from.
    #[schema(value_type = String)]
    pub path: PathBuf,
    /// Seconds the load took (requests were answered meanwhile).
    pub seconds: f64,
}

/// Shared state of the handlers; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    model: RwLock<Option<Arc<Served>>>,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
    config: Config,
    compute: Compute,
    metrics: PrometheusHandle,
    started: Instant,
    /// The accounts database, once attached.
    accounts: std::sync::OnceLock<Store>,
    /// Sign-in attempts, for their rate limits.
    sign_in_limits: SignInLimits,
    /// Whether the accounts database takes writes (readiness).
    write_probe: WriteProbe,
    /// The sentence encoder for story search, or why there is none; unset while it loads.
    encoder: std::sync::OnceLock<Result<Arc<QueryEncoder>, NoEncoder>>,
    /// Whether a model with story embeddings is being trained to replace the one served.
    story_pending: std::sync::atomic::AtomicBool,
}

impl AppState {
    /// A server with no model yet: `/readyz` answers 503 until [`AppState::install`].
    pub fn new(config: Config) -> AppState {
        let sign_in_limits =
            SignInLimits::new(config.sign_ins_per_account, config.sign_ins_per_address);
        AppState {
            inner: Arc::new(Inner {
                model: RwLock::new(None),
                reloading: tokio::sync::Mutex::new(()),
                compute: Compute::new(config.compute_threads, config.compute_queue),
                config,
                metrics: telemetry::recorder(),
                started: Instant::now(),
                accounts: std::sync::OnceLock::new(),
                sign_in_limits,
                write_probe: WriteProbe::default(),
                encoder: std::sync::OnceLock::new(),
                story_pending: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// A server for a model.
    pub fn with_model(config: Config, served: Served) -> AppState {
        let state = AppState::new(config);
        state.install(served);
        state
    }

    /// Starts serving `served` (requests in flight finish on the model they started with).
    /// Returns the version it replaced.
    pub fn install(&self, mut served: Served) -> Option<String> {
        served.cache = ResponseCache::new(self.inner.config.response_cache);
        telemetry::model_loaded(&served.version, served.bundle.catalogue.len());
        let new = Arc::new(served);
        let old = self
            .inner
            .model
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .replace(new);
        let previous = old.map(|o| o.version.clone());
        if let Some(v) = &previous {
            telemetry::model_unloaded(v);
        }
        previous
    }

    /// The model now served, if any.
    pub fn model(&self) -> Option<Arc<Served>> {
        self.inner
            .model
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The model now served, or a 503 problem.
    pub fn ready(&self) -> Result<Arc<Served>, Problem> {
        self.model()
            .ok_or_else(|| Problem::unavailable("the model is still loading; try again shortly"))
    }

    /// Loads the bundle at `path` (by default the folder the current model came from) on a
    /// blocking thread and swaps it in. Requests keep being answered by the old model meanwhile.
    pub async fn reload(&self, path: Option<PathBuf>) -> Result<Reloaded, ReloadError> {
        let _one_at_a_time = self.inner.reloading.lock().await;
        let path = path
            .or_else(|| self.model().and_then(|m| m.path.clone()))
            .ok_or(ReloadError::NoFolder)?;
        let started = Instant::now();
        let from = path.clone();
        let served = tokio::task::spawn_blocking(move || Served::load(&from))
            .await
            .map_err(|e| ReloadError::Task(e.to_string()))??;
        let version = served.version.clone();
        let previous = self.install(served);
        let seconds = started.elapsed().as_secs_f64();
        tracing::info!(%version, ?previous, path = %path.display(), seconds, "model reloaded");
        Ok(Reloaded {
            version,
            previous,
            path,
            seconds,
        })
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The pool that runs requests' CPU work.
    pub fn compute(&self) -> &Compute {
        &self.inner.compute
    }

    /// Runs a request's CPU work off the async threads on the model now served (503 before a
    /// model is loaded, or when the pool's queue is full).
    pub async fn run<T, F>(&self, work: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Served>) -> Result<T, Problem> + Send + 'static,
    {
        let served = self.ready()?;
        self.inner.compute.run(move || work(served)).await
    }

    /// Attaches the accounts database (once; later calls are ignored).
    pub fn attach_accounts(&self, store: Store) {
        let _ = self.inner.accounts.set(store);
    }

    /// Ok when the accounts database (if attached) takes writes now; `Err` says why not.
    pub async fn accounts_writable(&self) -> Result<(), Unwritable> {
        match self.inner.accounts.get() {
            Some(store) => self.inner.write_probe.check(store).await,
            None => Ok(()),
        }
    }

    /// The accounts database, or 503 when the server runs without one.
    pub fn accounts(&self) -> Result<&Store, Problem> {
        self.inner.accounts.get().ok_or_else(|| {
            Problem::unavailable("accounts are off on this server (start it with --db)")
        })
    }

    /// Attaches the sentence encoder, or why the server runs without one (once; later calls
    /// are ignored).
    pub fn attach_encoder(&self, encoder: Result<Encoder, NoEncoder>) {
        let _ = self
            .inner
            .encoder
            .set(encoder.map(|e| Arc::new(QueryEncoder::new(e))));
    }

    /// Says whether a model with story embeddings is being trained to replace the one served
    /// (story search then answers that it is starting, not that it is off).
    pub fn set_story_pending(&self, pending: bool) {
        self.inner
            .story_pending
            .store(pending, std::sync::atomic::Ordering::Relaxed);
    }

    /// The encoder that embeds story queries for `served`, or a 503 saying why story search is
    /// off: no encoder, a model trained without story embeddings (or one still being trained),
    /// or embeddings made by another encoder.
    pub fn story_encoder(&self, served: &Served) -> Result<Arc<QueryEncoder>, Problem> {
        let pending = self
            .inner
            .story_pending
            .load(std::sync::atomic::Ordering::Relaxed);
        let encoder = match self.inner.encoder.get() {
            _ if pending && served.bundle.story().is_none() => {
                return Err(Problem::unavailable(
                    "story search is starting: the catalogue's stories are being embedded (minutes on a first start); everything else is served",
                ));
            }
            None => {
                return Err(Problem::unavailable(
                    "story search is starting: the sentence encoder is still loading",
                ));
            }
            Some(Err(why)) => {
                return Err(Problem::unavailable(format!("story search is off: {why}")));
            }
            Some(Ok(encoder)) => encoder,
        };
        match served.bundle.story_for(encoder.encoder().fingerprint()) {
            Ok(_) => Ok(encoder.clone()),
            Err(why) => Err(Problem::unavailable(format!(
                "story search is off: {why} (the server's encoder: {})",
                encoder.encoder().dir().display()
            ))),
        }
    }

    /// The sign-in rate limits.
    pub fn sign_in_limits(&self) -> &SignInLimits {
        &self.inner.sign_in_limits
    }

    /// The Prometheus exposition handle.
    pub fn metrics(&self) -> &PrometheusHandle {
        &self.inner.metrics
    }

    /// Time since the state was made.
    pub fn uptime(&self) -> Duration {
        self.inner.started.elapsed()
    }
}
