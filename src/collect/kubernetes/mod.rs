//! Delivery controllers' objects, as `kubectl get ... -o json` prints them: Argo Rollouts'
//! Rollouts, Flagger's Canaries and Argo CD's Applications, into `deployments` rows.
//!
//! A controller's object shows only its latest revision. Each revision is one deployment, keyed
//! `namespace/name@revision`, so importing snapshots taken every few minutes (a `CronJob`, a CI
//! step) builds the history, and importing the same snapshot again changes nothing. A revision
//! still rolling out is not a deployment yet: it is left out, and a later snapshot brings it.

pub mod argo_cd;
pub mod argo_rollouts;
pub mod flagger;

use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::table::frame_from;
use crate::table::schema::{self, deployments as d};
use crate::timestamp::Micros;

/// How the objects map onto deployments.
#[derive(Debug, Clone)]
pub struct Options {
    /// The environment of the deployments (`production`).
    pub environment: String,
    /// The repository of every deployment; else the object's `dora.dev/repo` annotation, else
    /// `namespace/name`.
    pub repo: Option<String>,
    /// An annotation naming the deployed commit; else the first container image's tag.
    pub commit_annotation: Option<String>,
}

/// One deployment read from an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: String,
    pub repo: String,
    pub status: &'static str,
    pub started_at: Option<Micros>,
    pub deployed_at: Micros,
    pub exposure: Option<f64>,
    pub sha: Option<String>,
}

/// What a file held: the deployments, and the objects left out with why.
#[derive(Debug, Default)]
pub struct Read {
    pub rows: Vec<Row>,
    /// `(object, reason)`: still rolling out, or not an object of this kind.
    pub skipped: Vec<(String, String)>,
}

/// A problem with an object: the file, the JSON path and what is wrong.
pub fn bad(file: &Path, path: &str, message: impl Into<String>) -> Error {
    Error::NotJson {
        file: PathBuf::from(file),
        path: path.to_string(),
        message: message.into(),
    }
}

/// The objects of a `kubectl get -o json` answer: a `List` (its `items`) or one object.
pub fn objects(file: &Path) -> Result<Vec<(String, Value)>> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::io("read", file, e))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| bad(file, "$", format!("not JSON: {e}")))?;
    match value.get("items") {
        Some(Value::Array(items)) => Ok(items
            .iter()
            .enumerate()
            .map(|(n, item)| (format!("$.items[{n}]"), item.clone()))
            .collect()),
        Some(_) => Err(bad(file, "$.items", "not a list")),
        None => Ok(vec![("$".to_string(), value)]),
    }
}

/// `namespace/name` of an object.
pub fn name_of(object: &Value) -> String {
    let meta = &object["metadata"];
    let name = meta["name"].as_str().unwrap_or("?");
    match meta["namespace"].as_str() {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

/// A Kubernetes timestamp (RFC 3339) at `path` of `object`; `None` when absent or null.
pub fn time(file: &Path, at: &str, value: &Value) -> Result<Option<Micros>> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => crate::timestamp::parse(text, chrono_tz::UTC)
            .map(Some)
            .ok_or_else(|| bad(file, at, format!("`{text}` is not a time"))),
        other => Err(bad(file, at, format!("`{other}` is not a time"))),
    }
}

/// The repository and commit of an object, from the options, its annotations or its image.
pub fn repo_and_sha(object: &Value, containers: &Value, options: &Options) -> (String, Option<String>) {
    let annotations = &object["metadata"]["annotations"];
    let repo = options
        .repo
        .clone()
        .or_else(|| annotations["dora.dev/repo"].as_str().map(str::to_string))
        .unwrap_or_else(|| name_of(object));
    let sha = match &options.commit_annotation {
        Some(a) => annotations[a.as_str()].as_str().map(str::to_string),
        None => containers[0]["image"]
            .as_str()
            .and_then(|image| image.rsplit_once(':'))
            .map(|(_, tag)| tag.to_string())
            .filter(|tag| !tag.contains('/')),
    };
    (repo, sha)
}

/// The rows as a `deployments` frame.
pub fn frame(rows: &[Row], options: &Options) -> Result<DataFrame> {
    let n = rows.len();
    frame_from(
        &schema::DEPLOYMENTS,
        n,
        &[
            Column::new(d::ID.into(), rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>()),
            Column::new(d::REPO.into(), rows.iter().map(|r| r.repo.as_str()).collect::<Vec<_>>()),
            Column::new(d::ENVIRONMENT.into(), vec![options.environment.as_str(); n]),
            Column::new(d::STATUS.into(), rows.iter().map(|r| r.status).collect::<Vec<_>>()),
            Column::new(
                d::STARTED_AT.into(),
                rows.iter().map(|r| r.started_at).collect::<Vec<_>>(),
            ),
            Column::new(
                d::DEPLOYED_AT.into(),
                rows.iter().map(|r| r.deployed_at).collect::<Vec<_>>(),
            ),
            Column::new(d::EXPOSURE.into(), rows.iter().map(|r| r.exposure).collect::<Vec<_>>()),
            Column::new(d::SHA.into(), rows.iter().map(|r| r.sha.clone()).collect::<Vec<_>>()),
        ],
    )
}
