//! The cluster view: a snapshot of what the checks read, collected with the kube client or loaded from a file
