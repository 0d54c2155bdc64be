//! `/proc/cpuinfo` as Linux 6.1 prints it on x86_64: identity from CPUID (vendor,
//! family/model/stepping, the brand string), caches, topology, and the `flags` line with
//! every feature Linux names, in Linux's word order (arch/x86/include/asm/cpufeatures.h).
//! Programs such as `lscpu`, build systems and numeric libraries parse these lines to pick
//! code paths, so a flag appears only when the CPU has it and the kernel enabled its state.

use super::cpu::cpuid;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Where a word of feature bits comes from: (leaf, subleaf, register 0..=3 for EAX..EDX).
type Source = (u32, u32, u8);

/// Linux's feature words that come straight from CPUID, in the order it prints them, with
/// the named bits of each ("" bits are hidden by Linux and not listed).
const WORDS: &[(Source, &[(u8, &str)])] = &[
    // Word 0: CPUID 1 EDX.
    (
        (1, 0, 3),
        &[
            (0, "fpu"),
            (1, "vme"),
            (2, "de"),
            (3, "pse"),
            (4, "tsc"),
            (5, "msr"),
            (6, "pae"),
            (7, "mce"),
            (8, "cx8"),
            (9, "apic"),
            (11, "sep"),
            (12, "mtrr"),
            (13, "pge"),
            (14, "mca"),
            (15, "cmov"),
            (16, "pat"),
            (17, "pse36"),
            (18, "pn"),
            (19, "clflush"),
            (21, "dts"),
            (22, "acpi"),
            (23, "mmx"),
            (24, "fxsr"),
            (25, "sse"),
            (26, "sse2"),
            (27, "ss"),
            (28, "ht"),
            (29, "tm"),
            (30, "ia64"),
            (31, "pbe"),
        ],
    ),
    // Word 1: CPUID 0x8000_0001 EDX.
    (
        (0x8000_0001, 0, 3),
        &[
            (11, "syscall"),
            (19, "mp"),
            (20, "nx"),
            (22, "mmxext"),
            (25, "fxsr_opt"),
            (26, "pdpe1gb"),
            (27, "rdtscp"),
            (29, "lm"),
            (30, "3dnowext"),
            (31, "3dnow"),
        ],
    ),
];

