//! Table-driven tests of every rule in the registry.
//!
//! Each case is a small application (YAML as a user writes it) and the exact findings of one
//! rule on it: object, field path, line, container and message. Positive cases show what must
//! be found, negative cases what must not. Every case runs through both ways the rules are run
//! (`check` over all objects with waivers applied, and the streaming `AppCheck`), which must
//! agree.
//!
//! Two tests keep the tables honest: every rule id of the registry has a positive case (and the
//! Haven, Haven+ and input rules a negative one), and silencing any one rule in the engine
//! (as a guard on its id would) makes at least one case fail.

mod haven;
mod input;
mod nl;
mod plus;
mod pss;
mod tenant;

use std::fmt;

use haven_model::{Finding, RuleScope, Source};
use haven_pss::{Level, Version};
use jiff::civil::{Date, date};

use crate::engine::silence;
use crate::{
    AppCheck, CheckOptions, apply_waivers, check, parse_waiver_file, registry, sort_findings,
};

/// The day the cases run on (waiver expiry is judged against it).
const TODAY: Date = date(2026, 11, 25);

/// One expected finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Expect {
    /// `Kind/name`, with `namespace/` in front when the finding's object has one.
    object: String,
    path: String,
    line: u32,
    container: Option<String>,
    message: String,
    waived: bool,
}

/// An expected finding of the case's rule on `object` (`Kind/name` or `ns/Kind/name`) at `path`,
/// written on `line`, with `message`.
pub(super) fn at(object: &str, path: &str, line: u32, message: &str) -> Expect {
    Expect {
        object: object.to_owned(),
        path: path.to_owned(),
        line,
        container: None,
        message: message.to_owned(),
        waived: false,
    }
}

impl Expect {
    /// The finding names this container.
    pub(super) fn container(mut self, name: &str) -> Self {
        self.container = Some(name.to_owned());
        self
    }

    /// The finding is reported as waived.
    pub(super) fn waived(mut self) -> Self {
        self.waived = true;
        self
    }

    fn of(f: &Finding) -> Self {
        let o = &f.object;
        Self {
            object: match &o.namespace {
                Some(ns) => format!("{ns}/{}/{}", o.kind, o.name),
                None => format!("{}/{}", o.kind, o.name),
            },
            path: f.path.clone(),
            line: f.location.line,
            container: f.container.clone(),
            message: f.message.clone(),
            waived: f.waived.is_some(),
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} @{}", self.object, self.path, self.line)?;
        if let Some(c) = &self.container {
            write!(f, " [{c}]")?;
        }
        if self.waived {
            write!(f, " (waived)")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// One row of a table.
pub(super) struct Case {
    /// What the case shows.
    name: &'static str,
    /// The rule under test: the case asserts exactly its findings, in order. A negative case
    /// may name a family (`pss.*`): then it asserts that no rule of the family fires.
    rule: &'static str,
    yaml: &'static str,
    expect: Vec<Expect>,
    /// Pod Security level (at the latest version).
    pss: Level,
    scope: RuleScope,
    /// A waiver file, applied on [`TODAY`].
    waivers: Option<&'static str>,
    /// How many input errors the case expects.
    errors: usize,
    /// The release namespace (`--namespace`).
    namespace: Option<&'static str>,
    /// The YAML is a chart rendered with the placeholder release namespace.
    chart: bool,
    /// `--pinned-tag` and `--moving-tag` patterns.
    tags: (&'static [&'static str], &'static [&'static str]),
    /// `--internal-domain`s.
    internal: &'static [&'static str],
    /// The tenant policy (`--allowed-registry`, …); the default restricts nothing.
    tenant: crate::TenantPolicy,
}

/// A case of `rule` on `yaml` expecting exactly `expect` (empty: a negative case).
pub(super) fn case(
    rule: &'static str,
    name: &'static str,
    yaml: &'static str,
    expect: Vec<Expect>,
) -> Case {
    Case {
        name,
        rule,
        yaml,
        expect,
        pss: Level::Restricted,
        scope: RuleScope::Application,
        waivers: None,
        errors: 0,
        namespace: None,
        chart: false,
        tags: (&[], &[]),
        internal: &[],
        tenant: crate::TenantPolicy::default(),
    }
}

impl Case {
    /// Pod Security at this level instead of restricted.
    pub(super) fn pss(mut self, level: Level) -> Self {
        self.pss = level;
        self
    }

