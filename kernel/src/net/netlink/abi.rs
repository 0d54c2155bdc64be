//! The netlink and rtnetlink numbers Lintel answers with (linux/netlink.h, linux/rtnetlink.h,
//! linux/if_link.h, linux/if_addr.h), shared by the request parser and the reply builder.

// Message types and flags (linux/netlink.h, linux/rtnetlink.h).
pub(super) const NLMSG_NOOP: u16 = 1;
pub(super) const NLMSG_ERROR: u16 = 2;
pub(super) const NLMSG_DONE: u16 = 3;
pub(super) const RTM_NEWLINK: u16 = 16;
pub(super) const RTM_DELLINK: u16 = 17;
pub(super) const RTM_GETLINK: u16 = 18;
pub(super) const RTM_SETLINK: u16 = 19;
pub(super) const RTM_NEWADDR: u16 = 20;
pub(super) const RTM_DELADDR: u16 = 21;
pub(super) const RTM_GETADDR: u16 = 22;
pub(super) const RTM_NEWROUTE: u16 = 24;
pub(super) const RTM_DELROUTE: u16 = 25;
pub(super) const RTM_GETROUTE: u16 = 26;
pub(super) const RTM_NEWNEIGH: u16 = 28;
pub(super) const RTM_GETNEIGH: u16 = 30;
pub(super) const NDA_DST: u16 = 1;
pub(super) const NDA_LLADDR: u16 = 2;
pub(super) const NDA_CACHEINFO: u16 = 3;
pub(super) const NDA_PROBES: u16 = 4;
pub(super) const NUD_REACHABLE: u16 = 0x02;
pub(super) const NUD_STALE: u16 = 0x04;
pub(super) const NLM_F_EXCL: u16 = 0x200;
pub(super) const NLM_F_REQUEST: u16 = 1;
pub(super) const NLM_F_MULTI: u16 = 2;
pub(super) const NLM_F_ACK: u16 = 4;
pub(super) const NLM_F_DUMP: u16 = 0x300;
/// An error reply carries only the request's header, not its payload.
pub(super) const NLM_F_CAPPED: u16 = 0x100;
pub(super) const NLMSG_HDRLEN: usize = 16;
pub(super) const AF_INET: u8 = 2;
pub(super) const AF_INET6: u8 = 10;
pub(super) const IFLA_ADDRESS: u16 = 1;
pub(super) const IFLA_BROADCAST: u16 = 2;
pub(super) const IFLA_IFNAME: u16 = 3;
pub(super) const IFLA_MTU: u16 = 4;
pub(super) const IFLA_QDISC: u16 = 6;
pub(super) const IFLA_STATS: u16 = 7;
pub(super) const IFLA_TXQLEN: u16 = 13;
pub(super) const IFLA_OPERSTATE: u16 = 16;
pub(super) const IFLA_LINKMODE: u16 = 17;
pub(super) const IFLA_STATS64: u16 = 23;
pub(super) const IFLA_GROUP: u16 = 27;
pub(super) const IFLA_PROMISCUITY: u16 = 30;
pub(super) const IFLA_NUM_TX_QUEUES: u16 = 31;
pub(super) const IFLA_NUM_RX_QUEUES: u16 = 32;
pub(super) const IFLA_CARRIER: u16 = 33;
pub(super) const IFLA_CARRIER_CHANGES: u16 = 35;
pub(super) const IFLA_GSO_MAX_SEGS: u16 = 40;
pub(super) const IFLA_GSO_MAX_SIZE: u16 = 41;
pub(super) const IFLA_MIN_MTU: u16 = 50;
pub(super) const IFLA_MAX_MTU: u16 = 51;
pub(super) const IF_OPER_UNKNOWN: u8 = 0;
pub(super) const IF_OPER_DOWN: u8 = 2;
pub(super) const IF_OPER_UP: u8 = 6;
pub(super) const IFA_ADDRESS: u16 = 1;
pub(super) const IFA_LOCAL: u16 = 2;
pub(super) const IFA_LABEL: u16 = 3;
pub(super) const IFA_BROADCAST: u16 = 4;
pub(super) const IFA_CACHEINFO: u16 = 6;
pub(super) const IFA_FLAGS: u16 = 8;
/// ifa_cacheinfo's lifetime for an address that never expires ("forever").
pub(super) const INFINITY_LIFE_TIME: u32 = u32::MAX;
pub(super) const IFA_F_PERMANENT: u32 = 0x80;
pub(super) const RT_SCOPE_UNIVERSE: u8 = 0;
pub(super) const RT_SCOPE_LINK: u8 = 253;
pub(super) const RT_SCOPE_HOST: u8 = 254;
pub(super) const RT_TABLE_MAIN: u8 = 254;
pub(super) const RTPROT_KERNEL: u8 = 2;
pub(super) const RTPROT_BOOT: u8 = 3;
pub(super) const RTN_UNICAST: u8 = 1;
pub(super) const RTA_DST: u16 = 1;
pub(super) const RTA_OIF: u16 = 4;
pub(super) const RTA_GATEWAY: u16 = 5;
pub(super) const RTA_PRIORITY: u16 = 6;
pub(super) const RTA_PREFSRC: u16 = 7;
pub(super) const RTA_TABLE: u16 = 15;
pub(super) const RTA_PREF: u16 = 20;
pub(super) const ICMPV6_ROUTER_PREF_MEDIUM: u8 = 0;
/// Replies are cut into datagrams of at most this size, like Linux's dump buffers.
pub(super) const DATAGRAM_MAX: usize = 32 * 1024;

/// Netlink messages and attributes are padded to 4 bytes.
pub(super) fn align4(n: usize) -> usize {
    (n + 3) & !3
}
