//! The words of the HTML reports, in English and Dutch.
//!
//! Only haven's own labels and verdicts are translated. What comes from elsewhere keeps its
//! language: upstream's check names, labels and rationales (auditors compare them with upstream's
//! output), rule ids, and the findings' messages, rationales and fixes (the rule registry is
//! English; the report says so in Dutch).

use haven_checks::{Outcome, Verdict};
use haven_model::Severity;

/// Language of an HTML report's labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    Nl,
}

impl Lang {
    /// The BCP 47 tag for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Nl => "nl",
        }
    }

    pub(crate) fn t(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::Nl => &NL,
        }
    }

    pub(crate) fn severity(self, s: Severity) -> &'static str {
        match (self, s) {
            (Lang::En, _) => s.as_str(),
            (Lang::Nl, Severity::Critical) => "kritiek",
            (Lang::Nl, Severity::High) => "hoog",
            (Lang::Nl, Severity::Medium) => "middel",
            (Lang::Nl, Severity::Low) => "laag",
            (Lang::Nl, Severity::Info) => "info",
        }
    }

    pub(crate) fn outcome(self, o: Outcome) -> &'static str {
        match (self, o) {
            (Lang::En, Outcome::Yes) => "passed",
            (Lang::En, Outcome::No) => "failed",
            (Lang::En, Outcome::Unknown) => "unknown",
            (Lang::En, Outcome::Skipped) => "skipped",
            (Lang::Nl, Outcome::Yes) => "geslaagd",
            (Lang::Nl, Outcome::No) => "niet geslaagd",
            (Lang::Nl, Outcome::Unknown) => "onbekend",
            (Lang::Nl, Outcome::Skipped) => "overgeslagen",
        }
    }

    pub(crate) fn verdict(self, v: Verdict) -> &'static str {
        match (self, v) {
            (Lang::En, Verdict::Compliant) => "Compliant",
            (Lang::En, Verdict::CompliantWithWaivers) => "Compliant with waivers",
            (Lang::En, Verdict::NotCompliant) => "Not compliant",
            (Lang::Nl, Verdict::Compliant) => "Voldoet aan Haven",
            (Lang::Nl, Verdict::CompliantWithWaivers) => {
                "Voldoet aan Haven, met uitzonderingen (waivers)"
            }
            (Lang::Nl, Verdict::NotCompliant) => "Voldoet niet aan Haven",
        }
    }

    /// `3 of 17 shown`
    pub(crate) fn shown(self) -> &'static str {
        match self {
            Lang::En => "Showing {shown} of {total}.",
            Lang::Nl => "{shown} van {total} getoond.",
        }
    }

    /// `Blocking: 3 findings at or above high` (the verdict of an application check).
    pub(crate) fn blocking(self, n: usize, fail_on: Severity) -> String {
        let sev = self.severity(fail_on);
        match self {
            Lang::En => format!(
                "Blocking: {n} {} at or above {sev} must be fixed or waived",
                if n == 1 { "finding" } else { "findings" }
            ),
            Lang::Nl => format!(
                "Blokkerend: {n} {} van ernst {sev} of hoger moet{} worden opgelost of uitgezonderd",
                if n == 1 { "bevinding" } else { "bevindingen" },
                if n == 1 { "" } else { "en" }
            ),
        }
    }

    pub(crate) fn not_blocking(self, fail_on: Severity) -> String {
        let sev = self.severity(fail_on);
        match self {
            Lang::En => format!("Not blocking: no unwaived finding at or above {sev}"),
            Lang::Nl => {
                format!(
                    "Niet blokkerend: geen bevinding van ernst {sev} of hoger zonder uitzondering"
                )
            }
        }
    }

    /// The warning of a run with a waiver of everything (`all: true`) in force.
    pub(crate) fn catch_all_findings(self, n: usize) -> String {
        match self {
            Lang::En => format!(
                "Warning: {n} {} accepted by a waiver of everything (all: true): not checked, only listed.",
                plural(n, "finding", "findings")
            ),
            Lang::Nl => format!(
                "Let op: {n} {} geaccepteerd door een uitzondering voor alles (all: true): niet gecontroleerd, alleen opgesomd.",
                plural(n, "bevinding", "bevindingen")
            ),
        }
    }

    pub(crate) fn catch_all_checks(self, n: usize) -> String {
        match self {
            Lang::En => format!(
                "Warning: a waiver of everything (all: true) is in force; it accepts {n} {} that did not pass.",
                plural(n, "check", "checks")
            ),
            Lang::Nl => format!(
                "Let op: een uitzondering voor alles (all: true) is van kracht; die accepteert {n} {} die niet geslaagd {}.",
                plural(n, "controle", "controles"),
                plural(n, "is", "zijn")
            ),
        }
    }

    pub(crate) fn input_errors_block(self, n: usize) -> String {
        match self {
            Lang::En => format!(
                "Not checked completely: {n} input {} could not be read",
                if n == 1 { "document" } else { "documents" }
            ),
            Lang::Nl => format!(
                "Niet volledig gecontroleerd: {n} {} kon{} niet worden gelezen",
                if n == 1 {
                    "invoerdocument"
                } else {
                    "invoerdocumenten"
                },
                if n == 1 { "" } else { "den" }
            ),
        }
    }

    /// `12 findings in 7 objects (4 workloads) from 3 files`
    pub(crate) fn app_scope(
        self,
        findings: usize,
        objects: usize,
        workloads: usize,
        files: usize,
    ) -> String {
        match self {
            Lang::En => format!(
                "{findings} {} in {objects} {} ({workloads} {}) from {files} {}.",
                plural(findings, "finding", "findings"),
                plural(objects, "object", "objects"),
                plural(workloads, "workload", "workloads"),
                plural(files, "file", "files"),
            ),
            Lang::Nl => format!(
                "{findings} {} in {objects} {} ({workloads} {}) uit {files} {}.",
                plural(findings, "bevinding", "bevindingen"),
                plural(objects, "object", "objecten"),
                plural(workloads, "workload", "workloads"),
                plural(files, "bestand", "bestanden"),
            ),
        }
    }

    /// `14 of 15 mandatory checks passed, 1 failed, 0 unknown, 0 skipped`
    pub(crate) fn cluster_counts(self, s: &haven_checks::Summary) -> String {
        match self {
            Lang::En => format!(
                "{} of {} mandatory checks passed; {} failed, {} unknown, {} skipped.",
                s.passed, s.total, s.failed, s.unknown, s.skipped
            ),
            Lang::Nl => format!(
                "{} van {} verplichte controles geslaagd; {} niet geslaagd, {} onbekend, {} overgeslagen.",
                s.passed, s.total, s.failed, s.unknown, s.skipped
            ),
        }
    }

    pub(crate) fn days_old(self, days: i32) -> String {
        match self {
            Lang::En => format!(
                "{days} {} old on the day of the run",
                plural(days.unsigned_abs() as usize, "day", "days")
            ),
            Lang::Nl => format!(
                "{days} {} oud op de dag van de controle",
                plural(days.unsigned_abs() as usize, "dag", "dagen")
            ),
        }
    }

    pub(crate) fn rules_in_set(self, n: usize) -> String {
        match self {
            Lang::En => format!("{n} {}", plural(n, "rule", "rules")),
            Lang::Nl => format!("{n} {}", plural(n, "regel", "regels")),
        }
    }
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// Fixed labels. One field per phrase, so that a missing translation is a compile error.
pub(crate) struct Texts {
    pub app_title: &'static str,
    pub cluster_title: &'static str,
    pub skip_to_results: &'static str,
    pub generated: &'static str,
    pub by_haven: &'static str,
    pub verdict: &'static str,
    pub severity: &'static str,
    pub findings: &'static str,
    pub by_severity: &'static str,
    pub blocking: &'static str,
    pub waived: &'static str,
    pub total: &'static str,
    pub filters: &'static str,
    pub filter_help: &'static str,
    pub rule_group: &'static str,
    pub waiver_state: &'static str,
    pub waived_findings: &'static str,
    pub unwaived_findings: &'static str,
    pub no_findings: &'static str,
    pub input_errors: &'static str,
    pub input_errors_intro: &'static str,
    pub field: &'static str,
    pub rule: &'static str,
    pub location: &'static str,
    pub object: &'static str,
    pub container: &'static str,
    pub fix: &'static str,
    pub waiver: &'static str,
    pub catch_all: &'static str,
    pub waivers: &'static str,
    pub no_waivers: &'static str,
    pub reason: &'static str,
    pub expires: &'static str,
    pub never: &'static str,
    pub source: &'static str,
    pub expired: &'static str,
    pub active: &'static str,
    pub not_needed: &'static str,
    pub status: &'static str,
    pub explanation: &'static str,
    pub rules_explained: &'static str,
    pub rules_explained_intro: &'static str,
    pub level: &'static str,
    pub scope: &'static str,
    pub scope_object: &'static str,
    pub scope_application: &'static str,
    pub why: &'static str,
    pub reference: &'static str,
    pub about: &'static str,
    pub haven_version: &'static str,
    pub pod_security: &'static str,
    pub pod_security_none: &'static str,
    pub rule_set: &'static str,
    pub all_rules: &'static str,
    pub fail_on: &'static str,
    pub inputs: &'static str,
    pub english_note: &'static str,
    pub target: &'static str,
    pub context: &'static str,
    pub data_source: &'static str,
    pub started: &'static str,
    pub stopped: &'static str,
    pub write_probes: &'static str,
    pub write_probes_on: &'static str,
    pub write_probes_off: &'static str,
    pub release_data: &'static str,
    pub release_date: &'static str,
    pub release_origin: &'static str,
    pub signed_by: &'static str,
    pub unsigned: &'static str,
    pub too_old: &'static str,
    pub platform: &'static str,
    pub checks: &'static str,
    pub mandatory_checks: &'static str,
    pub suggested_checks: &'static str,
    pub result: &'static str,
    pub category: &'static str,
    pub method: &'static str,
    pub evidence: &'static str,
    pub no_evidence: &'static str,
    pub rationale: &'static str,
    pub upstream_rationale: &'static str,
    pub question: &'static str,
    pub checks_explained: &'static str,
    pub checks_explained_intro: &'static str,
    pub upstream_verdict: &'static str,
    pub verdict_qualified: &'static str,
    pub notes: &'static str,
    pub read_problems: &'static str,
    pub read_problems_intro: &'static str,
    pub plus: &'static str,
    pub capability: &'static str,
    pub components: &'static str,
    pub problems: &'static str,
    pub unhealthy: &'static str,
    pub optional_checks: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub upstream_compat: &'static str,
}

