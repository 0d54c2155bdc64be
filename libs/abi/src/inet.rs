//! Internet protocols: protocol numbers and the IP, IPv6 and TCP socket options
//! (linux/in.h, linux/in6.h, linux/tcp.h), and the sizes of `sockaddr_in`/`sockaddr_in6`.
#![allow(missing_docs)]

pub const IPPROTO_IP: u32 = 0;
pub const IPPROTO_ICMP: u32 = 1;
pub const IPPROTO_TCP: u32 = 6;
pub const IPPROTO_UDP: u32 = 17;
pub const IPPROTO_IPV6: u32 = 41;
pub const IPPROTO_ICMPV6: u32 = 58;
pub const IPPROTO_RAW: u32 = 255;
/// One past the largest protocol number socket(2) takes (IPPROTO_MPTCP is 262).
pub const IPPROTO_MAX: u32 = 263;

/// `setsockopt` levels are the protocol numbers.
pub const SOL_IP: usize = IPPROTO_IP as usize;
pub const SOL_TCP: usize = IPPROTO_TCP as usize;
pub const SOL_UDP: usize = IPPROTO_UDP as usize;
pub const SOL_IPV6: usize = IPPROTO_IPV6 as usize;
pub const SOL_ICMPV6: usize = IPPROTO_ICMPV6 as usize;
/// Raw sockets' own level (raw(7)).
pub const SOL_RAW: usize = 255;

/// SOL_RAW's option of IPv4 ICMP sockets, and SOL_ICMPV6's of ICMPv6 ones.
pub const ICMP_FILTER: usize = 1;
pub const ICMP6_FILTER: usize = 1;

pub const IP_TOS: usize = 1;
pub const IP_TTL: usize = 2;
pub const IP_HDRINCL: usize = 3;
pub const IP_RECVERR: usize = 11;
pub const IP_MULTICAST_IF: usize = 32;
pub const IP_MULTICAST_TTL: usize = 33;
pub const IP_MULTICAST_LOOP: usize = 34;
pub const IP_ADD_MEMBERSHIP: usize = 35;
pub const IP_DROP_MEMBERSHIP: usize = 36;

pub const IPV6_UNICAST_HOPS: usize = 16;
pub const IPV6_V6ONLY: usize = 26;
pub const IPV6_MULTICAST_IF: usize = 17;
pub const IPV6_MULTICAST_HOPS: usize = 18;
pub const IPV6_MULTICAST_LOOP: usize = 19;
/// Also IPV6_ADD_MEMBERSHIP / IPV6_DROP_MEMBERSHIP.
pub const IPV6_JOIN_GROUP: usize = 20;
pub const IPV6_LEAVE_GROUP: usize = 21;
pub const IPV6_TCLASS: usize = 67;
pub const IPV6_CHECKSUM: usize = 7;
pub const IPV6_HDRINCL: usize = 36;

pub const TCP_NODELAY: usize = 1;
pub const TCP_MAXSEG: usize = 2;
pub const TCP_CORK: usize = 3;
pub const TCP_KEEPIDLE: usize = 4;
pub const TCP_KEEPINTVL: usize = 5;
pub const TCP_KEEPCNT: usize = 6;
pub const TCP_INFO: usize = 11;
pub const TCP_QUICKACK: usize = 12;
pub const TCP_CONGESTION: usize = 13;

/// `sizeof(struct sockaddr_in)` and `sizeof(struct sockaddr_in6)`; Linux accepts an IPv6
/// address as short as RFC 2133's 24-byte form (no scope id).
pub const SOCKADDR_IN_SIZE: usize = 16;
pub const SOCKADDR_IN6_SIZE: usize = 28;
pub const SOCKADDR_IN6_MIN: usize = 24;
