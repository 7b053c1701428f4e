//! The MLflow arguments `train` and `eval` share — which tracking server, which experiment —
//! and logging a finished run there, which never fails the command: a server that is down or
//! refuses is reported once.

use crate::mlflow::{Client, Logged, RunLog};

/// `--mlflow URI`, `--experiment NAME`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct TrackingArgs {
    /// Also log the run to this MLflow tracking server (http://HOST:PORT, started with
    /// artifact proxying): parameters, figures (per epoch as steps), tags and files. A server
    /// that is down or refuses is reported once; the local results stand either way.
    #[arg(long, value_name = "URI", env = "MLFLOW_TRACKING_URI")]
    pub mlflow: Option<String>,
    /// The MLflow experiment the run goes into (created when missing).
    #[arg(long, default_value = "anirec")]
    pub experiment: String,
}

impl TrackingArgs {
    /// Logs the run `log` builds when a server was given; `kept` says where the results are
    /// kept when the server refuses (said on stderr). The client comes back with the run for
    /// more calls (registering its bundle); [`TrackingArgs::said`] words it.
    pub fn log(
        &self,
        log: impl FnOnce() -> anyhow::Result<RunLog>,
        kept: &str,
    ) -> Option<(Client, Logged)> {
        let uri = self.mlflow.as_deref()?;
        let shown = anirec_store::redacted_url(uri);
        let client = Client::new(uri);
        match log().and_then(|log| client.log(&self.experiment, &log)) {
            Ok(logged) => Some((client, logged)),
            Err(e) => {
                eprintln!(
                    "MLflow: the run was not logged to {shown}: {e:#} (it is kept in {kept})"
                );
                None
            }
        }
    }

    /// Where `logged` went, as a line of the command's summary.
    pub fn said(&self, logged: &Logged) -> String {
        format!(
            "mlflow        run {} in experiment {} ({}) at {}",
            logged.run_id,
            self.experiment,
            logged.experiment_id,
            anirec_store::redacted_url(self.mlflow.as_deref().unwrap_or_default())
        )
    }
}
