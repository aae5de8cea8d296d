//! The GitHub token, in a type that never prints it.

use std::fmt;

/// A GitHub token. `Debug` shows `Token(<redacted>)` and there is no `Display`, so no log,
/// error or `{:?}` of a struct that holds one can show it; only [`Token::expose`] gives the
/// text, to the HTTP client.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// The token in `text`, trimmed; `None` when it is blank.
    pub fn new(text: &str) -> Option<Token> {
        let text = text.trim();
        (!text.is_empty()).then(|| Token(text.to_string()))
    }

    /// The token itself, for the `Authorization` header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// For clap: a token given in the environment. A blank one parses, and is refused later with
/// the message that names where a token may come from.
impl std::str::FromStr for Token {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Token(text.trim().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_never_prints() {
        let token = Token::new("  ghp_secret_0123456789 ").expect("a token");
        assert_eq!(token.expose(), "ghp_secret_0123456789");
        assert_eq!(format!("{token:?}"), "Token(<redacted>)");
        assert_eq!(format!("{:?}", Some(token.clone())), "Some(Token(<redacted>))");
        assert_eq!(Token::new(" \n"), None);
    }
}
