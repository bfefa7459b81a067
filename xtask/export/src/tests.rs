use std::path::{Path, PathBuf};
use std::process::Command;

use super::parse::*;
use super::*;
use xtask::catalogue::{self, Env};
use xtask::http_server::Server;

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

#[test]
fn options_parse_and_bad_ones_are_refused() {
    let o = Options::parse(&args("process_pool ../copy")).unwrap();
    assert_eq!(
        (o.name.as_deref(), o.dir),
        (Some("process_pool"), PathBuf::from("../copy"))
    );
    let o = Options::parse(&args("--all ../copies")).unwrap();
    assert_eq!((o.name, o.dir), (None, PathBuf::from("../copies")));
    for bad in [
        "",
        "process_pool",
        "a b c",
        "--all",
        "--all a b",
        "--force a b",
    ] {
        assert!(Options::parse(&args(bad)).is_err(), "`{bad}` was accepted");
    }
}

#[test]
fn dependency_lines_are_read_and_other_forms_refused() {
    let deps = parse_dependencies(&[
        "[dependencies]",
        "serde = \"1\"",
        "# a comment",
        "postcard = { version = \"1\", default-features = false, features = [\"use-std\"] }",
        "nix = { version = \"0.32\", features = [\"fs\", \"mman\"] }",
    ])
    .unwrap();
    assert_eq!(deps["serde"].line("serde"), "serde = \"1\"");
    assert_eq!(
        deps["postcard"],
        Dep {
            version: "1".into(),
            default_features: false,
            features: vec!["use-std".into()],
            target: None,
        }
    );
    assert_eq!(
        deps["nix"].line("nix"),
        "nix = { version = \"0.32\", features = [\"fs\", \"mman\"] }"
    );
    let windows = parse_dependencies(&[
        "[target.'cfg(windows)'.dependencies]",
        "windows-sys = { version = \"0.61\", features = [\"Win32_Foundation\"] }",
    ])
    .unwrap();
    assert_eq!(
        windows["windows-sys"].target.as_deref(),
        Some("cfg(windows)")
    );
    for bad in [
        &["serde = \"1\""][..],
        &["[dev-dependencies]", "serde = \"1\""],
        &["[dependencies]", "shared = { path = \"../shared\" }"],
        &["[dependencies]", "nix = { features = [\"fs\"] }"],
        &["[dependencies]", "nix = 1"],
        &["[dependencies]", "serde = \"1\"", "serde = \"1\""],
        &["[target.'cfg(windows)'.dev-dependencies]", "serde = \"1\""],
        &[
            "[dependencies]",
            "serde = \"1\"",
            "[target.'cfg(windows)'.dependencies]",
            "serde = \"1\"",
        ],
    ] {
        assert!(parse_dependencies(bad).is_err(), "{bad:?} was accepted");
    }
}

#[test]
fn merging_unites_features_and_refuses_two_versions() {
    let mut dep = Dep {
        version: "0.32".into(),
        default_features: false,
        features: vec!["fs".into()],
        target: None,
    };
    let other = Dep {
        version: "0.32".into(),
        default_features: true,
        features: vec!["mman".into(), "fs".into()],
        target: None,
    };
    dep.merge("nix", &other).unwrap();
    assert_eq!(
        (dep.default_features, dep.features),
        (true, vec!["fs".into(), "mman".into()])
    );
    let older = Dep {
        version: "0.31".into(),
        ..other
    };
    let mut dep = Dep {
        version: "0.32".into(),
        default_features: true,
        features: Vec::new(),
        target: None,
    };
    assert!(dep.merge("nix", &older).is_err());
}

const HEADER: &str = "\
//! `Thing`: a thing.
//!
//! # Copying it
//!
//! Copy `thing.rs` and `other.rs` into one folder of your crate (not `notes.txt`), and
//! add:
//!
//! ```toml
//! [dependencies]
//! nix = { version = \"0.32\", features = [\"mman\"] }
//! ```
//!
//! # How it works
//!
//! ```toml
//! [dependencies]
//! ignored = \"1\"
//! ```

use super::other::Other;
";

#[test]
fn a_header_gives_what_travels_and_the_crates() {
    let module = parse_module("thing", HEADER).unwrap();
    assert_eq!(module.travels, ["thing", "other"]);
    assert_eq!(module.reaches, ["other"]);
    assert_eq!(module.deps.keys().collect::<Vec<_>>(), ["nix"]);
    assert_eq!(
        module.toml,
        "[dependencies]\nnix = { version = \"0.32\", features = [\"mman\"] }\n"
    );
    let err = parse_module("third", HEADER).unwrap_err();
    assert!(
        format!("{err:#}").contains("`third.rs` included"),
        "{err:#}"
    );
    let no_section = HEADER.replace("# Copying it", "# Copy");
    assert!(parse_module("thing", &no_section).is_err());
    let no_block = HEADER.replacen("```toml", "```text", 1);
    assert!(parse_module("thing", &no_block).is_err());
}

