//! Rules of ARCHITECTURE.md, checked on the source. Layers: `http` → `services` (and `jobs`
//! beside them) → `store` → `domain`, with `providers` at the edge; a lower layer that names a
//! higher one fails here with the file, the line and the rule it breaks. Writes: every write
//! goes through `Db::begin_write` (on SQLite it takes the writer's turn), never through the pool.

use std::path::{Path, PathBuf};

/// A folder (or file) of the workspace, and the names its code must not mention.
struct Rule {
    layer: &'static str,
    forbidden: &'static [&'static str],
    why: &'static str,
}

const HTTP: &[&str] = &["crate::http", "axum", "tower_http", "askama"];

const RULES: &[Rule] = &[
    Rule {
        layer: "crates/hub/src/services",
        forbidden: &[
            "crate::http",
            "axum",
            "tower_http",
            "askama",
            "crate::jobs",
            "crate::demo",
        ],
        why: "services are called by http and jobs; they never call up into them",
    },
    Rule {
        layer: "crates/hub/src/jobs",
        forbidden: &["crate::http", "axum", "tower_http", "askama", "crate::demo"],
        why: "jobs run beside services, without a request",
    },
    Rule {
        layer: "crates/hub/src/providers",
        forbidden: &[
            "crate::http",
            "axum",
            "tower_http",
            "askama",
            "crate::services",
            "crate::jobs",
            "crate::state",
        ],
        why: "providers are the edges: they know the outside world, not the application",
    },
    Rule {
        layer: "crates/hub/src/state",
        forbidden: &["crate::http", "axum", "crate::services", "crate::jobs"],
        why: "the shared state is built from providers and the store, below every use case",
    },
    Rule {
        layer: "crates/hub/src/wire.rs",
        forbidden: &["crate::http", "axum", "crate::services", "crate::jobs"],
        why: "the wire objects are shared by the API and the webhook events",
    },
    Rule {
        layer: "crates/hub/src/config.rs",
        forbidden: &["crate::cli", "crate::http", "axum", "crate::services"],
        why: "the CLI parses into the config, never the other way",
    },
    Rule {
        layer: "crates/store/src",
        forbidden: &["hub::", "axum", "tower_http", "askama", "reqwest"],
        why: "the store persists; it knows neither requests nor the application",
    },
    Rule {
        layer: "crates/domain/src",
        forbidden: &["sqlx", "store::", "hub::", "axum", "tokio", "reqwest"],
        why: "the domain is pure types and rules, without IO",
    },
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_path_buf()
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    for entry in std::fs::read_dir(path).expect("read layer folder") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every line of code (comments excluded) in `layer` that names something it must not.
fn violations(root: &Path, rule: &Rule) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&root.join(rule.layer), &mut files);
    assert!(!files.is_empty(), "{} has no Rust files", rule.layer);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for name in rule.forbidden {
                if mentions(code, name) {
                    found.push(format!(
                        "{}:{}: names `{name}` ({})",
                        file.strip_prefix(root).unwrap_or(&file).display(),
                        n + 1,
                        rule.why
                    ));
                }
            }
        }
    }
    found
}

/// `name` as a path or crate name, not inside a longer identifier (`axum` but not `maxum`).
fn mentions(code: &str, name: &str) -> bool {
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + name.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !ident(before) && (name.ends_with(':') || !ident(after))
    })
}

#[test]
fn layers_import_only_downwards() {
    let root = workspace();
    let found: Vec<String> = RULES.iter().flat_map(|r| violations(&root, r)).collect();
    assert!(
        found.is_empty(),
        "layer rules broken (see ARCHITECTURE.md):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_what_it_must_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let services = dir.path().join("crates/hub/src/services");
    std::fs::create_dir_all(&services).unwrap();
    std::fs::write(
        services.join("sneaky.rs"),
        "//! Mentions crate::http only in a comment.\nuse crate::http::extract::ClientMeta;\nfn f() -> axum::Json<()> { todo!() }\nlet maxum = 1;\n",
    )
    .unwrap();
    let found = violations(dir.path(), &RULES[0]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].contains("sneaky.rs:2: names `crate::http`"),
        "{found:#?}"
    );
    assert!(found[1].contains("sneaky.rs:3: names `axum`"), "{found:#?}");
    assert!(HTTP.iter().all(|name| RULES[0].forbidden.contains(name)));
}

/// The store's functions whose SQL writes (INSERT, UPDATE, DELETE), as `module::function`.
fn store_write_functions(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&root.join("crates/store/src"), &mut files);
    let mut found = Vec::new();
    for file in files {
        let module = file.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        let mut current: Option<String> = None;
        for line in text.lines() {
            let trimmed = line.trim_start();
            if let Some(rest) = trimmed
                .strip_prefix("pub async fn ")
                .or_else(|| trimmed.strip_prefix("pub(crate) async fn "))
            {
                current = rest.split(['(', '<']).next().map(str::to_owned);
            } else if trimmed.starts_with("fn ") || trimmed.starts_with("pub fn ") {
                current = None;
            }
            let writes = ["INSERT INTO", "UPDATE ", "DELETE FROM"]
                .iter()
                .any(|sql| line.contains(sql));
            if let (true, Some(name)) = (writes, &current) {
                let entry = format!("{module}::{name}");
                if !found.contains(&entry) {
                    found.push(entry);
                }
            }
        }
    }
    found
}

/// Calls of a store write function whose first argument is a pool, and statements executed on
/// the pool in the store: autocommit writes that would skip SQLite's writer turn.
fn writes_past_begin_write(root: &Path, writes: &[String]) -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["crates/hub/src", "crates/bench/src", "crates/store/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let shown = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        for write in writes {
            let call = format!("store::{write}(");
            for (at, _) in text.match_indices(&call) {
                let first_arg: String = text[at + call.len()..]
                    .chars()
                    .take_while(|c| *c != ',' && *c != ')')
                    .collect();
                if first_arg.contains("pool") {
                    let line = text[..at].lines().count();
                    found.push(format!("{shown}:{line}: store::{write} on the pool"));
                }
            }
        }
        // `db.rs` is where `begin_write` lives (and pings the pool, which writes nothing).
        if shown.starts_with("crates/store/src") && !shown.ends_with("db.rs") {
            for (n, line) in text.lines().enumerate() {
                if line.contains(".execute(db.pool())") || line.contains(".execute(&self.pool)") {
                    found.push(format!(
                        "{shown}:{}: a statement executed on the pool",
                        n + 1
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn every_write_goes_through_begin_write() {
    let root = workspace();
    let writes = store_write_functions(&root);
    assert!(
        writes.iter().any(|w| w == "partners::create") && writes.len() > 40,
        "the scan of the store's write functions found too few: {writes:?}"
    );
    assert!(!writes.iter().any(|w| w == "partners::get"), "{writes:?}");
    let found = writes_past_begin_write(&root, &writes);
    assert!(
        found.is_empty(),
        "writes outside Db::begin_write (SQLite's writer turn):\n{}",
        found.join("\n")
    );
}