/// Words 4 onwards (after Linux's synthetic word 3).
const WORDS_AFTER_SYNTHETIC: &[(Source, &[(u8, &str)])] = &[
    // Word 4: CPUID 1 ECX.
    (
        (1, 0, 2),
        &[
            (0, "pni"),
            (1, "pclmulqdq"),
            (2, "dtes64"),
            (3, "monitor"),
            (4, "ds_cpl"),
            (5, "vmx"),
            (6, "smx"),
            (7, "est"),
            (8, "tm2"),
            (9, "ssse3"),
            (10, "cid"),
            (11, "sdbg"),
            (12, "fma"),
            (13, "cx16"),
            (14, "xtpr"),
            (15, "pdcm"),
            (17, "pcid"),
            (18, "dca"),
            (19, "sse4_1"),
            (20, "sse4_2"),
            (21, "x2apic"),
            (22, "movbe"),
            (23, "popcnt"),
            (24, "tsc_deadline_timer"),
            (25, "aes"),
            (26, "xsave"),
            (28, "avx"),
            (29, "f16c"),
            (30, "rdrand"),
            (31, "hypervisor"),
        ],
    ),
    // Word 6: CPUID 0x8000_0001 ECX.
    (
        (0x8000_0001, 0, 2),
        &[
            (0, "lahf_lm"),
            (1, "cmp_legacy"),
            (2, "svm"),
            (3, "extapic"),
            (4, "cr8_legacy"),
            (5, "abm"),
            (6, "sse4a"),
            (7, "misalignsse"),
            (8, "3dnowprefetch"),
            (9, "osvw"),
            (10, "ibs"),
            (11, "xop"),
            (12, "skinit"),
            (13, "wdt"),
            (15, "lwp"),
            (16, "fma4"),
            (17, "tce"),
            (19, "nodeid_msr"),
            (21, "tbm"),
            (22, "topoext"),
            (23, "perfctr_core"),
            (24, "perfctr_nb"),
            (26, "bpext"),
            (27, "ptsc"),
            (28, "perfctr_llc"),
            (29, "mwaitx"),
        ],
    ),
    // Word 9: CPUID 7.0 EBX.
    (
        (7, 0, 1),
        &[
            (0, "fsgsbase"),
            (1, "tsc_adjust"),
            (2, "sgx"),
            (3, "bmi1"),
            (4, "hle"),
            (5, "avx2"),
            (7, "smep"),
            (8, "bmi2"),
            (9, "erms"),
            (10, "invpcid"),
            (11, "rtm"),
            (12, "cqm"),
            (14, "mpx"),
            (15, "rdt_a"),
            (16, "avx512f"),
            (17, "avx512dq"),
            (18, "rdseed"),
            (19, "adx"),
            (20, "smap"),
            (21, "avx512ifma"),
            (23, "clflushopt"),
            (24, "clwb"),
            (25, "intel_pt"),
            (26, "avx512pf"),
            (27, "avx512er"),
            (28, "avx512cd"),
            (29, "sha_ni"),
            (30, "avx512bw"),
            (31, "avx512vl"),
        ],
    ),
    // Word 10: CPUID 0xd.1 EAX.
    (
        (0xd, 1, 0),
        &[
            (0, "xsaveopt"),
            (1, "xsavec"),
            (2, "xgetbv1"),
            (3, "xsaves"),
        ],
    ),
    // Word 12: CPUID 7.1 EAX.
    ((7, 1, 0), &[(4, "avx_vnni"), (5, "avx512_bf16")]),
    // Word 13: CPUID 0x8000_0008 EBX.
    (
        (0x8000_0008, 0, 1),
        &[
            (0, "clzero"),
            (1, "irperf"),
            (2, "xsaveerptr"),
            (4, "rdpru"),
            (9, "wbnoinvd"),
            (25, "virt_ssbd"),
        ],
    ),
    // Word 14: CPUID 6 EAX.
    (
        (6, 0, 0),
        &[
            (0, "dtherm"),
            (1, "ida"),
            (2, "arat"),
            (4, "pln"),
            (6, "pts"),
            (7, "hwp"),
            (8, "hwp_notify"),
            (9, "hwp_act_window"),
            (10, "hwp_epp"),
            (11, "hwp_pkg_req"),
        ],
    ),
    // Word 16: CPUID 7.0 ECX.
    (
        (7, 0, 2),
        &[
            (1, "avx512vbmi"),
            (2, "umip"),
            (3, "pku"),
            (4, "ospke"),
            (5, "waitpkg"),
            (6, "avx512_vbmi2"),
            (8, "gfni"),
            (9, "vaes"),
            (10, "vpclmulqdq"),
            (11, "avx512_vnni"),
            (12, "avx512_bitalg"),
            (13, "tme"),
            (14, "avx512_vpopcntdq"),
            (16, "la57"),
            (22, "rdpid"),
            (24, "bus_lock_detect"),
            (25, "cldemote"),
            (27, "movdiri"),
            (28, "movdir64b"),
            (29, "enqcmd"),
            (30, "sgx_lc"),
        ],
    ),
    // Word 17: CPUID 0x8000_0007 EBX.
    (
        (0x8000_0007, 0, 1),
        &[(0, "overflow_recov"), (1, "succor"), (3, "smca")],
    ),
    // Word 18: CPUID 7.0 EDX.
    (
        (7, 0, 3),
        &[
            (2, "avx512_4vnniw"),
            (3, "avx512_4fmaps"),
            (4, "fsrm"),
            (8, "avx512_vp2intersect"),
            (10, "md_clear"),
            (14, "serialize"),
            (16, "tsxldtrk"),
            (18, "pconfig"),
            (19, "arch_lbr"),
            (20, "ibt"),
            (22, "amx_bf16"),
            (23, "avx512_fp16"),
            (24, "amx_tile"),
            (25, "amx_int8"),
            (28, "flush_l1d"),
            (29, "arch_capabilities"),
        ],
    ),
];

