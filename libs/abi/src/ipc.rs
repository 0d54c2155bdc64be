//! System V IPC (linux/ipc.h, linux/shm.h, linux/sem.h, linux/msg.h): flags, commands, the
//! default limits, and the byte layouts of the 64-bit `*id64_ds` and `*info` structures.
#![allow(missing_docs)]

/// The key that always makes a new object.
pub const IPC_PRIVATE: i32 = 0;
pub const IPC_CREAT: u32 = 0o1000;
pub const IPC_EXCL: u32 = 0o2000;
pub const IPC_NOWAIT: u32 = 0o4000;

pub const IPC_RMID: i32 = 0;
pub const IPC_SET: i32 = 1;
pub const IPC_STAT: i32 = 2;
pub const IPC_INFO: i32 = 3;

// shmat flags and shm_perm.mode bits.
pub const SHM_RDONLY: u32 = 0o10000;
pub const SHM_RND: u32 = 0o20000;
pub const SHM_REMAP: u32 = 0o40000;
pub const SHM_EXEC: u32 = 0o100000;
pub const SHM_DEST: u32 = 0o1000;
pub const SHM_LOCKED: u32 = 0o2000;
pub const SHM_HUGETLB: u32 = 0o4000;
pub const SHM_NORESERVE: u32 = 0o10000;
pub const SHM_LOCK: i32 = 11;
pub const SHM_UNLOCK: i32 = 12;
pub const SHM_STAT: i32 = 13;
pub const SHM_INFO: i32 = 14;
pub const SHM_STAT_ANY: i32 = 15;

pub const SHMMIN: u64 = 1;
pub const SHMMNI: u64 = 4096;
pub const SHMMAX: u64 = u64::MAX - (1 << 24);
pub const SHMALL: u64 = u64::MAX - (1 << 24);

pub const SEM_UNDO: i16 = 0x1000;
pub const GETPID: i32 = 11;
pub const GETVAL: i32 = 12;
pub const GETALL: i32 = 13;
pub const GETNCNT: i32 = 14;
pub const GETZCNT: i32 = 15;
pub const SETVAL: i32 = 16;
pub const SETALL: i32 = 17;
pub const SEM_STAT: i32 = 18;
pub const SEM_INFO: i32 = 19;
pub const SEM_STAT_ANY: i32 = 20;

pub const SEMMNI: u32 = 32000;
pub const SEMMSL: u32 = 32000;
pub const SEMMNS: u32 = SEMMNI * SEMMSL;
pub const SEMOPM: u32 = 500;
pub const SEMVMX: i32 = 32767;
pub const SEMAEM: i32 = SEMVMX;
pub const SEMUME: u32 = SEMOPM;
pub const SEMMNU: u32 = SEMMNS;
pub const SEMMAP: u32 = SEMMNS;
pub const SEMUSZ: u32 = 20;

pub const MSG_STAT: i32 = 11;
pub const MSG_INFO: i32 = 12;
pub const MSG_STAT_ANY: i32 = 13;
pub const MSG_NOERROR: u32 = 0o10000;
pub const MSG_EXCEPT: u32 = 0o20000;
pub const MSG_COPY: u32 = 0o40000;

pub const MSGMNI: u32 = 32000;
pub const MSGMAX: u32 = 8192;
pub const MSGMNB: u32 = 16384;
pub const MSGPOOL: u32 = MSGMNI * MSGMNB / 1024;
pub const MSGTQL: u32 = MSGMNB;
pub const MSGMAP: u32 = MSGMNB;
pub const MSGSSZ: u32 = 16;
pub const MSGSEG: u32 = 0xffff;

/// `struct ipc64_perm` as the kernel keeps it (its `__seq` is the id's sequence number).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpcPerm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    pub mode: u32,
    pub seq: u16,
}

pub const IPC_PERM_SIZE: usize = 48;

fn put(buf: &mut [u8], off: usize, bytes: &[u8]) {
    if let Some(d) = buf.get_mut(off..off + bytes.len()) {
        d.copy_from_slice(bytes);
    }
}

fn get4(buf: &[u8], off: usize) -> u32 {
    buf.get(off..off + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .unwrap_or(0)
}

fn get8(buf: &[u8], off: usize) -> u64 {
    buf.get(off..off + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .unwrap_or(0)
}

impl IpcPerm {
    fn write(&self, b: &mut [u8]) {
        put(b, 0, &self.key.to_le_bytes());
        put(b, 4, &self.uid.to_le_bytes());
        put(b, 8, &self.gid.to_le_bytes());
        put(b, 12, &self.cuid.to_le_bytes());
        put(b, 16, &self.cgid.to_le_bytes());
        put(b, 20, &self.mode.to_le_bytes());
        put(b, 24, &self.seq.to_le_bytes());
    }
}

/// The fields IPC_SET takes from user space: uid, gid and the low 9 mode bits (and, for a
/// message queue, msg_qbytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpcSet {
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub qbytes: u64,
}

/// Reads an IPC_SET argument (`*id64_ds`: the perm at the start; msg_qbytes at its offset).
pub fn read_set(buf: &[u8]) -> IpcSet {
    IpcSet {
        uid: get4(buf, 4),
        gid: get4(buf, 8),
        mode: get4(buf, 20),
        qbytes: get8(buf, 88),
    }
}

/// `struct shmid64_ds`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ShmidDs {
    pub perm: IpcPerm,
    pub segsz: u64,
    pub atime: i64,
    pub dtime: i64,
    pub ctime: i64,
    pub cpid: i32,
    pub lpid: i32,
    pub nattch: u64,
}
pub const SHMID_DS_SIZE: usize = 112;

