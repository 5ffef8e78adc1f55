//! The data that every haven capability shares: Kubernetes objects as Kubernetes itself reads
//! them from YAML (with the source line of every field), the pod template inside each workload
//! kind, and the findings and rule metadata that the rule engine produces and the reporters print.
//!
//! Nothing here touches the file system or the network: callers hand in text and a display name.

pub mod error;
mod fast;
pub mod finding;
mod goscan;
mod lenient;
pub mod limits;
pub mod load;
pub mod node;
pub mod object;
pub mod path;
pub mod quantity;
pub mod strict;
pub mod suggest;
pub mod template_lines;
pub mod waiver;
pub mod workload;
pub mod yaml;

pub use error::{InputError, InputErrorKind};
pub use finding::{
    Finding, Location, ObjectRef, RuleGroup, RuleInfo, RuleScope, Severity, WaiverMark,
    WaiverSource,
};
pub use load::Document;
pub use node::Node;
pub use object::{
    LoadOutcome, Object, Origin, RELEASE_NAMESPACE_PLACEHOLDER, Source, SourceText, StreamName,
    load_document, load_objects,
};
pub use quantity::Quantity;
pub use suggest::did_you_mean;
pub use workload::{PodTemplate, WorkloadKind};
pub use yaml::{NoteKind, RawDocument, YamlDocument, YamlNote, parse_stream, raw_documents};

/// The two YAML readers one by one, for the differential fuzz test (`tests/fuzz.rs`): not API.
/// Everything else reads YAML through [`parse_stream`] / [`RawDocument::parse`], which take
/// the fast path where it applies and the full parser otherwise.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod readers {
    use crate::{InputError, Node, YamlNote};

    /// A document as a reader returns it: the value, its positions and its notes.
    pub type Parsed = (serde_json::Value, Node, Vec<YamlNote>);

    /// The fast path (`fast.rs`): `None` where it gives up.
    pub fn fast(text: &str, first_line: u32) -> Option<Parsed> {
        crate::fast::parse(text, first_line)
    }

    /// The full parser (`yaml.rs`): `Ok(None)` for an empty document.
    pub fn full(file: &str, text: &str, first_line: u32) -> Result<Option<Parsed>, InputError> {
        crate::yaml::parse_document_full(file, text, first_line)
    }
}