/// Features that need the AVX (YMM) register state enabled in XCR0; Linux clears them
/// otherwise (cpuid-deps.c). Every name starting "avx512" needs the ZMM state as well.
const NEEDS_YMM: &[&str] = &[
    "avx",
    "avx2",
    "fma",
    "f16c",
    "xop",
    "fma4",
    "vaes",
    "vpclmulqdq",
    "avx_vnni",
];

/// CPUID with the leaf checked against the highest one the CPU has (zeros beyond it, as
/// Linux treats a missing leaf).
fn leaf(l: u32, sub: u32) -> (u32, u32, u32, u32) {
    let max = cpuid(l & 0x8000_0000, 0).0;
    if l > max {
        (0, 0, 0, 0)
    } else {
        cpuid(l, sub)
    }
}

fn reg(r: (u32, u32, u32, u32), which: u8) -> u32 {
    match which {
        0 => r.0,
        1 => r.1,
        2 => r.2,
        _ => r.3,
    }
}

fn push_words(out: &mut Vec<&'static str>, words: &[(Source, &'static [(u8, &'static str)])]) {
    for &((l, sub, r), bits) in words {
        let v = reg(leaf(l, sub), r);
        out.extend(
            bits.iter()
                .filter(|(b, _)| v & (1 << b) != 0)
                .map(|&(_, n)| n),
        );
    }
}

/// The `flags` line's names, given the XCR0 bits the kernel enabled.
fn flags(xcr0: u64) -> Vec<&'static str> {
    let mut v = Vec::new();
    push_words(&mut v, WORDS);
    // Word 3: the Linux-defined flags it sets on every 64-bit CPU or from scattered bits.
    let inv_tsc = leaf(0x8000_0007, 0).3 & (1 << 8) != 0;
    if inv_tsc {
        v.push("constant_tsc");
    }
    v.push("nopl");
    if leaf(0xb, 0).1 != 0 {
        v.push("xtopology");
    }
    if inv_tsc {
        v.push("nonstop_tsc");
    }
    v.push("cpuid");
    push_words(&mut v, WORDS_AFTER_SYNTHETIC);
    let ymm = xcr0 & 0b110 == 0b110;
    let zmm = ymm && xcr0 & 0xe0 == 0xe0;
    v.retain(|n| {
        if n.starts_with("avx512") || n.starts_with("amx") {
            zmm
        } else {
            ymm || !NEEDS_YMM.contains(n)
        }
    });
    v
}

fn vendor() -> String {
    let (_, b, c, d) = cpuid(0, 0);
    let mut bytes = Vec::with_capacity(12);
    for r in [b, d, c] {
        bytes.extend_from_slice(&r.to_le_bytes());
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The brand string of leaves 0x8000_0002..=4 with the blanks around it removed.
fn model_name() -> Option<String> {
    if cpuid(0x8000_0000, 0).0 < 0x8000_0004 {
        return None;
    }
    let mut bytes = Vec::with_capacity(48);
    for l in 0x8000_0002..=0x8000_0004u32 {
        let (a, b, c, d) = cpuid(l, 0);
        for r in [a, b, c, d] {
            bytes.extend_from_slice(&r.to_le_bytes());
        }
    }
    let end = bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len());
    let s = String::from_utf8_lossy(&bytes[..end]).trim().into();
    Some(s)
}

/// (family, model, stepping) as Linux derives them from leaf 1 EAX.
fn signature() -> (u32, u32, u32) {
    let a = cpuid(1, 0).0;
    let mut family = (a >> 8) & 0xf;
    if family == 0xf {
        family += (a >> 20) & 0xff;
    }
    let mut model = (a >> 4) & 0xf;
    if family >= 6 {
        model += ((a >> 16) & 0xf) << 4;
    }
    (family, model, a & 0xf)
}

/// Linux's `cache size` in KiB: the L2 of AMD and Hygon CPUs (leaf 0x8000_0006), else the
/// last-level cache from the deterministic cache leaf 4.
fn cache_kb(vendor: &str) -> u32 {
    if vendor == "AuthenticAMD" || vendor == "HygonGenuine" {
        return leaf(0x8000_0006, 0).2 >> 16;
    }
    if cpuid(0, 0).0 < 4 {
        return 0;
    }
    let mut best = (0, 0);
    for sub in 0..16 {
        let (a, b, c, _) = cpuid(4, sub);
        if a & 0x1f == 0 {
            break;
        }
        let level = (a >> 5) & 7;
        let bytes = (((b >> 22) & 0x3ff) + 1)
            * (((b >> 12) & 0x3ff) + 1)
            * ((b & 0xfff) + 1)
            * (c.wrapping_add(1));
        if level >= best.0 {
            best = (level, bytes / 1024);
        }
    }
    best.1
}

/// Names of CPUID 0x8000_0007 EDX bits for `power management:` (x86_power_flags).
const POWER: &[&str] = &[
    "ts",
    "fid",
    "vid",
    "ttp",
    "tm",
    "stc",
    "100mhzsteps",
    "hwpstate",
    "",
    "cpb",
    "eff_freq_ro",
    "proc_feedback",
    "acc_power",
];

/// One block per CPU in `mask`, the CPU's counter (TSC) running at `counter_hz`; `apic_id`
/// gives each CPU's local APIC id and `xcr0` the register state the kernel enabled.
pub(crate) fn text(
    counter_hz: u64,
    mask: u64,
    apic_id: impl Fn(usize) -> u32,
    xcr0: u64,
) -> String {
    let n = mask.count_ones();
    let vendor = vendor();
    let (family, model, stepping) = signature();
    let name = model_name().unwrap_or_else(|| String::from("unknown"));
    let cache = cache_kb(&vendor);
    let flags = flags(xcr0).join(" ");
    let clflush = ((cpuid(1, 0).1 >> 8) & 0xff) * 8;
    let addr = leaf(0x8000_0008, 0).0;
    let (phys, virt) = if addr == 0 {
        (36, 48)
    } else {
        (addr & 0xff, (addr >> 8) & 0xff)
    };
    let pm_bits = leaf(0x8000_0007, 0).3;
    let mut power = String::new();
    for (i, name) in POWER.iter().enumerate() {
        if pm_bits & (1 << i) != 0 && !name.is_empty() {
            power.push(' ');
            power.push_str(name);
        }
    }
    let khz = counter_hz / 1000;
    let cpuid_level = cpuid(0, 0).0;
    let cache_line = if cache != 0 {
        format!("cache size\t: {cache} KB\n")
    } else {
        String::new()
    };
    (0..64u32)
        .filter(|i| mask & (1u64 << i) != 0)
        .map(|i| {
            let apic = apic_id(i as usize);
            format!(
                "processor\t: {i}\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: {model}\nmodel name\t: {name}\nstepping\t: {stepping}\nmicrocode\t: 0x1\ncpu MHz\t\t: {}.{:03}\n{cache_line}physical id\t: 0\nsiblings\t: {n}\ncore id\t\t: {i}\ncpu cores\t: {n}\napicid\t\t: {apic}\ninitial apicid\t: {apic}\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: {cpuid_level}\nwp\t\t: yes\nflags\t\t: {flags}\nbugs\t\t: spectre_v1 spectre_v2\nbogomips\t: {}.{:02}\nclflush size\t: {clflush}\ncache_alignment\t: {clflush}\naddress sizes\t: {phys} bits physical, {virt} bits virtual\npower management:{power}\n\n",
                khz / 1000,
                khz % 1000,
                khz * 2 / 1000,
                (khz * 2 / 10) % 100,
            )
        })
        .collect()
}
