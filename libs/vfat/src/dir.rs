//! Directory entries: 8.3 short entries and the VFAT long-name runs before them.

use alloc::string::String;
use alloc::vec::Vec;

pub const ATTR_READ_ONLY: u8 = 0x01;
pub const ATTR_HIDDEN: u8 = 0x02;
pub const ATTR_SYSTEM: u8 = 0x04;
pub const ATTR_VOLUME: u8 = 0x08;
pub const ATTR_DIRECTORY: u8 = 0x10;
pub const ATTR_ARCHIVE: u8 = 0x20;
pub(crate) const ATTR_LFN: u8 = 0x0f;
/// The first byte of a deleted entry.
pub(crate) const DELETED: u8 = 0xe5;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The long name when a valid run precedes the entry, else the short name as Linux's
    /// vfat shows it (lower case where the entry's case flags say so).
    pub name: String,
    /// The 11 bytes of the short name.
    pub short: [u8; 11],
    pub attr: u8,
    pub first_cluster: u32,
    pub size: u32,
    /// DOS date and time of the last change, and the access date.
    pub mtime: (u16, u16),
    pub adate: u16,
    /// Index of the short entry in its directory (where a write would go).
    pub slot: usize,
    /// Index of the first entry of its long-name run (`slot` when it has none): the entries
    /// `first_slot..=slot` go when it is removed.
    pub first_slot: usize,
}

impl DirEntry {
    pub fn is_dir(&self) -> bool {
        self.attr & ATTR_DIRECTORY != 0
    }

    /// vfat's name comparison: case-insensitive, by long or short name.
    pub fn matches(&self, name: &str) -> bool {
        if self.is_dot() || name == "." || name == ".." {
            return self.name == name;
        }
        let name = strip_tail(name);
        strip_tail(&self.name).eq_ignore_ascii_case(name)
            || short_name(&self.short, 0).eq_ignore_ascii_case(name)
    }

    pub fn is_dot(&self) -> bool {
        self.name == "." || self.name == ".."
    }
}

/// `name` as vfat looks it up: without trailing dots (vfat_striptail_len).
pub fn strip_tail(name: &str) -> &str {
    name.trim_end_matches('.')
}

/// The checksum of a short name that every long-name entry of its run carries.
pub fn lfn_checksum(short: &[u8; 11]) -> u8 {
    short
        .iter()
        .fold(0u8, |s, &c| (s >> 1 | (s & 1) << 7).wrapping_add(c))
}

/// "NAME.EXT" from the padded 11 bytes; `case` is the NT case byte (0x08: base in lower
/// case, 0x10: extension in lower case).
pub(crate) fn short_name(s: &[u8; 11], case: u8) -> String {
    let conv = |b: &[u8], lower: bool| -> String {
        let t: &[u8] = match b.iter().rposition(|&c| c != b' ') {
            Some(i) => &b[..=i],
            None => &[],
        };
        t.iter()
            .map(|&c| {
                // 0x05 stands for a leading 0xE5 (a KANJI lead byte).
                let c = if c == 0x05 { 0xe5 } else { c };
                let ch = if c < 0x80 {
                    c as char
                } else {
                    char::REPLACEMENT_CHARACTER
                };
                if lower {
                    ch.to_ascii_lowercase()
                } else {
                    ch
                }
            })
            .collect()
    };
    let mut n = conv(&s[..8], case & 0x08 != 0);
    let ext = conv(&s[8..], case & 0x10 != 0);
    if !ext.is_empty() {
        n.push('.');
        n.push_str(&ext);
    }
    n
}

/// The UTF-16 units of one long-name entry (13 per entry).
fn lfn_units(e: &[u8]) -> [u16; 13] {
    let mut u = [0u16; 13];
    let offs = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
    for (i, o) in offs.iter().enumerate() {
        u[i] = u16::from_le_bytes([e[*o], e[*o + 1]]);
    }
    u
}

/// A long-name run being gathered: the pieces by sequence number, the checksum, the next
/// sequence number expected.
struct Run {
    parts: Vec<[u16; 13]>,
    sum: u8,
    next: u8,
    start: usize,
}

/// Every entry of a directory's bytes, up to the end mark. A long-name run that is out of
/// order or whose checksum does not match its short entry is ignored (the short name
/// shows), as Linux's vfat does.
pub fn parse(bytes: &[u8]) -> Vec<DirEntry> {
    let mut out = Vec::new();
    let mut run: Option<Run> = None;
    for (slot, e) in bytes.chunks_exact(32).enumerate() {
        match e[0] {
            0x00 => break,
            DELETED => {
                run = None;
                continue;
            }
            _ => {}
        }
        let attr = e[11];
        if attr & 0x3f == ATTR_LFN {
            let seq = e[0];
            let n = seq & 0x1f;
            if seq & 0x40 != 0 {
                run = (1..=20).contains(&n).then(|| Run {
                    parts: alloc::vec![[0u16; 13]; n as usize],
                    sum: e[13],
                    next: n,
                    start: slot,
                });
            }
            match run.as_mut() {
                Some(r) if n == r.next && n >= 1 && e[13] == r.sum => {
                    if let Some(p) = r.parts.get_mut(n as usize - 1) {
                        *p = lfn_units(e);
                    }
                    r.next = n - 1;
                }
                _ => run = None,
            }
            continue;
        }
        let mut short = [0u8; 11];
        short.copy_from_slice(&e[..11]);
        let mut first_slot = slot;
        let long = run.take().and_then(|r| {
            if r.next != 0 || r.sum != lfn_checksum(&short) {
                return None;
            }
            first_slot = r.start;
            let units: Vec<u16> = r
                .parts
                .iter()
                .flatten()
                .copied()
                .take_while(|&u| u != 0)
                .collect();
            let s: String = char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect();
            (!s.is_empty()).then_some(s)
        });
        if attr & ATTR_VOLUME != 0 {
            continue;
        }
        let hi = u16::from_le_bytes([e[20], e[21]]) as u32;
        let lo = u16::from_le_bytes([e[26], e[27]]) as u32;
        out.push(DirEntry {
            name: long.unwrap_or_else(|| short_name(&short, e[12])),
            short,
            attr,
            first_cluster: hi << 16 | lo,
            size: u32::from_le_bytes([e[28], e[29], e[30], e[31]]),
            mtime: (
                u16::from_le_bytes([e[24], e[25]]),
                u16::from_le_bytes([e[22], e[23]]),
            ),
            adate: u16::from_le_bytes([e[18], e[19]]),
            slot,
            first_slot,
        });
    }
    out
}
