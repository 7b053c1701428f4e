//! Our embeddings against sentence-transformers' own (tests/fixtures/reference.json, written by
//! tests/fixtures/make_reference.py): a short query, an empty text, a text past the 256 word
//! piece limit, Japanese script and accents with emoji. Needs the shared encoder folder
//! (`ANIREC_ENCODER` overrides its path) and fails, never skips, without it.

use anirec_encoder::{Encoder, EncoderError, shared_encoder, shared_encoder_dir};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    word_pieces_uncut: usize,
    embedding: Vec<f32>,
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn embeddings_match_sentence_transformers() {
    let reference: Reference =
        serde_json::from_str(include_str!("fixtures/reference.json")).expect("fixture parses");
    assert!(reference.cases.len() >= 6, "the fixture holds the cases");
    assert!(
        reference.cases.iter().any(|c| c.word_pieces_uncut > 256),
        "one case runs past the word-piece limit"
    );
    assert!(
        reference.cases.iter().any(|c| c.text.is_empty()),
        "one case is empty"
    );
    let encoder = shared_encoder();
    assert_eq!(encoder.dim(), 384);
    assert_eq!(encoder.max_tokens(), 256);
    let texts: Vec<&str> = reference.cases.iter().map(|c| c.text.as_str()).collect();
    // Together (padded into batches) and one by one: both must match.
    let together = encoder.embed(&texts, |_| {}).expect("embeds");
    for (i, case) in reference.cases.iter().enumerate() {
        let ours = &together[i * 384..(i + 1) * 384];
        let alone = encoder.embed_one(&case.text).expect("embeds");
        for (how, v) in [("in a batch", ours), ("alone", &alone[..])] {
            let c = cosine(v, &case.embedding);
            assert!(c >= 0.9999, "{how}: cosine {c} for {:?}", case.text);
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "{how}: norm {norm}");
        }
    }
}

#[test]
fn a_lower_word_piece_limit_cuts_long_texts_only() {
    let full = shared_encoder();
    let fingerprint = full.fingerprint().to_owned();
    let cut = shared_encoder()
        .limit_tokens(128)
        .expect("a limit of 128 is taken");
    assert_eq!((cut.max_tokens(), cut.model_max_tokens()), (128, 256));
    assert_ne!(
        cut.fingerprint(),
        fingerprint,
        "the limit is part of the fingerprint"
    );
    let short = "a melancholic space western";
    assert_eq!(
        cut.embed_one(short).unwrap(),
        full.embed_one(short).unwrap()
    );
    // ~200 word pieces (each sentence different, so that where the text is cut changes the
    // mean), and the same text with ~40 more.
    let sentence = |i: usize| format!("In chapter {i} the crew of the ship meets a stranger. ");
    let medium: String = (0..15).map(sentence).collect();
    let longer: String = (0..18).map(sentence).collect();
    let embed = |encoder: &Encoder, text: &str| encoder.embed_one(text).unwrap();
    assert_eq!(
        embed(&cut, &medium),
        embed(&cut, &longer),
        "past 128 word pieces nothing more is read"
    );
    assert_ne!(
        embed(&full, &medium),
        embed(&full, &longer),
        "the full encoder reads on to 256"
    );
    assert!(
        cosine(&embed(&cut, &medium), &embed(&full, &medium)) < 0.9999,
        "128 word pieces of ~200 embed differently from all of them"
    );
    let wide = shared_encoder()
        .limit_tokens(10_000)
        .expect("a limit past the model's is taken");
    assert_eq!(wide.max_tokens(), 256, "bounded by the model's own limit");
    assert_eq!(
        wide.fingerprint(),
        fingerprint,
        "the model's own limit is its default"
    );
}

#[test]
fn texts_past_the_character_cut_embed_as_their_first_part() {
    let encoder = shared_encoder();
    let long = "a quiet story about a lighthouse keeper and the sea ".repeat(2000);
    let v = encoder
        .embed_one(&long)
        .expect("a huge text is cut, not refused");
    let head = encoder
        .embed_one(&long[..2000])
        .expect("its first part embeds");
    assert!(
        cosine(&v, &head) > 0.9999,
        "both read the same first 256 word pieces"
    );
    let odd = encoder
        .embed_one("\u{0}\u{7}\u{1b}[31m 🚀🚀 進撃 \u{202e}abc")
        .expect("control characters and emoji embed");
    assert!(odd.iter().all(|x| x.is_finite()));
}

#[test]
fn a_missing_or_corrupt_folder_names_the_file() {
    let empty = tempfile::tempdir().expect("temp dir");
    let err = Encoder::load(empty.path()).expect_err("an empty folder is refused");
    assert!(
        matches!(err, EncoderError::Read { ref path, .. } if path.ends_with("config.json")),
        "{err}"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    for name in ["config.json", "tokenizer.json", "sentence_bert_config.json"] {
        std::fs::copy(shared_encoder_dir().join(name), dir.path().join(name)).expect("copies");
    }
    std::fs::write(dir.path().join("model.safetensors"), b"not a tensor file").expect("writes");
    let err = Encoder::load(dir.path()).expect_err("corrupt weights are refused");
    assert!(
        matches!(err, EncoderError::Invalid { ref path, .. } if path.ends_with("model.safetensors")),
        "{err}"
    );
    assert!(err.to_string().contains("model.safetensors"), "{err}");

    // A real tensor file whose tensors are not the model's: the tensor is named.
    let wrong = vec![0u8; 2 * 384 * 4];
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2, 384], &wrong)
        .expect("a view");
    let bytes = safetensors::serialize([("embeddings.word_embeddings.weight", view)], None)
        .expect("serialises");
    std::fs::write(dir.path().join("model.safetensors"), bytes).expect("writes");
    let err = Encoder::load(dir.path()).expect_err("a wrong shape is refused");
    let message = err.to_string();
    assert!(
        message.contains("model.safetensors")
            && message
                .contains("embeddings.word_embeddings.weight has shape [2, 384], not [30522, 384]"),
        "{message}"
    );

    // A model this forward pass does not run says which setting.
    let config = std::fs::read_to_string(shared_encoder_dir().join("config.json")).expect("reads");
    std::fs::write(
        dir.path().join("config.json"),
        config.replace("\"gelu\"", "\"relu\""),
    )
    .expect("writes");
    let err = Encoder::load(dir.path()).expect_err("another activation is refused");
    let message = err.to_string();
    assert!(
        message.contains("config.json") && message.contains("hidden_act \"relu\""),
        "{message}"
    );
    std::fs::write(dir.path().join("config.json"), config).expect("writes");

    std::fs::write(dir.path().join("tokenizer.json"), b"{\"truncated").expect("writes");
    let err = Encoder::load(dir.path()).expect_err("a corrupt tokenizer is refused");
    assert!(err.to_string().contains("tokenizer.json"), "{err}");
}
