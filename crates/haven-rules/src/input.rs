//! Findings about how the input was read: YAML 1.1 readings and duplicate keys.

use haven_model::{NoteKind, Object};

use crate::engine::Sink;
use crate::registry::{DUPLICATE_KEY, YAML11};

pub(crate) fn check(object: &Object, sink: &mut Sink<'_>) {
    for note in &object.notes {
        if note.kind == NoteKind::Yaml11Scalar && octal_file_mode(&note.path, &note.text) {
            continue;
        }
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

/// An octal number written in a volume's file mode (`defaultMode: 0755`, `items[].mode: 0644`):
/// the Kubernetes API documents these fields as "octal in YAML, decimal in JSON", and every
/// chart writes them so, so Kubernetes reads what was meant and a note would be noise on every
/// chart. Octal numbers anywhere else (a port `0080`, an id) are still news.
fn octal_file_mode(path: &str, text: &str) -> bool {
    let field = path.rsplit('.').next().unwrap_or(path);
    let digits = text.strip_prefix('+').unwrap_or(text);
    matches!(field, "defaultMode" | "mode")
        && path.contains("volumes[")
        && digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit() && b < b'8')
}
