//! The layers of `api/src` (docs/architecture.md) hold on every run: `infra/` builds on
//! `error`, `config` and `values` only, and those (with `validate`, the text rules values use)
//! on each other only; nothing below the entry points reaches up into `http/` or `graphql/`;
//! `graphql/` never reaches into `http/`.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The entry points: they wire everything together and may import any room.
const ENTRY: &[&str] = &["lib", "main", "startup", "state", "http", "graphql"];
/// What everything builds on, and what builds on nothing else.
const FOUNDATION: &[&str] = &["error", "config", "values", "validate"];
/// What talks to the outside builds on these alone.
const UNDER_INFRA: &[&str] = &["error", "config", "values"];

#[test]
fn no_import_runs_up_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let imports = imports_by_file(&src);
    assert!(imports.len() > 100, "api/src was not read: {src:?}");
    let mut up = Vec::new();
    for (file, rooms) in &imports {
        let room = room_of(file);
        let allowed = |to: &str| match room {
            "infra" => UNDER_INFRA.contains(&to),
            r if FOUNDATION.contains(&r) => FOUNDATION.contains(&to),
            "graphql" => to != "http",
            r if ENTRY.contains(&r) => true,
            _ => to != "http" && to != "graphql",
        };
        up.extend(
            rooms
                .iter()
                .filter(|to| !allowed(to))
                .map(|to| format!("{file} → {to}")),
        );
    }
    assert!(
        up.is_empty(),
        "imports that run up the layers:\n{}",
        up.join("\n")
    );
}

#[test]
fn a_use_tree_names_each_room_it_reaches() {
    let source = "use crate::{\n    error::{AppError, AppResult},\n    infra::db::{self, begin_write},\n    values::Phone,\n};\nfn f() { crate::graphql::sdl(); }\n// crate::http is only mentioned here\n";
    assert_eq!(
        rooms_named(source),
        BTreeSet::from(["error", "graphql", "infra", "values"].map(String::from))
    );
}

/// The room a file is in: its folder under `src/`, or its own name for a file at the top.
fn room_of(file: &str) -> &str {
    let first = file.split('/').next().unwrap_or(file);
    first.strip_suffix(".rs").unwrap_or(first)
}

fn imports_by_file(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut found = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read api/src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let file = path
                    .strip_prefix(src)
                    .expect("under src")
                    .to_string_lossy()
                    .into_owned();
                let source = std::fs::read_to_string(&path).expect("read source");
                let mut rooms = rooms_named(&source);
                rooms.remove(room_of(&file));
                found.insert(file, rooms);
            }
        }
    }
    found
}

/// The top-level modules that `crate::` paths in `source` name, comments left out.
fn rooms_named(source: &str) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rooms = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            rooms.extend(top_level_names(group));
        } else {
            rooms.extend(leading_ident(rest));
        }
    }
    rooms
}

/// The first name of each comma-separated entry of a `{…}` group, up to its closing brace.
fn top_level_names(group: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0;
    let mut entry_start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => entry_start = true,
            c if entry_start && (c.is_alphabetic() || c == '_') => {
                names.extend(leading_ident(&group[i..]));
                entry_start = false;
            }
            _ => {}
        }
    }
    names
}

fn leading_ident(text: &str) -> Option<String> {
    let ident: String = text
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!ident.is_empty() && ident != "self").then_some(ident)
}
