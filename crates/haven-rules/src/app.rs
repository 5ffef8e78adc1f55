//! `haven app check` over whole input streams, in memory proportional to what the rules look up
//! rather than to the size of the input.
//!
//! The application rules of a workload need the rest of the application: the Services,
//! PodDisruptionBudgets, NetworkPolicies, monitors, autoscalers, claims and ConfigMaps that
//! select or serve it. Those are the only objects that have to stay in memory. So the check runs
//! in two passes over the documents' text:
//!
//! 1. every document whose top-level `kind` might be one of those (or cannot be told without
//!    parsing) is parsed. An object of a looked-up kind is checked at once (its own rules need
//!    nothing else) and then cut down to the few fields the lookups read ([`slim`]); anything
//!    else found this way is kept whole, and so are Ingresses, Gateways, routes, Middlewares and
//!    TLS policies, which the `nl.*` rules look up among each other. Every other document (workloads, Secrets, RBAC, ...)
//!    is only remembered by its place in the text;
//! 2. in input order, each remaining document is checked against the index of the kept
//!    objects; a document that was not kept is parsed now, checked, waived by its annotations
//!    and dropped.
//!
//! Every document is parsed exactly once, and the findings are exactly those of [`crate::check`]
//! over all objects: tests compare both on every example and fixture.
//!
//! The text of the input is the other thing a check could hold whole. A source added with
//! [`AppCheck::add_rereadable`] (a file) is let go after its first pass and read again, through
//! a [`SourceText`], when the second pass reaches its documents: then only one file's text is in
//! memory at a time. On the benchmark corpus (25 MB in 100 files) that is a quarter of the
//! check's peak memory.

use std::ops::Range;

use haven_model::object::StreamName;
use haven_model::{
    Finding, InputError, InputErrorKind, LoadOutcome, Object, RawDocument, RuleScope, Source,
    SourceText, WorkloadKind, load_document, raw_documents,
};
use jiff::civil::Date;

use crate::engine::{CheckOptions, Run};
use crate::index::{AppIndex, slim};
use crate::waiver::{WaiverFile, apply_waiver_files, waive_by_annotations};

/// Kinds that the application rules look up across objects (see [`AppIndex`]), and `*List`
/// documents whose items could be any kind. Documents of these kinds are kept in memory.
fn looked_up(kind: &str) -> bool {
    kind.ends_with("List")
        || matches!(
            kind,
            "Service"
                | "HorizontalPodAutoscaler"
                | "PodDisruptionBudget"
                | "NetworkPolicy"
                | "PodMonitor"
                | "ServiceMonitor"
                | "PersistentVolumeClaim"
                | "ConfigMap"
                | "ServiceAccount"
                | "Secret"
        )
}

/// Where one document's objects are during the check.
enum Entry {
    /// Parsed in the first pass and kept whole: `kept[range]`.
    Kept(Range<usize>),
    /// One object of a looked-up kind, checked in the first pass and cut down into `looked_up`.
    /// The first such object of the input is kept whole too, in case it turns out to be the
    /// first object of all (which the rule on the application as a whole reports on).
    Checked(Option<Box<Object>>),
    /// Left as text: `sources[source].text[start..end]`.
    Deferred {
        source: usize,
        start: usize,
        end: usize,
        first_line: u32,
        index: usize,
    },
}

/// A whole-application check fed one input stream at a time.
pub struct AppCheck<'o> {
    opts: &'o CheckOptions,
    namespace: Option<String>,
    sources: Vec<Source>,
    /// For each source whose text was let go after the first pass: the text's length in bytes,
    /// to tell whether it has changed when it is read again.
    released: Vec<Option<usize>>,
    entries: Vec<Entry>,
    kept: Vec<Object>,
    /// Looked-up objects already checked, [`slim`]med.
    looked_up: Vec<Object>,
    /// The first pass's findings and errors.
    run: Run<'o>,
}

/// What a whole-application check found.
#[derive(Debug, Default)]
pub struct AppOutcome {
    /// Sorted, waivers applied, expired waivers reported.
    pub findings: Vec<Finding>,
    /// Documents that could not be read and workloads whose pod template could not be decoded,
    /// by file and line.
    pub errors: Vec<InputError>,
    /// Objects checked.
    pub objects: usize,
    /// Workloads checked.
    pub workloads: usize,
}

impl<'o> AppCheck<'o> {
    /// `namespace` is given to every namespaced object that names none (`--namespace`).
    /// Always the application scope: an object-scoped check has nothing to look up, use
    /// [`crate::check`].
    pub fn new(opts: &'o CheckOptions, namespace: Option<String>) -> Self {
        debug_assert_eq!(opts.scope, RuleScope::Application);
        Self {
            opts,
            namespace,
            sources: Vec::new(),
            released: Vec::new(),
            entries: Vec::new(),
            kept: Vec::new(),
            looked_up: Vec::new(),
            run: Run::new(opts),
        }
    }

