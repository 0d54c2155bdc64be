#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

use lintel_hal::{println, BootInfo};

lintel_hal::entry_point!(kernel_main);

fn kernel_main(info: BootInfo) -> ! {
    println!("lintel: booted, cmdline '{}', {} MiB", info.cmdline, info.memory >> 20);
    lintel_hal::power_off("exit 0")
}
