//! TCP and UDP checksums for a card that completes them (virtio-net's CSUM / GUEST_CSUM):
//! what a sent frame needs for the card to finish its checksum (the pseudo-header sum in the
//! checksum field, and where the card starts and stores), and the check of a received frame
//! the card did not verify. Frames are Ethernet: IPv4 or IPv6 straight after the header.

const ETH: usize = 14;
const TCP: u8 = 6;
const UDP: u8 = 17;

/// Where a frame's TCP or UDP segment is, and its pseudo-header sum (not folded).
struct L4 {
    start: usize,
    end: usize,
    proto: u8,
    pseudo: u32,
    v4: bool,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// One's-complement sum of `data` as big-endian 16-bit words, added to `acc`.
fn sum(data: &[u8], mut acc: u32) -> u32 {
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        acc += u32::from(u16::from_be_bytes([w[0], w[1]]));
        acc = (acc & 0xffff) + (acc >> 16);
    }
    if let [last] = words.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The TCP or UDP segment of an unfragmented IPv4 packet or an IPv6 packet without
/// extension headers; None for anything else (ARP, ICMP, fragments).
fn parse(f: &[u8]) -> Option<L4> {
    match be16(f, 12)? {
        0x0800 => {
            let ihl = usize::from(*f.get(ETH)? & 0xf) * 4;
            let total = usize::from(be16(f, ETH + 2)?);
            let frag = be16(f, ETH + 6)?;
            let proto = *f.get(ETH + 9)?;
            if ihl < 20 || total < ihl || frag & 0x3fff != 0 || !matches!(proto, TCP | UDP) {
                return None;
            }
            let (start, end) = (ETH + ihl, ETH + total);
            let addrs = f.get(ETH + 12..ETH + 20)?;
            let pseudo = sum(addrs, u32::from(proto) + (total - ihl) as u32);
            check_len(f, start, end, proto).then_some(L4 {
                start,
                end,
                proto,
                pseudo,
                v4: true,
            })
        }
        0x86dd => {
            let len = usize::from(be16(f, ETH + 4)?);
            let proto = *f.get(ETH + 6)?;
            if !matches!(proto, TCP | UDP) {
                return None;
            }
            let (start, end) = (ETH + 40, ETH + 40 + len);
            let addrs = f.get(ETH + 8..ETH + 40)?;
            let pseudo = sum(addrs, u32::from(proto) + len as u32);
            check_len(f, start, end, proto).then_some(L4 {
                start,
                end,
                proto,
                pseudo,
                v4: false,
            })
        }
        _ => None,
    }
}

fn check_len(f: &[u8], start: usize, end: usize, proto: u8) -> bool {
    let min = if proto == TCP { 20 } else { 8 };
    end <= f.len() && end >= start + min
}

fn field(proto: u8) -> usize {
    if proto == TCP {
        16
    } else {
        6
    }
}

/// Readies a frame whose TCP or UDP checksum the card completes: the pseudo-header sum
/// goes in the checksum field (as Linux leaves it for CHECKSUM_PARTIAL); returns where the
/// card starts summing and, from there, where it stores. None: not a TCP or UDP segment
/// the card can finish (sent as it is; smoltcp only leaves a zero checksum in TCP and UDP,
/// which it never fragments or gives extension headers before a fragmenter would).
pub fn prepare(f: &mut [u8]) -> Option<(u16, u16)> {
    let l4 = parse(f)?;
    let at = l4.start + field(l4.proto);
    let pseudo = fold(l4.pseudo).to_be_bytes();
    f.get_mut(at..at + 2)?.copy_from_slice(&pseudo);
    Some((l4.start as u16, field(l4.proto) as u16))
}

/// What the card would do with a frame `prepare` readied: the checksum over the segment
/// (with the pseudo-header sum already in its field), stored at `start + offset`.
pub fn complete(f: &mut [u8], start: u16, offset: u16) {
    let (start, at) = (usize::from(start), usize::from(start) + usize::from(offset));
    let Some(seg) = f.get(start..) else { return };
    let mut c = !fold(sum(seg, 0));
    let udp = parse(f).is_some_and(|l| l.proto == UDP);
    if c == 0 && udp {
        c = 0xffff;
    }
    if let Some(d) = f.get_mut(at..at + 2) {
        d.copy_from_slice(&c.to_be_bytes());
    }
}

/// Whether a received frame's TCP or UDP checksum is right (true for any other frame, and
/// for an IPv4 UDP datagram sent without one).
pub fn verify(f: &[u8]) -> bool {
    let Some(l4) = parse(f) else { return true };
    let Some(seg) = f.get(l4.start..l4.end) else {
        return false;
    };
    if l4.proto == UDP && l4.v4 && be16(seg, 6) == Some(0) {
        return true;
    }
    fold(sum(seg, l4.pseudo)) == 0xffff
}

/// The ones'-complement sum (folded, not inverted) of IPv6's pseudo-header for `data` of
/// protocol `proto` from `src` to `dst`, and of `data` itself: a checksum field in `data` is
/// right when this is 0xffff; with the field zeroed, its value is the inverse of this.
pub fn ipv6_sum(src: &[u8; 16], dst: &[u8; 16], proto: u8, data: &[u8]) -> u16 {
    let acc = sum(src, 0);
    let acc = sum(dst, acc);
    let acc = sum(&(data.len() as u32).to_be_bytes(), acc) + u32::from(proto);
    fold(sum(data, fold(acc).into()))
}
