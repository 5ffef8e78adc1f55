//! Findings about how the input was read: YAML 1.1 readings and duplicate keys.

use haven_model::{NoteKind, Object};

use crate::engine::Sink;
use crate::registry::{DUPLICATE_KEY, YAML11};

pub(crate) fn check(object: &Object, sink: &mut Sink<'_>) {
    for note in &object.notes {
        let (rule, message) = match note.kind {
            NoteKind::Yaml11Scalar => (
                YAML11,
                format!(
                    "`{}` is read by Kubernetes as {}, by YAML 1.2 tools as {}",
                    note.text, note.kubernetes_reads, note.yaml12_reads
                ),
            ),
            NoteKind::DuplicateKey => (
                DUPLICATE_KEY,
                format!("key `{}` is written twice; the last value wins", note.text),
            ),
        };
        sink.emit(rule, object, &note.path, None, message);
    }
}
