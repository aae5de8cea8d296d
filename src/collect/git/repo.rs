//! The git command line: the only place dora runs git.
//!
//! dora reads history with `git log` and tags with `git for-each-ref`, one process each, in
//! formats made to be parsed (fields separated by 0x1f, records by NUL). docs/git.md says why
//! the git command and not a library.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};
use crate::timestamp::{MICROS_PER_SECOND, Micros};

/// One commit as `git log` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub sha: String,
    pub parents: Vec<String>,
    pub author: String,
    pub authored_at: Micros,
    pub committed_at: Micros,
    /// First line of the message.
    pub subject: String,
    /// The rest of the message (closing keywords are often there).
    pub body: String,
}

/// One tag, peeled to the commit it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    /// The tagged commit; `None` when the tag names a tree or a blob.
    pub commit: Option<String>,
    /// The tagger date of an annotated tag.
    pub tagged_at: Option<Micros>,
    /// The committer date of the tagged commit.
    pub committed_at: Option<Micros>,
}

impl Tag {
    /// When the tag says the deployment happened: the tagger date of an annotated tag, else
    /// the tagged commit's committer date.
    pub fn deployed_at(&self) -> Option<Micros> {
        self.tagged_at.or(self.committed_at)
    }
}

/// A local clone, checked to be one.
#[derive(Debug, Clone)]
pub struct Repo {
    path: PathBuf,
}

fn git_error(path: &Path, what: &str, stderr: &[u8]) -> Error {
    Error::Git {
        path: path.into(),
        message: format!("{what}: {}", String::from_utf8_lossy(stderr).trim()),
    }
}

