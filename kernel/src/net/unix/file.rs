//! A Unix socket as an open file: read and write act as recv and send without ancillary
//! data, so programs that treat a socket as a plain descriptor work.

use super::{Msg, UnixSocket, SOCK_STREAM};
use crate::fs::file::{FileOps, OpenFile};
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::stat::Stat;
use lintel_abi::KResult;

/// The socket as an open file (read/write act as recv/send).
pub struct SocketFile(pub Arc<UnixSocket>);

impl FileOps for SocketFile {
    fn fasync(&self) -> [Option<&crate::fs::file::FasyncList>; 2] {
        [Some(&self.0.fasync), None]
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        let (n, ..) = self.0.recv(buf, false, file.nonblocking(), false)?;
        Ok(n)
    }

    fn write(&self, file: &OpenFile, buf: &[u8], _: u64) -> KResult<usize> {
        let msg = Msg {
            data: buf.to_vec(),
            from: None,
            files: Vec::new(),
            cred: None,
        };
        crate::net::sigpipe_on_epipe(self.0.send(msg, None, file.nonblocking()), true)
    }

    fn poll_hooks(&self) -> Option<&crate::fs::pollhook::PollHooks> {
        self.0.poll_hooks()
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        self.0.readiness()
    }

    fn ioctl(&self, _: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
        use lintel_abi::ioctl::FIONREAD;
        if cmd == FIONREAD {
            let s = self.0.state.lock();
            let n = if self.0.kind == SOCK_STREAM {
                s.rx_bytes
            } else {
                s.rx.front().map_or(0, |m| m.data.len())
            };
            crate::uaccess::write_i32(arg, n as i32)?;
            return Ok(0);
        }
        crate::net::ifreq::ioctl_or_enotty(cmd, arg)
    }

    fn stat(&self) -> Stat {
        crate::net::socket_stat(self.0.ino)
    }
}
