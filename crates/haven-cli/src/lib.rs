//! The `haven` command line: argument parsing, wiring of the crates, exit codes.
//!
//! Exit codes (documented in README.md and `haven --help`):
//! - 0: nothing blocking
//! - 1: blocking findings (unwaived, severity >= `--fail-on`)
//! - 2: usage error, or input that could not be read

mod admission_cmd;
mod app_check;
mod check_cmd;
mod cli;
pub mod diag;
mod http;
mod plus_backups;
pub mod plus_charts;
mod plus_cmd;
mod plus_status;
mod plus_vendor;
mod rules_cmd;

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

pub use diag::{Diagnostic, Problem};

pub use cli::Cli;

/// Exit code: nothing blocking.
pub const EXIT_OK: u8 = 0;
/// Exit code: blocking findings.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: usage error or unreadable input.
pub const EXIT_ERROR: u8 = 2;

/// The full CLI definition, for completions and the man page.
pub fn command() -> clap::Command {
    Cli::command()
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let result = match cli.command {
        cli::Command::App {
            command: cli::AppCommand::Check(args),
        } => app_check::run(&args),
        cli::Command::Rules(args) => rules_cmd::run(&args),
        cli::Command::Check(args) => check_cmd::run(&args),
        cli::Command::Snapshot(args) => check_cmd::snapshot(&args),
        cli::Command::Admission {
            command: cli::AdmissionCommand::Serve(args),
        } => admission_cmd::serve(&args),
        cli::Command::Plus { command } => plus_cmd::run(&command),
        cli::Command::Completions { shell } => {
            clap_complete::generate(shell, &mut command(), "haven", &mut std::io::stdout());
            Ok(EXIT_OK)
        }
        cli::Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(command())
                .render(&mut out)
                .map_err(|e| Diagnostic::from(format!("cannot render the man page: {e}")))
                .map(|()| {
                    let _ = std::io::stdout().write_all(&out);
                    EXIT_OK
                })
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(diagnostic) => {
            diagnostic.print(&mut std::io::stderr().lock());
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// clap's own errors (unknown flag, bad value) in the one voice: `haven: error: …`, exit 2;
/// `--help` and `--version` print as clap prints them and exit 0.
fn usage_error(e: &clap::Error) -> ExitCode {
    if !e.use_stderr() {
        let _ = e.print();
        return ExitCode::from(EXIT_OK);
    }
    let text = e.render().to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    // clap's first paragraph (what is wrong, and the flag or value on the lines under it) on
    // one line, so that the error line names the flag; then its usage, as clap wrote it.
    let (what, rest) = text.split_once("\n\n").unwrap_or((text, ""));
    let what = what.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    let _ = write!(std::io::stderr(), "haven: error: {what}\n\n{rest}");
    ExitCode::from(EXIT_ERROR)
}
