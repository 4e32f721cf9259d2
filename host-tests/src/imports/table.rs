//! The table of one import module's hostcalls: each call registered under its name and
//! counted by it before it runs ([`HostState::count`]).

use wasmtime::{Caller, FuncType, Linker, Val, ValType, WasmRet, WasmTy};

use crate::state::HostState;

/// The caller of a hostcall: the store's host state and the guest's exports.
pub(super) type C<'a> = Caller<'a, HostState>;
/// A hostcall's result; an error traps the guest.
pub(super) type Res<T> = wasmtime::Result<T>;

/// The table of one import module's hostcalls: registers each call under its name and counts
/// every call of it.
pub(super) struct Hostcalls<'a> {
    pub(super) linker: &'a mut Linker<HostState>,
    pub(super) module: &'static str,
}

impl Hostcalls<'_> {
    /// A call served by `call`, a function of the caller and the call's arguments.
    pub(super) fn add<Params, Results>(
        &mut self,
        name: &'static str,
        call: impl Hostcall<Params, Results>,
    ) -> Res<&mut Self> {
        call.define(self.linker, self.module, name)?;
        Ok(self)
    }

    /// A call that always gives the same answer, whatever its arguments (`params`).
    pub(super) fn answer(
        &mut self,
        name: &'static str,
        params: &[ValType],
        answer: i32,
    ) -> Res<&mut Self> {
        let ty = FuncType::new(self.linker.engine(), params.iter().cloned(), [ValType::I32]);
        self.linker.func_new(
            self.module,
            name,
            ty,
            move |mut caller: C<'_>, _params: &[Val], results: &mut [Val]| -> Res<()> {
                caller.data_mut().count(name);
                results[0] = Val::I32(answer);
                Ok(())
            },
        )?;
        Ok(self)
    }
}

/// A hostcall body: `Fn(&mut Caller, arguments…) -> result`, for up to ten arguments.
pub(super) trait Hostcall<Params, Results> {
    /// Registers the body as `module.name`, counting each call by `name` before it runs.
    fn define(self, linker: &mut Linker<HostState>, module: &str, name: &'static str) -> Res<()>;
}

macro_rules! counted_hostcall {
    ($($arg:ident: $ty:ident),*) => {
        impl<F, R, $($ty,)*> Hostcall<($($ty,)*), R> for F
        where
            F: Fn(&mut C<'_>, $($ty),*) -> R + Send + Sync + 'static,
            $($ty: WasmTy,)*
            R: WasmRet,
        {
            fn define(
                self,
                linker: &mut Linker<HostState>,
                module: &str,
                name: &'static str,
            ) -> Res<()> {
                linker.func_wrap(module, name, move |mut caller: C<'_>, $($arg: $ty),*| -> R {
                    caller.data_mut().count(name);
                    self(&mut caller, $($arg),*)
                })?;
                Ok(())
            }
        }
    };
}

counted_hostcall!();
counted_hostcall!(a: A);
counted_hostcall!(a: A, b: B);
counted_hostcall!(a: A, b: B, c: Cc);
counted_hostcall!(a: A, b: B, c: Cc, d: D);
counted_hostcall!(a: A, b: B, c: Cc, d: D, e: E);
counted_hostcall!(a: A, b: B, c: Cc, d: D, e: E, f: G);
counted_hostcall!(a: A, b: B, c: Cc, d: D, e: E, f: G, g: H);
counted_hostcall!(a: A, b: B, c: Cc, d: D, e: E, f: G, g: H, h: I);
counted_hostcall!(a: A, b: B, c: Cc, d: D, e: E, f: G, g: H, h: I, i: J);
counted_hostcall!(a: A, b: B, c: Cc, d: D, e: E, f: G, g: H, h: I, i: J, j: K);
