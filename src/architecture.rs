//! The shape of the tree, checked (test builds only): the platform (the
//! `worker` crate) is named only behind its one door, `edge/`, and where
//! routes and the entry point wire it up; `core` imports nothing from the
//! rest of the gateway; settings import only what stands below them; the
//! flows (`services/`) import no route and no platform code; no route
//! handler imports another; and no two files import each other, however
//! indirectly. Read from the sources as text, so a new import that breaks the
//! shape fails `cargo test` at once. The README's code map says the same in
//! words.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, as a path relative to it ("core/query.rs").
fn sources() -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path.strip_prefix(root).expect("under src/").to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

fn text(file: &str) -> String {
    fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src").join(file)).expect("readable")
}

/// The code of a file without its test modules and comments: what the
/// gateway itself is built from.
fn shipped_code(source: &str) -> String {
    // Test modules are inline blocks at the end of a file: cut at the first
    // `#[cfg(test)]` that opens one (not at a `#[cfg(test)] mod x;` line).
    let cut = source
        .match_indices("#[cfg(test)]")
        .map(|(at, _)| at)
        .find(|&at| {
            source[at..].lines().nth(1).is_some_and(|next| next.contains("mod ") && next.trim_end().ends_with('{'))
        })
        .unwrap_or(source.len());
    source[..cut].lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// The module path (["core", "query"]) of a file ("core/query.rs", "core/mod.rs").
fn module_of(file: &str) -> Vec<String> {
    let trimmed = file.trim_end_matches(".rs");
    let mut parts: Vec<String> = trimmed.split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The file a module path names, taking the longest prefix that is a file.
fn file_of(path: &[String], files: &BTreeSet<String>) -> Option<String> {
    (1..=path.len()).rev().find_map(|n| {
        let stem = path[..n].join("/");
        [format!("{stem}.rs"), format!("{stem}/mod.rs")].into_iter().find(|f| files.contains(f))
    })
}

/// The files `file` imports from the crate: `crate::a::b` and `super::x` paths.
fn imports(file: &str, files: &BTreeSet<String>) -> BTreeSet<String> {
    let code = shipped_code(&text(file));
    let module = module_of(file);
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::").chain(code.match_indices("super::")) {
        let rest = &code[at..];
        let path: Vec<String> = rest
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .next()
            .unwrap_or("")
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let absolute: Vec<String> = match path.first().map(String::as_str) {
            Some("crate") => path[1..].to_vec(),
            Some("super") => {
                // `super` of a mod.rs is its parent directory's module.
                let depth = path.iter().take_while(|s| *s == "super").count();
                let base = &module[..module.len().saturating_sub(depth)];
                base.iter().cloned().chain(path[depth..].iter().cloned()).collect()
            }
            _ => continue,
        };
        if let Some(target) = file_of(&absolute, files).filter(|t| t != file) {
            found.insert(target);
        }
    }
    // A `use crate::a::{b, c}` group names several modules under one prefix.
    for group in code.split("use crate::").skip(1) {
        let statement = group.split(';').next().unwrap_or("");
        if let (Some(open), Some(close)) = (statement.find('{'), statement.rfind('}')) {
            let prefix: Vec<String> =
                statement[..open].split("::").filter(|s| !s.trim().is_empty()).map(|s| s.trim().to_owned()).collect();
            for item in statement[open + 1..close].split(',') {
                let head = item.trim().split("::").next().unwrap_or("").trim().to_owned();
                let full: Vec<String> = prefix.iter().cloned().chain([head]).collect();
                if let Some(target) = file_of(&full, files).filter(|t| t != file) {
                    found.insert(target);
                }
            }
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let files: BTreeSet<String> = sources().into_iter().collect();
    files.iter().map(|f| (f.clone(), imports(f, &files))).collect()
}

#[test]
fn only_edge_routes_and_the_entry_point_name_the_platform() {
    // This checker names what it looks for; it is compiled into tests only.
    let allowed = |file: &str| {
        file.starts_with("edge/") || file.starts_with("routes/") || file == "lib.rs" || file == "architecture.rs"
    };
    for file in sources().iter().filter(|f| !allowed(f)) {
        let code = shipped_code(&text(file));
        let names_worker = code.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|word| word == "worker");
        assert!(!names_worker, "{file} names the worker crate: platform code belongs in src/edge/");
    }
    // The check sees what it looks for.
    assert!(shipped_code(&text("edge/fetch.rs")).contains("use worker::"));
}

#[test]
fn the_core_imports_nothing_above_it() {
    for (file, targets) in graph().iter().filter(|(f, _)| f.starts_with("core/")) {
        let above: Vec<&String> = targets.iter().filter(|t| !t.starts_with("core/")).collect();
        assert!(above.is_empty(), "{file} imports {above:?}: core must stand on its own");
    }
}

#[test]
fn settings_stand_below_the_flows_and_their_parts_skip_the_facade() {
    // Settings are read by auth, services and routes, so they import none of
    // them: only the core, the error type and the models Upscope is asked with.
    let below =
        |t: &str| t.starts_with("core/") || t.starts_with("settings/") || t == "error.rs" || t == "upscope/models.rs";
    let graph = graph();
    let settings: Vec<_> = graph.iter().filter(|(f, _)| f.starts_with("settings/")).collect();
    assert!(settings.len() > 5, "settings/ is split by concern: {settings:?}");
    for (file, targets) in settings {
        let above: Vec<&String> = targets.iter().filter(|t| !below(t)).collect();
        assert!(above.is_empty(), "{file} imports {above:?}: settings must not depend on what reads them");
        // mod.rs only re-exports its parts (paths this checker cannot see), so a
        // part importing it would hide a circle.
        assert!(!targets.contains("settings/mod.rs"), "{file} imports settings/mod.rs: import the part itself");
    }
}

#[test]
fn the_flows_import_no_route_and_no_platform_code() {
    // Written against traits (`Transport`, `ShortIdCache`) so they run natively.
    let graph = graph();
    let services: Vec<_> = graph.iter().filter(|(f, _)| f.starts_with("services/")).collect();
    assert!(services.len() >= 4, "{services:?}");
    for (file, targets) in services {
        let above: Vec<&String> =
            targets.iter().filter(|t| t.starts_with("routes/") || t.starts_with("edge/") || *t == "lib.rs").collect();
        assert!(above.is_empty(), "{file} imports {above:?}: flows are wired by routes, not the other way round");
    }
}

#[test]
fn no_route_handler_imports_another() {
    // A handler is a file under routes/ with a `handle` of its own, other than
    // the router (mod.rs). What two routes share is a flow (services/) or the
    // request's context (routes/runtime.rs), never one handler's code.
    let graph = graph();
    let handlers: BTreeSet<&String> = graph
        .keys()
        .filter(|f| f.starts_with("routes/") && *f != "routes/mod.rs")
        .filter(|f| shipped_code(&text(f)).contains("fn handle("))
        .collect();
    for route in ["routes/agent.rs", "routes/view.rs", "routes/visitor.rs", "routes/ready.rs"] {
        assert!(handlers.contains(&route.to_owned()), "{route} is a handler: {handlers:?}");
    }
    assert!(!handlers.contains(&"routes/runtime.rs".to_owned()));
    for handler in &handlers {
        let others: Vec<&String> = graph[*handler].iter().filter(|t| handlers.contains(t)).collect();
        assert!(others.is_empty(), "{handler} imports the route {others:?}: move what they share to services/");
    }
}

#[test]
fn no_file_imports_itself_through_others() {
    let graph = graph();
    // Depth-first search for a path back to the start, from every file.
    for start in graph.keys() {
        let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((file, trail)) = stack.pop() {
            for next in graph.get(&file).into_iter().flatten() {
                if next == start {
                    panic!("import circle: {} -> {start}", trail.join(" -> "));
                }
                if seen.insert(next.clone()) {
                    stack.push((next.clone(), trail.iter().cloned().chain([next.clone()]).collect()));
                }
            }
        }
    }
}

#[test]
fn the_checker_sees_imports() {
    let graph = graph();
    let choose = &graph["core/choose.rs"];
    assert!(choose.contains("core/ids.rs") && choose.contains("core/visitor.rs"), "{choose:?}");
    assert!(graph["routes/agent.rs"].contains("routes/mod.rs"), "super:: is followed");
    let watch = &graph["settings/watch.rs"];
    assert!(watch.contains("settings/links.rs") && watch.contains("settings/source.rs"), "{watch:?}");
    assert!(graph["error.rs"].contains("upscope/error.rs") || graph["error.rs"].contains("upscope/mod.rs"));
}
