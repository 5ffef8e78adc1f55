//! `haven rules` and `haven rules explain`.

use crate::diag::Diagnostic;
use std::io::Write;

use crate::cli::{RulesArgs, RulesCommand};

pub fn run(args: &RulesArgs) -> Result<u8, Diagnostic> {
    let mut out = std::io::stdout().lock();
    let rules = haven_rules::rules();
    let write_err = |e: std::io::Error| e.to_string();
    match &args.command {
        Some(RulesCommand::Explain { rule }) => {
            let Some(r) = haven_rules::rule(rule) else {
                let hint = haven_model::did_you_mean(rule, rules.iter().map(|r| r.id))
                    .map(|id| format!("; did you mean `{id}`?"))
                    .unwrap_or_default();
                return Err(
                    format!("unknown rule `{rule}` (`haven rules` lists them all){hint}").into(),
                );
            };
            if args.json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(r).map_err(|e| e.to_string())?
                )
                .map_err(write_err)?;
            } else {
                writeln!(
                    out,
                    "{}\n  {}\n\nlevel:     {}\nseverity:  {}\nscope:     {}\n\nWhy\n  {}\n\nFix\n  {}\n\nWaive with the annotation\n  {}{}: <reason>\nReference: {}",
                    r.id,
                    r.title,
                    r.level,
                    r.severity,
                    match r.scope {
                        haven_model::RuleScope::Object => "object (also enforced at admission)",
                        haven_model::RuleScope::Application => "application (needs the other objects of the app)",
                    },
                    r.rationale,
                    r.fix,
                    haven_rules::waiver::ANNOTATION_PREFIX,
                    r.id,
                    r.help_uri
                )
                .map_err(write_err)?;
            }
        }
        None if args.json => {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(rules).map_err(|e| e.to_string())?
            )
            .map_err(write_err)?;
        }
        None => {
            writeln!(out, "{:<42} {:<15} {:<9} TITLE", "ID", "LEVEL", "SEVERITY")
                .map_err(write_err)?;
            for r in rules {
                writeln!(
                    out,
                    "{:<42} {:<15} {:<9} {}",
                    r.id,
                    r.level.as_str(),
                    r.severity.as_str(),
                    r.title
                )
                .map_err(write_err)?;
            }
        }
    }
    Ok(crate::EXIT_OK)
}
