//! Findings and rule metadata: the vocabulary shared by the rule engine, the reporters, the
//! admission webhook and the CLI.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`, so that
/// `--fail-on high` means "High or Critical blocks".
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Self::Info,
        Self::Low,
        Self::Medium,
        Self::High,
        Self::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown severity `{s}` (expected info, low, medium, high or critical)")
            })
    }
}

/// The family a rule belongs to; printed as the rule's "level".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RuleGroup {
    /// Pod Security Standards, baseline profile.
    PssBaseline,
    /// Pod Security Standards, restricted profile.
    PssRestricted,
    /// The Haven application landing requirements.
    Haven,
    /// What a Haven+ platform expects of the workloads it runs.
    HavenPlus,
    /// Dutch law for government web services: HTTPS, HSTS and the NCSC TLS guidelines
    /// (Wet digitale overheid, Staatsblad 2023, 179).
    NlLaw,
    /// How the input itself was read (YAML 1.1 readings, expired waivers).
    Input,
}

impl RuleGroup {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PssBaseline => "pss-baseline",
            Self::PssRestricted => "pss-restricted",
            Self::Haven => "haven",
            Self::HavenPlus => "haven-plus",
            Self::NlLaw => "nl-law",
            Self::Input => "input",
        }
    }
}

impl fmt::Display for RuleGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a rule looks at one object alone (and so can run at admission) or at the whole
/// application (needs the other objects: Services, HPAs, monitors, policies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RuleScope {
    Object,
    Application,
}

/// Static description of one rule, as `haven rules` prints it and SARIF embeds it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RuleInfo {
    pub id: &'static str,
    pub level: RuleGroup,
    pub severity: Severity,
    pub scope: RuleScope,
    pub title: &'static str,
    pub rationale: &'static str,
    pub fix: &'static str,
    /// Where upstream documents the requirement.
    pub help_uri: &'static str,
}

/// Identifies the object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{} ({ns})", self.kind, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// Where in the input something sits. `line` is 1-based (the line of the field when known,
/// else of the document); `document_line` is where the document starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// Shared with the object and every other finding in the same file.
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
    pub document_line: u32,
}

/// Where a waiver came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum WaiverSource {
    /// An entry of a waiver file (`file`, 1-based `line` of the entry).
    File { file: String, line: u32 },
    /// The `waive.haven.commonground.nl/<rule>` annotation on the object or its pod template.
    Annotation { key: String },
}

/// A waiver that applies to a finding: the finding stays in the output, marked with this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct WaiverMark {
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    pub source: WaiverSource,
    /// The waiver matches every finding (`all: true` in its file): reports flag it, since a
    /// run it accepts has in effect not been checked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
}

/// One violated expectation, with everything needed to find and fix it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Shared by the findings of one object: a large input has tens of thousands of findings
    /// (a fifth of `haven app check`'s peak heap on the benchmark corpus), and this was a third
    /// of each one, plus four strings repeating those of the few objects they are on.
    pub object: Arc<ObjectRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Field path inside the object, e.g. `spec.template.spec.containers[0].image`.
    pub path: String,
    pub location: Location,
    /// Set when a waiver accepts this finding; waived findings never block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived: Option<Box<WaiverMark>>,
}

impl Finding {
    /// Whether this finding makes the run fail at the given threshold.
    pub fn blocks(&self, fail_on: Severity) -> bool {
        self.waived.is_none() && self.severity >= fail_on
    }
}
