//! What one YAML document may cost, in one place: both readers (the fast path in `fast.rs` and
//! the full parser in `yaml.rs`) count through a [`Budget`], so a document is accepted or
//! refused alike whichever path reads it, and every entry point that reads YAML through
//! `haven-model` (`haven app check`, waiver files, `admission --config`, `plus` config) is bound
//! by the same numbers.
//!
//! How Kubernetes bounds the same things, and why ours are what they are:
//! - The API server takes request bodies of at most 3 MiB (`MaxRequestBodyBytes`) and etcd stores
//!   objects of at most 1.5 MiB; `kubectl` and Helm split streams into documents before reading
//!   them, so no single document Kubernetes stores comes near our per-document limits.
//! - go-yaml v2 (which `sigs.k8s.io/yaml` wraps) has no limit on nodes or bytes. It refuses
//!   "excessive aliasing" by a ratio of nodes decoded through aliases to all nodes decoded
//!   ([`go_yaml_allowed_alias_ratio`]); we apply exactly that rule, so that what Kubernetes
//!   refuses is refused here too.
//! - go-yaml shares an aliased string instead of copying it, but the JSON that
//!   `sigs.k8s.io/yaml` then writes repeats it: one 1 MB string aliased thousands of times passes
//!   go-yaml's ratio and costs gigabytes on the way to the API server. We hold values as JSON
//!   too, so we also bound the bytes of scalars repeated through aliases ([`MAX_ALIAS_BYTES`]).

/// Deepest nesting accepted. Kubernetes objects stay far below it; the limit keeps recursion
/// (ours, serde's, and every `Drop`) safely bounded on hostile input.
pub const MAX_DEPTH: usize = 100;

/// Most nodes one document may have: every mapping, sequence, key and value, each node an alias
/// brings in counted again. A parsed node costs about 100 bytes (its JSON value and its source
/// position), so this bounds a document's memory to about 200 MB. go-yaml's own comment puts
/// 4,000,000 decoded nodes at "~5MB of dense object declarations", more than the API server
/// takes in one request; a `List` of this many nodes is better split into documents.
pub const MAX_NODES: usize = 2_000_000;

/// Most bytes of scalar text (keys and values) that aliases may repeat in one document, the
/// "expanded size" beyond what the text itself holds. Five times the largest request body the
/// API server accepts (3 MiB): an object that uses anchors for shared settings stays far below
/// it, while a 1 MB string aliased thousands of times stops after sixteen copies instead of
/// costing gigabytes.
pub const MAX_ALIAS_BYTES: usize = 16 * 1024 * 1024;

/// Largest document accepted, in bytes of text. Kubernetes stores at most ~1.5 MiB per object;
/// this generous bound only protects the process.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// Most bytes read from one input (a file, a pipe, standard input). Inputs without a size
/// (`/dev/zero`, a pipe that never ends) are cut off here with an error instead of filling memory.
pub const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// go-yaml v2's `alias_ratio_range_low` and `_high` (decode.go): below the first, 99% of the
/// decoded nodes may come from aliases; above the second, 10%; in between the share falls
/// linearly.
const GO_ALIAS_RATIO_RANGE_LOW: usize = 400_000;
const GO_ALIAS_RATIO_RANGE_HIGH: usize = 4_000_000;

/// go-yaml v2's `allowedAliasRatio`: the share of decoded nodes that may come from aliases.
pub fn go_yaml_allowed_alias_ratio(decoded: usize) -> f64 {
    if decoded <= GO_ALIAS_RATIO_RANGE_LOW {
        0.99
    } else if decoded >= GO_ALIAS_RATIO_RANGE_HIGH {
        0.10
    } else {
        let range = (GO_ALIAS_RATIO_RANGE_HIGH - GO_ALIAS_RATIO_RANGE_LOW) as f64;
        0.99 - 0.89 * ((decoded - GO_ALIAS_RATIO_RANGE_LOW) as f64 / range)
    }
}

/// Which limit a document went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Exceeded {
    #[error(
        "document has more than {MAX_NODES} nodes (mappings, sequences, keys and values, aliases \
         expanded); split it into several documents"
    )]
    Nodes,
    #[error(
        "aliases in this document repeat more than {} MiB of text (the limit on its expanded \
         size; the API server takes no request over 3 MiB)",
        MAX_ALIAS_BYTES / (1024 * 1024)
    )]
    AliasBytes,
    #[error(
        "document contains excessive aliasing ({aliased} of its {decoded} nodes come from \
         aliases), which Kubernetes' YAML reader (go-yaml) refuses"
    )]
    Aliasing { aliased: usize, decoded: usize },
}

/// The running cost of one document. Counts nodes the way go-yaml's decoder does (each key
/// and value, each node an alias brings in), so that its aliasing rule gives its answers.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    /// [`MAX_NODES`], lowered in tests.
    max_nodes: usize,
    /// Nodes read so far, aliases expanded.
    nodes: usize,
    /// Of those, the nodes that came in through aliases.
    aliased: usize,
    /// Bytes of scalar text that came in through aliases.
    alias_bytes: usize,
}

