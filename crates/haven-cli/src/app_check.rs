//! `haven app check`: read inputs, run the rules, apply waivers, render, pick the exit code.

use crate::diag::{Diagnostic, Problem};
use std::io::{IsTerminal, Write};

use haven_input::{FileReader, HelmCommand, HelmOptions, Input};
use haven_model::RuleScope;
use haven_report::{Format, Report, TextOptions};
use haven_rules::{AppCheck, CheckOptions, Groups};

use crate::cli::{CheckArgs, ColorArg, FormatArg, LangArg, PssLevelArg};

pub fn run(args: &CheckArgs) -> Result<u8, Diagnostic> {
    let lang = LangArg::for_html(args.lang, args.format == FormatArg::Html, "--format")?;
    let helm = HelmOptions {
        helm: args.helm.clone(),
        values: args.values.clone(),
        set: args.set.clone(),
        set_string: args.set_string.clone(),
        namespace: args.namespace.clone(),
        release: args.release.clone(),
        kube_version: args.kube_version.clone(),
        timeout: args.helm_timeout,
        max_output: args.helm_max_output,
        ..HelmOptions::default()
    };
    let mut waiver_files = Vec::new();
    for path in &args.waivers {
        let name = path.display().to_string();
        let text = haven_input::read_text(path).map_err(|e| Problem::from(&e).flag("--waivers"))?;
        let file = haven_rules::parse_waiver_file(&name, &text).map_err(Diagnostic::from)?;
        for note in &file.notes {
            eprintln!("haven: warning: {note}");
        }
        waiver_files.push(file);
    }

    let renderer = CountingRenderer::default();
    let listed = haven_input::list(&args.inputs, &renderer, &helm, &mut std::io::stdin().lock());
    if renderer.charts.load(std::sync::atomic::Ordering::Relaxed) == 0 {
        chart_options_apply(args)?;
    }

    let options = CheckOptions {
        pss: match args.pss_level {
            PssLevelArg::None => None,
            PssLevelArg::Baseline => Some((haven_pss::Level::Baseline, args.pss_version)),
            PssLevelArg::Restricted => Some((haven_pss::Level::Restricted, args.pss_version)),
        },
        groups: Groups {
            haven: !args.no_haven,
            plus: !args.no_plus,
            input: true,
        },
        scope: RuleScope::Application,
        skip: args.skip.clone(),
        tags: haven_rules::TagPolicy {
            pinned: args.pinned_tag.clone(),
            moving: args.moving_tag.clone(),
        },
        internal_domains: args.internal_domain.clone(),
        tenant: haven_rules::TenantPolicy {
            allowed_registries: (!args.allowed_registry.is_empty())
                .then(|| args.allowed_registry.clone()),
            allow_load_balancer: args.allow_load_balancer,
            denied_hostnames: args.denied_hostname.clone(),
            allowed_hostnames: (!args.allowed_hostname.is_empty())
                .then(|| args.allowed_hostname.clone()),
        },
    };
    for note in &listed.notes {
        eprintln!("haven: note: {note}");
    }
    let mut check = AppCheck::new(&options, args.namespace.clone());
    for error in listed.errors {
        check.add_error(error);
    }
    // Files are read one at a time, let go after the first pass and read again for the second:
    // the check never holds more than one file's text.
    let mut files = FileReader::default();
    for input in listed.inputs {
        match input {
            Input::Text(source) => check.add(source),
            Input::File(path) => match files.read(&path) {
                // A pipe or process substitution cannot be read twice: its text stays.
                Ok(source) if files.can_read_again(&source) => check.add_rereadable(source),
                Ok(source) => check.add(source),
                Err(e) => check.add_error(e),
            },
        }
    }
    let today = args.today.unwrap_or_else(today_utc);
    let checked = check.finish_rereading(&waiver_files, today, &mut files);

    let report = Report {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        findings: checked.findings,
        errors: checked.errors,
        rules: haven_rules::rules()
            .iter()
            .filter(|r| options.is_enabled(r.id))
            .cloned()
            .collect(),
        fail_on: args.fail_on,
        pss: options
            .pss
            .map_or_else(|| "none".to_owned(), |(l, v)| format!("{l}:{v}")),
        objects: checked.objects,
        workloads: checked.workloads,
        files: listed.files,
    };

    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Junit => Format::Junit,
        FormatArg::Gitlab => Format::Gitlab,
        FormatArg::Html => Format::Html,
    };
    let color = match args.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let text_options = TextOptions {
        color,
        verbose: args.verbose,
    };
    let html = haven_report::html::HtmlOptions {
        lang,
        generated: Some(now_utc()),
    };
    let write = |out: &mut dyn Write| match format {
        Format::Html => {
            out.write_all(haven_report::html::render_app_html(&report, &html).as_bytes())
        }
        _ => haven_report::write(&report, format, &text_options, &mut &mut *out),
    };
    match &args.output {
        Some(path) => {
            // Replaced atomically once complete, never written through a link to a file.
            let mut file = haven_io::files::OutputFile::create(path)
                .map_err(|e| Problem::new(format!("cannot write report: {e}")).flag("--output"))?;
            write(&mut file).map_err(|e| {
                Problem::new(format!("cannot write report: {e}"))
                    .file(path.display())
                    .flag("--output")
            })?;
            file.commit()
                .map_err(|e| Problem::new(format!("cannot write report: {e}")).flag("--output"))?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = write(&mut out).and_then(|()| out.flush());
        }
    }
    // Input errors are in the report for tools (JSON, SARIF, ...) and on stderr, in the one
    // voice, for people; the findings of the good documents are reported all the same.
    if !report.errors.is_empty() {
        Diagnostic::from(report.errors.as_slice()).print(&mut std::io::stderr().lock());
    }
    let code = if !report.errors.is_empty() {
        crate::EXIT_ERROR
    } else if report.blocking() > 0 {
        crate::EXIT_FINDINGS
    } else {
        crate::EXIT_OK
    };
    // The process ends right after this: freeing every finding one by one would only cost
    // time; the OS reclaims it at once.
    std::mem::forget(report);
    Ok(code)
}

