//! Embeds each line of a text file as a search query is embedded, for experiments on the
//! ranking outside Rust: `cargo run --release -p anirec-encoder --example embed -- TEXTS OUT`
//! writes one row of float32 numbers (little-endian, the encoder's width) per line of TEXTS to
//! OUT. `bench/story/hubness.py` reads it.

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(texts), Some(out)) = (args.next(), args.next()) else {
        return Err("usage: embed TEXTS OUT".into());
    };
    let encoder = anirec_encoder::Encoder::load(&anirec_encoder::shared_encoder_dir())?;
    let text = std::fs::read_to_string(&texts)?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out)?);
    for line in text.lines() {
        for x in encoder.embed_one(line)? {
            file.write_all(&x.to_le_bytes())?;
        }
    }
    file.flush()?;
    Ok(())
}
