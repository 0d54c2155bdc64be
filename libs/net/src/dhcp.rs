//! DHCPv4 on an Ethernet interface (Linux's `ip=dhcp`): smoltcp's client socket lives in the
//! interface's socket set and its lease sets the interface's address and default route; a
//! lost lease removes them.

use crate::stack::Stack;
use crate::Errno;
use smoltcp::socket::dhcpv4;

impl Stack {
    /// Starts asking for a lease on interface `ifindex` (not `lo`).
    pub fn start_dhcp(&mut self, ifindex: u32) -> Result<(), Errno> {
        let n = self.netif_by_index(ifindex).ok_or(Errno::ENODEV)?;
        if n == 0 {
            return Err(Errno::EINVAL);
        }
        if self.dhcp.iter().any(|&(m, _)| m == n) {
            return Ok(());
        }
        let h = self.netifs[n].sockets.add(dhcpv4::Socket::new());
        self.dhcp.push((n, h));
        Ok(())
    }

    /// Applies what the DHCP clients learned since the last poll; true if anything changed.
    pub(crate) fn dhcp_update(&mut self) -> bool {
        let mut changed = false;
        for i in 0..self.dhcp.len() {
            let (n, h) = self.dhcp[i];
            let index = self.netifs[n].index;
            // The lease, copied out of the socket's borrow.
            let lease = match self.netifs[n].sockets.get_mut::<dhcpv4::Socket>(h).poll() {
                Some(dhcpv4::Event::Configured(c)) => Some(Some((
                    c.address.address(),
                    c.address.prefix_len(),
                    c.router,
                ))),
                Some(dhcpv4::Event::Deconfigured) => Some(None),
                None => None,
            };
            match lease {
                Some(Some((addr, prefix, router))) => {
                    let _ = self.set_ipv4(index, addr, prefix, router);
                    changed = true;
                }
                Some(None) => {
                    let _ = self.clear_ipv4(index);
                    changed = true;
                }
                None => {}
            }
        }
        changed
    }
}