    /// An input that could not be read at all.
    pub fn add_error(&mut self, error: InputError) {
        self.run.errors.push(error);
    }

    /// First pass over one stream, whose text is kept for the second.
    pub fn add(&mut self, source: Source) {
        self.add_source(source, false);
    }

    /// First pass over one stream whose text can be read again (a file): the text is let go
    /// now, and [`AppCheck::finish_rereading`] reads it again for the second pass.
    pub fn add_rereadable(&mut self, source: Source) {
        self.add_source(source, true);
    }

    fn add_source(&mut self, mut source: Source, rereadable: bool) {
        let id = self.sources.len();
        let first_entry = self.entries.len();
        let stream = StreamName::new(source.origin());
        let base = source.text.as_ptr() as usize;
        for doc in raw_documents(&source.text) {
            // Traffic objects (`nl.*`) look each other up: parsed now and kept whole.
            if doc
                .kind_hint()
                .is_some_and(|k| !looked_up(k) && !crate::nl::is_traffic_kind(k))
            {
                let start = doc.text.as_ptr() as usize - base;
                self.entries.push(Entry::Deferred {
                    source: id,
                    start,
                    end: start + doc.text.len(),
                    first_line: doc.first_line,
                    index: doc.index,
                });
                continue;
            }
            let mut out = LoadOutcome::default();
            load_document(&stream, &doc, &mut out);
            self.run.errors.append(&mut out.errors);
            if let [object] = out.objects.as_mut_slice()
                && looked_up(&object.kind)
            {
                self.place(&source, object);
                check_object(&mut self.run, object, None);
                let first = self.looked_up.is_empty().then(|| Box::new(object.clone()));
                let mut object = out.objects.pop().expect("one object");
                slim(&mut object);
                self.looked_up.push(object);
                self.entries.push(Entry::Checked(first));
                continue;
            }
            let start = self.kept.len();
            for mut object in out.objects {
                self.place(&source, &mut object);
                self.kept.push(object);
            }
            self.entries.push(Entry::Kept(start..self.kept.len()));
        }
        let deferred = self.entries[first_entry..]
            .iter()
            .any(|e| matches!(e, Entry::Deferred { .. }));
        let released = (rereadable && deferred).then_some(source.text.len());
        if released.is_some() || !deferred {
            // Nothing of it left for the second pass, or it can be read again then.
            source.text = String::new();
        }
        self.released.push(released);
        self.sources.push(source);
    }

    fn place(&self, source: &Source, object: &mut Object) {
        place(
            object,
            source.release_namespace_placeholder,
            self.namespace.as_deref(),
        );
    }

    /// Second pass: checks every document, applies waivers, sorts. For checks whose sources
    /// were all added with [`AppCheck::add`]; see [`AppCheck::finish_rereading`].
    pub fn finish(self, waivers: &[WaiverFile], today: Date) -> AppOutcome {
        self.finish_rereading(waivers, today, &mut NotHeld)
    }

    /// [`AppCheck::finish`], reading the text of sources added with
    /// [`AppCheck::add_rereadable`] again from `texts`, one source at a time. A source that
    /// cannot be read again, or no longer has the length it had, is reported as an input error
    /// and its remaining documents are not checked.
    pub fn finish_rereading(
        mut self,
        waivers: &[WaiverFile],
        today: Date,
        texts: &mut dyn SourceText,
    ) -> AppOutcome {
        let mut run = std::mem::replace(&mut self.run, Run::new(self.opts));
        let index = AppIndex::new(
            self.looked_up.iter().chain(&self.kept),
            self.namespace.as_deref(),
        );
        let streams: Vec<StreamName<'_>> = self
            .sources
            .iter()
            .map(|s| StreamName::new(s.origin()))
            .collect();
        let mut seen = Seen::default();
        let mut second = SecondPassText {
            sources: &self.sources,
            released: &self.released,
            held: None,
            unreadable: vec![false; self.sources.len()],
        };
        let check = |run: &mut Run<'_>, seen: &mut Seen, object: &Object| {
            check_object(run, object, Some(&index));
            seen.object(object);
        };
        for entry in std::mem::take(&mut self.entries) {
            match entry {
                Entry::Checked(first) => {
                    if seen.first.is_none() {
                        seen.first = first.map(|o| *o);
                    }
                    seen.objects += 1;
                }
                Entry::Kept(range) => {
                    for object in &self.kept[range] {
                        check(&mut run, &mut seen, object);
                    }
                }
                Entry::Deferred {
                    source,
                    start,
                    end,
                    first_line,
                    index,
                } => {
                    let Some(text) = second.text(source, start..end, texts, &mut run.errors) else {
                        continue;
                    };
                    let raw = RawDocument {
                        index,
                        first_line,
                        text,
                    };
                    let mut out = LoadOutcome::default();
                    load_document(&streams[source], &raw, &mut out);
                    run.errors.append(&mut out.errors);
                    for mut object in out.objects {
                        self.place(&self.sources[source], &mut object);
                        check(&mut run, &mut seen, &object);
                    }
                }
            }
        }
        let start = run.sink.findings.len();
        run.manifests(seen.first.as_ref(), seen.objects, seen.workload_kind);
        if let Some(first) = &seen.first {
            waive_by_annotations(&mut run.sink.findings[start..], std::slice::from_ref(first));
        }
        let workloads = run.workloads;
        let mut findings = run.sink.findings;
        let mut errors = run.errors;
        apply_waiver_files(&mut findings, waivers, today);
        crate::engine::sort(&mut findings);
        errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        AppOutcome {
            findings,
            errors,
            objects: seen.objects,
            workloads,
        }
    }
}

