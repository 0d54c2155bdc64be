//! Networking: Unix domain sockets (IP networking arrives with its own issue).

pub mod unix;
