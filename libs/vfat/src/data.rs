//! File data over a cluster chain: reads, writes and zero-filling (FAT has no holes, so a
//! file that grows past its end gets zeros, as Linux's cont_write_begin writes them).

use crate::{Device, Volume};
use lintel_abi::{Errno, KResult};

impl<D: Device> Volume<D> {
    /// Calls `f(device offset, range in the caller's buffer)` for the bytes `offset..offset +
    /// len` of a file on `chain`, cluster by cluster (EIO where the chain is too short).
    fn each_piece(
        &self,
        chain: &[u32],
        offset: u64,
        len: usize,
        f: &mut dyn FnMut(u64, core::ops::Range<usize>) -> KResult<()>,
    ) -> KResult<()> {
        let cs = self.geo.cluster_size();
        let mut done = 0;
        while done < len {
            let pos = offset + done as u64;
            let c = *chain.get((pos / cs) as usize).ok_or(Errno::EIO)?;
            let in_c = pos % cs;
            let n = ((cs - in_c) as usize).min(len - done);
            f(self.geo.cluster_offset(c) + in_c, done..done + n)?;
            done += n;
        }
        Ok(())
    }

    /// Reads the file of `size` bytes on `chain` at `offset`; returns the bytes read (short
    /// at the end of the file).
    pub(crate) fn read_chain(
        &self,
        chain: &[u32],
        size: u64,
        offset: u64,
        buf: &mut [u8],
    ) -> KResult<usize> {
        if offset >= size || buf.is_empty() {
            return Ok(0);
        }
        let len = (buf.len() as u64).min(size - offset) as usize;
        if (chain.len() as u64) * self.geo.cluster_size() < size {
            return Err(Errno::EIO);
        }
        self.each_piece(chain, offset, len, &mut |at, r| {
            self.dev.read(at, &mut buf[r])
        })?;
        Ok(len)
    }

    /// Writes `data` at `offset` of the file on `chain`, which must already cover it.
    pub(crate) fn write_chain(&self, chain: &[u32], offset: u64, data: &[u8]) -> KResult<()> {
        self.each_piece(chain, offset, data.len(), &mut |at, r| {
            self.dev.write(at, &data[r])
        })
    }

    /// Writes zeros over `from..to` of the file on `chain`.
    pub(crate) fn zero_chain(&self, chain: &[u32], from: u64, to: u64) -> KResult<()> {
        const Z: [u8; 4096] = [0; 4096];
        let mut pos = from;
        while pos < to {
            let n = (to - pos).min(Z.len() as u64) as usize;
            self.write_chain(chain, pos, &Z[..n])?;
            pos += n as u64;
        }
        Ok(())
    }

    /// Zeros a whole cluster (a new directory cluster must read as empty).
    pub(crate) fn zero_cluster(&self, c: u32) -> KResult<()> {
        self.zero_chain(&[c], 0, self.geo.cluster_size())
    }
}
