//! The asm-generic syscall numbers (include/uapi/asm-generic/unistd.h, 64-bit), shared by the
//! architectures that use them (riscv64, aarch64): a constant per syscall, and a macro that
//! builds an architecture's `NAMES` table from the common entries plus its own. There is no
//! `open`, `fork` or `stat` here: programs use the `*at` and `clone` forms.
//! Longer than 600 lines on purpose: a generated-style table, one line per syscall.

#![allow(missing_docs)]

pub const IO_SETUP: usize = 0;
pub const IO_DESTROY: usize = 1;
pub const IO_SUBMIT: usize = 2;
pub const IO_CANCEL: usize = 3;
pub const IO_GETEVENTS: usize = 4;
pub const SETXATTR: usize = 5;
pub const LSETXATTR: usize = 6;
pub const FSETXATTR: usize = 7;
pub const GETXATTR: usize = 8;
pub const LGETXATTR: usize = 9;
pub const FGETXATTR: usize = 10;
pub const LISTXATTR: usize = 11;
pub const LLISTXATTR: usize = 12;
pub const FLISTXATTR: usize = 13;
pub const REMOVEXATTR: usize = 14;
pub const LREMOVEXATTR: usize = 15;
pub const FREMOVEXATTR: usize = 16;
pub const GETCWD: usize = 17;
pub const LOOKUP_DCOOKIE: usize = 18;
pub const EVENTFD2: usize = 19;
pub const EPOLL_CREATE1: usize = 20;
pub const EPOLL_CTL: usize = 21;
pub const EPOLL_PWAIT: usize = 22;
pub const DUP: usize = 23;
pub const DUP3: usize = 24;
pub const FCNTL: usize = 25;
pub const INOTIFY_INIT1: usize = 26;
pub const INOTIFY_ADD_WATCH: usize = 27;
pub const INOTIFY_RM_WATCH: usize = 28;
pub const IOCTL: usize = 29;
pub const IOPRIO_SET: usize = 30;
pub const IOPRIO_GET: usize = 31;
pub const FLOCK: usize = 32;
pub const MKNODAT: usize = 33;
pub const MKDIRAT: usize = 34;
pub const UNLINKAT: usize = 35;
pub const SYMLINKAT: usize = 36;
pub const LINKAT: usize = 37;
pub const UMOUNT2: usize = 39;
pub const MOUNT: usize = 40;
pub const PIVOT_ROOT: usize = 41;
pub const NFSSERVCTL: usize = 42;
pub const STATFS: usize = 43;
pub const FSTATFS: usize = 44;
pub const TRUNCATE: usize = 45;
pub const FTRUNCATE: usize = 46;
pub const FALLOCATE: usize = 47;
pub const FACCESSAT: usize = 48;
pub const CHDIR: usize = 49;
pub const FCHDIR: usize = 50;
pub const CHROOT: usize = 51;
pub const FCHMOD: usize = 52;
pub const FCHMODAT: usize = 53;
pub const FCHOWNAT: usize = 54;
pub const FCHOWN: usize = 55;
pub const OPENAT: usize = 56;
pub const CLOSE: usize = 57;
pub const VHANGUP: usize = 58;
pub const PIPE2: usize = 59;
pub const QUOTACTL: usize = 60;
pub const GETDENTS64: usize = 61;
pub const LSEEK: usize = 62;
pub const READ: usize = 63;
pub const WRITE: usize = 64;
pub const READV: usize = 65;
pub const WRITEV: usize = 66;
pub const PREAD64: usize = 67;
pub const PWRITE64: usize = 68;
pub const PREADV: usize = 69;
pub const PWRITEV: usize = 70;
pub const SENDFILE: usize = 71;
pub const PSELECT6: usize = 72;
pub const PPOLL: usize = 73;
pub const SIGNALFD4: usize = 74;
pub const VMSPLICE: usize = 75;
pub const SPLICE: usize = 76;
pub const TEE: usize = 77;
pub const READLINKAT: usize = 78;
pub const NEWFSTATAT: usize = 79;
pub const FSTAT: usize = 80;
pub const SYNC: usize = 81;
pub const FSYNC: usize = 82;
pub const FDATASYNC: usize = 83;
pub const SYNC_FILE_RANGE: usize = 84;
pub const TIMERFD_CREATE: usize = 85;
pub const TIMERFD_SETTIME: usize = 86;
pub const TIMERFD_GETTIME: usize = 87;
pub const UTIMENSAT: usize = 88;
pub const ACCT: usize = 89;
pub const CAPGET: usize = 90;
pub const CAPSET: usize = 91;
pub const PERSONALITY: usize = 92;
pub const EXIT: usize = 93;
pub const EXIT_GROUP: usize = 94;
pub const WAITID: usize = 95;
pub const SET_TID_ADDRESS: usize = 96;
pub const UNSHARE: usize = 97;
pub const FUTEX: usize = 98;
pub const SET_ROBUST_LIST: usize = 99;
pub const GET_ROBUST_LIST: usize = 100;
pub const NANOSLEEP: usize = 101;
pub const GETITIMER: usize = 102;
pub const SETITIMER: usize = 103;
pub const KEXEC_LOAD: usize = 104;
pub const INIT_MODULE: usize = 105;
pub const DELETE_MODULE: usize = 106;
pub const TIMER_CREATE: usize = 107;
pub const TIMER_GETTIME: usize = 108;
pub const TIMER_GETOVERRUN: usize = 109;
pub const TIMER_SETTIME: usize = 110;
pub const TIMER_DELETE: usize = 111;
pub const CLOCK_SETTIME: usize = 112;
pub const CLOCK_GETTIME: usize = 113;
pub const CLOCK_GETRES: usize = 114;
pub const CLOCK_NANOSLEEP: usize = 115;
pub const SYSLOG: usize = 116;
pub const PTRACE: usize = 117;
pub const SCHED_SETPARAM: usize = 118;
pub const SCHED_SETSCHEDULER: usize = 119;
pub const SCHED_GETSCHEDULER: usize = 120;
pub const SCHED_GETPARAM: usize = 121;
pub const SCHED_SETAFFINITY: usize = 122;
pub const SCHED_GETAFFINITY: usize = 123;
pub const SCHED_YIELD: usize = 124;
pub const SCHED_GET_PRIORITY_MAX: usize = 125;
pub const SCHED_GET_PRIORITY_MIN: usize = 126;
pub const SCHED_RR_GET_INTERVAL: usize = 127;
pub const RESTART_SYSCALL: usize = 128;
pub const KILL: usize = 129;
pub const TKILL: usize = 130;
pub const TGKILL: usize = 131;
pub const SIGALTSTACK: usize = 132;
pub const RT_SIGSUSPEND: usize = 133;
pub const RT_SIGACTION: usize = 134;
pub const RT_SIGPROCMASK: usize = 135;
pub const RT_SIGPENDING: usize = 136;
pub const RT_SIGTIMEDWAIT: usize = 137;
pub const RT_SIGQUEUEINFO: usize = 138;
pub const RT_SIGRETURN: usize = 139;
pub const SETPRIORITY: usize = 140;
pub const GETPRIORITY: usize = 141;
pub const REBOOT: usize = 142;
pub const SETREGID: usize = 143;
pub const SETGID: usize = 144;
pub const SETREUID: usize = 145;
pub const SETUID: usize = 146;
pub const SETRESUID: usize = 147;
pub const GETRESUID: usize = 148;
pub const SETRESGID: usize = 149;
pub const GETRESGID: usize = 150;
pub const SETFSUID: usize = 151;
pub const SETFSGID: usize = 152;
pub const TIMES: usize = 153;
pub const SETPGID: usize = 154;
pub const GETPGID: usize = 155;
pub const GETSID: usize = 156;
pub const SETSID: usize = 157;
pub const GETGROUPS: usize = 158;
pub const SETGROUPS: usize = 159;
pub const UNAME: usize = 160;
pub const SETHOSTNAME: usize = 161;
pub const SETDOMAINNAME: usize = 162;
pub const GETRLIMIT: usize = 163;
pub const SETRLIMIT: usize = 164;
pub const GETRUSAGE: usize = 165;
pub const UMASK: usize = 166;
pub const PRCTL: usize = 167;
pub const GETCPU: usize = 168;
pub const GETTIMEOFDAY: usize = 169;
pub const SETTIMEOFDAY: usize = 170;
pub const ADJTIMEX: usize = 171;
pub const GETPID: usize = 172;
pub const GETPPID: usize = 173;
pub const GETUID: usize = 174;
pub const GETEUID: usize = 175;
pub const GETGID: usize = 176;
pub const GETEGID: usize = 177;
pub const GETTID: usize = 178;
pub const SYSINFO: usize = 179;
pub const MQ_OPEN: usize = 180;
pub const MQ_UNLINK: usize = 181;
pub const MQ_TIMEDSEND: usize = 182;
pub const MQ_TIMEDRECEIVE: usize = 183;
pub const MQ_NOTIFY: usize = 184;
pub const MQ_GETSETATTR: usize = 185;
pub const MSGGET: usize = 186;
pub const MSGCTL: usize = 187;
pub const MSGRCV: usize = 188;
pub const MSGSND: usize = 189;
pub const SEMGET: usize = 190;
pub const SEMCTL: usize = 191;
pub const SEMTIMEDOP: usize = 192;
pub const SEMOP: usize = 193;
pub const SHMGET: usize = 194;
pub const SHMCTL: usize = 195;
pub const SHMAT: usize = 196;
pub const SHMDT: usize = 197;
pub const SOCKET: usize = 198;
pub const SOCKETPAIR: usize = 199;
pub const BIND: usize = 200;
pub const LISTEN: usize = 201;
pub const ACCEPT: usize = 202;
pub const CONNECT: usize = 203;
pub const GETSOCKNAME: usize = 204;
pub const GETPEERNAME: usize = 205;
pub const SENDTO: usize = 206;
pub const RECVFROM: usize = 207;
pub const SETSOCKOPT: usize = 208;
pub const GETSOCKOPT: usize = 209;
pub const SHUTDOWN: usize = 210;
pub const SENDMSG: usize = 211;
pub const RECVMSG: usize = 212;
pub const READAHEAD: usize = 213;
pub const BRK: usize = 214;
pub const MUNMAP: usize = 215;
pub const MREMAP: usize = 216;
pub const ADD_KEY: usize = 217;
pub const REQUEST_KEY: usize = 218;
pub const KEYCTL: usize = 219;
pub const CLONE: usize = 220;
pub const EXECVE: usize = 221;
pub const MMAP: usize = 222;
pub const FADVISE64: usize = 223;
pub const SWAPON: usize = 224;
pub const SWAPOFF: usize = 225;
pub const MPROTECT: usize = 226;
pub const MSYNC: usize = 227;
pub const MLOCK: usize = 228;
pub const MUNLOCK: usize = 229;
pub const MLOCKALL: usize = 230;
pub const MUNLOCKALL: usize = 231;
pub const MINCORE: usize = 232;
pub const MADVISE: usize = 233;
pub const REMAP_FILE_PAGES: usize = 234;
pub const MBIND: usize = 235;
pub const GET_MEMPOLICY: usize = 236;
pub const SET_MEMPOLICY: usize = 237;
pub const MIGRATE_PAGES: usize = 238;
pub const MOVE_PAGES: usize = 239;
pub const RT_TGSIGQUEUEINFO: usize = 240;
pub const PERF_EVENT_OPEN: usize = 241;
pub const ACCEPT4: usize = 242;
pub const RECVMMSG: usize = 243;
pub const ARCH_SPECIFIC_SYSCALL: usize = 244;
pub const WAIT4: usize = 260;
pub const PRLIMIT64: usize = 261;
pub const FANOTIFY_INIT: usize = 262;
pub const FANOTIFY_MARK: usize = 263;
pub const NAME_TO_HANDLE_AT: usize = 264;
pub const OPEN_BY_HANDLE_AT: usize = 265;
pub const CLOCK_ADJTIME: usize = 266;
pub const SYNCFS: usize = 267;
pub const SETNS: usize = 268;
pub const SENDMMSG: usize = 269;
pub const PROCESS_VM_READV: usize = 270;
pub const PROCESS_VM_WRITEV: usize = 271;
pub const KCMP: usize = 272;
pub const FINIT_MODULE: usize = 273;
pub const SCHED_SETATTR: usize = 274;
pub const SCHED_GETATTR: usize = 275;
pub const RENAMEAT2: usize = 276;
pub const SECCOMP: usize = 277;
pub const GETRANDOM: usize = 278;
pub const MEMFD_CREATE: usize = 279;
pub const BPF: usize = 280;
pub const EXECVEAT: usize = 281;
pub const USERFAULTFD: usize = 282;
pub const MEMBARRIER: usize = 283;
pub const MLOCK2: usize = 284;
pub const COPY_FILE_RANGE: usize = 285;
pub const PREADV2: usize = 286;
pub const PWRITEV2: usize = 287;
pub const PKEY_MPROTECT: usize = 288;
pub const PKEY_ALLOC: usize = 289;
pub const PKEY_FREE: usize = 290;
pub const STATX: usize = 291;
pub const IO_PGETEVENTS: usize = 292;
pub const RSEQ: usize = 293;
pub const KEXEC_FILE_LOAD: usize = 294;
pub const PIDFD_SEND_SIGNAL: usize = 424;
pub const IO_URING_SETUP: usize = 425;
pub const IO_URING_ENTER: usize = 426;
pub const IO_URING_REGISTER: usize = 427;
pub const OPEN_TREE: usize = 428;
pub const MOVE_MOUNT: usize = 429;
pub const FSOPEN: usize = 430;
pub const FSCONFIG: usize = 431;
pub const FSMOUNT: usize = 432;
pub const FSPICK: usize = 433;
pub const PIDFD_OPEN: usize = 434;
pub const CLONE3: usize = 435;
pub const CLOSE_RANGE: usize = 436;
pub const OPENAT2: usize = 437;
pub const PIDFD_GETFD: usize = 438;
pub const FACCESSAT2: usize = 439;
pub const PROCESS_MADVISE: usize = 440;
pub const EPOLL_PWAIT2: usize = 441;
pub const MOUNT_SETATTR: usize = 442;
pub const QUOTACTL_FD: usize = 443;
pub const LANDLOCK_CREATE_RULESET: usize = 444;
pub const LANDLOCK_ADD_RULE: usize = 445;
pub const LANDLOCK_RESTRICT_SELF: usize = 446;
pub const MEMFD_SECRET: usize = 447;
pub const PROCESS_MRELEASE: usize = 448;
pub const FUTEX_WAITV: usize = 449;
pub const SET_MEMPOLICY_HOME_NODE: usize = 450;

