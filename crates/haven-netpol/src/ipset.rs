//! Sets of IP addresses (IPv4 and IPv6): `ipBlock` peers and external endpoints.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::RangeInclusive;
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Subnets, Ipv6Subnets};
use rangemap::RangeInclusiveSet;
use serde::{Serialize, Serializer};

/// Why a text is not a CIDR (or address).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid CIDR (such as 10.0.0.0/8 or fd00::/8)")]
pub struct CidrError {
    pub text: String,
}

/// A set of addresses, kept as disjoint ranges per family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpSet {
    v4: RangeInclusiveSet<u32>,
    v6: RangeInclusiveSet<u128>,
}

impl IpSet {
    pub fn empty() -> Self {
        Self::default()
    }

    /// Every IPv4 and IPv6 address (`0.0.0.0/0` and `::/0`).
    pub fn everything() -> Self {
        let mut s = Self::empty();
        s.v4.insert(0..=u32::MAX);
        s.v6.insert(0..=u128::MAX);
        s
    }

    /// A CIDR as the API server reads `ipBlock.cidr`: host bits set are masked off (as Go's
    /// `net.ParseCIDR` does), so `10.1.2.3/8` is `10.0.0.0/8`.
    pub fn from_cidr(text: &str) -> Result<Self, CidrError> {
        let net = IpNet::from_str(text.trim()).map_err(|_| CidrError {
            text: text.to_owned(),
        })?;
        Ok(Self::from_net(net))
    }

    /// A CIDR, or a single address (for external endpoints given by address).
    pub fn parse(text: &str) -> Result<Self, CidrError> {
        match IpAddr::from_str(text.trim()) {
            Ok(addr) => Ok(Self::from_net(IpNet::from(addr))),
            Err(_) => Self::from_cidr(text),
        }
    }

    pub fn from_net(net: IpNet) -> Self {
        let mut s = Self::empty();
        match net.trunc() {
            IpNet::V4(n) => {
                s.v4.insert(u32::from(n.network())..=u32::from(n.broadcast()));
            }
            IpNet::V6(n) => {
                s.v6.insert(u128::from(n.network())..=u128::from(n.broadcast()));
            }
        }
        s
    }

    /// An IPv4 range (`first..=last`).
    pub fn from_v4_range(range: RangeInclusive<Ipv4Addr>) -> Self {
        let mut s = Self::empty();
        s.v4.insert(u32::from(*range.start())..=u32::from(*range.end()));
        s
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => self.v4.contains(&u32::from(a)),
            IpAddr::V6(a) => self.v6.contains(&u128::from(a)),
        }
    }

    pub fn union(&self, other: &IpSet) -> IpSet {
        let mut out = self.clone();
        for r in other.v4.iter() {
            out.v4.insert(r.clone());
        }
        for r in other.v6.iter() {
            out.v6.insert(r.clone());
        }
        out
    }

    pub fn intersection(&self, other: &IpSet) -> IpSet {
        IpSet {
            v4: self.v4.intersection(&other.v4).collect(),
            v6: self.v6.intersection(&other.v6).collect(),
        }
    }

    pub fn difference(&self, other: &IpSet) -> IpSet {
        let mut out = self.clone();
        for r in other.v4.iter() {
            out.v4.remove(r.clone());
        }
        for r in other.v6.iter() {
            out.v6.remove(r.clone());
        }
        out
    }

    pub fn is_subset(&self, other: &IpSet) -> bool {
        self.difference(other).is_empty()
    }

    pub fn overlaps(&self, other: &IpSet) -> bool {
        !self.intersection(other).is_empty()
    }

    /// The IPv4 ranges, ascending.
    pub fn v4_ranges(&self) -> impl Iterator<Item = RangeInclusive<Ipv4Addr>> + '_ {
        self.v4
            .iter()
            .map(|r| Ipv4Addr::from(*r.start())..=Ipv4Addr::from(*r.end()))
    }

    /// The IPv6 ranges, ascending.
    pub fn v6_ranges(&self) -> impl Iterator<Item = RangeInclusive<Ipv6Addr>> + '_ {
        self.v6
            .iter()
            .map(|r| Ipv6Addr::from(*r.start())..=Ipv6Addr::from(*r.end()))
    }

    /// The first and last address of every maximal range, IPv4 first: the points where
    /// membership changes, used to split other sets into pieces this set treats alike.
    pub(crate) fn boundaries(&self) -> (Vec<u32>, Vec<u128>) {
        let mut v4 = Vec::new();
        for r in self.v4.iter() {
            v4.push(*r.start());
            if let Some(next) = r.end().checked_add(1) {
                v4.push(next);
            }
        }
        let mut v6 = Vec::new();
        for r in self.v6.iter() {
            v6.push(*r.start());
            if let Some(next) = r.end().checked_add(1) {
                v6.push(next);
            }
        }
        (v4, v6)
    }

    /// Splits the set at the given cut points (a cut point starts a new piece).
    pub(crate) fn split_at(&self, v4_cuts: &[u32], v6_cuts: &[u128]) -> Vec<IpSet> {
        let mut out = Vec::new();
        for r in self.v4.iter() {
            let mut start = *r.start();
            for &c in v4_cuts
                .iter()
                .filter(|c| **c > *r.start() && **c <= *r.end())
            {
                let mut s = IpSet::empty();
                s.v4.insert(start..=c - 1);
                out.push(s);
                start = c;
            }
            let mut s = IpSet::empty();
            s.v4.insert(start..=*r.end());
            out.push(s);
        }
        for r in self.v6.iter() {
            let mut start = *r.start();
            for &c in v6_cuts
                .iter()
                .filter(|c| **c > *r.start() && **c <= *r.end())
            {
                let mut s = IpSet::empty();
                s.v6.insert(start..=c - 1);
                out.push(s);
                start = c;
            }
            let mut s = IpSet::empty();
            s.v6.insert(start..=*r.end());
            out.push(s);
        }
        out
    }

    /// The set as the fewest CIDRs, IPv4 first.
    pub fn to_cidrs(&self) -> Vec<IpNet> {
        let mut out = Vec::new();
        for r in self.v4_ranges() {
            out.extend(Ipv4Subnets::new(*r.start(), *r.end(), 0).map(IpNet::V4));
        }
        for r in self.v6_ranges() {
            out.extend(Ipv6Subnets::new(*r.start(), *r.end(), 0).map(IpNet::V6));
        }
        out
    }
}

