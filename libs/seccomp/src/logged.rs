//! /proc/sys/kernel/seccomp: the action names Linux prints in `actions_avail` and accepts in
//! `actions_logged`, and the rule that decides whether an action taken is logged
//! (Linux's `seccomp_log`).

use crate::*;
use alloc::string::String;
use core::sync::atomic::AtomicU32;

/// The actions in Linux's order, each with its bit in the `actions_logged` mask
/// (SECCOMP_LOG_*).
pub const ACTIONS: [(&str, u32, u32); 8] = [
    ("kill_process", SECCOMP_RET_KILL_PROCESS, 1 << 0),
    ("kill_thread", SECCOMP_RET_KILL_THREAD, 1 << 1),
    ("trap", SECCOMP_RET_TRAP, 1 << 2),
    ("errno", SECCOMP_RET_ERRNO, 1 << 3),
    ("user_notif", SECCOMP_RET_USER_NOTIF, 1 << 4),
    ("trace", SECCOMP_RET_TRACE, 1 << 5),
    ("log", SECCOMP_RET_LOG, 1 << 6),
    ("allow", SECCOMP_RET_ALLOW, 1 << 7),
];

const LOG_ALLOW: u32 = 1 << 7;

/// What a boot starts with: every action but allow.
pub const DEFAULT_LOGGED: u32 = 0x7f;

/// The system's `actions_logged` mask (one per kernel, as Linux's `seccomp_actions_logged`).
pub static ACTIONS_LOGGED: AtomicU32 = AtomicU32::new(DEFAULT_LOGGED);

/// The text of `actions_avail` (`ALL` bits) or `actions_logged`: the names of the set bits,
/// space-separated, with a newline.
pub fn names_text(mask: u32) -> String {
    let mut s = String::new();
    for (name, _, bit) in ACTIONS {
        if mask & bit != 0 {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(name);
        }
    }
    s.push('\n');
    s
}

/// The mask of every action (`actions_avail`).
pub const ALL: u32 = 0xff;

/// Parses a write to `actions_logged` as Linux does: the text up to the first newline or NUL,
/// names separated by single spaces, parsing stopping at the first empty name (so a leading
/// space gives the empty set); an unknown name or `allow` is None (EINVAL).
pub fn logged_from_names(text: &[u8]) -> Option<u32> {
    let end = text
        .iter()
        .position(|&b| b == b'\n' || b == 0)
        .unwrap_or(text.len());
    let mut mask = 0;
    for name in text[..end].split(|&b| b == b' ') {
        if name.is_empty() {
            break;
        }
        let (_, _, bit) = ACTIONS.iter().find(|(n, _, _)| n.as_bytes() == name)?;
        mask |= bit;
    }
    if mask & LOG_ALLOW != 0 {
        return None;
    }
    Some(mask)
}

/// Whether taking `action` (a SECCOMP_RET_* action) is logged, given the `actions_logged`
/// mask and whether the deciding filter asked for logging (SECCOMP_FILTER_FLAG_LOG): the kill
/// actions (unknown ones count as KILL_PROCESS) and RET_LOG are logged whenever the mask says so, trap/errno/user_notif/trace only
/// when the filter asked too, allow never.
pub fn should_log(action: u32, requested: bool, logged: u32) -> bool {
    match action {
        SECCOMP_RET_ALLOW => false,
        SECCOMP_RET_TRAP | SECCOMP_RET_ERRNO | SECCOMP_RET_USER_NOTIF | SECCOMP_RET_TRACE => {
            requested && logged & bit_of(action) != 0
        }
        SECCOMP_RET_LOG | SECCOMP_RET_KILL_THREAD => logged & bit_of(action) != 0,
        // KILL_PROCESS, and unknown actions, which kill the process as it does.
        _ => logged & bit_of(SECCOMP_RET_KILL_PROCESS) != 0,
    }
}

fn bit_of(action: u32) -> u32 {
    ACTIONS
        .iter()
        .find(|(_, a, _)| *a == action)
        .map_or(0, |(_, _, bit)| *bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_as_linux_prints_them() {
        assert_eq!(
            names_text(ALL),
            "kill_process kill_thread trap errno user_notif trace log allow\n"
        );
        assert_eq!(
            names_text(DEFAULT_LOGGED),
            "kill_process kill_thread trap errno user_notif trace log\n"
        );
        assert_eq!(names_text(0), "\n");
    }

    #[test]
    fn writes_parsed_as_linux_parses_them() {
        // Each pair was checked against Linux 6.1 on the host.
        assert_eq!(logged_from_names(b"trap"), Some(1 << 2));
        assert_eq!(logged_from_names(b"trap\n\n"), Some(1 << 2));
        assert_eq!(logged_from_names(b"trap errno\n"), Some(0b1100));
        assert_eq!(logged_from_names(b" trap"), Some(0));
        assert_eq!(logged_from_names(b"trap "), Some(1 << 2));
        assert_eq!(logged_from_names(b"kill_process  trap"), Some(1));
        assert_eq!(logged_from_names(b"log log"), Some(1 << 6));
        assert_eq!(logged_from_names(b"\n"), Some(0));
        assert_eq!(logged_from_names(b"allow"), None);
        assert_eq!(logged_from_names(b"bogus"), None);
        assert_eq!(logged_from_names(b"trap bogus"), None);
    }

    #[test]
    fn log_rule() {
        let all = DEFAULT_LOGGED;
        assert!(should_log(SECCOMP_RET_KILL_PROCESS, false, all));
        assert!(should_log(SECCOMP_RET_LOG, false, all));
        assert!(!should_log(SECCOMP_RET_ERRNO, false, all));
        assert!(should_log(SECCOMP_RET_ERRNO, true, all));
        assert!(!should_log(SECCOMP_RET_ERRNO, true, 0));
        assert!(!should_log(SECCOMP_RET_ALLOW, true, ALL));
        assert!(!should_log(SECCOMP_RET_KILL_THREAD, true, 1));
        assert!(should_log(0x1234_0000, false, 1));
    }
}