impl Repo {
    /// Opens the repository at `path` (any folder inside a work tree, or a bare repository).
    pub fn open(path: &Path) -> Result<Self> {
        if !path.is_dir() {
            return Err(Error::Git {
                path: path.into(),
                message: "no such folder".into(),
            });
        }
        let repo = Repo { path: path.into() };
        let out = repo.git(&["rev-parse", "--git-dir"], None)?;
        if !out.status.success() {
            return Err(Error::Git {
                path: path.into(),
                message: "not a git repository (or any of its parent folders)".into(),
            });
        }
        Ok(repo)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn git(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<std::process::Output> {
        let mut command = Command::new("git");
        command
            .arg("-C")
            .arg(&self.path)
            .args(args)
            // Formats and dates must not depend on the user's configuration.
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("LC_ALL", "C")
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::Git {
                    path: self.path.clone(),
                    message: "the `git` command is not installed (or not on PATH)".into(),
                }
            } else {
                Error::io("run git in", &self.path, e)
            }
        })?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input)
                .map_err(|e| Error::io("run git in", &self.path, e))?;
        }
        child
            .wait_with_output()
            .map_err(|e| Error::io("run git in", &self.path, e))
    }

    /// Runs git; a failure is an error saying `what` failed, with git's message.
    fn git_ok(&self, args: &[&str], stdin: Option<&[u8]>, what: &str) -> Result<Vec<u8>> {
        let out = self.git(args, stdin)?;
        if !out.status.success() {
            return Err(git_error(&self.path, what, &out.stderr));
        }
        Ok(out.stdout)
    }

    /// Whether this is a shallow clone (history cut at some depth).
    pub fn is_shallow(&self) -> Result<bool> {
        let out = self.git_ok(
            &["rev-parse", "--is-shallow-repository"],
            None,
            "failed to inspect the repository",
        )?;
        Ok(String::from_utf8_lossy(&out).trim() == "true")
    }

    /// The branch to read: `branch` as given, else the one HEAD points at (`HEAD` when detached).
    pub fn branch(&self, branch: Option<&str>) -> Result<String> {
        if let Some(b) = branch {
            let out = self.git(&["rev-parse", "--verify", "--quiet", &format!("{b}^{{commit}}")], None)?;
            if !out.status.success() {
                return Err(Error::Git {
                    path: self.path.clone(),
                    message: format!("no branch or commit `{b}`"),
                });
            }
            return Ok(b.to_string());
        }
        let out = self.git(&["symbolic-ref", "--quiet", "--short", "HEAD"], None)?;
        let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let head = self.git(&["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], None)?;
        if !head.status.success() {
            return Err(Error::Git {
                path: self.path.clone(),
                message: "the repository has no commits".into(),
            });
        }
        Ok(if out.status.success() && !name.is_empty() {
            name
        } else {
            "HEAD".into()
        })
    }

    /// `owner/name` from the `origin` remote's URL, if there is one.
    pub fn origin_name(&self) -> Option<String> {
        let out = self.git(&["remote", "get-url", "origin"], None).ok()?;
        out.status.success().then_some(())?;
        name_from_url(String::from_utf8_lossy(&out.stdout).trim())
    }

    /// Commits reachable from `branch` but not from any of `exclude` (shas; ones git does not
    /// know are ignored), newest first.
    pub fn log(&self, branch: &str, exclude: &[String]) -> Result<Vec<Commit>> {
        self.read_log(
            branch,
            exclude,
            &["-z", "--format=%H%x1f%P%x1f%an%x1f%at%x1f%ct%x1f%s%x1f%b"],
            &format!("failed to read the history of `{branch}`"),
            parse_log,
        )
    }

    /// Lines added and deleted by each commit of the same range as [`Repo::log`], by sha, from
    /// `git log --numstat` (a binary file counts 0). Merge commits have no diff, hence no entry.
    pub fn line_counts(
        &self,
        branch: &str,
        exclude: &[String],
    ) -> Result<std::collections::HashMap<String, (i64, i64)>> {
        self.read_log(
            branch,
            exclude,
            &["--no-merges", "--numstat", "--format=%x1e%H"],
            &format!("failed to count the lines changed on `{branch}`"),
            parse_numstat,
        )
    }

    /// `git log ARGS` over `branch` but not `exclude` (given on stdin: thousands of tips do not
    /// fit a command line), parsed by `parse`; its error quotes the output.
    fn read_log<T>(
        &self,
        branch: &str,
        exclude: &[String],
        args: &[&str],
        what: &str,
        parse: fn(&[u8]) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let mut stdin = String::with_capacity(exclude.len() * 42 + branch.len() + 1);
        stdin.push_str(branch);
        stdin.push('\n');
        for sha in exclude {
            stdin.push('^');
            stdin.push_str(sha);
            stdin.push('\n');
        }
        let mut all = vec!["log", "--stdin", "--ignore-missing"];
        all.extend_from_slice(args);
        let out = self.git_ok(&all, Some(stdin.as_bytes()), what)?;
        parse(&out).map_err(|message| Error::Git {
            path: self.path.clone(),
            message,
        })
    }

    /// Every tag, peeled to its commit.
    pub fn tags(&self) -> Result<Vec<Tag>> {
        let out = self.git_ok(
            &[
                "for-each-ref",
                "--format=%(refname:strip=2)%1f%(objecttype)%1f%(objectname)%1f%(*objecttype)%1f%(*objectname)%1f%(taggerdate:unix)%1f%(committerdate:unix)%1f%(*committerdate:unix)",
                "refs/tags",
            ],
            None,
            "failed to list the tags",
        )?;
        Ok(String::from_utf8_lossy(&out).lines().filter_map(parse_tag).collect())
    }
}

/// The sums of `git log --numstat --format=%x1e%H` output: per commit, a record separator, its
/// sha, then `added<TAB>deleted<TAB>path` per file (`-` for a binary file). A line of another
/// shape is an error quoting it.
pub fn parse_numstat(bytes: &[u8]) -> std::result::Result<std::collections::HashMap<String, (i64, i64)>, String> {
    let text = String::from_utf8_lossy(bytes);
    let mut counts = std::collections::HashMap::new();
    for record in text.split('\x1e').filter(|r| !r.trim().is_empty()) {
        let mut lines = record.lines().filter(|l| !l.is_empty());
        let Some(sha) = lines.next().map(str::trim) else {
            continue;
        };
        let (mut added, mut deleted) = (0i64, 0i64);
        for line in lines {
            let bad = || format!("unexpected `git log --numstat` output for {sha}: {line:?}");
            let mut fields = line.splitn(3, '\t');
            let (Some(a), Some(d), Some(_path)) = (fields.next(), fields.next(), fields.next()) else {
                return Err(bad());
            };
            let count = |n: &str| match n {
                "-" => Ok(0),
                n => n.parse::<i64>().map_err(|_| bad()),
            };
            added = added.saturating_add(count(a)?);
            deleted = deleted.saturating_add(count(d)?);
        }
        counts.insert(sha.to_string(), (added, deleted));
    }
    Ok(counts)
}

/// Seconds since the epoch as microseconds; `None` when it is not a number or is out of range.
fn seconds(text: &str) -> Option<Micros> {
    text.trim()
        .parse::<i64>()
        .ok()
        .and_then(|s| s.checked_mul(MICROS_PER_SECOND))
}

/// The commits of `git log -z --format=%H%x1f%P%x1f%an%x1f%at%x1f%ct%x1f%s%x1f%b` output (the
/// body, the seventh field, may be left out); a record of fewer fields, or whose times are not
/// seconds in range, is an error quoting it.
pub fn parse_log(bytes: &[u8]) -> std::result::Result<Vec<Commit>, String> {
    let text = String::from_utf8_lossy(bytes);
    text.split('\0')
        .map(|r| r.trim_start_matches('\n'))
        .filter(|r| !r.is_empty())
        .map(|record| {
            let f: Vec<&str> = record.splitn(7, '\x1f').collect();
            let bad = || format!("unexpected `git log` output: {record:?}");
            if f.len() < 6 {
                return Err(bad());
            }
            Ok(Commit {
                sha: f[0].to_string(),
                parents: f[1].split_whitespace().map(str::to_string).collect(),
                author: f[2].to_string(),
                authored_at: seconds(f[3]).ok_or_else(bad)?,
                committed_at: seconds(f[4]).ok_or_else(bad)?,
                subject: f[5].to_string(),
                body: f.get(6).map_or_else(String::new, |b| b.trim_end().to_string()),
            })
        })
        .collect()
}

fn parse_tag(line: &str) -> Option<Tag> {
    let f: Vec<&str> = line.split('\x1f').collect();
    if f.len() != 8 {
        return None;
    }
    let (commit, tagged_at, committed_at) = match (f[1], f[3]) {
        ("commit", _) => (Some(f[2]), None, seconds(f[6])),
        ("tag", "commit") => (Some(f[4]), seconds(f[5]), seconds(f[7])),
        // A tag of a tree or a blob, or a tag of a tag: not a deployment of a commit.
        _ => (None, seconds(f[5]), None),
    };
    Some(Tag {
        name: f[0].to_string(),
        commit: commit.map(str::to_string),
        tagged_at,
        committed_at,
    })
}

/// `owner/name` from `git@host:owner/name.git`, `https://host/owner/name(.git)`, `ssh://...`.
pub fn name_from_url(url: &str) -> Option<String> {
    let path = url.trim_end_matches('/').trim_end_matches(".git");
    let path = match path.split_once("://") {
        Some((_, rest)) => rest.split_once('/')?.1,
        None => path.rsplit_once(':').map_or(path, |(_, p)| p),
    };
    let mut parts = path.rsplit('/');
    let name = parts.next().filter(|s| !s.is_empty())?;
    let owner = parts.next().filter(|s| !s.is_empty())?;
    Some(format!("{owner}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numstat_sums_each_commit_and_counts_binary_files_as_zero() {
        let out =
            b"\x1eaaa\n\n3\t1\tsrc/a.rs\n-\t-\tlogo.png\n10\t0\tdocs/{old => new}.md\n\x1ebbb\n\x1eccc\n\n0\t7\tb.rs\n";
        let counts = parse_numstat(out).unwrap();
        assert_eq!(counts["aaa"], (13, 1));
        assert_eq!(counts["bbb"], (0, 0));
        assert_eq!(counts["ccc"], (0, 7));
        let err = parse_numstat(b"\x1eaaa\n\nx\t1\tf\n").unwrap_err();
        assert!(err.contains("aaa") && err.contains("x\\t1\\tf"), "{err}");
    }

    #[test]
    fn names_from_remote_urls() {
        for (url, name) in [
            ("git@github.com:acme/api.git", "acme/api"),
            ("https://github.com/acme/api", "acme/api"),
            ("https://github.com/acme/api.git/", "acme/api"),
            ("ssh://git@ghe.example.com:2222/acme/api.git", "acme/api"),
            ("https://gitlab.example.com/group/sub/api.git", "sub/api"),
        ] {
            assert_eq!(name_from_url(url).as_deref(), Some(name), "{url}");
        }
        assert_eq!(name_from_url("/srv/git/api"), Some("git/api".into()));
    }

    #[test]
    fn log_records() {
        let out = b"aaa\x1fbbb ccc\x1fAna\x1f100\x1f200\x1fMerge x\0\nbbb\x1f\x1fBen\x1f1\x1f2\x1fFirst\0";
        let commits = parse_log(out).unwrap();
        assert_eq!(commits.len(), 2);
        assert_eq!(commits[0].parents, ["bbb", "ccc"]);
        assert_eq!(commits[0].committed_at, 200 * MICROS_PER_SECOND);
        assert!(commits[1].parents.is_empty());
        assert!(parse_log(b"garbage\0").is_err());
    }
}
