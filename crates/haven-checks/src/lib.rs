//! The Haven compliancy checks as pure functions over a cluster snapshot
