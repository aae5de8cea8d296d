use std::process::ExitCode;

use clap::Parser;
use dora::cli::Cli;
use dora::commands::{self, ExitStatus};

fn main() -> ExitCode {
    match commands::run(Cli::parse()) {
        Ok(status) => status.into(),
        // `dora metrics | head` closes the pipe early; that is not an error.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            #[expect(clippy::print_stderr, reason = "main reports the error that ends the process")]
            {
                eprintln!("error: {err:#}");
                if let Some(hint) = commands::hint::hint(&err) {
                    eprintln!("\nhint: {hint}");
                }
            }
            ExitStatus::Error.into()
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
