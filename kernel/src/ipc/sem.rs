//! Semaphore sets.

pub fn exit(_pid: i32) {}

/// /proc/sysvipc/sem.
pub fn proc_text() -> alloc::string::String {
    alloc::string::String::from(
        "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n",
    )
}