#[test]
fn shared_paths_are_found_in_code_only() {
    let src = r#"
//! Uses [`shared::Pool`] in its docs only.
use shared::Process;
use shared::queue::{Queue, Sender};
use shared::{Array, shared_memory::{Value}, self};
fn f() { let s = "shared::ThreadPool"; let c = '"'; let t = shared::thread_pool::ThreadPool::new(1); }
/* shared::Hidden */ // shared::AlsoHidden
fn g<'a>(x: &'a str) -> &'a str { not_shared::Thing; x }
"#;
    let lex = |src: &str| lex(src).unwrap();
    assert_eq!(
        shared_paths(&lex(src)),
        ["Process", "queue", "Array", "shared_memory", "thread_pool"]
    );
    assert_eq!(shared_paths(&lex("use shared::*;")), ["*"]);
    // In a macro call too; not a path that only ends in `shared`.
    assert_eq!(
        shared_paths(&lex(
            "println!(\"{}\", shared::Value::new(1)); crate::shared::X;"
        )),
        ["Value"]
    );
    let code = lex("use anyhow::Context; #[tokio::main] // reqwest::Client\n");
    assert!(names_crate(&code, "anyhow") && names_crate(&code, "tokio"));
    assert!(!names_crate(&code, "reqwest"));
    assert!(names_crate(
        &lex("crossbeam_channel::unbounded()"),
        "crossbeam-channel"
    ));
    assert!(super::parse::lex("let s = \"unclosed;").is_err());
}

const LIB: &str = "\
//! docs: pub mod not_this;

pub mod thread_pool;

#[cfg(unix)]
pub mod pool; // a comment
#[cfg(unix)]
pub mod queue;
#[cfg(unix)]
pub use {pool::Pool, queue::{self, Queue as Q}};

// Elsewhere:
#[cfg(not(unix))]
pub mod no_fork;
#[cfg(not(unix))]
pub use no_fork::{
    Pool,
    queue,
};
pub use thread_pool::ThreadPool;
";

#[test]
fn lib_rs_items_are_read_with_their_cfgs_and_kept_in_part() {
    let items = lib_items(LIB).unwrap();
    let names: Vec<&str> = items
        .iter()
        .map(|item| match &item.kind {
            ItemKind::Mod { name, .. } => name.as_str(),
            ItemKind::Use { .. } => "use",
        })
        .collect();
    assert_eq!(
        names,
        [
            "thread_pool",
            "pool",
            "queue",
            "use",
            "no_fork",
            "use",
            "use"
        ]
    );
    let ItemKind::Use { leaves, .. } = &items[3].kind else {
        panic!("{:?}", items[3]);
    };
    let leaf = |module: &str, name: &str, text: &str| Leaf {
        module: module.into(),
        name: name.into(),
        text: text.into(),
    };
    assert_eq!(
        *leaves,
        [
            leaf("pool", "Pool", "pool::Pool"),
            leaf("queue", "queue", "queue"),
            leaf("queue", "Q", "queue::Queue as Q"),
        ]
    );
    let keep = |modules: &[&str]| -> String {
        let modules: Vec<String> = modules.iter().map(|m| m.to_string()).collect();
        items.iter().filter_map(|i| i.keep(&modules)).collect()
    };
    assert_eq!(
        keep(&["pool", "no_fork"]),
        "#[cfg(unix)]\npub mod pool; // a comment\n#[cfg(unix)]\npub use pool::Pool;\n\
         // Elsewhere:\n#[cfg(not(unix))]\npub mod no_fork;\n\
         #[cfg(not(unix))]\npub use no_fork::{\n    Pool,\n    queue,\n};\n"
    );
    assert!(keep(&["pool", "queue"]).contains("pub use {pool::Pool, queue::{self, Queue as Q}};"));
    let many = "pub use {aaaaaaaaaaaaaaaa::A, aaaaaaaaaaaaaaaa::B, aaaaaaaaaaaaaaaa::C, \
                aaaaaaaaaaaaaaaa::D, aaaaaaaaaaaaaaaa::E, b::F};";
    let long = lib_items(many).unwrap();
    assert_eq!(
        long[0].keep(&["aaaaaaaaaaaaaaaa".to_string()]).unwrap(),
        "pub use {\n    aaaaaaaaaaaaaaaa::A, aaaaaaaaaaaaaaaa::B, aaaaaaaaaaaaaaaa::C, aaaaaaaaaaaaaaaa::D,\n    \
         aaaaaaaaaaaaaaaa::E,\n};\n"
    );
    assert_eq!(
        keep(&["thread_pool"]),
        "pub mod thread_pool;\npub use thread_pool::ThreadPool;\n"
    );
    assert!(lib_items("pub mod a;\nfn helper() {}\n").is_err());
    assert!(lib_items("pub mod a\n").is_err());
}

