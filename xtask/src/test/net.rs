//! Network boot tests: a virtio-net card on QEMU user networking in restrict mode (the guest
//! reaches QEMU's built-in gateway and nothing beyond; no test uses any other mode).

use super::{tail, Tally};
use crate::build;
use crate::qemu::{self, Outcome};
use crate::{NetMode, RunOpts};

/// `boot.net.arp`: the kernel finds the card with QEMU's default MAC and, booted with
/// `lintel.nettest`, sends an ARP request for the gateway 10.0.2.2; the transmit completion
/// and the reply (answered inside QEMU) must each arrive by interrupt; then a burst of 300
/// requests (more than either queue holds) must get 300 replies.
pub(super) fn net_tests(t: &mut Tally, filter: Option<&str>, kvm: bool) -> Result<(), String> {
    let id = "boot.net.arp";
    if filter.is_some_and(|f| !id.contains(f)) {
        return Ok(());
    }
    let kernel = build::kernel()?;
    let mut img = build::base_image()?;
    build::set_launch(
        &mut img,
        &["/bin/busybox".into(), "echo".into(), "net-ok".into()],
    );
    let opts = RunOpts {
        kvm,
        timeout: Some(120),
        net: Some(NetMode::Restrict),
        append: Some("log=info lintel.nettest".into()),
        ..RunOpts::default()
    };
    let (outcome, out) = qemu::boot(&opts, &kernel, &img, "net-arp", true)?;
    let want = [
        "virtio-net: MAC 52:54:00:12:34:56",
        "virtio-net: nettest: ARP request for 10.0.2.2 sent from 52:54:00:12:34:56",
        "virtio-net: nettest: transmit completed (transmit interrupt)",
        "virtio-net: nettest: ARP reply: 10.0.2.2 is at 52:55:0a:00:02:02 (receive interrupt)",
        "virtio-net: nettest: burst: 300 requests sent, 300 replies, 0 dropped",
        "net-ok",
    ];
    if outcome != Outcome::Exit(0) {
        t.fail(
            id,
            &format!(
                "expected exit 0, got {}; console: {}",
                qemu::describe(&outcome),
                tail(&out, 6)
            ),
        );
    } else if let Some(w) = want.iter().find(|w| !out.contains(*w)) {
        t.fail(
            id,
            &format!("console output lacks {w:?}; console: {}", tail(&out, 8)),
        );
    } else {
        t.pass(id);
    }
    Ok(())
}
