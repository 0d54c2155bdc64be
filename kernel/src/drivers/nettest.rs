//! `lintel.nettest`: a boot-time check of a network device and of the path to it, with no
//! network stack: one hand-built ARP request for QEMU user networking's gateway (10.0.2.2,
//! answered inside QEMU itself), then the transmit completion and the reply are reported on
//! the console; then a burst of requests larger than the queues, every one of which must be
//! answered. The boot test `boot.net.arp` reads the reports.

use super::net::mac_str;
use lintel_hal::println;
use lintel_hal::virtio_net::{TxError, VirtioNet};

/// The address QEMU user networking gives its first guest, and its gateway.
const GUEST_IP: [u8; 4] = [10, 0, 2, 15];
const GATEWAY_IP: [u8; 4] = [10, 0, 2, 2];
const ETH_ARP: [u8; 2] = [0x08, 0x06];
const WAIT_NS: u64 = 3_000_000_000;
/// Requests of the burst: more than either queue holds, so both rings wrap around and
/// transmit buffers and receive buffers are each reused.
const BURST: usize = 300;
const BURST_NS: u64 = 10_000_000_000;

/// An Ethernet broadcast frame holding an ARP request "who has `target`, tell `ip`".
fn arp_request(mac: [u8; 6], ip: [u8; 4], target: [u8; 4]) -> [u8; 42] {
    let mut f = [0u8; 42];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&ETH_ARP);
    // Ethernet hardware (1), IPv4 protocol (0x0800), address lengths 6 and 4, request (1).
    f[14..22].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&ip);
    f[38..42].copy_from_slice(&target);
    f
}

/// The sender's hardware address, if `f` is an ARP reply from `ip`.
fn arp_reply_from(f: &[u8], ip: [u8; 4]) -> Option<[u8; 6]> {
    let is_reply = f.get(12..14)? == ETH_ARP && f.get(14..22)? == [0, 1, 8, 0, 6, 4, 0, 2];
    if !is_reply || f.get(28..32)? != ip {
        return None;
    }
    f.get(22..28)?.try_into().ok()
}

/// Sends the request and waits (boundedly) for its completion and the reply. Completions and
/// received frames are looked at only after their interrupt, so the report shows that the
/// interrupts work; a reply found only by polling at the end says so.
pub fn arp_probe(d: &mut VirtioNet) {
    let mac = d.mac();
    if let Err(e) = d.transmit(&arp_request(mac, GUEST_IP, GATEWAY_IP)) {
        println!("virtio-net: nettest: transmit failed: {:?}", e);
        return;
    }
    println!(
        "virtio-net: nettest: ARP request for 10.0.2.2 sent from {}",
        mac_str(&mac)
    );
    let deadline = crate::time::uptime_ns() + WAIT_NS;
    let (mut tx_done, mut replied, mut others) = (false, false, 0);
    let mut look = |d: &mut VirtioNet, how: &str| -> bool {
        let mut found = false;
        while let Some(f) = d.receive() {
            match arp_reply_from(&f, GATEWAY_IP) {
                Some(m) if !found => {
                    found = true;
                    println!(
                        "virtio-net: nettest: ARP reply: 10.0.2.2 is at {} ({})",
                        mac_str(&m),
                        how
                    );
                }
                _ => others += 1,
            }
        }
        found
    };
    while crate::time::uptime_ns() < deadline && !(tx_done && replied) {
        let ev = d.irq_ack();
        // Completions are reclaimed by `irq_ack` on a transmit interrupt only.
        if !tx_done && d.tx_in_flight() == 0 {
            tx_done = true;
            println!("virtio-net: nettest: transmit completed (transmit interrupt)");
        }
        if ev.rx && !replied {
            replied = look(d, "receive interrupt");
        }
        if !(tx_done && replied) {
            crate::sched::halt_briefly();
        }
    }
    if !tx_done {
        let n = d.reclaim_tx();
        println!("virtio-net: nettest: no transmit interrupt ({n} completed when polled)");
    }
    if !replied && !look(d, "polled, no receive interrupt") {
        println!("virtio-net: nettest: no ARP reply ({others} other frames)");
    }
    burst(d);
}

/// Sends `BURST` requests as fast as transmit buffers free up, counting the replies.
fn burst(d: &mut VirtioNet) {
    let req = arp_request(d.mac(), GUEST_IP, GATEWAY_IP);
    let deadline = crate::time::uptime_ns() + BURST_NS;
    let (mut sent, mut replies) = (0, 0);
    while (sent < BURST || replies < BURST) && crate::time::uptime_ns() < deadline {
        d.irq_ack();
        while sent < BURST {
            match d.transmit(&req) {
                Ok(()) => sent += 1,
                Err(TxError::Full) => break,
                Err(e) => {
                    println!("virtio-net: nettest: burst: transmit failed: {:?}", e);
                    return;
                }
            }
        }
        while let Some(f) = d.receive() {
            if arp_reply_from(&f, GATEWAY_IP).is_some() {
                replies += 1;
            }
        }
        if sent < BURST || replies < BURST {
            crate::sched::halt_briefly();
        }
    }
    println!(
        "virtio-net: nettest: burst: {sent} requests sent, {replies} replies, {} dropped",
        d.rx_dropped()
    );
}