#[test]
fn the_workspace_lints_become_the_packages() {
    let root = "[workspace]\nmembers = []\n\n[workspace.lints.rust]\nunused_must_use = \"deny\"\n\n\
                [workspace.lints.clippy]\ntodo = \"warn\"\n\n[profile.dev]\nopt-level = 1\n";
    assert_eq!(
        lint_tables(root).unwrap(),
        "[lints.rust]\nunused_must_use = \"deny\"\n\n[lints.clippy]\ntodo = \"warn\"\n"
    );
    assert_eq!(lint_tables("[workspace]\n").unwrap(), "");
    assert!(lint_tables("[workspace\n").is_err());
}

#[test]
fn every_copying_it_header_is_true_to_the_workspace() {
    let ws = Workspace::read().unwrap();
    assert!(
        !ws.modules.is_empty(),
        "no modules found in shared/src/lib.rs"
    );
    let problems = ws.header_problems();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every example can be planned: each `shared::` path leads to a module.
    assert_eq!(ws.plan_all().unwrap().len(), ws.examples.len());
}

#[test]
fn a_false_header_is_caught() {
    let mut ws = Workspace::read().unwrap();
    let pool = ws.modules.iter_mut().find(|m| m.name == "pool").unwrap();
    pool.travels.retain(|m| m != "frames");
    pool.deps.get_mut("nix").unwrap().version = "0.31".into();
    let problems = ws.header_problems().join("\n");
    assert!(
        problems.contains("pool.rs, \"Copying it\": `nix = { version = \"0.31\""),
        "{problems}"
    );
    assert!(
        problems.contains("pool.rs, \"Copying it\": the code uses `super::frames`"),
        "{problems}"
    );
    let queue = ws.modules.iter_mut().find(|m| m.name == "queue").unwrap();
    queue
        .deps
        .get_mut("nix")
        .unwrap()
        .features
        .retain(|f| f != "mman");
    let problems = ws.header_problems().join("\n");
    assert!(
        problems.contains(
            "queue.rs, \"Copying it\": `shared_memory.rs` needs `nix = { version = \"0.32\", \
             features = [\"fs\", \"mman\"] }`, which its ```toml block does not cover"
        ),
        "{problems}"
    );
}

#[test]
fn process_pool_is_planned_with_what_pool_needs() {
    let ws = Workspace::read().unwrap();
    let plan = ws.plan("process_pool").unwrap();
    // Pool's module, closed over what travels with each module; not the queue.
    assert!(
        plan.modules.contains(&"pool".to_string()),
        "{:?}",
        plan.modules
    );
    assert!(
        !plan.modules.contains(&"queue".to_string()),
        "{:?}",
        plan.modules
    );
    for module in &plan.modules {
        for other in &ws.module(module).unwrap().travels {
            assert!(plan.modules.contains(other), "{module} needs {other}");
        }
    }
    assert_eq!(plan.own_crates, ["anyhow"]);
    let manifest = ws.manifest(&plan);
    for line in [
        "name = \"process_pool\"",
        "[lib]\nname = \"shared\"\npath = \"src/lib.rs\"",
        "anyhow = \"1\"",
        "postcard = { version = \"1\", default-features = false, features = [\"use-std\"] }",
        "[lints.rust]",
    ] {
        assert!(manifest.contains(line), "no `{line}` in:\n{manifest}");
    }
    assert!(!manifest.contains("path = \"../"), "{manifest}");
    let lib = ws.lib_rs(&plan);
    assert!(lib.starts_with(LIB_DOC));
    assert!(
        lib.contains("pub mod pool;\n") && !lib.contains("pub mod queue;"),
        "{lib}"
    );
    let fetch = ws.plan("async_fetch").unwrap();
    assert!(!fetch.modules.contains(&"pool".to_string()));
    assert_eq!(fetch.own_crates, ["anyhow", "reqwest", "tokio"]);
}

