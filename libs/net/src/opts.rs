//! Socket options: what user space can set, the values Linux reports back, and the buffer sizes
//! they turn into.

use crate::Errno;

/// A socket option with its value (SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP and IPPROTO_IPV6 ones).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SockOpt {
    NoDelay(bool),
    KeepAlive(bool),
    /// Seconds.
    KeepIdle(u32),
    /// Seconds.
    KeepIntvl(u32),
    KeepCnt(u32),
    /// SO_LINGER: None is off, Some(seconds) on.
    Linger(Option<u32>),
    /// Set: the requested size; get: Linux's doubled value.
    RecvBuf(usize),
    SendBuf(usize),
    ReuseAddr(bool),
    ReusePort(bool),
    V6Only(bool),
    Ttl(u8),
    Tos(u8),
}

/// Which option [`crate::Stack::get_option`] should report.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SockOptName {
    NoDelay,
    KeepAlive,
    KeepIdle,
    KeepIntvl,
    KeepCnt,
    Linger,
    RecvBuf,
    SendBuf,
    ReuseAddr,
    ReusePort,
    V6Only,
    Ttl,
    Tos,
}

use lintel_abi::socket::{rcvbuf_for, sndbuf_for, RMEM_DEFAULT, WMEM_DEFAULT};

/// What Linux reports before SO_RCVBUF/SO_SNDBUF are set (tcp_rmem[1] / tcp_wmem[1]).
pub(crate) const DEFAULT_RCVBUF_REPORTED: usize = 131_072;
pub(crate) const DEFAULT_SNDBUF_REPORTED: usize = 16_384;
/// The memory actually given to a TCP connection by default. Linux grows its buffers on demand;
/// smoltcp's are fixed at creation, so these are a compromise between window size and 1,000
/// connections fitting in a few tens of MiB.
pub(crate) const TCP_RX_DEFAULT: usize = 32 * 1024;
pub(crate) const TCP_TX_DEFAULT: usize = 16 * 1024;
/// What a connection gets while memory is plentiful (see [`Opts::tcp_sizes`]): a 64 KiB
/// write fits whole and a loopback segment (up to 64 KiB) fits the window. A 128 KiB receive
/// buffer (Linux's tcp_rmem[1]) moved no more data through loopback and made each connection
/// dearer to set up (the buffers are zeroed at creation).
pub(crate) const TCP_RX_ROOMY: usize = 64 * 1024;
pub(crate) const TCP_TX_ROOMY: usize = 64 * 1024;
/// Datagram sockets: room for one maximal (64 KiB) datagram plus change, and 64 datagrams.
pub(crate) const DGRAM_PAYLOAD: usize = 80 * 1024;
pub(crate) const DGRAM_PACKETS: usize = 64;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Opts {
    pub nodelay: bool,
    pub keepalive: bool,
    pub keepidle: u32,
    pub keepintvl: u32,
    pub keepcnt: u32,
    pub linger: Option<u32>,
    /// The reported (doubled) values, None until set.
    pub rcvbuf: Option<usize>,
    pub sndbuf: Option<usize>,
    pub reuseaddr: bool,
    pub reuseport: bool,
    pub v6only: bool,
    pub ttl: u8,
    pub tos: u8,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            nodelay: false,
            keepalive: false,
            keepidle: 7200,
            keepintvl: 75,
            keepcnt: 9,
            linger: None,
            rcvbuf: None,
            sndbuf: None,
            reuseaddr: false,
            reuseport: false,
            v6only: false,
            ttl: 64,
            tos: 0,
        }
    }
}

impl Opts {
    /// (receive, send) buffer bytes for a new connection. Linux grows a connection's buffers
    /// as it needs them unless TCP memory is under pressure; smoltcp's are fixed at creation,
    /// so a connection whose sizes the user did not set gets the roomy sizes when `roomy`
    /// (memory is plentiful) and the small defaults otherwise.
    pub fn tcp_sizes(&self, roomy: bool) -> (usize, usize) {
        let (rx, tx) = if roomy {
            (TCP_RX_ROOMY, TCP_TX_ROOMY)
        } else {
            (TCP_RX_DEFAULT, TCP_TX_DEFAULT)
        };
        (
            self.rcvbuf.map_or(rx, |r| (r / 2).max(1024)),
            self.sndbuf.map_or(tx, |s| (s / 2).max(2048)),
        )
    }

