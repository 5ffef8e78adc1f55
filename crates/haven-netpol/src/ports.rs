//! Protocols and sets of ports: what a rule admits and what a connection uses.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;

use rangemap::RangeInclusiveSet;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// The protocols a NetworkPolicy port can name (`protocol`, TCP when left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Protocol {
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
    #[serde(rename = "SCTP")]
    Sctp,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Self::Tcp, Self::Udp, Self::Sctp];

    /// Parses the API spelling (`TCP`, `UDP`, `SCTP`; case matters, as for the API server).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "TCP" => Some(Self::Tcp),
            "UDP" => Some(Self::Udp),
            "SCTP" => Some(Self::Sctp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
            Self::Sctp => "SCTP",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every port a NetworkPolicy can name (port 0 is not a valid port).
pub const ALL_PORTS: RangeInclusive<u16> = 1..=65535;

/// A set of (protocol, port) pairs: the connections a rule admits, or that are allowed
/// between two endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connections {
    by_protocol: BTreeMap<Protocol, RangeInclusiveSet<u16>>,
}

impl Connections {
    pub fn none() -> Self {
        Self::default()
    }

    /// Every port of every protocol.
    pub fn all() -> Self {
        let mut c = Self::none();
        for p in Protocol::ALL {
            c.add(p, ALL_PORTS);
        }
        c
    }

    pub fn single(protocol: Protocol, ports: RangeInclusive<u16>) -> Self {
        let mut c = Self::none();
        c.add(protocol, ports);
        c
    }

    /// Adds a range of ports (empty or port-0-only ranges add nothing).
    pub fn add(&mut self, protocol: Protocol, ports: RangeInclusive<u16>) {
        let start = (*ports.start()).max(1);
        let end = *ports.end();
        if start <= end {
            self.by_protocol
                .entry(protocol)
                .or_default()
                .insert(start..=end);
        }
    }

    pub fn union_with(&mut self, other: &Connections) {
        for (p, set) in &other.by_protocol {
            for r in set.iter() {
                self.add(*p, r.clone());
            }
        }
    }

    pub fn intersection(&self, other: &Connections) -> Connections {
        let mut out = Connections::none();
        for (p, a) in &self.by_protocol {
            if let Some(b) = other.by_protocol.get(p) {
                for r in a.intersection(b) {
                    out.add(*p, r);
                }
            }
        }
        out
    }

    /// What `self` admits and `other` does not.
    pub fn difference(&self, other: &Connections) -> Connections {
        let mut out = Connections::none();
        for (p, a) in &self.by_protocol {
            let mut left = a.clone();
            if let Some(b) = other.by_protocol.get(p) {
                for r in b.iter() {
                    left.remove(r.clone());
                }
            }
            for r in left.iter() {
                out.add(*p, r.clone());
            }
        }
        out
    }

    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        self.by_protocol
            .get(&protocol)
            .is_some_and(|s| s.contains(&port))
    }

    pub fn is_empty(&self) -> bool {
        self.by_protocol.values().all(|s| s.is_empty())
    }

    pub fn is_all(&self) -> bool {
        Protocol::ALL.iter().all(|p| self.is_all_of(*p))
    }

    /// Whether every port of `protocol` is in the set.
    pub fn is_all_of(&self, protocol: Protocol) -> bool {
        self.by_protocol.get(&protocol).is_some_and(|s| {
            let mut it = s.iter();
            it.next() == Some(&ALL_PORTS) && it.next().is_none()
        })
    }

    /// The port ranges per protocol, protocols in `TCP, UDP, SCTP` order, ranges ascending.
    pub fn ranges(&self) -> impl Iterator<Item = (Protocol, Vec<RangeInclusive<u16>>)> + '_ {
        self.by_protocol
            .iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(p, s)| (*p, s.iter().cloned().collect()))
    }
}

fn write_ranges(f: &mut impl fmt::Write, ranges: &[RangeInclusive<u16>]) -> fmt::Result {
    for (i, r) in ranges.iter().enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        if r.start() == r.end() {
            write!(f, "{}", r.start())?;
        } else {
            write!(f, "{}-{}", r.start(), r.end())?;
        }
    }
    Ok(())
}

/// `all ports`, `none`, or `TCP 80,443-445; UDP 53` (`TCP all` for every port of one protocol).
impl fmt::Display for Connections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("all ports");
        }
        if self.is_empty() {
            return f.write_str("none");
        }
        for (i, (p, ranges)) in self.ranges().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p} ")?;
            if self.is_all_of(p) {
                f.write_str("all")?;
            } else {
                write_ranges(f, &ranges)?;
            }
        }
        Ok(())
    }
}

/// A map from protocol to port ranges: `{"TCP": ["80", "443-445"], "UDP": ["53"]}`.
impl Serialize for Connections {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let entries: Vec<_> = self.ranges().collect();
        let mut m = s.serialize_map(Some(entries.len()))?;
        for (p, ranges) in entries {
            let texts: Vec<String> = ranges
                .iter()
                .map(|r| {
                    let mut t = String::new();
                    let _ = write_ranges(&mut t, std::slice::from_ref(r));
                    t
                })
                .collect();
            m.serialize_entry(p.as_str(), &texts)?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_union_intersect_and_print() {
        let mut c = Connections::single(Protocol::Tcp, 80..=80);
        c.add(Protocol::Tcp, 443..=445);
        c.add(Protocol::Tcp, 81..=81);
        c.add(Protocol::Udp, 53..=53);
        assert_eq!(c.to_string(), "TCP 80-81,443-445; UDP 53");
        assert!(c.contains(Protocol::Tcp, 444) && !c.contains(Protocol::Tcp, 446));
        assert!(!c.contains(Protocol::Sctp, 80));
        let only = c.intersection(&Connections::single(Protocol::Tcp, 1..=100));
        assert_eq!(only.to_string(), "TCP 80-81");
        assert!(Connections::all().is_all());
        assert_eq!(Connections::all().to_string(), "all ports");
        assert_eq!(Connections::none().to_string(), "none");
        assert_eq!(
            Connections::single(Protocol::Udp, ALL_PORTS).to_string(),
            "UDP all"
        );
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"TCP":["80-81","443-445"],"UDP":["53"]}"#
        );
    }

    #[test]
    fn difference_removes_what_the_other_admits() {
        let mut c = Connections::single(Protocol::Tcp, 1..=1000);
        c.add(Protocol::Udp, 53..=53);
        let mut d = Connections::single(Protocol::Tcp, 80..=80);
        d.add(Protocol::Tcp, 443..=443);
        d.add(Protocol::Sctp, 1..=5);
        assert_eq!(
            c.difference(&d).to_string(),
            "TCP 1-79,81-442,444-1000; UDP 53"
        );
        assert!(c.difference(&Connections::all()).is_empty());
        assert_eq!(Connections::none().difference(&d), Connections::none());
    }

    #[test]
    fn port_zero_and_empty_ranges_add_nothing() {
        let mut c = Connections::none();
        c.add(Protocol::Tcp, 0..=0);
        #[allow(clippy::reversed_empty_ranges)]
        c.add(Protocol::Tcp, 10..=5);
        assert!(c.is_empty());
    }
}