static EN: Texts = Texts {
    app_title: "Haven application check",
    cluster_title: "Haven compliancy check",
    skip_to_results: "Skip to the results",
    generated: "Generated",
    by_haven: "by haven",
    verdict: "Verdict",
    severity: "Severity",
    findings: "Findings",
    by_severity: "Findings by severity",
    blocking: "Blocking",
    waived: "Waived",
    total: "Total",
    filters: "Filters",
    filter_help: "Untick a box to hide what it stands for. Printing prints what is shown.",
    rule_group: "Rule group",
    waiver_state: "Waivers",
    waived_findings: "waived",
    unwaived_findings: "not waived",
    no_findings: "No findings.",
    input_errors: "Input that could not be read",
    input_errors_intro: "These documents were not checked; every other document was.",
    field: "Field",
    rule: "Rule",
    location: "Location",
    object: "Object",
    container: "Container",
    fix: "Fix",
    waiver: "Waiver",
    catch_all: "a waiver of everything (all: true)",
    waivers: "Waivers",
    no_waivers: "No waiver applies.",
    reason: "Reason",
    expires: "Expires",
    never: "never",
    source: "Source",
    expired: "expired: waives nothing",
    active: "active",
    not_needed: "not needed: the check passed",
    status: "Status",
    explanation: "Explanation",
    rules_explained: "Rules explained",
    rules_explained_intro: "Every rule with a finding in this report, in the words of haven rules explain.",
    level: "Level",
    scope: "Scope",
    scope_object: "object (also enforced at admission)",
    scope_application: "application (needs the other objects of the application)",
    why: "Why",
    reference: "Reference",
    about: "Data and tool versions",
    haven_version: "haven version",
    pod_security: "Pod Security Standards",
    pod_security_none: "not checked",
    rule_set: "Rule set",
    all_rules: "Every rule that ran",
    fail_on: "Blocks at severity",
    inputs: "Inputs",
    english_note: "",
    target: "Cluster",
    context: "Kubeconfig context",
    data_source: "Data",
    started: "Started",
    stopped: "Finished",
    write_probes: "Write probes",
    write_probes_on: "allowed (test claim, node pods; cleaned up)",
    write_probes_off: "not allowed: every check read-only",
    release_data: "Release data",
    release_date: "Dated",
    release_origin: "Origin",
    signed_by: "Signed by",
    unsigned: "not signed (the copy built into haven)",
    too_old: "Too old to decide",
    platform: "Platform",
    checks: "Checks",
    mandatory_checks: "Mandatory checks",
    suggested_checks: "Suggested checks",
    result: "Result",
    category: "Category",
    method: "Method",
    evidence: "Evidence",
    no_evidence: "no structured evidence",
    rationale: "Rationale",
    upstream_rationale: "Upstream rationale",
    question: "Question",
    checks_explained: "Checks explained",
    checks_explained_intro: "What each check asks and why, with the upstream Haven Compliancy Checker's own words.",
    upstream_verdict: "Upstream Haven Compliancy Checker verdict (waivers not applied)",
    verdict_qualified: "Qualified by",
    notes: "Notes",
    read_problems: "Reads that failed",
    read_problems_intro: "The checks that need these reads are UNKNOWN.",
    plus: "Haven+ capabilities",
    capability: "Capability",
    components: "Components",
    problems: "Problems",
    unhealthy: "unhealthy",
    optional_checks: "Optional checks run",
    yes: "yes",
    no: "no",
    upstream_compat: "Compatible with",
};