/// The workspace's target folder.
fn target_dir() -> PathBuf {
    let meta = workspace::metadata().unwrap();
    PathBuf::from(meta["target_directory"].as_str().unwrap())
}

/// A folder under the system's temporary folder, emptied first and removed when dropped.
/// Outside the workspace: cargo would take a package inside it for a member.
struct TempDir(PathBuf);

impl TempDir {
    /// `name` is made unique per workspace, so that worktrees of this repository can
    /// test at once, and stays the same from run to run, so that the copies' own crates
    /// keep one set of files in the shared target folder instead of a new one per run.
    fn new(name: &str, ws: &Workspace) -> TempDir {
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&ws.root, &mut hasher);
        let hash = std::hash::Hasher::finish(&hasher);
        let dir = std::env::temp_dir().join(format!("xtask-{name}-{hash:016x}"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn bad_names_and_used_folders_are_refused_and_nothing_is_written() {
    let ws = Workspace::read().unwrap();
    let tmp = TempDir::new("export-refusals", &ws);
    let fresh = tmp.0.join("fresh");
    let export = |name: Option<&str>, dir: &Path| {
        run(&Options {
            name: name.map(String::from),
            dir: dir.to_path_buf(),
        })
        .map_err(|e| format!("{e:#}"))
    };
    let err = export(Some("process_pol"), &fresh).unwrap_err();
    assert!(err.contains("no example named `process_pol`"), "{err}");
    assert!(
        err.contains("process_pool") && err.contains("async_fetch"),
        "{err}"
    );
    assert!(!fresh.exists());

    let used = tmp.0.join("used");
    fs::create_dir(&used).unwrap();
    fs::write(used.join("Cargo.toml"), "mine").unwrap();
    for name in [Some("process_pool"), None] {
        let err = export(name, &used).unwrap_err();
        assert!(err.contains("is not empty"), "{err}");
    }
    assert_eq!(fs::read_dir(&used).unwrap().count(), 1);
    assert_eq!(fs::read_to_string(used.join("Cargo.toml")).unwrap(), "mine");

    let file = used.join("Cargo.toml");
    assert!(
        export(Some("process_pool"), &file)
            .unwrap_err()
            .contains("not a folder")
    );

    let inside = target_dir().join("export-inside-refused");
    let err = export(Some("process_pool"), &inside).unwrap_err();
    assert!(err.contains("is inside this workspace"), "{err}");
    assert!(!inside.exists());

    // An empty folder is fine; a second export into it is refused and changes nothing.
    let empty = tmp.0.join("empty");
    fs::create_dir(&empty).unwrap();
    export(Some("thread_pool"), &empty).unwrap();
    let main_rs = fs::read_to_string(empty.join("src/main.rs")).unwrap();
    assert!(export(Some("process_pool"), &empty).is_err());
    assert_eq!(
        fs::read_to_string(empty.join("src/main.rs")).unwrap(),
        main_rs
    );
}

/// Runs `cargo ARGS --offline` in `dir` with every warning an error, against the one
/// target folder all the copies share; its stdout, or why it failed.
fn cargo(dir: &Path, target: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(workspace::cargo())
        .args(args)
        .arg("--offline")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env("RUSTFLAGS", "-D warnings")
        // Debug info is much of what building and linking these costs; a check needs none.
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTDOCFLAGS")
        .env_remove("CARGO_ENCODED_RUSTDOCFLAGS")
        .env_remove("CARGO_BUILD_BUILD_DIR")
        .output()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // `-D warnings` makes rustc's warnings errors; cargo's own (a manifest key it
    // ignores, say) would only be printed.
    if !out.status.success() || stderr.lines().any(|l| l.starts_with("warning")) {
        return Err(format!(
            "`cargo {}` in {}:\n{stdout}{stderr}",
            args.join(" "),
            dir.display()
        ));
    }
    Ok(stdout)
}

/// shared's doc tests, as `pool.rs - pool (line 4)`, from the workspace's own
/// `cargo test -p shared --doc -- --list`.
fn workspace_doc_tests() -> Vec<String> {
    let out = Command::new(workspace::cargo())
        .args(["test", "--quiet", "-p", "shared", "--doc", "--", "--list"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .filter_map(|l| l.split_once("src/").map(|(_, test)| test.to_string()))
        .collect()
}

/// The "Copying it" set of `module`, copied by hand into a binary crate below its root,
/// with the header's ```toml block as the crate's dependencies.
fn copy_by_hand(ws: &Workspace, module: &Module, dir: &Path) {
    let vendored = dir.join("src/vendored");
    fs::create_dir_all(&vendored).unwrap();
    let mut mods = String::new();
    for name in &module.travels {
        fs::copy(
            ws.shared_src.join(format!("{name}.rs")),
            vendored.join(format!("{name}.rs")),
        )
        .unwrap();
        mods.push_str(&format!("    pub mod {name};\n"));
    }
    let manifest = format!(
        "[package]\nname = \"by_hand_{}\"\nversion = \"0.1.0\"\nedition = \"{}\"\n\n{}",
        module.name, ws.edition, module.toml
    );
    fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    fs::copy(ws.root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let main = format!(
        "// A binary that uses none of it: `allow(unused)`, as the README says.\n\
         #[allow(unused)]\nmod vendored {{\n{mods}}}\n\nfn main() {{}}\n"
    );
    fs::write(dir.join("src/main.rs"), main).unwrap();
}

/// The proof that copying works both ways the README gives. Every example is exported
/// (`cargo xtask export --all`), built offline with `-D warnings`, and run with the same
/// arguments and checked against the same expectations as `cargo xtask verify`; the ones
/// with a `shared` library pass `cargo test` (their modules' unit and doc tests). And each
/// module's "Copying it" set, copied by hand below a crate's root with its ```toml block,
/// builds. The copies share one target folder under the workspace's target/, so their
/// dependencies compile once and a second run is warm.
#[test]
fn every_example_exports_builds_and_runs_and_hand_copies_build() {
    let ws = Workspace::read().unwrap();
    let target = target_dir().join("export-test");
    let tmp = TempDir::new("export-test", &ws);
    let exports = tmp.0.join("exports");
    run(&Options {
        name: None,
        dir: exports.clone(),
    })
    .unwrap();
    let plans = ws.plan_all().unwrap();
    assert!(!plans.is_empty(), "no examples were found to export");
    assert_eq!(fs::read_dir(&exports).unwrap().count(), plans.len());

    let mut problems = Vec::new();
    let mut built = Vec::new();
    for plan in &plans {
        match cargo(&exports.join(&plan.name), &target, &["build", "--quiet"]) {
            Ok(_) => built.push(plan),
            Err(why) => problems.push(why),
        }
    }
    for module in &ws.modules {
        let dir = tmp.0.join("by-hand").join(&module.name);
        copy_by_hand(&ws, module, &dir);
        if let Err(why) = cargo(&dir, &target, &["build", "--quiet"]) {
            problems.push(format!("copied by hand, {}.rs's set: {why}", module.name));
        }
    }

    let server = Server::start().unwrap();
    let env = Env {
        http: server.base_url(),
        refused: server.refused_url(),
    };
    let cases = catalogue::cases(&env);
    let exes: Vec<(String, PathBuf)> = built
        .iter()
        .map(|p| (p.name.clone(), target.join("debug").join(&p.name)))
        .collect();
    let mut runs = Vec::new();
    for (name, exe) in &exes {
        let mine: Vec<_> = cases.iter().filter(|c| c.bin == name).collect();
        if mine.is_empty() {
            problems.push(format!("{name}: no case in the catalogue to check it with"));
        }
        runs.extend(mine.into_iter().map(|case| (case, exe.as_path())));
    }
    let passed = verify::run_all(&runs, 1, 16, &[]);
    if passed != runs.len() {
        problems.push(format!(
            "{} of {} runs of the exports failed their check (see the rows above)",
            runs.len() - passed,
            runs.len()
        ));
    }
    drop(server);

    let doc_tests = workspace_doc_tests();
    assert!(!doc_tests.is_empty(), "shared lists no doc tests");
    // Copies with the same modules have the same library: its tests run once.
    let mut tested: Vec<&Vec<String>> = Vec::new();
    for plan in &built {
        if plan.modules.is_empty() || tested.contains(&&plan.modules) {
            continue;
        }
        tested.push(&plan.modules);
        match cargo(&exports.join(&plan.name), &target, &["test"]) {
            Ok(out) => {
                // Each of the copied modules' doc tests ran and passed in the copy.
                for test in &doc_tests {
                    let module = test.split(".rs - ").next().unwrap_or_default();
                    // `test src/pool.rs - pool (line 4) ... ok`; a `no_run` one says `- compile`.
                    let ran = format!("test src/{test} ");
                    let passed = out
                        .lines()
                        .any(|l| l.starts_with(&ran) && l.ends_with(" ... ok"));
                    if plan.modules.iter().any(|m| m == module) && !passed {
                        problems.push(format!("{}: `{ran}` did not pass in:\n{out}", plan.name));
                    }
                }
            }
            Err(why) => problems.push(why),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