/// `helm template`, counting the charts it is asked to render: the Helm options apply to them
/// only.
#[derive(Default)]
struct CountingRenderer {
    charts: std::sync::atomic::AtomicUsize,
}

impl haven_input::ChartRenderer for CountingRenderer {
    fn render(
        &self,
        chart: &std::path::Path,
        opts: &HelmOptions,
    ) -> Result<String, haven_model::InputError> {
        self.charts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        HelmCommand.render(chart, opts)
    }
}

/// With no chart among the inputs, a Helm option would change nothing: an error rather than a
/// check that silently ignores the values the user meant to apply.
fn chart_options_apply(args: &CheckArgs) -> Result<(), Diagnostic> {
    let given: Vec<&str> = [
        (!args.values.is_empty(), "--values"),
        (!args.set.is_empty(), "--set"),
        (!args.set_string.is_empty(), "--set-string"),
        (args.release != "release-name", "--release"),
        (args.kube_version.is_some(), "--kube-version"),
    ]
    .into_iter()
    .filter_map(|(on, flag)| on.then_some(flag))
    .collect();
    match given.first() {
        None => Ok(()),
        Some(first) => Err(Problem::new(format!(
            "{} applies to Helm chart inputs only, and no input is a chart (a directory with Chart.yaml)",
            given.join(", ")
        ))
        .flag(*first)
        .hint("pass the chart directory as INPUT, or drop the option")
        .into()),
    }
}

/// The time of the run for the HTML report, to the second: `2026-12-07T09:30:00Z`.
pub(crate) fn now_utc() -> String {
    let now = jiff::Timestamp::now();
    now.round(jiff::Unit::Second).unwrap_or(now).to_string()
}

/// Today's date in UTC: waivers expire by the calendar day, not by the hour.
fn today_utc() -> jiff::civil::Date {
    let days = jiff::Timestamp::now().as_second().div_euclid(86_400);
    jiff::civil::date(1970, 1, 1)
        .checked_add(jiff::Span::new().days(days))
        .unwrap_or(jiff::civil::Date::MAX)
}
