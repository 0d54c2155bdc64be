//! What a network interface looks like to user space: its `ARPHRD_*` hardware type and its
//! `IFF_*` flags, the same whether asked through an `ioctl` (`SIOCGIFFLAGS`, `SIOCGIFHWADDR`)
//! or rtnetlink (`RTM_NEWLINK`).

use lintel_net::IfInfo;

pub const ARPHRD_ETHER: u16 = 1;
pub const ARPHRD_LOOPBACK: u16 = 772;

pub const IFF_UP: u32 = 0x1;
pub const IFF_BROADCAST: u32 = 0x2;
pub const IFF_LOOPBACK: u32 = 0x8;
pub const IFF_RUNNING: u32 = 0x40;
pub const IFF_MULTICAST: u32 = 0x1000;
pub const IFF_LOWER_UP: u32 = 0x10000;

/// The interface's `ARPHRD_*` type.
pub fn hw_type(l: &IfInfo) -> u16 {
    if l.loopback {
        ARPHRD_LOOPBACK
    } else {
        ARPHRD_ETHER
    }
}

/// The interface's `IFF_*` flags as rtnetlink reports them (`SIOCGIFFLAGS` keeps the low 16
/// bits, so it loses `IFF_LOWER_UP`, as on Linux).
pub fn flags(l: &IfInfo) -> u32 {
    let mut f = if l.loopback {
        IFF_LOOPBACK
    } else {
        IFF_BROADCAST | IFF_MULTICAST
    };
    if l.up {
        f |= IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
    }
    f
}
