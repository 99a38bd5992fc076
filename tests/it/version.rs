//! `--version`: the version, the commit it was built from and the target.

use crate::common::*;

tests![
    version_names_the_version_the_commit_and_the_target,
];

fn version_names_the_version_the_commit_and_the_target() {
    let out = program().arg("--version").output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let rest = line
        .strip_prefix(&format!("cctv-mirror {} (", env!("CCTV_MIRROR_VERSION")))
        .unwrap_or_else(|| panic!("{line}"));
    let (commit, target) = rest.trim_end_matches(')').split_once(", ").expect(&line);
    assert!(
        commit == "unknown" || (commit.len() == 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{line}"
    );
    let os = if windows_build() { "-windows-" } else { "-linux-" };
    assert!(target.contains(os), "{line}");
}
