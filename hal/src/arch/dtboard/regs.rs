//! What the two ports' ptrace register views share: neither has a PEEKUSER area (Linux
//! refuses PEEKUSER and POKEUSER with EIO on riscv64 and arm64), and a whole register set is
//! written one word at a time through the port's own `set_user_reg`.

/// A register value the CPU would refuse, or an offset with no register (EIO).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadRegister;

/// No `struct user` for PEEKUSER.
pub const USER_AREA_SIZE: usize = 0;

/// The shared methods, expanded inside a port's `impl UserContext` (which has `user_regs`,
/// `set_user_reg` and `REGS_WORDS` of its own).
macro_rules! no_user_area {
    () => {
        /// Replaces every register with `regs`.
        pub fn set_user_regs(
            &mut self,
            regs: &[u64; REGS_WORDS],
            orig: &mut u64,
        ) -> Result<(), BadRegister> {
            for (i, v) in regs.iter().enumerate() {
                self.set_user_reg(i, *v, orig)?;
            }
            Ok(())
        }

        /// PEEKUSER: none (EIO).
        pub fn peek_user(
            &self,
            _offset: usize,
            _orig: u64,
            _dbg: &super::debugreg::DebugRegs,
        ) -> Option<u64> {
            None
        }

        /// POKEUSER: none (EIO).
        pub fn poke_user(
            &mut self,
            _offset: usize,
            _v: u64,
            _orig: &mut u64,
            _dbg: &mut super::debugreg::DebugRegs,
        ) -> Result<(), BadRegister> {
            Err(BadRegister)
        }
    };
}
pub(crate) use no_user_area;
