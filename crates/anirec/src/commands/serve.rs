//! `anirec serve`: the web UI and JSON API for a model bundle, or for a data folder (a model is
//! trained on it first and cached, so the next start loads it). The port is bound at once and
//! `/readyz` answers 503 until the model is in; SIGHUP reloads the bundle; SIGTERM or Ctrl-C
//! stop taking connections and finish the requests in flight.

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anirec_data::IngestOptions;
use anirec_data::formats::jikan;
use anirec_encoder::Encoder;
use anirec_server::{AppState, Config, NoEncoder, Served};
use anyhow::Context;

use super::data_args::DataArgs;
use crate::mlflow::registry::{ModelUriError, ModelVersion};
use crate::mlflow::{Client, ModelUri};
use crate::story::EncoderArgs;

/// Where `--model` reads the bundle from.
#[derive(Clone, Debug)]
pub enum ModelSource {
    /// A bundle folder.
    Folder(PathBuf),
    /// A registered model in MLflow.
    Registry(ModelUri),
}

impl std::str::FromStr for ModelSource {
    type Err = ModelUriError;

    fn from_str(s: &str) -> Result<ModelSource, ModelUriError> {
        if s.starts_with("models:") {
            s.parse().map(ModelSource::Registry)
        } else {
            Ok(ModelSource::Folder(PathBuf::from(s)))
        }
    }
}

/// What the server serves, from `--model`, `--mlflow` and `--data`.
#[derive(Clone)]
enum Source {
    /// A bundle folder.
    Folder(PathBuf),
    /// A registered model in MLflow.
    Registered(Registered),
    /// A model trained on a data folder.
    Data(PathBuf),
}

impl Source {
    fn of(args: &Args) -> anyhow::Result<Source> {
        Ok(match (&args.model, &args.data) {
            (Some(ModelSource::Folder(dir)), _) => Source::Folder(dir.clone()),
            (Some(ModelSource::Registry(uri)), _) => {
                let mlflow = args.mlflow.as_deref().with_context(|| {
                    format!("--model {uri} is read from an MLflow tracking server: give --mlflow URI (or MLFLOW_TRACKING_URI)")
                })?;
                Source::Registered(Registered {
                    client: Client::new(mlflow),
                    uri: uri.clone(),
                    cache: args.cache.join("registry"),
                })
            }
            (None, Some(data)) => Source::Data(data.clone()),
            (None, None) => anyhow::bail!("give --model or --data"),
        })
    }
}

/// A registered model a server reads its bundles from.
#[derive(Clone)]
struct Registered {
    client: Client,
    uri: ModelUri,
    /// Where the versions' bundles are downloaded (`NAME/VERSION` below it).
    cache: PathBuf,
}

impl Registered {
    /// The folder of the bundle `uri` names now, downloaded unless it already is.
    fn fetch(&self) -> anyhow::Result<PathBuf> {
        self.download(&self.client.resolve(&self.uri)?)
    }

    /// The folder of `version`'s bundle, downloaded unless it already is.
    fn download(&self, version: &ModelVersion) -> anyhow::Result<PathBuf> {
        let dir = self.client.download_bundle(version, &self.cache)?;
        eprintln!(
            "{} is version {} (run {}): {}",
            self.uri,
            version.version,
            version.run_id,
            dir.display()
        );
        Ok(dir)
    }
}

