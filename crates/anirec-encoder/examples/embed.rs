//! Embeds each line of a text file, for experiments on story search outside Rust:
//! `cargo run --release -p anirec-encoder --example embed -- [--catalogue] TEXTS OUT` writes one
//! row of float32 numbers (little-endian, the encoder's width) per line of TEXTS to OUT. Lines
//! are embedded as a search query is (one at a time, at the model's own word-piece limit), or
//! with `--catalogue` as `anirec train` embeds the catalogue (in batches over every core, cut at
//! its default 128 word pieces). `bench/story/ranking.py` and `bench/story/fusion.py` read them.

use std::io::Write;

/// `anirec train`'s default `--story-tokens`.
const CATALOGUE_TOKENS: usize = 128;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let catalogue = args.first().is_some_and(|a| a == "--catalogue");
    if catalogue {
        args.remove(0);
    }
    let [texts, out] = &args[..] else {
        return Err("usage: embed [--catalogue] TEXTS OUT".into());
    };
    let encoder = anirec_encoder::Encoder::load(&anirec_encoder::shared_encoder_dir())?;
    let text = std::fs::read_to_string(texts)?;
    let lines: Vec<&str> = text.lines().collect();
    let rows = if catalogue {
        let encoder = encoder.limit_tokens(CATALOGUE_TOKENS)?;
        let mut done = 0;
        encoder.embed(&lines, |n| {
            done += n;
            eprint!("\r{done}/{} embedded", lines.len());
        })?
    } else {
        let mut rows = Vec::with_capacity(lines.len() * encoder.dim());
        for line in &lines {
            rows.extend(encoder.embed_one(line)?);
        }
        rows
    };
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    for x in rows {
        file.write_all(&x.to_le_bytes())?;
    }
    file.flush()?;
    Ok(())
}
