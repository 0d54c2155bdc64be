//! A netlink socket as an open file: write sends a request, read takes the next reply.

use super::NetlinkSocket;
use crate::fs::file::{FileOps, OpenFile, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use alloc::sync::Arc;
use lintel_abi::ioctl::FIONREAD;
use lintel_abi::stat::Stat;
use lintel_abi::KResult;

pub struct NetlinkFile(pub Arc<NetlinkSocket>);

impl FileOps for NetlinkFile {
    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        Ok(self.0.recv(buf, false, file.nonblocking())?.0)
    }

    fn write(&self, _: &OpenFile, buf: &[u8], _: u64) -> KResult<usize> {
        let pid = crate::proc::try_current().map_or(0, |t| t.proc_ref().pid);
        self.0.send(buf, pid)
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        let mut m = POLLOUT | POLLWRNORM;
        if self.0.readable() {
            m |= POLLIN | POLLRDNORM;
        }
        m
    }

    fn ioctl(&self, _: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
        if cmd == FIONREAD {
            crate::uaccess::write_i32(arg, self.0.rx_next_len() as i32)?;
            return Ok(0);
        }
        crate::net::ifreq::ioctl_or_enotty(cmd, arg)
    }

    fn stat(&self) -> Stat {
        crate::net::socket_stat(self.0.ino)
    }
}
