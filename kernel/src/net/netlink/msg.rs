//! Building netlink messages and answering a datagram of requests, for every netlink family.

use super::abi::*;
use alloc::vec::Vec;
use core::net::IpAddr;
use lintel_abi::Errno;

/// One netlink message under construction.
pub(super) struct Msg {
    b: Vec<u8>,
}

impl Msg {
    pub(super) fn new(ty: u16, flags: u16, seq: u32, port: u32) -> Msg {
        let mut b = Vec::with_capacity(128);
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&ty.to_le_bytes());
        b.extend_from_slice(&flags.to_le_bytes());
        b.extend_from_slice(&seq.to_le_bytes());
        b.extend_from_slice(&port.to_le_bytes());
        Msg { b }
    }

    pub(super) fn put(&mut self, bytes: &[u8]) {
        self.b.extend_from_slice(bytes);
    }

    pub(super) fn attr(&mut self, ty: u16, data: &[u8]) {
        let len = 4 + data.len();
        self.b.extend_from_slice(&(len as u16).to_le_bytes());
        self.b.extend_from_slice(&ty.to_le_bytes());
        self.b.extend_from_slice(data);
        self.b.resize(align4(self.b.len()), 0);
    }

    pub(super) fn attr_u32(&mut self, ty: u16, v: u32) {
        self.attr(ty, &v.to_le_bytes());
    }

    pub(super) fn attr_str(&mut self, ty: u16, s: &str) {
        let mut v = Vec::from(s.as_bytes());
        v.push(0);
        self.attr(ty, &v);
    }

    pub(super) fn attr_ip(&mut self, ty: u16, ip: IpAddr) {
        match ip {
            IpAddr::V4(a) => self.attr(ty, &a.octets()),
            IpAddr::V6(a) => self.attr(ty, &a.octets()),
        }
    }

    pub(super) fn finish(mut self) -> Vec<u8> {
        self.b.resize(align4(self.b.len()), 0);
        let len = self.b.len() as u32;
        self.b[0..4].copy_from_slice(&len.to_le_bytes());
        self.b
    }
}

/// The NLMSG_DONE that ends a dump.
pub(super) fn done_msg(seq: u32, port: u32) -> Vec<u8> {
    let mut done = Msg::new(NLMSG_DONE, NLM_F_MULTI, seq, port);
    done.put(&0i32.to_le_bytes());
    done.finish()
}

fn error_msg(err: i32, req: &[u8], seq: u32, port: u32) -> Vec<u8> {
    let flags = if err != 0 { NLM_F_CAPPED } else { 0 };
    let mut m = Msg::new(NLMSG_ERROR, flags, seq, port);
    m.put(&err.to_le_bytes());
    m.put(&req[..NLMSG_HDRLEN]);
    m.finish()
}

/// Packs messages into datagrams of at most DATAGRAM_MAX bytes.
fn pack(msgs: Vec<Vec<u8>>, out: &mut Vec<Vec<u8>>) {
    let mut cur = Vec::new();
    for m in msgs {
        if !cur.is_empty() && cur.len() + m.len() > DATAGRAM_MAX {
            out.push(core::mem::take(&mut cur));
        }
        cur.extend_from_slice(&m);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
}

/// Answers every request in `req` with `answer(type, flags, payload, seq)`: its messages, or
/// an errno for an error reply; an acknowledgement follows when asked for (not after dumps,
/// which `is_dump` tells).
pub(super) fn serve(
    req: &[u8],
    port: u32,
    is_dump: impl Fn(u16, u16) -> bool,
    mut answer: impl FnMut(u16, u16, &[u8], u32) -> Result<Vec<Vec<u8>>, Errno>,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut off = 0;
    while let Some(h) = req.get(off..off + NLMSG_HDRLEN) {
        let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
        if len < NLMSG_HDRLEN || off + len > req.len() {
            break;
        }
        let msg = &req[off..off + len];
        let ty = u16::from_le_bytes([h[4], h[5]]);
        let flags = u16::from_le_bytes([h[6], h[7]]);
        let seq = u32::from_le_bytes([h[8], h[9], h[10], h[11]]);
        off += align4(len);
        // Only requests are acted on; control messages (NOOP, DONE...) are ignored.
        if flags & NLM_F_REQUEST == 0 || ty <= NLMSG_DONE || ty == NLMSG_NOOP {
            continue;
        }
        match answer(ty, flags, &msg[NLMSG_HDRLEN..], seq) {
            Ok(mut msgs) => {
                if flags & NLM_F_ACK != 0 && !is_dump(ty, flags) {
                    msgs.push(error_msg(0, msg, seq, port));
                }
                pack(msgs, &mut out);
            }
            Err(e) => out.push(error_msg(-e.0, msg, seq, port)),
        }
    }
    out
}
