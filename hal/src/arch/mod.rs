//! Architecture boundary: a port adds a folder here with the same items.
pub mod x86_64;
pub use x86_64::cpu;
