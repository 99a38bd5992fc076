//! The layers below the crates: no two files of a crate import each other, even by a
//! detour, and the program's own modules import only those after them in `ROOT_ORDER`.
//! Cargo already refuses an import from a crate up the stack (docs/architecture.md).
//! An import is a path that starts with `crate::`, `super::` or `self::`; its file is
//! the longest prefix of it that names a module's file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The program's modules (`src/`), each importing only those after it.
const ROOT_ORDER: [&str; 4] = ["commands", "cli", "service", "demo"];

type Module = Vec<String>;

/// Every `.rs` file under `src`, by its module path (`a/b.rs` and `a/b/mod.rs` are
/// `[a, b]`; `lib.rs` and `main.rs` are `[]`).
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut found = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "bin") {
                    dirs.push(path);
                }
                continue;
            }
            if path.extension().is_some_and(|e| e == "rs") {
                found.insert(module_of(src, &path), path);
            }
        }
    }
    found
}

fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Module = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// The code of `file` without its unit tests (`#[cfg(test)] mod tests` at its end).
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// The module paths `text` imports, written from `here` (a file's module path; `dir`
/// when the file is a `mod.rs`, `lib.rs` or `main.rs`).
fn imports(text: &str, here: &Module, dir: bool) -> Vec<Module> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("::") {
        let start = text[..at]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let base = match &text[start..at] {
            "crate" => Vec::new(),
            "self" if dir => here.clone(),
            "self" | "super" if !dir => here[..here.len().saturating_sub(1)].to_vec(),
            "super" => here[..here.len().saturating_sub(1)].to_vec(),
            _ => continue,
        };
        if start > 0 && text[..start].ends_with("::") {
            continue; // `super::super::x` is read from its first `super`.
        }
        let mut base = base;
        let mut rest = &text[at + 2..];
        while let Some(r) = rest.strip_prefix("super::") {
            base.pop();
            rest = r;
        }
        expand(rest, &base, &mut found);
    }
    found
}

/// Adds every path `tail` names after `base`: `a::b`, or `{a, b::c, d::{e}}`.
fn expand(tail: &str, base: &Module, found: &mut Vec<Module>) {
    if let Some(group) = tail.strip_prefix('{') {
        let mut depth = 0;
        let mut item = String::new();
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(item.trim(), base, found);
                    item.clear();
                    continue;
                }
                _ => {}
            }
            item.push(c);
        }
        expand(item.trim(), base, found);
        return;
    }
    let mut path = base.clone();
    let mut rest = tail;
    loop {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        path.push(rest[..end].to_string());
        rest = &rest[end..];
        match rest.strip_prefix("::") {
            Some(r) if r.starts_with('{') => return expand(r, &path, found),
            Some(r) => rest = r,
            None => break,
        }
    }
    found.push(path);
}

/// Which file of `files` holds `path`: the longest prefix of it that is a module.
fn file_of<'a>(files: &'a BTreeMap<Module, PathBuf>, path: &Module) -> Option<&'a PathBuf> {
    (0..=path.len()).rev().find_map(|n| files.get(&path[..n]))
}

/// File → the files of the same crate it imports.
fn graph(src: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let files = modules(src);
    let mut edges = BTreeMap::new();
    for (module, file) in &files {
        let dir = matches!(file.file_stem().and_then(|s| s.to_str()), Some("mod" | "lib" | "main"));
        let to: BTreeSet<PathBuf> = imports(&code(file), module, dir)
            .iter()
            .filter_map(|p| file_of(&files, p))
            .filter(|t| *t != file)
            .cloned()
            .collect();
        edges.insert(file.clone(), to);
    }
    edges
}

/// A cycle of files, if there is one.
fn cycle(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Option<Vec<PathBuf>> {
    fn visit(
        at: &PathBuf,
        edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        trail: &mut Vec<PathBuf>,
        done: &mut BTreeSet<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        if let Some(i) = trail.iter().position(|p| p == at) {
            let mut loop_ = trail[i..].to_vec();
            loop_.push(at.clone());
            return Some(loop_);
        }
        if !done.insert(at.clone()) {
            return None;
        }
        trail.push(at.clone());
        for next in edges.get(at).into_iter().flatten() {
            if let Some(c) = visit(next, edges, trail, done) {
                return Some(c);
            }
        }
        trail.pop();
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|start| visit(start, edges, &mut Vec::new(), &mut done))
}

fn sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = vec![root.join("src")];
    for entry in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
        all.push(entry.path().join("src"));
    }
    all.sort();
    all
}

#[test]
#[cfg_attr(windows, ignore = "reads the source tree: the native build checks it")]
fn no_file_imports_one_that_imports_it_back() {
    for src in sources() {
        if let Some(c) = cycle(&graph(&src)) {
            let names: Vec<String> = c
                .iter()
                .map(|p| p.strip_prefix(&src).unwrap().display().to_string())
                .collect();
            panic!("{}: files import each other: {}", src.display(), names.join(" -> "));
        }
    }
}

#[test]
#[cfg_attr(windows, ignore = "reads the source tree: the native build checks it")]
fn the_programs_modules_import_only_those_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = modules(&src);
    let rank = |m: &Module| m.first().and_then(|top| ROOT_ORDER.iter().position(|r| r == top));
    for (module, file) in &files {
        let Some(mine) = rank(module) else { continue };
        let dir = file.file_stem().is_some_and(|s| s == "mod");
        for path in imports(&code(file), module, dir) {
            if let Some(theirs) = rank(&path) {
                assert!(
                    theirs >= mine,
                    "{} imports {} from {:?}, above it (order: {ROOT_ORDER:?})",
                    file.display(),
                    path.join("::"),
                    ROOT_ORDER[theirs]
                );
            }
        }
    }
}

#[test]
fn an_import_is_read_with_its_groups_and_supers() {
    let here: Module = vec!["a".into(), "b".into()];
    let got = imports(
        "use super::{c, d::{e, f}};\nuse crate::g::h;\nx = self::i::j;",
        &here,
        false,
    );
    let want: Vec<Module> = [
        &["a", "c"][..],
        &["a", "d", "e"],
        &["a", "d", "f"],
        &["g", "h"],
        &["a", "i", "j"],
    ]
    .iter()
    .map(|p| p.iter().map(|s| s.to_string()).collect())
    .collect();
    assert_eq!(got, want);
    let mut edges = BTreeMap::new();
    edges.insert(PathBuf::from("x"), BTreeSet::from([PathBuf::from("y")]));
    edges.insert(PathBuf::from("y"), BTreeSet::from([PathBuf::from("x")]));
    assert!(cycle(&edges).is_some(), "x -> y -> x is a cycle");
}
