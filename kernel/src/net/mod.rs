//! Networking: Unix domain sockets, IPv4/IPv6 sockets over the lintel-net stack, and netlink
//! sockets that describe the interfaces.

pub mod ifreq;
pub mod inet;
pub mod netlink;
pub mod unix;
