//! A Unix socket as an open file: read and write act as recv and send without ancillary
//! data, so programs that treat a socket as a plain descriptor work.

use super::{Msg, RecvDst, UnixSocket, SOCK_STREAM};
use crate::fs::file::{FileOps, OpenFile, UserIo};
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::stat::Stat;
use lintel_abi::KResult;

/// What a write moves from user memory at a time (as `write_from`'s pieces).
const WRITE_PIECE: usize = 256 * 1024;

/// A message of `data` without ancillary data, with its sender's credentials as every
/// message carries them (a receiver with SO_PASSCRED sees them).
fn plain(data: Vec<u8>) -> Msg {
    Msg {
        data,
        off: 0,
        from: None,
        files: Vec::new(),
        cred: Some(super::my_cred()),
    }
}

/// The socket as an open file (read/write act as recv/send).
pub struct SocketFile(pub Arc<UnixSocket>);

impl FileOps for SocketFile {
    fn fasync(&self) -> [Option<&crate::fs::file::FasyncList>; 2] {
        [Some(&self.0.fasync), None]
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        let (n, ..) = self
            .0
            .recv(&mut RecvDst::Buf(buf, 0), false, file.nonblocking(), false)?;
        Ok(n)
    }

    fn write(&self, file: &OpenFile, buf: &[u8], _: u64) -> KResult<usize> {
        let r = self.0.send(plain(buf.to_vec()), None, file.nonblocking());
        crate::net::sigpipe_on_epipe(r, true)
    }

    /// A stream's read(2) straight from the queue into user memory, and its write(2) from
    /// user memory into the buffer that is queued (one copy each way, nothing zeroed).
    /// Datagram and seqpacket sockets, and empty writes, take the plain path.
    fn user_io(&self, file: &OpenFile, io: UserIo) -> Option<KResult<usize>> {
        if self.0.kind != SOCK_STREAM || (io.write && io.len == 0) {
            return None;
        }
        let nonblock = file.nonblocking();
        if !io.write {
            let iov = [(io.ubuf, io.len)];
            let mut dst = RecvDst::User(crate::uaccess::IovDst::new(&iov));
            return Some(self.0.recv(&mut dst, false, nonblock, false).map(|r| r.0));
        }
        let mut done = 0;
        while done < io.len {
            let want = (io.len - done).min(WRITE_PIECE);
            let data = match crate::uaccess::read_vec_partial(io.ubuf + done, want) {
                Ok(d) => d,
                Err(e) => return Some(if done > 0 { Ok(done) } else { Err(e) }),
            };
            let k = data.len();
            let r = self.0.send(plain(data), None, nonblock);
            // SIGPIPE only when nothing was sent (unix_stream_sendmsg).
            let r = if done == 0 {
                crate::net::sigpipe_on_epipe(r, true)
            } else {
                r
            };
            match r {
                Ok(n) => {
                    done += n;
                    if n < k || k < want {
                        break;
                    }
                }
                Err(e) => return Some(if done > 0 { Ok(done) } else { Err(e) }),
            }
        }
        Some(Ok(done))
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
                s.rx.front().map_or(0, |m| m.data.len() - m.off)
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
