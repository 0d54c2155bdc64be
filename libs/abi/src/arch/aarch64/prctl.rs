//! arm64 has no `arch_prctl`; nothing here.