/// Arguments of `anirec serve`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["model", "data"])))]
pub struct Args {
    /// Model bundle written by `anirec train`: a folder, or a registered model in MLflow
    /// (`models:/NAME@ALIAS` or `models:/NAME/VERSION`, with --mlflow), downloaded into
    /// --cache and verified before it is served.
    #[arg(long, value_name = "FOLDER|URI")]
    pub model: Option<ModelSource>,
    /// The MLflow tracking server `--model models:/…` is read from.
    #[arg(long, value_name = "URI", env = "MLFLOW_TRACKING_URI")]
    pub mlflow: Option<String>,
    /// Data folder: train a model on it first (cached under --cache for the next start).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Where models trained by --data, and those downloaded from MLflow, are kept.
    #[arg(long, default_value = "models")]
    pub cache: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "ANIREC_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Token of the admin endpoints (`POST /api/v1/admin/reload`); off when not set.
    #[arg(long, env = "ANIREC_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Largest JSON request body, in bytes.
    #[arg(long, default_value_t = 4 << 20)]
    pub max_body_bytes: usize,
    /// Largest MyAnimeList export upload (XML, gzip or form), in bytes, sent and unpacked.
    #[arg(long, default_value_t = anirec_data::formats::malxml::MAX_XML_BYTES)]
    pub max_export_bytes: usize,
    /// Longest time one request may take, in seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout_seconds: u64,
    /// How long a client may take to send a request's headers, and how long a keep-alive
    /// connection may sit idle, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_seconds: u64,
    /// Connections open at once; more are answered 503 [default: 1024, or fewer under a lower
    /// open-file limit]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: Option<u64>,
    /// At shutdown (SIGTERM, Ctrl-C), how long requests in flight may take before their
    /// connections are closed, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub shutdown_grace_seconds: u64,
    /// Known users' answers to keep per model (0 turns the cache off).
    #[arg(long, default_value_t = 4096)]
    pub response_cache: usize,
    /// Reload the bundle when it changes on disk (its manifest, or where a symlink points),
    /// or, for `--model models:/NAME@ALIAS`, when the alias moves to another version, checking
    /// every SECONDS.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub watch: Option<u64>,
    /// Async worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Requests whose CPU work (fold-in, ranking, search) runs at once (default: one per core).
    #[arg(long)]
    pub compute_threads: Option<usize>,
    /// Requests that may wait for the compute threads; more are refused with 503 + Retry-After.
    #[arg(long, default_value_t = 64)]
    pub compute_queue: usize,
    /// The accounts database: sqlite://PATH (created and migrated on start) or
    /// postgres://USER:PASSWORD@HOST/DATABASE for several replicas [default: sqlite:// of
    /// accounts.db in --cache]
    #[arg(long, env = "ANIREC_DB", hide_env_values = true)]
    pub db: Option<String>,
    /// Mark the session cookie Secure: the site is reached over HTTPS (e.g. behind an ingress).
    #[arg(long, env = "ANIREC_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// How long a browser session lasts, in days.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=365))]
    pub session_days: u64,
    /// Failed sign-ins an account may see per 5 minutes before it is told to wait (429).
    #[arg(long, default_value_t = anirec_server::sign_in_limits::SignInLimits::PER_ACCOUNT)]
    pub sign_ins_per_account: usize,
    /// Sign-in and sign-up attempts one client address may make per 5 minutes.
    #[arg(long, default_value_t = anirec_server::sign_in_limits::SignInLimits::PER_ADDRESS)]
    pub sign_ins_per_address: usize,
    /// Behind a proxy (an ingress): the header it puts the client's address in, e.g.
    /// X-Forwarded-For (its right-most address counts). Only set it when every request comes
    /// through that proxy: clients could otherwise claim any address.
    #[arg(long, env = "ANIREC_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
    /// The sentence encoder for story search (a model trained by --data embeds its catalogue
    /// with it). When it cannot be loaded the server says why and serves everything else.
    #[command(flatten)]
    pub encoder: EncoderArgs,
}

/// Runs `anirec serve`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let source = Source::of(&args)?;
    let started = Instant::now();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        runtime.worker_threads(n.max(1));
    }
    let runtime = runtime
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(args, source, started))
}

