//! The rejects file of `dora import --skip-invalid`: one row per problem, with the record as it
//! was written, so the rows can be fixed and imported again.

use std::io::Write;

use crate::error::Reject;

/// The columns of the rejects file.
pub const HEADER: [&str; 7] = ["table", "file", "line", "column", "value", "reason", "record"];

pub fn render(rejects: &[&Reject], out: &mut dyn Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    for r in rejects {
        let record = r.record.join(",");
        let line = r.problem.line.to_string();
        let file = r.problem.file.display().to_string();
        w.write_record([
            r.table,
            &file,
            &line,
            &r.problem.column,
            &r.problem.value,
            &r.problem.reason,
            &record,
        ])?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Problem;

    #[test]
    fn one_row_per_problem_quoted_where_needed() {
        let reject = Reject {
            table: "deployments",
            problem: Problem {
                file: "exports/deployments.csv".into(),
                line: 7,
                column: "deployed_at".into(),
                value: "yesterday, noon".into(),
                reason: "not a timestamp".into(),
            },
            record: vec!["d7".into(), "acme/api".into(), "yesterday, noon".into()],
        };
        let mut out = Vec::new();
        render(&[&reject], &mut out).expect("written");
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            "table,file,line,column,value,reason,record\n\
             deployments,exports/deployments.csv,7,deployed_at,\"yesterday, noon\",not a timestamp,\"d7,acme/api,yesterday, noon\"\n"
        );
    }
}
