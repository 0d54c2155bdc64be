//! Device drivers' kernel side: synchronous interfaces on top of the HAL's devices.

pub mod blk;
pub mod iostats;
pub mod net;
pub mod nettest;