async fn serve(args: Args, source: Source, started: Instant) -> anyhow::Result<()> {
    // The accounts database first: one that cannot be reached stops the start with its reason
    // (before anything listens, so nothing waits on a server that would answer nothing).
    let db = match &args.db {
        Some(url) => url.clone(),
        None => {
            std::fs::create_dir_all(&args.cache)
                .with_context(|| format!("creating {}", args.cache.display()))?;
            format!("sqlite://{}", args.cache.join("accounts.db").display())
        }
    };
    let store = anirec_store::Store::open(&db).await.with_context(|| {
        format!(
            "opening the accounts database {}",
            anirec_store::redacted_url(&db)
        )
    })?;
    tracing::info!(db = %anirec_store::redacted_url(&db), "accounts database ready");
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("listening on {}", args.addr))?;
    let addr = listener.local_addr()?;
    eprintln!("listening on http://{addr}");
    let state = AppState::new(Config {
        admin_token: args.admin_token.clone(),
        max_body_bytes: args.max_body_bytes,
        request_timeout: Duration::from_secs(args.timeout_seconds),
        response_cache: args.response_cache,
        max_export_bytes: args.max_export_bytes,
        compute_threads: args
            .compute_threads
            .unwrap_or_else(|| Config::default().compute_threads),
        compute_queue: args.compute_queue,
        session_lifetime: Duration::from_secs(args.session_days * 24 * 3600),
        secure_cookies: args.secure_cookies,
        sign_ins_per_account: args.sign_ins_per_account,
        sign_ins_per_address: args.sign_ins_per_address,
        client_ip_header: args.client_ip_header.clone(),
        connections: anirec_server::connections::Limits {
            header_timeout: Duration::from_secs(args.header_timeout_seconds),
            max_connections: args
                .max_connections
                .map_or_else(anirec_server::connections::default_max_connections, |n| {
                    n as usize
                }),
            shutdown_grace: Duration::from_secs(args.shutdown_grace_seconds),
        },
    });
    state.attach_accounts(store);

    let loading = {
        let state = state.clone();
        let (source, cache) = (source.clone(), args.cache.clone());
        let encoder_args = args.encoder.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let encoder = match encoder_args.load() {
                Ok(Some(encoder)) => Ok(encoder),
                Ok(None) => Err(NoEncoder::TurnedOff),
                Err(e) => {
                    let why = NoEncoder::Unloadable(format!("{e:#}"));
                    tracing::warn!("story search is off: {why}");
                    Err(why)
                }
            };
            // Says `what` once the model answers (tests and operators wait for the line).
            let install = |path: &Path, what: &str| -> anyhow::Result<()> {
                let served = Served::load(path)?;
                tracing::info!(version = %served.version, path = %path.display(), "model loaded");
                let said = format!(
                    "model {} ({} anime, {} users)",
                    served.version,
                    served.bundle.catalogue.len(),
                    served.bundle.ratings.n_users()
                );
                state.install(served);
                eprintln!("{what} in {:.2} s: {said}", started.elapsed().as_secs_f64());
                Ok(())
            };
            let data = match source {
                Source::Folder(model) => {
                    state.attach_encoder(encoder);
                    return install(&model, "ready");
                }
                Source::Registered(registered) => {
                    state.attach_encoder(encoder);
                    return install(&registered.fetch()?, "ready");
                }
                Source::Data(data) => data,
            };
            let Ok(loaded) = &encoder else {
                let path = trained_model(&data, &cache, &encoder_args, None)?;
                state.attach_encoder(encoder);
                return install(&path, "ready");
            };
            let first_start = !model_dir(&data, &cache, Some(loaded.fingerprint()))?
                .join("manifest.json")
                .is_file();
            if first_start {
                // Embedding the catalogue's stories can take minutes: serve a model without
                // them meanwhile, and swap in the full one when it is trained.
                state.set_story_pending(true);
                install(&trained_model(&data, &cache, &encoder_args, None)?, "ready")?;
                eprintln!("story search starts once the catalogue's stories are embedded");
            }
            let full = trained_model(&data, &cache, &encoder_args, Some(loaded));
            match full {
                Ok(path) => {
                    state.attach_encoder(encoder);
                    let what = if first_start {
                        "story search ready"
                    } else {
                        "ready"
                    };
                    let installed = install(&path, what);
                    state.set_story_pending(false);
                    installed
                }
                // The model without story embeddings is served: story search alone is off.
                Err(e) if first_start => {
                    let why = NoEncoder::Training(format!("{e:#}"));
                    eprintln!("story search is off: {why}");
                    state.attach_encoder(Err(why));
                    state.set_story_pending(false);
                    Ok(())
                }
                Err(e) => Err(e),
            }
        })
    };
    tokio::spawn(reload_on_sighup(state.clone()));
    if let Some(seconds) = args.watch {
        let every = Duration::from_secs(seconds);
        match source {
            Source::Registered(registered) => {
                tokio::spawn(follow_alias(state.clone(), registered, every))
            }
            _ => tokio::spawn(reload_on_change(state.clone(), every)),
        };
    }
    let server = tokio::spawn(anirec_server::serve(listener, state, shutdown_signal()));

    // A model that cannot be loaded stops the server: it could never become ready.
    loading.await.context("the loading task failed")??;
    server.await.context("the server task failed")?;
    eprintln!("stopped");
    Ok(())
}

