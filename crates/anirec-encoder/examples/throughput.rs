//! How fast the encoder embeds: `cargo run --release -p anirec-encoder --example throughput --
//! TEXTS [N]` embeds the first N lines of TEXTS (one text per line) as the catalogue is
//! embedded (in batches), then each of the first 20 lines alone as a search query is, and prints
//! texts per second and the median and worst time for one query.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: throughput TEXTS [N]")?;
    let n: usize = args.next().map_or(Ok(usize::MAX), |a| a.parse())?;
    let text = std::fs::read_to_string(&path)?;
    let texts: Vec<&str> = text.lines().take(n).collect();
    if texts.is_empty() {
        return Err(format!("{path} holds no lines").into());
    }
    let encoder = anirec_encoder::Encoder::load(&anirec_encoder::shared_encoder_dir())?;

    let started = Instant::now();
    encoder.embed(&texts, |_| {})?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "batched: {} texts in {seconds:.2} s, {:.1} texts/s",
        texts.len(),
        texts.len() as f64 / seconds
    );

    let queries: Vec<&str> = texts.iter().map(|t| short(t)).take(20).collect();
    let mut times: Vec<f64> = Vec::new();
    for _round in 0..3 {
        for q in &queries {
            let started = Instant::now();
            encoder.embed_one(q)?;
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "one query (first 8 words of a line): median {:.2} ms, worst {:.2} ms over {} queries",
        times[times.len() / 2],
        times[times.len() - 1],
        times.len()
    );
    Ok(())
}

/// The first eight words of a text: about a search query's length.
fn short(text: &str) -> &str {
    match text.match_indices(' ').nth(7) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}
