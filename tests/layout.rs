//! The code's shape, held by a test (ARCHITECTURE.md says why each rule is
//! there): no cycle between top-level modules, `src/media/` a leaf, every
//! ffmpeg / ffprobe spawn in `src/media/`, and no function over 150 lines.
//!
//! A module A depends on B when a non-test line under `src/A` names
//! `crate::B`. Test code (a `tests.rs` file, or a file from its
//! `#[cfg(test)]` onward) may reach anywhere and is not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap() {
            rust_files(&e.unwrap().path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs")
        && path.file_name().is_some_and(|n| n != "tests.rs")
    {
        out.push(path.to_path_buf());
    }
}

/// The non-test text of a file.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("#[cfg(test)]") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// Top-level module name → its files.
fn modules() -> BTreeMap<String, Vec<PathBuf>> {
    let mut mods = BTreeMap::new();
    for e in std::fs::read_dir(src()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        if name == "main" || name == "lib" {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&p, &mut files);
        mods.insert(name, files);
    }
    mods
}

/// Module → (module it names → a line that names it, for the message).
fn graph() -> BTreeMap<String, BTreeMap<String, String>> {
    let mods = modules();
    let mut g = BTreeMap::new();
    for (name, files) in &mods {
        let mut deps = BTreeMap::new();
        for f in files {
            for (i, line) in code(f).lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                for part in line.split("crate::").skip(1) {
                    let dep: String = part
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if dep != *name && mods.contains_key(&dep) {
                        deps.entry(dep)
                            .or_insert_with(|| format!("{}:{}", f.display(), i + 1));
                    }
                }
            }
        }
        g.insert(name.clone(), deps);
    }
    g
}

/// Every module reachable from `from`.
fn reachable(g: &BTreeMap<String, BTreeMap<String, String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(m) = todo.pop() {
        for d in g[&m].keys() {
            if seen.insert(d.clone()) {
                todo.push(d.clone());
            }
        }
    }
    seen
}

#[test]
fn no_cycle_between_top_level_modules() {
    let g = graph();
    let mut cycles = Vec::new();
    for (a, deps) in &g {
        for (b, at) in deps {
            if reachable(&g, b).contains(a) {
                cycles.push(format!("{a} -> {b} ({at}) and {b} reaches {a}"));
            }
        }
    }
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

#[test]
fn media_and_the_leaves_import_nothing_above_them() {
    let g = graph();
    for leaf in ["media", "net", "ui", "vibes", "workdir"] {
        assert!(
            g[leaf].is_empty(),
            "src/{leaf} is a leaf but names {:?}",
            g[leaf]
        );
    }
}

#[test]
fn ffmpeg_and_ffprobe_are_spawned_only_in_media() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let media = src().join("media");
    let mut outside = Vec::new();
    for f in files.iter().filter(|f| !f.starts_with(&media)) {
        for (i, line) in code(f).lines().enumerate() {
            if line.contains("Command::new(\"ffmpeg\"") || line.contains("Command::new(\"ffprobe\"")
            {
                outside.push(format!("{}:{}", f.display(), i + 1));
            }
        }
    }
    assert!(outside.is_empty(), "ffmpeg spawned outside src/media: {outside:?}");
    let runner = std::fs::read_to_string(media.join("process.rs")).unwrap();
    assert!(runner.contains("Command::new"), "src/media/process.rs spawns the tools");
}

/// The length of each `fn` in non-test code, counted as
/// scripts/fn_lengths.py counts it: non-blank, non-comment lines from the
/// signature to the closing brace at the same indentation.
fn long_functions(limit: usize) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut long = Vec::new();
    for f in &files {
        let text = code(f);
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let t = lines[i].trim_start();
            let indent = lines[i].len() - t.len();
            let is_fn = t.starts_with("fn ")
                || t.starts_with("pub fn ")
                || t.starts_with("pub(crate) fn ")
                || t.starts_with("pub(super) fn ");
            if !is_fn || t.ends_with(';') {
                i += 1;
                continue;
            }
            let close = " ".repeat(indent) + "}";
            let mut j = i;
            let mut n = 0;
            while j < lines.len() {
                let l = lines[j].trim();
                if !l.is_empty() && !l.starts_with("//") {
                    n += 1;
                }
                if lines[j].trim_end() == close || (j == i && t.trim_end().ends_with('}')) {
                    break;
                }
                j += 1;
            }
            if n > limit {
                long.push(format!("{}:{} ({n} lines)", f.display(), i + 1));
            }
            i += 1;
        }
    }
    long
}

#[test]
fn no_function_over_150_lines() {
    let long = long_functions(150);
    assert!(long.is_empty(), "functions over 150 lines: {long:?}");
    // The counter sees functions at all: the longest ones are near 100.
    assert!(!long_functions(60).is_empty(), "the counter found no function over 60 lines");
}