impl ShmidDs {
    pub fn to_bytes(&self) -> [u8; SHMID_DS_SIZE] {
        let mut b = [0u8; SHMID_DS_SIZE];
        self.perm.write(&mut b);
        put(&mut b, 48, &self.segsz.to_le_bytes());
        put(&mut b, 56, &self.atime.to_le_bytes());
        put(&mut b, 64, &self.dtime.to_le_bytes());
        put(&mut b, 72, &self.ctime.to_le_bytes());
        put(&mut b, 80, &self.cpid.to_le_bytes());
        put(&mut b, 84, &self.lpid.to_le_bytes());
        put(&mut b, 88, &self.nattch.to_le_bytes());
        b
    }
}

/// `struct shminfo64` (IPC_INFO): shmmax, shmmin, shmmni, shmseg, shmall.
pub fn shminfo_bytes(max: u64, min: u64, mni: u64, seg: u64, all: u64) -> [u8; 72] {
    let mut b = [0u8; 72];
    for (i, v) in [max, min, mni, seg, all].iter().enumerate() {
        put(&mut b, i * 8, &v.to_le_bytes());
    }
    b
}

/// `struct shm_info` (SHM_INFO): used ids, pages allocated, pages resident (swap: none).
pub fn shm_info_bytes(used_ids: i32, tot: u64, rss: u64) -> [u8; 48] {
    let mut b = [0u8; 48];
    put(&mut b, 0, &used_ids.to_le_bytes());
    put(&mut b, 8, &tot.to_le_bytes());
    put(&mut b, 16, &rss.to_le_bytes());
    b
}

/// `struct semid64_ds`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SemidDs {
    pub perm: IpcPerm,
    pub otime: i64,
    pub ctime: i64,
    pub nsems: u64,
}

pub use crate::arch::target::ipc::SEMID_DS_SIZE;

impl SemidDs {
    pub fn to_bytes(&self) -> [u8; SEMID_DS_SIZE] {
        use crate::arch::target::ipc::{SEM_CTIME, SEM_NSEMS, SEM_OTIME};
        let mut b = [0u8; SEMID_DS_SIZE];
        self.perm.write(&mut b);
        put(&mut b, SEM_OTIME, &self.otime.to_le_bytes());
        put(&mut b, SEM_CTIME, &self.ctime.to_le_bytes());
        put(&mut b, SEM_NSEMS, &self.nsems.to_le_bytes());
        b
    }
}

/// `struct seminfo`: ten ints in this order.
pub fn seminfo_bytes(v: [i32; 10]) -> [u8; 40] {
    let mut b = [0u8; 40];
    for (i, x) in v.iter().enumerate() {
        put(&mut b, i * 4, &x.to_le_bytes());
    }
    b
}

/// `struct msqid64_ds`.
#[derive(Clone, Copy, Debug, Default)]
pub struct MsqidDs {
    pub perm: IpcPerm,
    pub stime: i64,
    pub rtime: i64,
    pub ctime: i64,
    pub cbytes: u64,
    pub qnum: u64,
    pub qbytes: u64,
    pub lspid: i32,
    pub lrpid: i32,
}
pub const MSQID_DS_SIZE: usize = 120;

impl MsqidDs {
    pub fn to_bytes(&self) -> [u8; MSQID_DS_SIZE] {
        let mut b = [0u8; MSQID_DS_SIZE];
        self.perm.write(&mut b);
        put(&mut b, 48, &self.stime.to_le_bytes());
        put(&mut b, 56, &self.rtime.to_le_bytes());
        put(&mut b, 64, &self.ctime.to_le_bytes());
        put(&mut b, 72, &self.cbytes.to_le_bytes());
        put(&mut b, 80, &self.qnum.to_le_bytes());
        put(&mut b, 88, &self.qbytes.to_le_bytes());
        put(&mut b, 96, &self.lspid.to_le_bytes());
        put(&mut b, 100, &self.lrpid.to_le_bytes());
        b
    }
}

/// `struct msginfo`: msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql, msgseg.
pub fn msginfo_bytes(v: [i32; 7], seg: u16) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, x) in v.iter().enumerate() {
        put(&mut b, i * 4, &x.to_le_bytes());
    }
    put(&mut b, 28, &seg.to_le_bytes());
    b
}
