//! Passwords and bearer secrets. Passwords are hashed with Argon2id at OWASP's recommended cost
//! (19 MiB, 2 passes, 1 lane) into a PHC string that carries its own salt and parameters; session
//! and API tokens are 256 random bits, handed to the client once as hex and stored only as their
//! SHA-256 digest. Hashing and verifying a password is CPU work (tens of milliseconds): callers
//! run it off the async runtime's threads.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

use crate::StoreError;

/// Argon2id with OWASP's parameters (m = 19456 KiB, t = 2, p = 1).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("constant Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of a password (random salt).
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| StoreError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| StoreError::Random(e.to_string()))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Random(e.to_string()))
}

/// Whether `password` matches a PHC string made by [`hash_password`] (a malformed hash matches
/// nothing).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .is_ok_and(|hash| argon2().verify_password(password.as_bytes(), &hash).is_ok())
}

/// Spends the time of one verification, for a sign-in with an unknown username: it then takes
/// as long as a wrong password, so timing does not tell which usernames exist.
pub fn verify_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash_password("not a password").unwrap_or_default());
    let _ = verify_password(password, phc);
}

/// A bearer secret of one kind ([`SessionToken`] or [`ApiSecret`]: the kinds never mix): 256
/// random bits as 64 hex digits, handed to its holder once and stored only as its digest
/// ([`Secret::digest`]). Its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<Kind> {
    hex: String,
    kind: std::marker::PhantomData<Kind>,
}

/// What a browser session's cookie carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {}

/// What a personal API token's holder sends as `Authorization: Bearer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {}

/// A browser session's token.
pub type SessionToken = Secret<Session>;

/// A personal API token's secret.
pub type ApiSecret = Secret<Api>;

impl<Kind> Secret<Kind> {
    /// A new random secret.
    pub fn new() -> Result<Secret<Kind>, StoreError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| StoreError::Random(e.to_string()))?;
        Ok(Secret::of(hex(&bytes)))
    }

    /// Text shaped like a secret (64 hex digits), or `None`: anything else is refused without
    /// a database lookup.
    pub fn parse(text: &str) -> Option<Secret<Kind>> {
        (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Secret::of(text.to_owned()))
    }

    fn of(hex: String) -> Secret<Kind> {
        Secret {
            hex,
            kind: std::marker::PhantomData,
        }
    }

    /// The secret itself, to hand to its holder (a cookie, an answer shown once).
    pub fn expose(&self) -> &str {
        &self.hex
    }

    /// What is stored of it: its SHA-256 digest, hex.
    pub fn digest(&self) -> String {
        token_hash(&self.hex)
    }
}

impl<Kind> std::fmt::Debug for Secret<Kind> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Shown once: an API token's answer carries the secret itself.
impl<Kind> serde::Serialize for Secret<Kind> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex)
    }
}

/// The SHA-256 digest of a token's text, hex.
fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let phc = hash_password("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("correct horse battery staple", &phc));
        assert!(!verify_password("correct horse battery stapler", &phc));
        assert!(!verify_password("anything", "not a phc string"));
        // Salted: the same password hashes differently each time.
        assert_ne!(phc, hash_password("correct horse battery staple").unwrap());
    }

    #[test]
    fn tokens_are_random_and_stored_as_digests() {
        let (a, b) = (SessionToken::new().unwrap(), SessionToken::new().unwrap());
        assert_eq!(a.expose().len(), 64);
        assert_ne!(a, b);
        assert_eq!(format!("{a:?}"), "Secret(..)");
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let parsed = ApiSecret::parse(&"ab".repeat(32)).unwrap();
        assert_eq!(parsed.digest(), token_hash(&"ab".repeat(32)));
        for bad in ["", "ab", &"g".repeat(64), &"a".repeat(65)] {
            assert!(ApiSecret::parse(bad).is_none(), "{bad}");
        }
    }
}
