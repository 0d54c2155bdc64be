//! The VMA type: one mapped region and what backs it. A leaf that names nothing else in the
//! kernel, so every file may use it without joining a cycle; the operations on the VMA tree
//! are in map.rs.

use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_hal::mm::Prot;
use lintel_vfs::Inode;

/// The name of a file mapping in /proc/PID/maps and core files.
#[derive(Clone)]
pub enum MapName {
    /// Fixed when mapped (a program and its interpreter, mapped by exec).
    Fixed(Arc<Vec<u8>>),
    /// The mapped file's dentry, seen from the mapper's root: a rename shows, and an unlinked
    /// file is " (deleted)" as Linux prints it.
    Path {
        dentry: Arc<lintel_vfs::Dentry>,
        root: Arc<lintel_vfs::Dentry>,
    },
}

impl MapName {
    /// The name now.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            MapName::Fixed(p) => p.to_vec(),
            MapName::Path { dentry, root } => lintel_vfs::d_path(dentry, root),
        }
    }
}

#[derive(Clone)]
pub enum Backing {
    Anon,
    /// Kernel-provided pages ([vdso], [vvar]): faults map them again, never zeros.
    Special(&'static str),
    /// Pages come from `inode` at `offset` (for the VMA start); bytes at or beyond `file_bytes`
    /// from the VMA start read as zero (the .bss tail of an ELF segment).
    File {
        inode: Arc<dyn Inode>,
        offset: u64,
        file_bytes: u64,
        /// The name /proc/PID/maps shows.
        path: MapName,
        /// The file was open for writing: a shared mapping may become writable.
        may_write: bool,
        /// The mapped open file's read-ahead state (its faults read around by its window).
        ra: Option<Arc<super::pagecache::ReadAhead>>,
    },
    /// A System V shared memory attach.
    Shm(ShmMap),
    /// Pages a kernel object shares with user space through its file's mmap (io_uring's
    /// rings), kept alive by the mapping as a segment's are.
    Kernel(KernelMap),
}

/// Where the pages of a `Backing::Kernel` mapping come from.
#[derive(Clone)]
pub struct KernelMap {
    pub pages: Arc<super::shared::SharedPages>,
    /// Byte offset of the VMA's start in the pages.
    pub offset: u64,
    /// What /proc/PID/maps shows ("anon_inode:[io_uring]").
    pub name: &'static str,
}

/// Where an attached shared memory segment's pages come from.
#[derive(Clone)]
pub struct ShmMap {
    pub pages: Arc<super::shared::SharedPages>,
    /// Byte offset of the VMA's start in the segment.
    pub offset: u64,
    /// The segment's id and key (/proc/PID/maps shows them).
    pub id: i32,
    pub key: i32,
    /// Attached without SHM_RDONLY: mprotect may add write.
    pub may_write: bool,
}

#[derive(Clone)]
pub struct Vma {
    pub start: usize,
    pub end: usize,
    pub prot: Prot,
    pub shared: bool,
    pub backing: Backing,
    /// MAP_NORESERVE outside overcommit mode 2: not counted as committed memory.
    pub noreserve: bool,
    /// The userfaultfd its missing pages are reported to (UFFDIO_REGISTER).
    pub uffd: Option<Arc<super::userfaultfd::Uffd>>,
    pub on_fork: ForkAdvice,
    /// mlock state (Linux's VM_LOCKED and VM_LOCKONFAULT).
    pub mlock: Mlock,
    /// MAP_GROWSDOWN and MAP_HUGETLB.
    pub flags: VmaFlags,
}

/// What Linux's VM_GROWSDOWN, VM_HUGETLB, VM_RAND_READ and VM_SEQ_READ say of a mapping.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct VmaFlags {
    /// MAP_GROWSDOWN: a fault just below grows it downwards, as a stack (Linux's
    /// expand_downwards), kept a guard gap above the mapping below.
    pub growsdown: bool,
    /// MAP_HUGETLB with MAP_NORESERVE (or a SHM_HUGETLB segment) from an empty huge page
    /// pool: log2 of its huge page size (0: an ordinary mapping). Every touch raises SIGBUS,
    /// as Linux's hugetlb_no_page finds no page to give, and the mapping splits only at
    /// multiples of the huge page size.
    pub huge_shift: u8,
    /// An anonymous huge mapping (MAP_ANONYMOUS | MAP_HUGETLB): the inode number of the
    /// unlinked hugetlbfs file Linux makes for it (hugetlb_file_setup), which
    /// /proc/PID/maps shows as "/anon_hugepage (deleted)", and the byte offset of the VMA's
    /// start in that file. 0 for every other mapping.
    pub huge_ino: u64,
    pub huge_off: u64,
    /// madvise's MADV_RANDOM or MADV_SEQUENTIAL (MADV_NORMAL clears either): how a fault
    /// that misses the page cache reads the file around the page.
    pub read_advice: lintel_vfs::readahead::ReadAdvice,
}

impl VmaFlags {
    pub fn hugetlb(&self) -> bool {
        self.huge_shift != 0
    }

    /// The flags of a VMA of `len` bytes and of the one that starts where it ends allow one
    /// VMA: equal, with an anonymous huge mapping's file offsets continuing.
    pub fn continue_into(&self, len: usize, next: &VmaFlags) -> bool {
        let off = if self.huge_ino != 0 {
            self.huge_off + len as u64
        } else {
            self.huge_off
        };
        VmaFlags {
            huge_off: off,
            ..*self
        } == *next
    }
}

/// Whether a VMA's pages are locked in memory. Lintel never swaps, so what locking changes
/// is that the pages are faulted in when the lock is taken (not with `OnFault`), that they
/// count against RLIMIT_MEMLOCK, and what /proc and madvise see.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub enum Mlock {
    #[default]
    No,
    /// mlock, mlockall(MCL_CURRENT), MAP_LOCKED: pages faulted in now.
    Locked,
    /// mlock2(MLOCK_ONFAULT), MCL_ONFAULT: pages locked as they are touched.
    OnFault,
}

impl Mlock {
    pub fn is_locked(self) -> bool {
        self != Mlock::No
    }
}

/// What fork does with a VMA, as madvise set it: MADV_DONTFORK leaves it out of the child
/// (Linux's VM_DONTCOPY), MADV_WIPEONFORK gives the child fresh zero pages there
/// (VM_WIPEONFORK, private anonymous memory only; the child keeps the advice). Both are
/// independent flags, and leaving out wins.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct ForkAdvice {
    pub dontfork: bool,
    pub wipe: bool,
}
impl Vma {
    /// The part of this VMA in [s, e), with the file offset adjusted.
    pub(super) fn slice(&self, s: usize, e: usize) -> Vma {
        let mut v = self.clone();
        let delta = (s - self.start) as u64;
        v.start = s;
        v.end = e;
        if let Backing::File {
            offset, file_bytes, ..
        } = &mut v.backing
        {
            *offset += delta;
            *file_bytes = file_bytes.saturating_sub(delta);
        }
        if let Backing::Shm(m) = &mut v.backing {
            m.offset += delta;
        }
        if v.flags.huge_ino != 0 {
            v.flags.huge_off += delta;
        }
        if let Backing::Kernel(m) = &mut v.backing {
            m.offset += delta;
        }
        v
    }
}
