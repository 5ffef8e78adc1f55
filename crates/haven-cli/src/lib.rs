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
mod http;
pub mod plus_charts;
mod plus_cmd;
mod plus_status;
mod plus_vendor;
mod rules_cmd;

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

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
    let cli = Cli::parse();
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
                .map_err(|e| e.to_string())
                .map(|()| {
                    let _ = std::io::stdout().write_all(&out);
                    EXIT_OK
                })
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "haven: error: {message}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
