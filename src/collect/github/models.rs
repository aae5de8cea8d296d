//! The parts of GitHub's REST responses dora reads. Only the fields used are declared, so new
//! fields GitHub adds never break a sync; every timestamp is RFC 3339 UTC (`...Z`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Repository {
    pub full_name: String,
    pub default_branch: Option<String>,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub fork: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Sha {
    pub sha: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GitPerson {
    pub name: Option<String>,
    pub date: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CommitDetail {
    pub author: Option<GitPerson>,
    pub committer: Option<GitPerson>,
    #[serde(default)]
    pub message: String,
}

/// An item of `GET /repos/{o}/{r}/commits` and of a comparison's `commits`.
#[derive(Debug, Clone, Deserialize)]
pub struct Commit {
    pub sha: String,
    #[serde(default)]
    pub parents: Vec<Sha>,
    pub commit: CommitDetail,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Comparison {
    #[serde(default)]
    pub total_commits: u64,
    #[serde(default)]
    pub commits: Vec<Commit>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Deployment {
    pub id: u64,
    pub sha: String,
    pub environment: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DeploymentStatus {
    pub state: String,
    pub created_at: String,
    pub log_url: Option<String>,
    pub target_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Release {
    pub tag_name: String,
    pub html_url: Option<String>,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub prerelease: bool,
    pub published_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Tag {
    pub name: String,
    pub commit: Sha,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRuns {
    #[serde(default)]
    pub workflow_runs: Vec<WorkflowRun>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRun {
    pub id: u64,
    pub head_sha: String,
    pub status: Option<String>,
    pub conclusion: Option<String>,
    pub updated_at: String,
    pub html_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Label {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    pub html_url: Option<String>,
    pub body: Option<String>,
    pub created_at: String,
    pub closed_at: Option<String>,
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Present when the "issue" is a pull request (the issues endpoint returns both).
    pub pull_request: Option<serde_json::Value>,
    /// `completed`, `not_planned`, `reopened` or null.
    pub state_reason: Option<String>,
    /// The organization's issue type (Bug, Feature, Task...), where set.
    #[serde(rename = "type")]
    pub issue_type: Option<IssueType>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IssueType {
    pub name: String,
}

/// An item of `GET /repos/{o}/{r}/issues/{n}/events`.
#[derive(Debug, Clone, Deserialize)]
pub struct IssueEvent {
    pub event: String,
    /// The commit that closed the issue, for a `closed` event caused by one.
    pub commit_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PullBase {
    #[serde(rename = "ref")]
    pub branch: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub login: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    #[serde(default)]
    pub title: String,
    pub body: Option<String>,
    pub user: Option<User>,
    pub created_at: Option<String>,
    pub merged_at: Option<String>,
    pub merge_commit_sha: Option<String>,
    pub updated_at: String,
    pub html_url: Option<String>,
    pub base: PullBase,
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Only in the single pull request's body (`GET /pulls/{n}`).
    pub additions: Option<i64>,
    pub deletions: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Review {
    pub user: Option<User>,
    pub state: String,
    pub submitted_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GitRefObject {
    #[serde(rename = "type")]
    pub kind: String,
    pub sha: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GitRef {
    pub object: GitRefObject,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Tagger {
    pub date: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GitTag {
    pub tagger: Option<Tagger>,
    pub object: GitRefObject,
}

#[cfg(test)]
mod tests {
    //! Every body of ../shared/github-api this collector reads deserialises (copies in
    //! fixtures/github/).
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/github")
                .join(name),
        )
        .unwrap()
    }

    #[test]
    fn real_bodies_deserialise() {
        let commits: Vec<Commit> = serde_json::from_str(&fixture("repos_list_commits.json")).unwrap();
        assert!(!commits.is_empty() && commits[0].commit.committer.as_ref().unwrap().date.is_some());
        let comparison: Comparison = serde_json::from_str(&fixture("repos_compare_commits.json")).unwrap();
        assert!(!comparison.commits.is_empty());
        let deployments: Vec<Deployment> = serde_json::from_str(&fixture("repos_list_deployments.json")).unwrap();
        assert_eq!(deployments[0].environment.as_deref(), Some("production"));
        let statuses: Vec<DeploymentStatus> =
            serde_json::from_str(&fixture("repos_list_deployment_statuses.json")).unwrap();
        assert_eq!(statuses[0].state, "success");
        let releases: Vec<Release> = serde_json::from_str(&fixture("repos_list_releases.json")).unwrap();
        assert!(!releases[0].tag_name.is_empty());
        let tags: Vec<Tag> = serde_json::from_str(&fixture("repos_list_tags.json")).unwrap();
        assert!(!tags[0].commit.sha.is_empty());
        let runs: WorkflowRuns = serde_json::from_str(&fixture("actions_list_workflow_runs.json")).unwrap();
        assert!(!runs.workflow_runs.is_empty());
        let issues: Vec<Issue> = serde_json::from_str(&fixture("issues_list_for_repo.json")).unwrap();
        assert!(issues[0].pull_request.is_some(), "the example issue is a pull request");
        let pulls: Vec<PullRequest> = serde_json::from_str(&fixture("pulls_list.json")).unwrap();
        assert!(!pulls[0].base.branch.is_empty());
        let reviews: Vec<Review> = serde_json::from_str(&fixture("pulls_list_reviews.json")).unwrap();
        assert!(reviews[0].submitted_at.is_some());
        let repos: Vec<Repository> = serde_json::from_str(&fixture("repos_list_for_org.json")).unwrap();
        assert!(!repos[0].full_name.is_empty());
    }
}
