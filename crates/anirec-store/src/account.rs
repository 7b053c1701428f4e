//! Who an account is: its id, a checked username and a checked password, parsed once from what a
//! client sends, with errors that say what is wrong.

use serde::{Deserialize, Serialize};

/// An account's id (chosen at random, below 2⁵³ so JSON clients read it exactly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountId(pub i64);

/// An account as the server shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    /// Its id.
    pub id: AccountId,
    /// The username as chosen (unique without regard to case).
    pub username: String,
    /// When it was created (Unix seconds).
    pub created_at: i64,
}

/// Shortest and longest username, in characters.
pub const USERNAME_CHARS: std::ops::RangeInclusive<usize> = 3..=32;
/// Shortest and longest password, in characters (so at most 1,024 bytes of UTF-8).
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=256;

/// Why a username or a password is refused (the message says it to the fan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// A username of this many characters.
    #[error(
        "a username has {min} to {max} characters; this one has {0}",
        min = USERNAME_CHARS.start(),
        max = USERNAME_CHARS.end()
    )]
    UsernameLength(usize),
    /// A username with this character, which none may hold.
    #[error("a username holds letters, digits, '_', '-' and '.' only; found {0:?}")]
    UsernameCharacter(char),
    /// A username that starts with `_`, `-` or `.`.
    #[error("a username starts with a letter or a digit")]
    UsernameStart,
    /// A password of this many characters.
    #[error(
        "a password has {min} to {max} characters; this one has {0}",
        min = PASSWORD_CHARS.start(),
        max = PASSWORD_CHARS.end()
    )]
    PasswordLength(usize),
}

/// A username: 3-32 letters, digits, `_`, `-` or `.`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Checks a username.
    pub fn parse(text: &str) -> Result<Username, CredentialError> {
        let n = text.chars().count();
        if !USERNAME_CHARS.contains(&n) {
            return Err(CredentialError::UsernameLength(n));
        }
        if let Some(bad) = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        {
            return Err(CredentialError::UsernameCharacter(bad));
        }
        if !text.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(CredentialError::UsernameStart);
        }
        Ok(Username(text.to_owned()))
    }

    /// The username as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key it is unique by (lower case).
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A password: 8 to 256 characters of any text. Never logged: its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Checks a password's length.
    pub fn parse(text: &str) -> Result<Password, CredentialError> {
        let n = text.chars().count();
        if !PASSWORD_CHARS.contains(&n) {
            return Err(CredentialError::PasswordLength(n));
        }
        Ok(Password(text.to_owned()))
    }

    /// The password, to hash or verify.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords_are_checked() {
        assert_eq!(Username::parse("Fan_01").unwrap().key(), "fan_01");
        let long = "x".repeat(33);
        for (bad, why) in [
            ("ab", "a username has 3 to 32 characters; this one has 2"),
            (&long, "a username has 3 to 32 characters; this one has 33"),
            (
                "with space",
                "a username holds letters, digits, '_', '-' and '.' only; found ' '",
            ),
            ("-lead", "a username starts with a letter or a digit"),
            (
                "o'neil",
                "a username holds letters, digits, '_', '-' and '.' only; found '\\''",
            ),
            (
                "名前です",
                "a username holds letters, digits, '_', '-' and '.' only; found '名'",
            ),
        ] {
            assert_eq!(Username::parse(bad).unwrap_err().to_string(), why, "{bad}");
        }
        assert!(Username::parse("x".repeat(32).as_str()).is_ok());
        assert_eq!(
            Password::parse("short").unwrap_err().to_string(),
            "a password has 8 to 256 characters; this one has 5"
        );
        assert_eq!(
            Password::parse(&"p".repeat(257)).unwrap_err().to_string(),
            "a password has 8 to 256 characters; this one has 257"
        );
        assert!(Password::parse(&"🔑".repeat(256)).is_ok());
        let p = Password::parse("long enough").unwrap();
        assert_eq!(format!("{p:?}"), "Password(..)");
    }
}
