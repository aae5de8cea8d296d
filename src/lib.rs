//! dora: DORA metrics from CSV exports, a local git clone or the GitHub API, in one binary.
//!
//! Data flows one way: [`collect`] reads exports into the canonical tables of [`schema`],
//! [`store`] keeps them as Parquet, [`analysis`] computes the metrics as one lazy Polars plan
//! into a [`report::Scorecard`], and [`output`] renders it. [`query`] runs SQL over the same
//! tables and over the facts behind the figures ([`analysis::views`]).
//!
//! ```
//! use dora::analysis::{self, Context, Window};
//! use dora::table::{Tables, empty_frame};
//!
//! let tables = Tables::try_from_fn(|t| Ok::<_, dora::Error>(empty_frame(t))).unwrap().lazy();
//! let ctx = Context {
//!     window: Window { since: 0, until: 86_400_000_000 },
//!     zone: chrono_tz::UTC,
//!     environment: "production".into(),
//!     group_by: None,
//!     period: None,
//! };
//! let report = analysis::compute(&tables, &ctx).unwrap();
//! assert_eq!(report.overall.deployments, 0);
//! assert_eq!(report.overall.change_failure_rate, None); // unknown, not 0
//! ```

pub mod analysis;
pub mod cli;
pub mod collect;
pub mod commands;
pub mod config;
pub mod error;
pub mod generate;
pub mod output;
pub mod query;
pub mod settings;
pub mod slices;
pub mod store;
pub mod table;
pub mod timestamp;

pub use error::{Error, Result};
