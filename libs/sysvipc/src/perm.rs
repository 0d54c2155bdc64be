//! Who may use an IPC object (Linux's ipcperms) and who may change or remove it
//! (ipcctl_obtain_check's owner test).

use lintel_abi::ipc::IpcPerm;

/// The caller, as the checks see it.
pub struct Who<'a> {
    pub euid: u32,
    pub egid: u32,
    pub groups: &'a [u32],
    /// CAP_IPC_OWNER: bypasses the mode bits.
    pub ipc_owner: bool,
    /// CAP_SYS_ADMIN: may change and remove objects it does not own.
    pub sys_admin: bool,
}

pub const ACCESS_READ: u32 = 0o444;
pub const ACCESS_WRITE: u32 = 0o222;

impl Who<'_> {
    fn in_group(&self, g: u32) -> bool {
        self.egid == g || self.groups.contains(&g)
    }

    /// Whether the mode bits grant `flag` (any of the rwx bits of the owner, group and other
    /// triplets: a get's mode argument, ACCESS_READ or ACCESS_WRITE).
    pub fn may(&self, p: &IpcPerm, flag: u32) -> bool {
        let requested = (flag >> 6) | (flag >> 3) | flag;
        let mut granted = p.mode;
        if self.euid == p.cuid || self.euid == p.uid {
            granted >>= 6;
        } else if self.in_group(p.cgid) || self.in_group(p.gid) {
            granted >>= 3;
        }
        requested & !granted & 0o7 == 0 || self.ipc_owner
    }

    /// Whether the caller may IPC_SET or IPC_RMID the object: its creator, its owner, or
    /// CAP_SYS_ADMIN.
    pub fn owns(&self, p: &IpcPerm) -> bool {
        self.euid == p.cuid || self.euid == p.uid || self.sys_admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perm(mode: u32) -> IpcPerm {
        IpcPerm {
            uid: 10,
            gid: 20,
            cuid: 11,
            cgid: 21,
            mode,
            ..Default::default()
        }
    }

    fn who(euid: u32, egid: u32, groups: &[u32]) -> Who<'_> {
        Who {
            euid,
            egid,
            groups,
            ipc_owner: false,
            sys_admin: false,
        }
    }

    #[test]
    fn owner_group_other() {
        let p = perm(0o640);
        assert!(who(10, 0, &[]).may(&p, ACCESS_WRITE));
        assert!(who(11, 0, &[]).may(&p, ACCESS_READ));
        assert!(who(5, 21, &[]).may(&p, ACCESS_READ));
        assert!(!who(5, 21, &[]).may(&p, ACCESS_WRITE));
        assert!(who(5, 1, &[20]).may(&p, ACCESS_READ));
        assert!(!who(5, 1, &[]).may(&p, ACCESS_READ));
        // The owner's own bits decide even when the group's would grant more.
        assert!(!who(10, 20, &[]).may(&perm(0o060), ACCESS_READ));
        // Asking for nothing always passes.
        assert!(who(5, 1, &[]).may(&p, 0));
        let root = Who {
            ipc_owner: true,
            sys_admin: true,
            ..who(0, 0, &[])
        };
        assert!(root.may(&perm(0), ACCESS_WRITE));
        assert!(root.owns(&p));
        assert!(who(11, 0, &[]).owns(&p));
        assert!(!who(12, 20, &[]).owns(&p));
    }
}
