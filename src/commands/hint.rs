//! What to do about an error, in command-line terms: the flag to pass, the command to run. The
//! library's errors say what is wrong; the hint is printed after them, on a line of its own.

use crate::collect::github::client::PERMISSIONS;
use crate::error::{Error, GithubError};

/// The hint for `err`, when one of the errors in its chain has one.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| cause.downcast_ref::<Error>()).and_then(of)
}

fn of(err: &Error) -> Option<String> {
    Some(match err {
        Error::NoStore { .. } => "run `dora import DIR` first, or read a CSV folder directly with `--input DIR`".into(),
        Error::InvalidRows { .. } => "fix the rows, or pass `--skip-invalid` to import the valid rows and write the \
                                      rejected ones to a CSV file"
            .into(),
        Error::NoTags { .. } => "tag your releases, or name the tags that mark deployments with `--tags GLOB`".into(),
        Error::NoMatchingTag { .. } => {
            "name the tags that mark deployments with `--tags GLOB`, e.g. `--tags 'release-*'`".into()
        }
        Error::UnknownSavedQuery { .. } => "`dora query --list` describes them".into(),
        Error::Github(GithubError::RateLimited { .. }) => {
            "run again later, or allow a longer wait with `--max-wait`: the store keeps what was collected so far"
                .into()
        }
        Error::Github(GithubError::BadToken { .. }) => format!("dora needs {PERMISSIONS}"),
        Error::Github(GithubError::Forbidden { .. }) => format!("the token needs {PERMISSIONS}"),
        Error::Github(GithubError::NotFound { .. }) => {
            format!("check the repository name; or the token cannot see it: it needs {PERMISSIONS}")
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_is_found_behind_context() {
        let err = anyhow::Error::from(Error::NoStore { path: ".dora".into() }).context("failed to read the store");
        assert!(hint(&err).is_some_and(|h| h.contains("dora import DIR")));
        let plain = anyhow::anyhow!("something else");
        assert_eq!(hint(&plain), None);
    }

    #[test]
    fn github_errors_name_the_permissions_a_token_needs() {
        let err = anyhow::Error::from(Error::from(GithubError::BadToken {
            message: "Bad credentials".into(),
        }));
        assert_eq!(err.to_string(), "GitHub rejected the token (Bad credentials)");
        assert!(hint(&err).is_some_and(|h| h.contains("Pull requests and Actions")));
    }
}
