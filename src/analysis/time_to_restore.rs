//! Time to restore service: from an incident's creation to its resolution.

use polars::prelude::*;

use super::{ATTRIBUTED, CREATED, RESOLVED, hours};

pub const HOURS: &str = "restore_hours";
pub const OPEN: &str = "restore_open";
pub const UNATTRIBUTED: &str = "unattributed";

/// Adds the restore time (null while open) and flags to attributed incidents.
pub fn facts(incidents: LazyFrame) -> LazyFrame {
    incidents.with_columns([
        hours(col(RESOLVED), col(CREATED)).alias(HOURS),
        col(RESOLVED).is_null().alias(OPEN),
        col(ATTRIBUTED).is_null().alias(UNATTRIBUTED),
    ])
}

pub fn aggregations() -> Vec<Expr> {
    vec![
        col(HOURS).count().cast(DataType::Int64).alias("ttr_count"),
        col(HOURS)
            .quantile(lit(0.5), QuantileMethod::Linear)
            .alias("ttr_median"),
        col(HOURS).quantile(lit(0.9), QuantileMethod::Linear).alias("ttr_p90"),
        col(OPEN).sum().cast(DataType::Int64).alias("ttr_open"),
        col(UNATTRIBUTED).sum().cast(DataType::Int64).alias("unattributed"),
    ]
}