/// The bundle trained on `data` (with story embeddings by `encoder`, when given; `args` says
/// where they are cached), trained now unless a cached one matches the data's files and the
/// encoder.
fn trained_model(
    data: &Path,
    cache: &Path,
    args: &EncoderArgs,
    encoder: Option<&Encoder>,
) -> anyhow::Result<PathBuf> {
    let out = model_dir(data, cache, encoder.map(Encoder::fingerprint))?;
    if out.join("manifest.json").is_file() {
        eprintln!(
            "using the model trained earlier on this data: {}",
            out.display()
        );
        return Ok(out);
    }
    eprintln!(
        "no model for {} yet: training one ({})",
        data.display(),
        out.display()
    );
    super::train::run_with(
        super::train::Args {
            data: DataArgs {
                data: data.to_owned(),
                train: None,
                test: None,
                sources: Default::default(),
            },
            out: out.clone(),
            seed: anirec_data::split::DEFAULT_SEED,
            tuning: Default::default(),
            runs: cache.join("runs"),
            run_dir: None,
            resume: None,
            db: None,
            encoder: args.clone(),
            tracking: Default::default(),
            registered_model: String::new(),
            no_register: true,
        },
        encoder,
    )?;
    Ok(out)
}

/// Where the bundle trained on `data` with the encoder of `encoder_fingerprint` (none: without
/// story embeddings) is cached.
fn model_dir(
    data: &Path,
    cache: &Path,
    encoder_fingerprint: Option<&str>,
) -> anyhow::Result<PathBuf> {
    Ok(cache.join(format!(
        "serve-{:016x}",
        fingerprint(data, encoder_fingerprint)?
    )))
}

/// A hash of the encoder's fingerprint (none: no story embeddings), of the data files' names,
/// sizes and modification times (the relation files and Jikan pages beside a data folder
/// included), of this program's version and of the bundle format it reads (a model cached by an
/// older format is trained again).
fn fingerprint(data: &Path, encoder: Option<&str>) -> anyhow::Result<u64> {
    let mut hasher = std::hash::DefaultHasher::new();
    encoder.hash(&mut hasher);
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    anirec_model::bundle::FORMAT_VERSION.hash(&mut hasher);
    let meta = std::fs::metadata(data).with_context(|| format!("reading {}", data.display()))?;
    let mut files = Vec::new();
    if meta.is_dir() {
        let beside = IngestOptions::default();
        let relations = anirec_data::franchise::relations::folder(&beside.relations, data);
        let jikan = jikan::folder(&beside.jikan, data);
        let mut paths: Vec<PathBuf> = Vec::new();
        for dir in std::iter::once(data.to_owned()).chain(relations) {
            for entry in
                std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?
            {
                paths.push(entry?.path());
            }
        }
        if let Some(dir) = jikan {
            paths.extend(jikan::files_under(&dir)?);
        }
        for path in paths {
            let m =
                std::fs::metadata(&path).with_context(|| format!("reading {}", path.display()))?;
            files.push((path.into_os_string(), m.len(), m.modified().ok()));
        }
    } else {
        files.push((
            data.as_os_str().to_owned(),
            meta.len(),
            meta.modified().ok(),
        ));
    }
    files.sort();
    files.hash(&mut hasher);
    Ok(hasher.finish())
}

