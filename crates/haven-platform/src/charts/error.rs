//! The errors of `validate --charts`: each one becomes a problem or a "not verified" reason in
//! the report (with the HelmRelease's file, line and field), so their messages are written to
//! be read there; callers that need to tell them apart match the variant.

use std::path::PathBuf;

/// A chart directory that exists but cannot be read ([`super::ChartSource::find`]).
#[derive(Debug, thiserror::Error)]
pub enum ChartSourceError {
    #[error("{}: {source}", .dir.display())]
    List {
        dir: PathBuf,
        #[source]
        source: walkdir::Error,
    },
    #[error("{}: cannot read: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Why a chart was not rendered ([`super::HelmTemplate`]).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The engine failed or refused (Helm's own message, or why it could not be run).
    #[error(transparent)]
    Engine(Box<dyn std::error::Error + Send + Sync>),
    /// The engine renders no tagged copies ([`super::HelmTemplate::template_tagged`]'s default).
    #[error("this engine does not render tagged copies")]
    TaggedUnsupported,
    /// A render thread ended without a result (it panicked).
    #[error("the render did not finish")]
    Unfinished,
}

impl RenderError {
    /// The engine's own error, kept as the source.
    pub fn engine(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Engine(Box::new(e))
    }
}

/// A chart file (`Chart.yaml`, `values.yaml`) that is not one YAML mapping.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChartFileError {
    #[error("{file}: not a mapping")]
    NotAMapping { file: String },
    #[error("{}", .0.describe())]
    Yaml(#[source] haven_model::InputError),
}

/// A HelmRelease whose chart or install settings cannot be read ([`super::flux`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseError {
    #[error("invalid CRD policy `{policy}`: Skip, Create or CreateReplace")]
    CrdPolicy { policy: String },
    #[error("its chartRef names {source_key}, which is not in the tree")]
    MissingChartRefSource { source_key: String },
    #[error("its chartRef is a {kind}: only OCIRepository chart references are rendered")]
    UnsupportedChartRef { kind: String },
    #[error("it has neither spec.chart nor spec.chartRef")]
    NoChart,
}

/// A values document (a `valuesFrom` key) that is not one YAML mapping.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValuesError {
    #[error("the values are not a mapping")]
    NotAMapping,
    #[error("{}", .0.message)]
    Yaml(#[source] haven_model::InputError),
}

/// A Secret of the tree whose data cannot be read offline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretDataError {
    #[error("it is SOPS-encrypted, which only the cluster can read")]
    Sops,
    #[error("data.{key} is not base64")]
    NotBase64 { key: String },
}

/// A kustomize patch of a post-renderer that cannot be applied ([`super::postrender`]).
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("a patch needs `patch` (inline YAML)")]
    NoPatch,
    #[error("the patch is not YAML: {}", .0.message)]
    NotYaml(#[source] haven_model::InputError),
    #[error("the patch is empty")]
    Empty,
    #[error("not a JSON 6902 patch: {0}")]
    NotJson6902(#[source] serde_json::Error),
    #[error("a JSON 6902 patch needs a `target`")]
    NoTarget,
    #[error("{kind} {name}: {source}")]
    Apply {
        kind: String,
        name: String,
        #[source]
        source: json_patch::PatchError,
    },
    #[error("its target selects no rendered object")]
    NothingSelected,
    #[error("strategic merge directive `{0}` is not supported by haven; the patch was not applied")]
    UnsupportedDirective(String),
    #[error("a patch is a YAML mapping (strategic merge) or list (JSON 6902)")]
    NotAPatch,
    #[error("target.{field} is not a regular expression: {source}")]
    TargetRegex {
        field: &'static str,
        #[source]
        source: regex::Error,
    },
    #[error("target.{field}: {source}")]
    TargetSelector {
        field: &'static str,
        #[source]
        source: haven_selector::SelectorError,
    },
    #[error("a strategic merge patch without a target needs metadata.name")]
    NoName,
}

impl PatchError {
    /// Whether kustomize itself stops on this patch, so that helm-controller's post-render step
    /// fails and the release is not installed: a JSON 6902 operation that does not apply (a
    /// `test` whose value differs, a `remove` or `replace` of a path that is not there). The
    /// other variants are what haven does not read or not support, or a target that selects
    /// nothing, which kustomize passes over.
    pub fn fails_release(&self) -> bool {
        matches!(self, Self::Apply { .. })
    }
}
