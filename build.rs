//! Windows builds only: embeds a message table (event ids 1, 2, 3 = information,
//! warning, error; each message is just "%1") so Event Viewer shows cctv-mirror's
//! Event Log entries as their own text. Compiled with MinGW's windres; where none is
//! found the build goes on and Event Viewer prefixes the text with a note that the
//! description is missing.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=WINDRES");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let bin = out.join("messages.bin");
    std::fs::write(&bin, message_table(&[1, 2, 3], "%1\r\n")).expect("write the message table");
    let rc = out.join("messages.rc");
    let bin_for_rc = bin.display().to_string().replace('\\', "/");
    // 11 = RT_MESSAGETABLE; language neutral, so every Windows language finds it.
    std::fs::write(&rc, format!("LANGUAGE 0, 0\n1 11 \"{bin_for_rc}\"\n")).expect("write the .rc");
    let obj = out.join("messages.o");
    let windres = std::env::var("WINDRES").unwrap_or_else(|_| {
        let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
        if cfg!(windows) {
            "windres".into()
        } else {
            format!("{arch}-w64-mingw32-windres")
        }
    });
    let ok = Command::new(&windres)
        .arg(&rc)
        .args(["-O", "coff", "-o"])
        .arg(&obj)
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        println!("cargo:rustc-link-arg={}", obj.display());
    } else {
        println!("cargo:warning={windres} not found or failed: Event Viewer will not show cctv-mirror's messages as its own text");
    }
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
