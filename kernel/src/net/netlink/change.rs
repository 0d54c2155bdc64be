//! NETLINK_ROUTE requests that change the configuration (root only): RTM_NEWADDR/DELADDR,
//! RTM_NEWROUTE/DELROUTE for the IPv4 default route, RTM_NEWLINK/SETLINK (the MTU, and an
//! Ethernet link up or down).

use super::abi::*;
use crate::net::link;
use alloc::vec::Vec;
use core::net::IpAddr;
use lintel_abi::Errno;

/// The attributes after a fixed header of `hdr` bytes: (type, payload).
pub(super) fn attrs(payload: &[u8], hdr: usize) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut off = align4(hdr);
    while let Some(h) = payload.get(off..off + 4) {
        let len = u16::from_le_bytes([h[0], h[1]]) as usize;
        let ty = u16::from_le_bytes([h[2], h[3]]) & 0x3fff;
        if len < 4 || off + len > payload.len() {
            break;
        }
        out.push((ty, &payload[off + 4..off + len]));
        off += align4(len);
    }
    out
}

/// The IFLA_IFNAME attribute's name, without its NUL.
pub(super) fn ifname<'a>(a: &[(u16, &'a [u8])]) -> Option<&'a [u8]> {
    a.iter()
        .find(|(t, _)| *t == IFLA_IFNAME)
        .map(|(_, v)| v.split(|&c| c == 0).next().unwrap_or(&[]))
}

fn ipv4_of(b: &[u8]) -> Option<core::net::Ipv4Addr> {
    let a: [u8; 4] = b.get(..4)?.try_into().ok()?;
    Some(core::net::Ipv4Addr::from(a))
}

/// A configuration change (root only). Lintel keeps one IPv4 address per interface and one
/// default route; only Ethernet links can be taken down. Anything else is EOPNOTSUPP.
pub(super) fn change(ty: u16, flags: u16, payload: &[u8]) -> Result<(), Errno> {
    use crate::net::inet::with;
    let family = payload.first().copied().ok_or(Errno::EINVAL)?;
    match ty {
        RTM_NEWLINK | RTM_SETLINK | RTM_DELLINK => {
            // struct ifinfomsg: family, pad, type, index, flags, change.
            let b = payload.get(..16).ok_or(Errno::EINVAL)?;
            let index = i32::from_le_bytes([b[4], b[5], b[6], b[7]]);
            let iff = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
            let mask = u32::from_le_bytes([b[12], b[13], b[14], b[15]]);
            let a = attrs(payload, 16);
            let name = ifname(&a);
            let links = with(|s| s.interfaces());
            // By index, or (index 0) by IFLA_IFNAME, as rtnl_setlink looks the device up.
            let dev = links
                .iter()
                .find(|l| match (index, name) {
                    (i, _) if i > 0 => l.index as i32 == i,
                    (_, Some(n)) => l.name.as_bytes() == n,
                    _ => false,
                })
                .ok_or(Errno::ENODEV)?;
            if ty == RTM_DELLINK {
                return Err(Errno::EOPNOTSUPP);
            }
            // The MTU first, then the flags, as Linux's do_setlink.
            if let Some((_, v)) = a.iter().find(|(t, _)| *t == IFLA_MTU) {
                let v: [u8; 4] = v
                    .get(..4)
                    .and_then(|v| v.try_into().ok())
                    .ok_or(Errno::EINVAL)?;
                with(|s| s.set_mtu(dev.index, u32::from_le_bytes(v)))?;
            }
            // Linux's rtnl_dev_combine_flags: ifi_change selects the flags to set; with none
            // given, ifi_flags replaces them all; both zero change nothing.
            if iff != 0 || mask != 0 {
                let up = if mask == 0 || mask & link::IFF_UP != 0 {
                    iff & link::IFF_UP != 0
                } else {
                    dev.up
                };
                if up != dev.up {
                    with(|s| s.set_up(dev.index, up))?;
                }
            }
            Ok(())
        }
        RTM_NEWADDR | RTM_DELADDR => {
            if family != AF_INET {
                return Err(Errno::EOPNOTSUPP);
            }
            // struct ifaddrmsg: family, prefixlen, flags, scope, index.
            let b = payload.get(..8).ok_or(Errno::EINVAL)?;
            let prefix = b[1];
            let index = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
            let a = attrs(payload, 8);
            let addr = a
                .iter()
                .find(|(t, _)| *t == IFA_LOCAL)
                .or_else(|| a.iter().find(|(t, _)| *t == IFA_ADDRESS))
                .and_then(|(_, v)| ipv4_of(v))
                .ok_or(Errno::EINVAL)?;
            let links = with(|s| s.interfaces());
            let link = links
                .iter()
                .find(|l| l.index == index)
                .ok_or(Errno::ENODEV)?;
            let current = link.addrs.iter().find_map(|(ip, p)| match ip {
                IpAddr::V4(v) => Some((*v, *p)),
                IpAddr::V6(_) => None,
            });
            if ty == RTM_DELADDR {
                return match current {
                    Some((v, _)) if v == addr && !link.loopback => with(|s| s.clear_ipv4(index)),
                    Some((v, _)) if v == addr => Err(Errno::EOPNOTSUPP),
                    _ => Err(Errno::EADDRNOTAVAIL),
                };
            }
            match current {
                Some((v, _)) if v == addr => Err(Errno::EEXIST),
                // One IPv4 address per interface.
                Some(_) => Err(Errno::EOPNOTSUPP),
                None if prefix > 32 => Err(Errno::EINVAL),
                None => with(|s| s.set_ipv4(index, addr, prefix, None)),
            }
        }
        _ => {
            // RTM_NEWROUTE / RTM_DELROUTE. struct rtmsg: family, dst_len, ...; 12 bytes.
            if family != AF_INET {
                return Err(Errno::EOPNOTSUPP);
            }
            let dst_len = *payload.get(1).ok_or(Errno::EINVAL)?;
            if payload.len() < 12 || dst_len != 0 {
                // Only the default route can be set.
                return Err(Errno::EOPNOTSUPP);
            }
            let a = attrs(payload, 12);
            let gw = a
                .iter()
                .find(|(t, _)| *t == RTA_GATEWAY)
                .and_then(|(_, v)| ipv4_of(v));
            let oif = a
                .iter()
                .find(|(t, _)| *t == RTA_OIF)
                .and_then(|(_, v)| v.get(..4))
                .map(|v| u32::from_le_bytes([v[0], v[1], v[2], v[3]]));
            let current = with(|s| s.gateway_v4());
            if ty == RTM_DELROUTE {
                let (index, _) = current.ok_or(Errno::ESRCH)?;
                return with(|s| s.set_gateway_v4(index, None));
            }
            let gw = gw.ok_or(Errno::EOPNOTSUPP)?;
            if current.is_some() && flags & NLM_F_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            // The interface named, or the one whose network holds the gateway.
            let index = match oif {
                Some(i) => i,
                None => with(|s| s.interfaces())
                    .iter()
                    .find(|l| {
                        !l.loopback
                            && l.addrs
                                .iter()
                                .any(|&(ip, p)| lintel_net::in_prefix(IpAddr::V4(gw), ip, p))
                    })
                    .map(|l| l.index)
                    .ok_or(Errno::ENETUNREACH)?,
            };
            if let Some((old, _)) = current {
                if old != index {
                    with(|s| s.set_gateway_v4(old, None))?;
                }
            }
            with(|s| s.set_gateway_v4(index, Some(gw)))
        }
    }
}