/// Reloads the bundle (from the folder it came from) on every SIGHUP.
async fn reload_on_sighup(state: AppState) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!("SIGHUP cannot be watched; use POST /api/v1/admin/reload");
            return;
        };
        while hangups.recv().await.is_some() {
            match state.reload(None).await {
                Ok(r) => eprintln!("reloaded: model {} ({:.2} s)", r.version, r.seconds),
                Err(e) => eprintln!("reload failed, still serving the old model: {e}"),
            }
        }
    }
    #[cfg(not(unix))]
    drop(state);
}

/// Reloads the bundle whenever the folder it came from changes: its manifest is rewritten, or a
/// symlink to it is pointed elsewhere (how the retrain CronJob publishes a new model).
async fn reload_on_change(state: AppState, every: Duration) {
    let stamp = |path: &Path| {
        let target = std::fs::canonicalize(path).ok();
        let modified = std::fs::metadata(path.join("manifest.json"))
            .and_then(|m| m.modified())
            .ok();
        (target, modified)
    };
    let mut tick = tokio::time::interval(every);
    let mut seen = None;
    loop {
        tick.tick().await;
        let Some(path) = state.model().and_then(|m| m.path.clone()) else {
            continue;
        };
        let now = stamp(&path);
        match &seen {
            None => seen = Some(now),
            Some(before) if *before != now && now.1.is_some() => {
                match state.reload(None).await {
                    Ok(r) => eprintln!(
                        "model changed on disk, reloaded: {} ({:.2} s)",
                        r.version, r.seconds
                    ),
                    Err(e) => eprintln!(
                        "model changed on disk but did not load, still serving the old one: {e}"
                    ),
                }
                seen = Some(now);
            }
            Some(_) => {}
        }
    }
}

/// Serves the version a registered model's alias points at: whenever it moves, the new
/// version is downloaded and swapped in (the old one serves until then, and on any failure,
/// which is said once until it changes: a tracking server that is down is not news every few
/// seconds).
async fn follow_alias(state: AppState, registered: Registered, every: Duration) {
    let mut tick = tokio::time::interval(every);
    let mut said = None;
    loop {
        tick.tick().await;
        match follow_once(&state, &registered).await {
            Ok(None) => said = None,
            Ok(Some(news)) => {
                eprintln!("{news}");
                said = None;
            }
            Err(e) => {
                let why = format!("{e:#}");
                if said.as_ref() != Some(&why) {
                    eprintln!("{why}; still serving the current model");
                    said = Some(why);
                }
            }
        }
    }
}

/// One look at the alias: `Ok(None)` when the served version is still the one it names,
/// what was done when it moved and the new version was swapped in, or why not.
async fn follow_once(state: &AppState, registered: &Registered) -> anyhow::Result<Option<String>> {
    // The served version is the name of the folder it was downloaded into.
    let Some(served) = state.model().and_then(|m| m.path.clone()) else {
        return Ok(None);
    };
    let uri = &registered.uri;
    let check = registered.clone();
    let version = tokio::task::spawn_blocking(move || check.client.resolve(&check.uri))
        .await
        .with_context(|| format!("checking {uri}"))?
        .with_context(|| format!("cannot check {uri}"))?;
    let number = version.version;
    if served.file_name() == Some(std::ffi::OsStr::new(&number.to_string())) {
        return Ok(None);
    }
    // The version just resolved, not the alias asked again (it could have moved meanwhile).
    let fetch = registered.clone();
    let dir = tokio::task::spawn_blocking(move || fetch.download(&version))
        .await
        .with_context(|| format!("downloading {uri}"))?
        .with_context(|| {
            format!("{uri} moved to version {number} but it could not be downloaded")
        })?;
    let r = state
        .reload(Some(dir))
        .await
        .with_context(|| format!("{uri} moved to version {number} but it did not load"))?;
    Ok(Some(format!(
        "{uri} moved to version {number}, reloaded: {} ({:.2} s)",
        r.version, r.seconds
    )))
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    eprintln!("shutting down: finishing requests in flight");
}
