//! Link flags for the binaries. Relative relocations are packed (DT_RELR, binutils ≥ 2.38 and
//! glibc ≥ 2.36: Debian 12): the loader reads a few KiB of them instead of ~320 KiB of RELA
//! entries, which every round mapped at start and counted in its peak memory (bench/README.md).
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let linux_gnu = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if linux_gnu {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