static NL: Texts = Texts {
    app_title: "Haven-applicatiecontrole",
    cluster_title: "Haven-compliancycontrole",
    skip_to_results: "Direct naar de resultaten",
    generated: "Gemaakt",
    by_haven: "door haven",
    verdict: "Oordeel",
    severity: "Ernst",
    findings: "Bevindingen",
    by_severity: "Bevindingen per ernst",
    blocking: "Blokkerend",
    waived: "Uitgezonderd",
    total: "Totaal",
    filters: "Filters",
    filter_help: "Vink een vakje uit om te verbergen waar het voor staat. Afdrukken drukt af wat getoond wordt.",
    rule_group: "Regelgroep",
    waiver_state: "Uitzonderingen",
    waived_findings: "uitgezonderd",
    unwaived_findings: "niet uitgezonderd",
    no_findings: "Geen bevindingen.",
    input_errors: "Invoer die niet gelezen kon worden",
    input_errors_intro: "Deze documenten zijn niet gecontroleerd; alle andere wel.",
    field: "Veld",
    rule: "Regel",
    location: "Plaats",
    object: "Object",
    container: "Container",
    fix: "Oplossing",
    waiver: "Uitzondering",
    catch_all: "een uitzondering voor alles (all: true)",
    waivers: "Uitzonderingen (waivers)",
    no_waivers: "Er geldt geen uitzondering.",
    reason: "Reden",
    expires: "Geldig tot",
    never: "onbeperkt",
    source: "Bron",
    expired: "verlopen: zondert niets uit",
    active: "geldig",
    not_needed: "niet nodig: de controle is geslaagd",
    status: "Status",
    explanation: "Uitleg",
    rules_explained: "Uitleg van de regels",
    rules_explained_intro: "Elke regel met een bevinding in dit rapport, in de woorden van haven rules explain.",
    level: "Niveau",
    scope: "Bereik",
    scope_object: "object (ook afgedwongen bij admission)",
    scope_application: "applicatie (heeft de andere objecten van de applicatie nodig)",
    why: "Waarom",
    reference: "Referentie",
    about: "Gebruikte gegevens en versies",
    haven_version: "Versie van haven",
    pod_security: "Pod Security Standards",
    pod_security_none: "niet gecontroleerd",
    rule_set: "Regelset",
    all_rules: "Alle regels die zijn uitgevoerd",
    fail_on: "Blokkeert vanaf ernst",
    inputs: "Invoer",
    english_note: "Meldingen, uitleg en oplossingen van de regels zijn in het Engels, zoals haven ze geeft.",
    target: "Cluster",
    context: "Kubeconfig-context",
    data_source: "Gegevens",
    started: "Begonnen",
    stopped: "Klaar",
    write_probes: "Schrijvende tests",
    write_probes_on: "toegestaan (testclaim, pods per node; opgeruimd)",
    write_probes_off: "niet toegestaan: elke controle alleen-lezen",
    release_data: "Releasegegevens",
    release_date: "Datum",
    release_origin: "Herkomst",
    signed_by: "Ondertekend door",
    unsigned: "niet ondertekend (de kopie in haven zelf)",
    too_old: "Te oud om te beslissen",
    platform: "Platform",
    checks: "Controles",
    mandatory_checks: "Verplichte controles",
    suggested_checks: "Aanbevolen controles",
    result: "Resultaat",
    category: "Categorie",
    method: "Methode",
    evidence: "Bewijs",
    no_evidence: "geen gestructureerd bewijs",
    rationale: "Onderbouwing",
    upstream_rationale: "Onderbouwing van upstream",
    question: "Vraag",
    checks_explained: "Uitleg van de controles",
    checks_explained_intro: "Wat elke controle vraagt en waarom, met de eigen woorden van de upstream Haven Compliancy Checker.",
    upstream_verdict: "Oordeel van de upstream Haven Compliancy Checker (zonder uitzonderingen)",
    verdict_qualified: "Kanttekeningen",
    notes: "Opmerkingen",
    read_problems: "Mislukte leesacties",
    read_problems_intro: "De controles die deze gegevens nodig hebben zijn ONBEKEND.",
    plus: "Haven+-voorzieningen",
    capability: "Voorziening",
    components: "Componenten",
    problems: "Problemen",
    unhealthy: "niet gezond",
    optional_checks: "Optionele controles uitgevoerd",
    yes: "ja",
    no: "nee",
    upstream_compat: "Compatibel met",
};
