//! The SIOCGIF* ioctls every socket answers (struct ifreq, struct ifconf in linux/if.h):
//! what ifconfig and older programs use instead of netlink to list interfaces.

use super::link;
use crate::uaccess;
use alloc::vec::Vec;
use core::net::IpAddr;
use lintel_abi::{Errno, KResult};
use lintel_net::IfInfo;

const SIOCGIFNAME: u32 = 0x8910;
const SIOCGIFCONF: u32 = 0x8912;
const SIOCGIFFLAGS: u32 = 0x8913;
const SIOCSIFFLAGS: u32 = 0x8914;
const SIOCGIFADDR: u32 = 0x8915;
const SIOCGIFBRDADDR: u32 = 0x8919;
const SIOCGIFNETMASK: u32 = 0x891b;
const SIOCGIFMETRIC: u32 = 0x891d;
const SIOCGIFMTU: u32 = 0x8921;
const SIOCGIFHWADDR: u32 = 0x8927;
const SIOCGIFINDEX: u32 = 0x8933;
const SIOCGIFTXQLEN: u32 = 0x8942;

/// `sizeof(struct ifreq)`: a 16-byte name, then a 24-byte union.
const IFREQ_SIZE: usize = 40;
const IFNAMSIZ: usize = 16;
const AF_INET: u16 = 2;

/// Whether `cmd` is one of these ioctls (so a socket's ioctl knows to come here).
pub fn is_ifreq(cmd: u32) -> bool {
    matches!(
        cmd,
        SIOCGIFNAME
            | SIOCGIFCONF
            | SIOCGIFFLAGS
            | SIOCSIFFLAGS
            | SIOCGIFADDR
            | SIOCGIFBRDADDR
            | SIOCGIFNETMASK
            | SIOCGIFMETRIC
            | SIOCGIFMTU
            | SIOCGIFHWADDR
            | SIOCGIFINDEX
            | SIOCGIFTXQLEN
    )
}

fn sockaddr_in(ip: [u8; 4]) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[0..2].copy_from_slice(&AF_INET.to_le_bytes());
    b[4..8].copy_from_slice(&ip);
    b
}

/// The interface's first IPv4 address and prefix.
fn ipv4(l: &IfInfo) -> Option<([u8; 4], u8)> {
    l.addrs.iter().find_map(|(ip, p)| match ip {
        IpAddr::V4(a) => Some((a.octets(), *p)),
        IpAddr::V6(_) => None,
    })
}

fn mask(prefix: u8) -> [u8; 4] {
    lintel_net::ipv4_mask(prefix).to_be_bytes()
}

fn name_bytes(name: &str) -> [u8; IFNAMSIZ] {
    let mut b = [0u8; IFNAMSIZ];
    let n = name.len().min(IFNAMSIZ - 1);
    b[..n].copy_from_slice(&name.as_bytes()[..n]);
    b
}

/// SIOCGIFCONF: an ifreq per interface with an IPv4 address; with a NULL buffer only the
/// length needed.
fn ifconf(links: &[IfInfo], arg: usize) -> KResult<usize> {
    let b = uaccess::read_vec(arg, 16)?;
    let len = i32::from_le_bytes([b[0], b[1], b[2], b[3]]).max(0) as usize;
    let buf = u64::from_le_bytes(b[8..16].try_into().unwrap_or([0; 8])) as usize;
    let mut out = Vec::new();
    for l in links {
        if let Some((ip, _)) = ipv4(l) {
            let mut r = [0u8; IFREQ_SIZE];
            r[..IFNAMSIZ].copy_from_slice(&name_bytes(&l.name));
            r[IFNAMSIZ..IFNAMSIZ + 16].copy_from_slice(&sockaddr_in(ip));
            out.push(r);
        }
    }
    let total = if buf == 0 {
        out.len() * IFREQ_SIZE
    } else {
        let fit = (len / IFREQ_SIZE).min(out.len());
        let bytes: Vec<u8> = out[..fit].iter().flatten().copied().collect();
        uaccess::write_bytes(buf, &bytes)?;
        bytes.len()
    };
    uaccess::write_i32(arg, total as i32)?;
    Ok(0)
}

/// The ioctl every socket falls back to: the SIOC*IF* requests, else ENOTTY.
pub fn ioctl_or_enotty(cmd: u32, arg: usize) -> KResult<usize> {
    if is_ifreq(cmd) {
        ioctl(cmd, arg)
    } else {
        Err(Errno::ENOTTY)
    }
}

/// Answers one SIOCGIF* ioctl with `arg` pointing at a `struct ifreq` (or `ifconf`).
pub fn ioctl(cmd: u32, arg: usize) -> KResult<usize> {
    let links = crate::net::inet::interfaces();
    if cmd == SIOCGIFCONF {
        return ifconf(&links, arg);
    }
    let mut r = [0u8; IFREQ_SIZE];
    uaccess::read_bytes(arg, &mut r)?;
    let l = if cmd == SIOCGIFNAME {
        let index = i32::from_le_bytes([r[16], r[17], r[18], r[19]]);
        links.iter().find(|l| l.index as i32 == index)
    } else {
        let end = r[..IFNAMSIZ]
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(IFNAMSIZ);
        links.iter().find(|l| l.name.as_bytes() == &r[..end])
    }
    .ok_or(Errno::ENODEV)?;
    let mut u = [0u8; 24];
    match cmd {
        SIOCGIFNAME => {
            uaccess::write_bytes(arg, &name_bytes(&l.name))?;
            return Ok(0);
        }
        SIOCGIFFLAGS => u[..2].copy_from_slice(&(link::flags(l) as u16).to_le_bytes()),
        SIOCSIFFLAGS => {
            // CAP_NET_ADMIN; every link is up and stays up, so only "up" can be asked for.
            let root = crate::proc::capable(lintel_abi::capability::CAP_NET_ADMIN);
            if !root {
                return Err(Errno::EPERM);
            }
            let want = u16::from_le_bytes([r[16], r[17]]);
            return if u32::from(want) & link::IFF_UP != 0 {
                Ok(0)
            } else {
                Err(Errno::EOPNOTSUPP)
            };
        }
        SIOCGIFADDR | SIOCGIFNETMASK | SIOCGIFBRDADDR => {
            let (ip, prefix) = ipv4(l).ok_or(Errno::EADDRNOTAVAIL)?;
            let v = match cmd {
                SIOCGIFADDR => ip,
                SIOCGIFNETMASK => mask(prefix),
                _ => {
                    let m = mask(prefix);
                    core::array::from_fn(|i| ip[i] | !m[i])
                }
            };
            u[..16].copy_from_slice(&sockaddr_in(v));
        }
        SIOCGIFMETRIC => {}
        SIOCGIFMTU => u[..4].copy_from_slice(&(l.mtu as i32).to_le_bytes()),
        SIOCGIFTXQLEN => u[..4].copy_from_slice(&1000i32.to_le_bytes()),
        SIOCGIFINDEX => u[..4].copy_from_slice(&(l.index as i32).to_le_bytes()),
        SIOCGIFHWADDR => {
            u[..2].copy_from_slice(&link::hw_type(l).to_le_bytes());
            u[2..8].copy_from_slice(&l.mac);
        }
        _ => return Err(Errno::ENOTTY),
    }
    uaccess::write_bytes(arg + IFNAMSIZ, &u)?;
    Ok(0)
}
