//! The version this build says it is: a release's own (`CCTV_MIRROR_RELEASE_VERSION`
//! at build time), else Cargo.toml's. The root package's build script reads the same
//! variable for the Windows version resource and `--version`'s long line.

pub const VERSION: &str = match option_env!("CCTV_MIRROR_RELEASE_VERSION") {
    Some(v) if !v.is_empty() => v,
    _ => env!("CARGO_PKG_VERSION"),
};