/// Comma-separated CIDRs (`10.0.0.0/8, 192.168.1.1/32`); `no addresses` when empty.
impl fmt::Display for IpSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no addresses");
        }
        for (i, net) in self.to_cidrs().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{net}")?;
        }
        Ok(())
    }
}

/// A list of CIDRs.
impl Serialize for IpSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.to_cidrs().iter().map(ToString::to_string))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(cidrs: &[&str]) -> IpSet {
        cidrs.iter().fold(IpSet::empty(), |a, c| {
            a.union(&IpSet::from_cidr(c).unwrap())
        })
    }

    #[test]
    fn cidrs_with_except_and_host_bits() {
        let block = set(&["10.0.0.0/8"]).difference(&set(&["10.1.0.0/16"]));
        assert!(block.contains("10.0.0.1".parse().unwrap()));
        assert!(!block.contains("10.1.2.3".parse().unwrap()));
        assert_eq!(
            block.to_string(),
            "10.0.0.0/16, 10.2.0.0/15, 10.4.0.0/14, 10.8.0.0/13, 10.16.0.0/12, 10.32.0.0/11, 10.64.0.0/10, 10.128.0.0/9"
        );
        assert_eq!(
            IpSet::from_cidr("10.1.2.3/8").unwrap(),
            set(&["10.0.0.0/8"])
        );
        assert!(
            IpSet::from_cidr("10.0.0.0").is_err(),
            "ipBlock.cidr needs a prefix"
        );
        assert_eq!(IpSet::parse("10.0.0.1").unwrap(), set(&["10.0.0.1/32"]));
        assert!(IpSet::from_cidr("10.0.0.0/33").is_err());
    }

    #[test]
    fn ipv6_is_a_family_of_its_own() {
        let v6 = set(&["fd00::/8"]);
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(!v6.overlaps(&set(&["0.0.0.0/0"])));
        assert!(set(&["fd00::/16"]).is_subset(&v6));
        let all = IpSet::everything();
        assert_eq!(all.to_string(), "0.0.0.0/0, ::/0");
        assert!(v6.is_subset(&all));
    }

    #[test]
    fn split_at_cuts_ranges() {
        let s = set(&["10.0.0.0/24"]);
        let (cuts, _) = set(&["10.0.0.128/25", "10.0.0.64/32"]).boundaries();
        let parts: Vec<String> = s
            .split_at(&cuts, &[])
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            parts,
            [
                "10.0.0.0/26",
                "10.0.0.64/32",
                "10.0.0.65/32, 10.0.0.66/31, 10.0.0.68/30, 10.0.0.72/29, 10.0.0.80/28, 10.0.0.96/27",
                "10.0.0.128/25"
            ]
        );
    }
}