#[cfg(test)]
thread_local! {
    /// Lets tests try the node limit on small documents.
    pub(crate) static TEST_MAX_NODES: std::cell::Cell<usize> = const { std::cell::Cell::new(MAX_NODES) };
}

impl Default for Budget {
    fn default() -> Self {
        #[cfg(test)]
        let max_nodes = TEST_MAX_NODES.with(std::cell::Cell::get);
        #[cfg(not(test))]
        let max_nodes = MAX_NODES;
        Budget {
            max_nodes,
            nodes: 0,
            aliased: 0,
            alias_bytes: 0,
        }
    }
}

impl Budget {
    /// Nodes read so far.
    #[inline]
    pub(crate) fn nodes(&self) -> usize {
        self.nodes
    }

    /// `n` nodes written in the text.
    #[inline]
    pub(crate) fn add(&mut self, n: usize) -> Result<(), Exceeded> {
        self.nodes += n;
        if self.nodes > self.max_nodes {
            return Err(Exceeded::Nodes);
        }
        if self.aliased > 0 {
            self.check_aliasing()?;
        }
        Ok(())
    }

    /// `n` nodes written in the text of a document that has no aliases (the fast path's):
    /// [`Budget::add`] without the aliasing rule, which cannot apply.
    #[inline]
    pub(crate) fn add_unaliased(&mut self, n: usize) -> Result<(), Exceeded> {
        debug_assert_eq!(self.aliased, 0);
        self.nodes += n;
        if self.nodes > self.max_nodes {
            return Err(Exceeded::Nodes);
        }
        Ok(())
    }

    /// `n` nodes taken out of the count: go-yaml does not decode the sequence node of a
    /// `<<: [*a, *b]` merge, only its items.
    pub(crate) fn remove(&mut self, n: usize) {
        self.nodes -= n;
    }

    /// An alias that repeats `nodes` nodes holding `bytes` bytes of scalars. Checked before
    /// the copy is made.
    pub(crate) fn alias(&mut self, nodes: usize, bytes: usize) -> Result<(), Exceeded> {
        self.alias_bytes = self.alias_bytes.saturating_add(bytes);
        if self.alias_bytes > MAX_ALIAS_BYTES {
            return Err(Exceeded::AliasBytes);
        }
        self.nodes = self.nodes.saturating_add(nodes);
        self.aliased = self.aliased.saturating_add(nodes);
        if self.nodes > self.max_nodes {
            return Err(Exceeded::Nodes);
        }
        self.check_aliasing()
    }

    /// go-yaml v2's rule (`decoder.unmarshal`), checked after every node it decodes. Its count
    /// includes the document node, which ours does not. Within one alias the rule can only go
    /// from pass to fail as the alias's nodes come in, so checking once after them is the same
    /// as checking after each.
    fn check_aliasing(&self) -> Result<(), Exceeded> {
        let decoded = self.nodes + 1;
        if self.aliased > 100
            && decoded > 1000
            && self.aliased as f64 / decoded as f64 > go_yaml_allowed_alias_ratio(decoded)
        {
            return Err(Exceeded::Aliasing {
                aliased: self.aliased,
                decoded,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_yaml_alias_ratio_matches_its_table() {
        assert_eq!(go_yaml_allowed_alias_ratio(1000), 0.99);
        assert_eq!(go_yaml_allowed_alias_ratio(400_000), 0.99);
        assert_eq!(go_yaml_allowed_alias_ratio(4_000_000), 0.10);
        let mid = go_yaml_allowed_alias_ratio(2_200_000);
        assert!((mid - 0.545).abs() < 1e-9, "{mid}");
    }

    #[test]
    fn aliasing_counts_like_go_yaml() {
        // 101 aliased nodes out of 1001 decoded: within 99%.
        let mut b = Budget::default();
        b.add(899).unwrap();
        b.alias(101, 0).unwrap();
        // 2,000 aliased of 2,001: over 99%.
        let mut b = Budget::default();
        b.add(1).unwrap();
        assert_eq!(
            b.alias(1999, 0),
            Err(Exceeded::Aliasing {
                aliased: 1999,
                decoded: 2001
            })
        );
        // Few aliased nodes are never "excessive".
        let mut b = Budget::default();
        b.alias(100, 0).unwrap();
    }

    #[test]
    fn bytes_through_aliases_are_bounded_before_the_copy() {
        let mut b = Budget::default();
        b.add(3).unwrap();
        for _ in 0..16 {
            b.alias(1, 1024 * 1024).unwrap();
        }
        assert_eq!(b.alias(1, 1), Err(Exceeded::AliasBytes));
        let mut b = Budget::default();
        assert_eq!(b.add(MAX_NODES + 1), Err(Exceeded::Nodes));
    }
}
