//! An IP socket as an open file: read and write act as recv and send.

use super::socket::poll_mask;
use super::InetSocket;
use crate::fs::file::{FileOps, OpenFile, UserIo};
use alloc::sync::Arc;
use lintel_abi::ioctl::{FIONREAD, TIOCOUTQ};
use lintel_abi::stat::Stat;
use lintel_abi::{Errno, KResult};

/// SIOCINQ and SIOCOUTQ are FIONREAD's and TIOCOUTQ's numbers.
const SIOCINQ: u32 = FIONREAD;
const SIOCOUTQ: u32 = TIOCOUTQ;

pub struct InetFile(pub Arc<InetSocket>);

impl FileOps for InetFile {
    fn fasync(&self) -> [Option<&crate::fs::file::FasyncList>; 2] {
        [Some(&self.0.fasync), None]
    }

    fn fasync_set(&self, on: bool) {
        if on {
            super::register_async(&self.0);
        }
    }

    fn last_close(&self, _: &OpenFile) {
        self.0.linger();
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        Ok(self.0.recv(buf, false, false, file.nonblocking())?.len)
    }

    fn write(&self, file: &OpenFile, buf: &[u8], _: u64) -> KResult<usize> {
        crate::net::sigpipe_on_epipe(self.0.send(buf, None, file.nonblocking()), true)
    }

    /// read(2) straight from the socket's queue into user memory (not for raw sockets, nor
    /// writes, which stage through a buffer).
    fn user_io(&self, file: &OpenFile, io: UserIo) -> Option<KResult<usize>> {
        if io.write {
            return None;
        }
        let r = self
            .0
            .recv_user(&[(io.ubuf, io.len)], false, false, file.nonblocking())?;
        Some(r.map(|r| r.len))
    }

    /// A TCP socket's send buffer filled straight from the frames (sendfile, splice).
    fn write_frames(
        &self,
        file: &OpenFile,
        segs: &[(&lintel_hal::mm::Frame, usize, usize)],
    ) -> Option<KResult<usize>> {
        let r = self.0.send_frames(segs, file.nonblocking())?;
        Some(crate::net::sigpipe_on_epipe(r, true))
    }

    fn poll_hooks(&self) -> Option<&crate::fs::pollhook::PollHooks> {
        self.0.poll_hooks()
    }

    fn poll_watch(&self) {
        self.0.watch();
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        poll_mask(self.0.events())
    }

    /// Edge-triggered epoll reports a socket again only after an event of its own, not after
    /// readiness changes anywhere in the system.
    fn generation(&self) -> u64 {
        self.0.generation()
    }

    fn ioctl(&self, _: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
        // A listening TCP socket has no queues to measure (Linux's tcp_ioctl).
        if (cmd == SIOCINQ || cmd == SIOCOUTQ) && self.0.listening() {
            return Err(Errno::EINVAL);
        }
        let n = match cmd {
            SIOCINQ => self.0.rx_queued(),
            SIOCOUTQ => self.0.tx_queued(),
            _ => return crate::net::ifreq::ioctl_or_enotty(cmd, arg),
        };
        crate::uaccess::write_i32(arg, n.min(i32::MAX as usize) as i32)?;
        Ok(0)
    }

    fn stat(&self) -> Stat {
        crate::net::socket_stat(self.0.ino)
    }
}