/// Defines `NAMES`, the (number, name) table the kernel builds its dispatch table from: every
/// asm-generic syscall, then the architecture's own entries given as `(number, "name")`.
#[macro_export]
macro_rules! asm_generic_syscall_names {
    ($($extra:expr),* $(,)?) => {
        /// Every syscall of this architecture: (number, name).
        pub const NAMES: &[(usize, &str)] = &[
            (0, "io_setup"),
            (1, "io_destroy"),
            (2, "io_submit"),
            (3, "io_cancel"),
            (4, "io_getevents"),
            (5, "setxattr"),
            (6, "lsetxattr"),
            (7, "fsetxattr"),
            (8, "getxattr"),
            (9, "lgetxattr"),
            (10, "fgetxattr"),
            (11, "listxattr"),
            (12, "llistxattr"),
            (13, "flistxattr"),
            (14, "removexattr"),
            (15, "lremovexattr"),
            (16, "fremovexattr"),
            (17, "getcwd"),
            (18, "lookup_dcookie"),
            (19, "eventfd2"),
            (20, "epoll_create1"),
            (21, "epoll_ctl"),
            (22, "epoll_pwait"),
            (23, "dup"),
            (24, "dup3"),
            (25, "fcntl"),
            (26, "inotify_init1"),
            (27, "inotify_add_watch"),
            (28, "inotify_rm_watch"),
            (29, "ioctl"),
            (30, "ioprio_set"),
            (31, "ioprio_get"),
            (32, "flock"),
            (33, "mknodat"),
            (34, "mkdirat"),
            (35, "unlinkat"),
            (36, "symlinkat"),
            (37, "linkat"),
            (39, "umount2"),
            (40, "mount"),
            (41, "pivot_root"),
            (42, "nfsservctl"),
            (43, "statfs"),
            (44, "fstatfs"),
            (45, "truncate"),
            (46, "ftruncate"),
            (47, "fallocate"),
            (48, "faccessat"),
            (49, "chdir"),
            (50, "fchdir"),
            (51, "chroot"),
            (52, "fchmod"),
            (53, "fchmodat"),
            (54, "fchownat"),
            (55, "fchown"),
            (56, "openat"),
            (57, "close"),
            (58, "vhangup"),
            (59, "pipe2"),
            (60, "quotactl"),
            (61, "getdents64"),
            (62, "lseek"),
            (63, "read"),
            (64, "write"),
            (65, "readv"),
            (66, "writev"),
            (67, "pread64"),
            (68, "pwrite64"),
            (69, "preadv"),
            (70, "pwritev"),
            (71, "sendfile"),
            (72, "pselect6"),
            (73, "ppoll"),
            (74, "signalfd4"),
            (75, "vmsplice"),
            (76, "splice"),
            (77, "tee"),
            (78, "readlinkat"),
            (79, "newfstatat"),
            (80, "fstat"),
            (81, "sync"),
            (82, "fsync"),
            (83, "fdatasync"),
            (84, "sync_file_range"),
            (85, "timerfd_create"),
            (86, "timerfd_settime"),
            (87, "timerfd_gettime"),
            (88, "utimensat"),
            (89, "acct"),
            (90, "capget"),
            (91, "capset"),
            (92, "personality"),
            (93, "exit"),
            (94, "exit_group"),
            (95, "waitid"),
            (96, "set_tid_address"),
            (97, "unshare"),
            (98, "futex"),
            (99, "set_robust_list"),
            (100, "get_robust_list"),
            (101, "nanosleep"),
            (102, "getitimer"),
            (103, "setitimer"),
            (104, "kexec_load"),
            (105, "init_module"),
            (106, "delete_module"),
            (107, "timer_create"),
            (108, "timer_gettime"),
            (109, "timer_getoverrun"),
            (110, "timer_settime"),
            (111, "timer_delete"),
            (112, "clock_settime"),
            (113, "clock_gettime"),
            (114, "clock_getres"),
            (115, "clock_nanosleep"),
            (116, "syslog"),
            (117, "ptrace"),
            (118, "sched_setparam"),
            (119, "sched_setscheduler"),
            (120, "sched_getscheduler"),
            (121, "sched_getparam"),
            (122, "sched_setaffinity"),
            (123, "sched_getaffinity"),
            (124, "sched_yield"),
            (125, "sched_get_priority_max"),
            (126, "sched_get_priority_min"),
            (127, "sched_rr_get_interval"),
            (128, "restart_syscall"),
            (129, "kill"),
            (130, "tkill"),
            (131, "tgkill"),
            (132, "sigaltstack"),
            (133, "rt_sigsuspend"),
            (134, "rt_sigaction"),
            (135, "rt_sigprocmask"),
            (136, "rt_sigpending"),
            (137, "rt_sigtimedwait"),
            (138, "rt_sigqueueinfo"),
            (139, "rt_sigreturn"),
            (140, "setpriority"),
            (141, "getpriority"),
            (142, "reboot"),
            (143, "setregid"),
            (144, "setgid"),
            (145, "setreuid"),
            (146, "setuid"),
            (147, "setresuid"),
            (148, "getresuid"),
            (149, "setresgid"),
            (150, "getresgid"),
            (151, "setfsuid"),
            (152, "setfsgid"),
            (153, "times"),
            (154, "setpgid"),
            (155, "getpgid"),
            (156, "getsid"),
            (157, "setsid"),
            (158, "getgroups"),
            (159, "setgroups"),
            (160, "uname"),
            (161, "sethostname"),
            (162, "setdomainname"),
            (163, "getrlimit"),
            (164, "setrlimit"),
            (165, "getrusage"),
            (166, "umask"),
            (167, "prctl"),
            (168, "getcpu"),
            (169, "gettimeofday"),
            (170, "settimeofday"),
            (171, "adjtimex"),
            (172, "getpid"),
            (173, "getppid"),
            (174, "getuid"),
            (175, "geteuid"),
            (176, "getgid"),
            (177, "getegid"),
            (178, "gettid"),
            (179, "sysinfo"),
            (180, "mq_open"),
            (181, "mq_unlink"),
            (182, "mq_timedsend"),
            (183, "mq_timedreceive"),
            (184, "mq_notify"),
            (185, "mq_getsetattr"),
            (186, "msgget"),
            (187, "msgctl"),
            (188, "msgrcv"),
            (189, "msgsnd"),
            (190, "semget"),
            (191, "semctl"),
            (192, "semtimedop"),
            (193, "semop"),
            (194, "shmget"),
            (195, "shmctl"),
            (196, "shmat"),
            (197, "shmdt"),
            (198, "socket"),
            (199, "socketpair"),
            (200, "bind"),
            (201, "listen"),
            (202, "accept"),
            (203, "connect"),
            (204, "getsockname"),
            (205, "getpeername"),
            (206, "sendto"),
            (207, "recvfrom"),
            (208, "setsockopt"),
            (209, "getsockopt"),
            (210, "shutdown"),
            (211, "sendmsg"),
            (212, "recvmsg"),
            (213, "readahead"),
            (214, "brk"),
            (215, "munmap"),
            (216, "mremap"),
            (217, "add_key"),
            (218, "request_key"),
            (219, "keyctl"),
            (220, "clone"),
            (221, "execve"),
            (222, "mmap"),
            (223, "fadvise64"),
            (224, "swapon"),
            (225, "swapoff"),
            (226, "mprotect"),
            (227, "msync"),
            (228, "mlock"),
            (229, "munlock"),
            (230, "mlockall"),
            (231, "munlockall"),
            (232, "mincore"),
            (233, "madvise"),
            (234, "remap_file_pages"),
            (235, "mbind"),
            (236, "get_mempolicy"),
            (237, "set_mempolicy"),
            (238, "migrate_pages"),
            (239, "move_pages"),
            (240, "rt_tgsigqueueinfo"),
            (241, "perf_event_open"),
            (242, "accept4"),
            (243, "recvmmsg"),
            (244, "arch_specific_syscall"),
            (260, "wait4"),
            (261, "prlimit64"),
            (262, "fanotify_init"),
            (263, "fanotify_mark"),
            (264, "name_to_handle_at"),
            (265, "open_by_handle_at"),
            (266, "clock_adjtime"),
            (267, "syncfs"),
            (268, "setns"),
            (269, "sendmmsg"),
            (270, "process_vm_readv"),
            (271, "process_vm_writev"),
            (272, "kcmp"),
            (273, "finit_module"),
            (274, "sched_setattr"),
            (275, "sched_getattr"),
            (276, "renameat2"),
            (277, "seccomp"),
            (278, "getrandom"),
            (279, "memfd_create"),
            (280, "bpf"),
            (281, "execveat"),
            (282, "userfaultfd"),
            (283, "membarrier"),
            (284, "mlock2"),
            (285, "copy_file_range"),
            (286, "preadv2"),
            (287, "pwritev2"),
            (288, "pkey_mprotect"),
            (289, "pkey_alloc"),
            (290, "pkey_free"),
            (291, "statx"),
            (292, "io_pgetevents"),
            (293, "rseq"),
            (294, "kexec_file_load"),
            (424, "pidfd_send_signal"),
            (425, "io_uring_setup"),
            (426, "io_uring_enter"),
            (427, "io_uring_register"),
            (428, "open_tree"),
            (429, "move_mount"),
            (430, "fsopen"),
            (431, "fsconfig"),
            (432, "fsmount"),
            (433, "fspick"),
            (434, "pidfd_open"),
            (435, "clone3"),
            (436, "close_range"),
            (437, "openat2"),
            (438, "pidfd_getfd"),
            (439, "faccessat2"),
            (440, "process_madvise"),
            (441, "epoll_pwait2"),
            (442, "mount_setattr"),
            (443, "quotactl_fd"),
            (444, "landlock_create_ruleset"),
            (445, "landlock_add_rule"),
            (446, "landlock_restrict_self"),
            (447, "memfd_secret"),
            (448, "process_mrelease"),
            (449, "futex_waitv"),
            (450, "set_mempolicy_home_node"),
            $($extra),*
        ];
    };
}
