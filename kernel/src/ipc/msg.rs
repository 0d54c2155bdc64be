//! Message queues.

/// /proc/sysvipc/msg.
pub fn proc_text() -> alloc::string::String {
    alloc::string::String::from("       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n")
}
