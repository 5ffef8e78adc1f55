//! In-process Kubernetes-style API server over HTTPS for tests and benchmarks