/// Where the second pass finds the text of each document left for it: in its source, or, for a
/// source let go after the first pass, in the one source read again at a time.
struct SecondPassText<'a> {
    sources: &'a [Source],
    /// See [`AppCheck::released`].
    released: &'a [Option<usize>],
    /// The released source being checked, read again.
    held: Option<(usize, String)>,
    /// Sources that could not be read again, or changed: reported once, their documents skipped.
    unreadable: Vec<bool>,
}

impl SecondPassText<'_> {
    /// The text at `range` of `source`, or `None` when the source cannot give it (the error is
    /// pushed on `errors` once per source).
    fn text(
        &mut self,
        source: usize,
        range: Range<usize>,
        texts: &mut dyn SourceText,
        errors: &mut Vec<InputError>,
    ) -> Option<&str> {
        let Some(len) = self.released[source] else {
            return self.sources[source].text.get(range);
        };
        if self.unreadable[source] {
            return None;
        }
        if self.held.as_ref().is_none_or(|(held, _)| *held != source) {
            // One source's text at a time: the previous one goes first.
            self.held = None;
            match texts.text(&self.sources[source]) {
                Ok(text) if text.len() == len => self.held = Some((source, text)),
                Ok(_) => errors.push(changed(&self.sources[source], len)),
                Err(e) => errors.push(e),
            }
        }
        // Read again with another length, or the same length and the document no longer where
        // it was: the source has changed.
        let text = self.held.as_ref().and_then(|(_, text)| text.get(range));
        if text.is_none() {
            if self.held.is_some() {
                errors.push(changed(&self.sources[source], len));
            }
            self.unreadable[source] = true;
        }
        text
    }
}

/// The error for a source whose text changed between the two passes.
fn changed(source: &Source, len: usize) -> InputError {
    InputError::new(
        InputErrorKind::Io,
        &source.name,
        0,
        format!(
            "changed while it was being checked (it was {len} bytes when first read); check it again"
        ),
    )
}

/// The texts of a check that let go of none: asked for one all the same, it says so.
struct NotHeld;

impl SourceText for NotHeld {
    fn text(&mut self, source: &Source) -> Result<String, InputError> {
        Err(InputError::new(
            InputErrorKind::Io,
            &source.name,
            0,
            "its text was let go after the first pass and nothing can read it again",
        ))
    }
}

/// Puts an object of a source into its effective namespace: the release namespace
/// (`namespace`, from `--namespace`, else unnamed) unless it names its own. `placeholder`: the
/// source is a chart rendered with the placeholder release namespace (see [`crate::namespace`]).
pub(crate) fn place(object: &mut Object, placeholder: bool, namespace: Option<&str>) {
    if placeholder {
        crate::namespace::map_placeholder(object);
    }
    if let Some(ns) = namespace
        && object.namespace.is_none()
        && object.is_namespaced()
    {
        object.namespace = Some(ns.to_owned());
    }
}

/// Every rule on one object, then the waivers its annotations carry.
fn check_object(run: &mut Run<'_>, object: &Object, index: Option<&AppIndex<'_>>) {
    let start = run.sink.findings.len();
    run.object(object, index);
    waive_by_annotations(
        &mut run.sink.findings[start..],
        std::slice::from_ref(object),
    );
}

/// What the application rule on the whole input needs to know about the objects checked.
#[derive(Default)]
struct Seen {
    first: Option<Object>,
    objects: usize,
    workload_kind: bool,
}

impl Seen {
    fn object(&mut self, object: &Object) {
        if self.first.is_none() {
            self.first = Some(object.clone());
        }
        self.objects += 1;
        self.workload_kind |= WorkloadKind::of(object).is_some();
    }
}
