//! `anirec promote`: point an alias of a registered model in MLflow (`champion` by default) at
//! one of its versions, which servers started with `--model models:/NAME@ALIAS --watch` then
//! load.

use crate::mlflow::registry::ModelUriError;
use crate::mlflow::{Client, ModelUri};

/// Arguments of `anirec promote`.
#[derive(clap::Args)]
pub struct Args {
    /// The MLflow tracking server.
    #[arg(long, value_name = "URI", env = "MLFLOW_TRACKING_URI")]
    pub mlflow: String,
    /// The registered model.
    #[arg(long, value_name = "NAME", default_value = "anirec")]
    pub registered_model: String,
    /// The version to promote (as `train --mlflow` printed it: models:/NAME/VERSION).
    #[arg(long)]
    pub version: u64,
    /// The alias to point at it.
    #[arg(long, default_value = "champion")]
    pub alias: String,
}

/// Runs `anirec promote`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let client = Client::new(&args.mlflow);
    // The alias must be one `serve --model` can name.
    let uri: ModelUri = format!("models:/{}@{}", args.registered_model, args.alias)
        .parse()
        .map_err(|e: ModelUriError| anyhow::anyhow!("--registered-model/--alias: {e}"))?;
    let before = client.resolve(&uri).ok();
    client.set_alias(&args.registered_model, &args.alias, args.version)?;
    match before {
        Some(b) if b.version != args.version => println!(
            "promoted      {uri} -> version {} (was version {})",
            args.version, b.version
        ),
        _ => println!("promoted      {uri} -> version {}", args.version),
    }
    Ok(())
}
