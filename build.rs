//! What the build adds to the program:
//!
//! - the version (`CCTV_MIRROR_VERSION`, Cargo.toml's unless a release names another)
//!   and the line of `cctv-mirror --version` (`CCTV_MIRROR_LONG_VERSION`):
//!   `0.1.0 (abc1234, x86_64-pc-windows-gnu)`, the commit read with git (`unknown`
//!   outside a git checkout);
//! - Windows builds only: a message table (event ids 1, 2, 3 = information, warning,
//!   error; each message is just "%1") so Event Viewer shows cctv-mirror's Event Log
//!   entries as their own text, and a version resource per binary (file and product
//!   version, product name, description, company, copyright) that Explorer, Event
//!   Viewer and the installer show. Compiled with MinGW's windres; where none is found
//!   the build goes on without them, with a warning.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The publisher, as the version resource and the installer name it.
const COMPANY: &str = "cctv-mirror developers";
/// The binaries, each with its own version resource.
const BINARIES: [(&str, &str); 2] = [
    ("cctv-mirror", "cctv-mirror: CCTV recordings backup"),
    (
        "cctv-mirrorw",
        "cctv-mirror: CCTV recordings backup (no console window)",
    ),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=WINDRES");
    let commit = commit();
    let version = version();
    let target = std::env::var("TARGET").expect("TARGET");
    println!("cargo:rustc-env=CCTV_MIRROR_VERSION={version}");
    println!("cargo:rustc-env=CCTV_MIRROR_LONG_VERSION={version} ({commit}, {target})");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let windres = windres();
    // The message table goes into every Windows binary, the unit tests' too.
    let rc = message_table_rc(&out);
    if let Some(obj) = compile(&windres, &rc) {
        println!("cargo:rustc-link-arg={}", obj.display());
    } else {
        println!("cargo:warning={windres} not found or failed: Event Viewer will not show cctv-mirror's messages as its own text");
    }
    for (bin, description) in BINARIES {
        let rc = out.join(format!("version-{bin}.rc"));
        std::fs::write(&rc, version_rc(bin, description, &version, &commit)).expect("write the version .rc");
        match compile(&windres, &rc) {
            Some(obj) => println!("cargo:rustc-link-arg-bin={bin}={}", obj.display()),
            None => println!("cargo:warning={windres} failed: {bin}.exe carries no version resource"),
        }
    }
}

/// The version the program says it is: Cargo.toml's, unless `CCTV_MIRROR_RELEASE_VERSION`
/// (what `VERSION=x.y.z scripts/release.sh` sets) names another.
fn version() -> String {
    println!("cargo:rerun-if-env-changed=CCTV_MIRROR_RELEASE_VERSION");
    std::env::var("CCTV_MIRROR_RELEASE_VERSION")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| std::env::var("CARGO_PKG_VERSION").expect("CARGO_PKG_VERSION"))
}

/// The commit this is built from (7 hex digits), or `unknown`; cargo reruns this script
/// when HEAD moves (a commit, a checkout).
fn commit() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let Some(hash) = git(&["rev-parse", "--short=7", "HEAD"]) else {
        return "unknown".into();
    };
    // HEAD names the branch; the branch's file (or packed-refs) changes at each commit.
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &name]) {
            if Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    hash
}

/// MinGW's resource compiler for the target (`WINDRES` overrides it).
fn windres() -> String {
    std::env::var("WINDRES").unwrap_or_else(|_| {
        let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
        if cfg!(windows) {
            "windres".into()
        } else {
            format!("{arch}-w64-mingw32-windres")
        }
    })
}

/// Compiles `rc` to a COFF object beside it; None when windres is missing or fails.
fn compile(windres: &str, rc: &Path) -> Option<PathBuf> {
    let obj = rc.with_extension("o");
    let ok = Command::new(windres)
        .arg(rc)
        .args(["-O", "coff", "-o"])
        .arg(&obj)
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(obj)
}

/// Writes the message table and the .rc that holds it; returns the .rc.
fn message_table_rc(out: &Path) -> PathBuf {
    let bin = out.join("messages.bin");
    std::fs::write(&bin, message_table(&[1, 2, 3], "%1\r\n")).expect("write the message table");
    let rc = out.join("messages.rc");
    let bin_for_rc = bin.display().to_string().replace('\\', "/");
    // 11 = RT_MESSAGETABLE; language neutral, so every Windows language finds it.
    std::fs::write(&rc, format!("LANGUAGE 0, 0\n1 11 \"{bin_for_rc}\"\n")).expect("write the .rc");
    rc
}

/// A MESSAGE_RESOURCE_DATA with one block for `ids`, each the same UTF-16 `text`.
fn message_table(ids: &[u32], text: &str) -> Vec<u8> {
    let mut utf16: Vec<u8> = text.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect();
    while !utf16.len().is_multiple_of(4) {
        utf16.push(0);
    }
    let entry_len = 4 + utf16.len();
    let mut out = Vec::new();
    out.extend(1u32.to_le_bytes()); // NumberOfBlocks
    out.extend(ids[0].to_le_bytes()); // LowId
    out.extend(ids[ids.len() - 1].to_le_bytes()); // HighId
    out.extend(16u32.to_le_bytes()); // OffsetToEntries
    for _ in ids {
        out.extend((entry_len as u16).to_le_bytes());
        out.extend(1u16.to_le_bytes()); // MESSAGE_RESOURCE_UNICODE
        out.extend(&utf16);
    }
    out
}

/// The VERSIONINFO resource of one binary (US English, Unicode strings).
fn version_rc(bin: &str, description: &str, version: &str, commit: &str) -> String {
    // Four numbers: x.y.z of the version (a pre-release suffix dropped), then 0.
    let mut parts = version.split(['.', '-', '+']).map(|p| p.parse::<u16>().unwrap_or(0));
    let numeric = [0; 3].map(|_| parts.next().unwrap_or(0).to_string()).join(",");
    format!(
        r#"1 VERSIONINFO
FILEVERSION {numeric},0
PRODUCTVERSION {numeric},0
FILEFLAGSMASK 0x3f
FILEFLAGS 0x0
FILEOS 0x40004
FILETYPE 0x1
FILESUBTYPE 0x0
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904B0"
    BEGIN
      VALUE "CompanyName", "{COMPANY}"
      VALUE "FileDescription", "{description}"
      VALUE "FileVersion", "{version}"
      VALUE "InternalName", "{bin}"
      VALUE "LegalCopyright", "Copyright (c) the {COMPANY}; MIT OR Apache-2.0"
      VALUE "OriginalFilename", "{bin}.exe"
      VALUE "ProductName", "cctv-mirror"
      VALUE "ProductVersion", "{version} ({commit})"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
"#
    )
}