    /// The keep-alive probe interval and give-up time smoltcp should use, if keep-alive is on.
    pub fn keepalive_times(&self) -> Option<(u64, u64)> {
        if !self.keepalive {
            return None;
        }
        let idle = u64::from(self.keepidle);
        Some((
            idle,
            idle + u64::from(self.keepintvl) * u64::from(self.keepcnt),
        ))
    }

    /// Records `opt`; `tcp` says whether TCP-level options make sense on this socket.
    pub fn set(&mut self, opt: SockOpt, tcp: bool, v6: bool, bound: bool) -> Result<(), Errno> {
        match opt {
            SockOpt::NoDelay(v) => {
                need(tcp)?;
                self.nodelay = v;
            }
            SockOpt::KeepAlive(v) => self.keepalive = v,
            SockOpt::KeepIdle(v) => {
                need(tcp)?;
                self.keepidle = range(v, 1, 32767)?;
            }
            SockOpt::KeepIntvl(v) => {
                need(tcp)?;
                self.keepintvl = range(v, 1, 32767)?;
            }
            SockOpt::KeepCnt(v) => {
                need(tcp)?;
                self.keepcnt = range(v, 1, 127)?;
            }
            SockOpt::Linger(v) => self.linger = v,
            SockOpt::RecvBuf(v) => {
                self.rcvbuf = Some(rcvbuf_for(v));
            }
            SockOpt::SendBuf(v) => {
                self.sndbuf = Some(sndbuf_for(v));
            }
            SockOpt::ReuseAddr(v) => self.reuseaddr = v,
            SockOpt::ReusePort(v) => self.reuseport = v,
            SockOpt::V6Only(v) => {
                if !v6 {
                    return Err(Errno::ENOPROTOOPT);
                }
                if bound {
                    return Err(Errno::EINVAL);
                }
                self.v6only = v;
            }
            SockOpt::Ttl(v) => {
                if v == 0 {
                    return Err(Errno::EINVAL);
                }
                self.ttl = v;
            }
            SockOpt::Tos(v) => self.tos = v,
        }
        Ok(())
    }

    pub fn get(&self, which: SockOptName, tcp: bool, v6: bool) -> Result<SockOpt, Errno> {
        Ok(match which {
            SockOptName::NoDelay => {
                need(tcp)?;
                SockOpt::NoDelay(self.nodelay)
            }
            SockOptName::KeepAlive => SockOpt::KeepAlive(self.keepalive),
            SockOptName::KeepIdle => {
                need(tcp)?;
                SockOpt::KeepIdle(self.keepidle)
            }
            SockOptName::KeepIntvl => {
                need(tcp)?;
                SockOpt::KeepIntvl(self.keepintvl)
            }
            SockOptName::KeepCnt => {
                need(tcp)?;
                SockOpt::KeepCnt(self.keepcnt)
            }
            SockOptName::Linger => SockOpt::Linger(self.linger),
            SockOptName::RecvBuf => SockOpt::RecvBuf(self.rcvbuf.unwrap_or(if tcp {
                DEFAULT_RCVBUF_REPORTED
            } else {
                RMEM_DEFAULT
            })),
            SockOptName::SendBuf => SockOpt::SendBuf(self.sndbuf.unwrap_or(if tcp {
                DEFAULT_SNDBUF_REPORTED
            } else {
                WMEM_DEFAULT
            })),
            SockOptName::ReuseAddr => SockOpt::ReuseAddr(self.reuseaddr),
            SockOptName::ReusePort => SockOpt::ReusePort(self.reuseport),
            SockOptName::V6Only => {
                if !v6 {
                    return Err(Errno::ENOPROTOOPT);
                }
                SockOpt::V6Only(self.v6only)
            }
            SockOptName::Ttl => SockOpt::Ttl(self.ttl),
            SockOptName::Tos => SockOpt::Tos(self.tos),
        })
    }
}

fn need(ok: bool) -> Result<(), Errno> {
    if ok {
        Ok(())
    } else {
        Err(Errno::ENOPROTOOPT)
    }
}

fn range(v: u32, lo: u32, hi: u32) -> Result<u32, Errno> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(Errno::EINVAL)
    }
}
