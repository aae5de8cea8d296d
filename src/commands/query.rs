//! `dora query`: SQL or a saved query over the tables and the metric views.

use std::fmt::Write as _;

use anyhow::Context as _;

use crate::cli::{GlobalArgs, QueryArgs, WindowArgs};
use crate::commands::ExitStatus;
use crate::commands::resolve::{Scope, group_by};
use crate::error::Error;
use crate::output::frame;
use crate::query::params::{self, Bound, ParamDecl};
use crate::query::{catalogue, prepare, saved};
use crate::settings;

/// Parameters every query has: the window's bounds.
const WINDOW_PARAMS: [&str; 2] = ["since", "until"];

pub fn run(global: &GlobalArgs, args: &QueryArgs) -> anyhow::Result<ExitStatus> {
    if args.list {
        let text = list(args)?;
        return print(args, |out| out.write_all(text.as_bytes()));
    }
    let zone = settings::time_zone(&args.scope.data.tz)?;

    // The SQL and its declared parameters: inline, from a file, or a saved query.
    let (sql, decls) = match (&args.query, &args.file) {
        (_, Some(path)) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))?;
            let q = saved::parse("file", &text, &path.display().to_string())?;
            (q.sql, q.params)
        }
        (Some(q), None) if is_name(q) => {
            let q = saved::find(q, args.queries.as_deref())?;
            (q.sql, q.params)
        }
        (Some(q), None) => (q.clone(), Vec::new()),
        (None, None) => (String::new(), Vec::new()),
    };
    if let Some(d) = decls.iter().find(|d| WINDOW_PARAMS.contains(&d.name.as_str())) {
        return Err(Error::Query {
            message: format!(
                "a query cannot declare `{}`: `$since` and `$until` are the window's bounds",
                d.name
            ),
        }
        .into());
    }

    // `--param since=...` and `--param until=...` are the window flags under another name.
    let window_param = |name: &str| args.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let window_args = &args.scope.window;
    let window_args = WindowArgs {
        since: either("--since", window_args.since.as_deref(), window_param("since"))?.map(str::to_string),
        until: either("--until", window_args.until.as_deref(), window_param("until"))?.map(str::to_string),
        all: window_args.all,
        as_of: window_args.as_of.clone(),
    };
    let given: Vec<(String, String)> = args
        .params
        .iter()
        .filter(|(n, _)| !WINDOW_PARAMS.contains(&n.as_str()))
        .cloned()
        .collect();
    let mut bindings = params::bind(&decls, &given, zone)?;

    let scope = Scope::load(global, &args.scope, None)?;
    let window = scope.window_of(&window_args)?;
    bindings.insert("since".into(), Bound::Timestamp(window.since));
    bindings.insert("until".into(), Bound::Timestamp(window.until));

    let context = scope.context(window, args.by.map(group_by), Some(args.period));
    let prepared = if args.tables && args.query.is_none() && args.file.is_none() {
        None
    } else {
        Some(prepare(&sql, &bindings)?)
    };
    let catalog = catalogue::build(&scope.tables, &context, prepared.as_ref(), args.tables)?;
    if args.tables {
        let text = catalogue::describe(&catalog)?;
        return print(args, |out| out.write_all(text.as_bytes()));
    }
    let Some(prepared) = prepared else {
        return Ok(ExitStatus::Success);
    };
    let mut result = catalog.run(&prepared)?;
    print(args, |out| frame::render(&mut result, args.output.format, out))
}

/// A saved query's name: letters, digits, `-` and `_` only (no SQL is that).
fn is_name(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn either<'a>(flag: &'static str, a: Option<&'a str>, b: Option<&'a str>) -> anyhow::Result<Option<&'a str>> {
    match (a, b) {
        (Some(_), Some(_)) => Err(Error::Query {
            message: format!("{flag} and `--param {}=...` both set the window; give one", &flag[2..]),
        }
        .into()),
        _ => Ok(a.or(b)),
    }
}

/// `--list`: the saved queries, their summaries and parameters.
fn list(args: &QueryArgs) -> anyhow::Result<String> {
    let mut text = String::new();
    for q in saved::all(args.queries.as_deref())? {
        let origin = q
            .path
            .as_ref()
            .map(|p| format!(" ({})", p.display()))
            .unwrap_or_default();
        let _ = writeln!(text, "{}{origin}\n  {}", q.name, q.summary);
        for p in &q.params {
            let _ = writeln!(text, "  --param {}", param_line(p));
        }
    }
    let _ = writeln!(
        text,
        "\nRun one with `dora query NAME [--param NAME=VALUE]...`; the SQL is in queries/NAME.sql."
    );
    Ok(text)
}

fn param_line(p: &ParamDecl) -> String {
    let mut line = format!("{}=<{}>", p.name, p.ty);
    if let Some(default) = &p.default {
        let _ = write!(line, " (default {default})");
    }
    if !p.doc.is_empty() {
        let _ = write!(line, ": {}", p.doc);
    }
    line
}

fn print(
    args: &QueryArgs,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> anyhow::Result<ExitStatus> {
    super::print_or_write(args.output.out.as_deref(), args.output.format, write)
}
