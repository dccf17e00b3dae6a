//! Tells the code which compiler features it may use: the AVX-512 BF16
//! intrinsics of the embedding's bf16 kernel are stable from Rust 1.89,
//! while CineCut builds on 1.85 (Debian's `rustc-web` / `rustc`). On an
//! older compiler the kernel is left out and the f32 path serves every CPU;
//! the CPU itself is still chosen at run time, never here.

use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(cinecut_avx512bf16)");
    println!("cargo::rerun-if-env-changed=RUSTC");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let minor = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| {
            v.split(' ')
                .nth(1)
                .and_then(|n| n.split('.').nth(1).map(String::from))
        })
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0);
    if minor >= 89 {
        println!("cargo::rustc-cfg=cinecut_avx512bf16");
    }
}