    /// Only the rules that need nothing but the object (as the admission webhook runs them).
    pub(super) fn object_scope(mut self) -> Self {
        self.scope = RuleScope::Object;
        self
    }

    pub(super) fn waivers(mut self, yaml: &'static str) -> Self {
        self.waivers = Some(yaml);
        self
    }

    pub(super) fn errors(mut self, n: usize) -> Self {
        self.errors = n;
        self
    }

    /// Checked as installed with `--namespace ns`.
    pub(super) fn namespace(mut self, ns: &'static str) -> Self {
        self.namespace = Some(ns);
        self
    }

    /// The YAML is `helm template` output of a chart rendered as `haven app check` renders
    /// charts without `--namespace` (or with `default`): the release namespace is
    /// [`haven_model::RELEASE_NAMESPACE_PLACEHOLDER`].
    pub(super) fn chart(mut self) -> Self {
        self.chart = true;
        self
    }

    /// Checked with `--pinned-tag` for each of `pinned` and `--moving-tag` for each of `moving`.
    pub(super) fn tags(
        mut self,
        pinned: &'static [&'static str],
        moving: &'static [&'static str],
    ) -> Self {
        self.tags = (pinned, moving);
        self
    }

    /// Checked with `--internal-domain` for each of `domains`.
    pub(super) fn internal(mut self, domains: &'static [&'static str]) -> Self {
        self.internal = domains;
        self
    }

    /// Checked under this tenant policy.
    pub(super) fn tenant(mut self, policy: crate::TenantPolicy) -> Self {
        self.tenant = policy;
        self
    }

    fn covers(&self, rule: &str) -> bool {
        match self.rule.strip_suffix('*') {
            Some(family) => rule.starts_with(family),
            None => rule == self.rule,
        }
    }

    /// Runs the case; `Err` says how it failed.
    fn run(&self) -> Result<(), String> {
        let mut source = Source::file("case.yaml", self.yaml.to_owned());
        if self.chart {
            source.chart_dir = Some("chart".to_owned());
            source.release_namespace_placeholder = true;
        }
        let mut loaded = source.load();
        // As `AppCheck` places them (the namespace a check over all objects is handed).
        for object in &mut loaded.objects {
            crate::app::place(object, self.chart, self.namespace);
        }
        let opts = CheckOptions {
            pss: Some((self.pss, Version::LATEST)),
            scope: self.scope,
            tags: crate::TagPolicy {
                pinned: self
                    .tags
                    .0
                    .iter()
                    .map(|p| p.parse().expect("pattern"))
                    .collect(),
                moving: self
                    .tags
                    .1
                    .iter()
                    .map(|p| p.parse().expect("pattern"))
                    .collect(),
            },
            internal_domains: self.internal.iter().map(|d| (*d).to_owned()).collect(),
            tenant: self.tenant.clone(),
            ..CheckOptions::default()
        };
        let waivers = match self.waivers {
            Some(text) => vec![parse_waiver_file("waivers.yaml", text).map_err(|errors| {
                let errors: Vec<String> = errors.iter().map(|e| e.describe()).collect();
                format!("waiver file: {errors:?}")
            })?],
            None => Vec::new(),
        };
        let mut batch = crate::engine::check_in(&loaded.objects, &opts, self.namespace);
        apply_waivers(&mut batch.findings, &loaded.objects, &waivers, TODAY);
        sort_findings(&mut batch.findings);
        let mut errors: Vec<String> = loaded
            .errors
            .iter()
            .chain(&batch.errors)
            .map(|e| e.describe())
            .collect();
        errors.sort();
        let findings = if self.scope == RuleScope::Application {
            let mut app = AppCheck::new(&opts, self.namespace.map(str::to_owned));
            app.add(source);
            let streamed = app.finish(&waivers, TODAY);
            if streamed.findings != batch.findings {
                return Err(format!(
                    "AppCheck and check disagree:\n  AppCheck: {:#?}\n  check: {:#?}",
                    streamed.findings, batch.findings
                ));
            }
            let mut streamed_errors: Vec<String> =
                streamed.errors.iter().map(|e| e.describe()).collect();
            streamed_errors.sort();
            if streamed_errors != errors {
                return Err(format!(
                    "AppCheck and check report different errors: {streamed_errors:?} vs {errors:?}"
                ));
            }
            streamed.findings
        } else {
            batch.findings
        };
        if errors.len() != self.errors {
            return Err(format!(
                "expected {} input error(s), got {errors:#?}",
                self.errors
            ));
        }
        for f in &findings {
            let registered = registry::rule(f.rule).map(|r| r.severity);
            if registered != Some(f.severity) {
                return Err(format!(
                    "{} reported with severity {:?}, registered as {registered:?}",
                    f.rule, f.severity
                ));
            }
        }
        let actual: Vec<Expect> = findings
            .iter()
            .filter(|f| self.covers(f.rule))
            .map(Expect::of)
            .collect();
        if actual != self.expect {
            let list = |v: &[Expect]| {
                if v.is_empty() {
                    "    (none)".to_owned()
                } else {
                    v.iter()
                        .map(|e| format!("    {e}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            };
            return Err(format!(
                "findings of {} differ\n  expected:\n{}\n  actual:\n{}",
                self.rule,
                list(&self.expect),
                list(&actual)
            ));
        }
        Ok(())
    }
}

fn all_cases() -> Vec<Case> {
    let mut all = haven::cases();
    all.extend(plus::cases());
    all.extend(input::cases());
    all.extend(nl::cases());
    all.extend(pss::cases());
    all.extend(tenant::cases());
    all
}

#[test]
fn every_case_holds() {
    let cases = all_cases();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            c.run()
                .err()
                .map(|e| format!("{} / {}: {e}", c.rule, c.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// Every rule of the registry is asserted: a positive case for each, and for the Haven, Haven+
/// and input rules a negative case as well (Pod Security's negatives are the upstream
/// conformance fixtures, `haven-pss/tests/conformance.rs`, and the compliant pods here).
#[test]
fn every_rule_id_has_its_cases() {
    let cases = all_cases();
    let mut missing = Vec::new();
    for rule in registry::rules() {
        let positive = cases
            .iter()
            .any(|c| c.rule == rule.id && !c.expect.is_empty());
        let negative = cases
            .iter()
            .any(|c| c.covers(rule.id) && c.expect.is_empty());
        if !positive {
            missing.push(format!("{}: no positive case", rule.id));
        }
        if !negative && !rule.id.starts_with("pss.") {
            missing.push(format!("{}: no negative case", rule.id));
        }
    }
    for c in &cases {
        let family = c.rule.ends_with('*') && c.expect.is_empty();
        if !family && registry::rule(c.rule).is_none() {
            missing.push(format!(
                "case {:?} tests an unknown rule {}",
                c.name, c.rule
            ));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// The definition of done: a rule that never fires (here: its findings dropped in the
/// engine, as a guard on its id would) makes at least one case fail, for every rule.
#[test]
fn silencing_any_rule_fails_a_case() {
    let cases = all_cases();
    assert!(
        cases.iter().all(|c| c.run().is_ok()),
        "every_case_holds must pass first"
    );
    let unnoticed: Vec<&str> = registry::rules()
        .iter()
        .map(|r| r.id)
        .filter(|&id| silence::with(id, || cases.iter().all(|c| c.run().is_ok())))
        .collect();
    assert!(
        unnoticed.is_empty(),
        "silencing these rules fails no case: {unnoticed:?}"
    );
}

/// The silencing switch itself works: with `plus.image-tag` silenced, the engine reports no
/// finding of it but still the other rules' findings.
#[test]
fn silencing_drops_exactly_that_rule() {
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: nginx}]\n";
    let loaded = haven_model::load_objects(haven_model::Origin::File("p.yaml"), yaml);
    let rules = |out: crate::Outcome| -> Vec<&'static str> {
        let mut r: Vec<_> = out.findings.iter().map(|f| f.rule).collect();
        r.dedup();
        r
    };
    let opts = CheckOptions::default();
    let normal = rules(check(&loaded.objects, &opts));
    let silenced = silence::with(registry::IMAGE_TAG, || rules(check(&loaded.objects, &opts)));
    assert!(normal.contains(&registry::IMAGE_TAG), "{normal:?}");
    let expected: Vec<_> = normal
        .iter()
        .copied()
        .filter(|r| *r != registry::IMAGE_TAG)
        .collect();
    assert_eq!(silenced, expected);
    // And the switch is off again afterwards.
    assert_eq!(rules(check(&loaded.objects, &opts)), normal);
}
