//! Fuzzing `haven check`'s readers (see `haven_test_support::fuzz` for the budget and the
//! memory cap): `--config` files mutated from `tests/corpus/check-config/` and `--waivers`
//! files from `tests/corpus/check-waivers/` read or fail naming the file and a line of it.

use haven_checks::{CheckConfig, parse_waivers};
use haven_test_support::fuzz::{self, YAML_TOKENS};

/// `file:LINE: …` with LINE a line of `text` (or one past its end).
fn names_a_line(message: &str, file: &str, text: &str) -> bool {
    let lines = fuzz::yaml_lines(text) as usize;
    message
        .strip_prefix(file)
        .and_then(|m| m.strip_prefix(':'))
        .and_then(|m| m.split_once(':'))
        .and_then(|(line, _)| line.parse::<usize>().ok())
        .is_some_and(|line| (1..=lines + 1).contains(&line))
}

#[test]
fn check_config_files_read_or_fail_with_a_line() {
    let seeds = fuzz::corpus(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/check-config"
    ));
    fuzz::run(
        "check-config",
        fuzz::mutations(seeds, YAML_TOKENS),
        |input| {
            let text = input.text();
            match CheckConfig::with_overrides("config.yaml", &text) {
                Ok(_) => Ok(()),
                Err(e) if names_a_line(&e.to_string(), "config.yaml", &text) => Ok(()),
                Err(e) => Err(format!("error without a place: {e}")),
            }
        },
    );
}

#[test]
fn check_waiver_files_read_or_fail_with_a_line() {
    let seeds = fuzz::corpus(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/check-waivers"
    ));
    let known = haven_checks::catalogue::check_names();
    fuzz::run(
        "check-waivers",
        fuzz::mutations(seeds, YAML_TOKENS),
        |input| {
            let text = input.text();
            match parse_waivers("waivers.yaml", &text, &known) {
                Ok(waivers) => match waivers.iter().find(|w| w.reason.trim().is_empty()) {
                    Some(w) => Err(format!("a waiver without a reason was read: {w:?}")),
                    None => Ok(()),
                },
                Err(e) if names_a_line(&e, "waivers.yaml", &text) => Ok(()),
                Err(e) => Err(format!("error without a place: {e}")),
            }
        },
    );
}
