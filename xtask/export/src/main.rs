//! `cargo xtask export NAME DIR`: one example as a Cargo project of its own, with the
//! `shared` modules it needs beside it, so that copying a snippet is one command.
//!
//! Everything is read, nothing is listed here: the examples from `cargo metadata`, the
//! modules an example needs from its `shared::` paths and shared/src/lib.rs (Rust read with
//! `proc-macro2` and `syn`, TOML with `toml`; see [`parse`]), what travels
//! with each module and the crates it needs from the module header's "Copying it" section
//! (the same text a reader copying by hand follows, so the export test proves it), and
//! versions, edition and lints from the workspace. The project written:
//!
//! - `Cargo.toml`: the example's own crates (those its source names) and the ones the
//!   modules' headers list, at the workspace's versions; a library target named `shared`
//!   when it uses any module; the workspace's lints.
//! - `Cargo.lock`: the workspace's, so the copy builds with the same versions.
//! - `.cargo/config.toml`: the workspace's, so an error prints its message, not a backtrace.
//! - `src/main.rs`: the example, unchanged.
//! - `src/lib.rs` and `src/<module>.rs`: the modules, unchanged, as a library named
//!   `shared` (see [`LIB_DOC`] for why).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use xtask::verify;
use xtask::workspace;

mod parse;

pub use parse::{Dep, Module};
use parse::{
    ItemKind, LibItem, lex, lib_items, lint_tables, names_crate, parse_module, shared_paths,
};

/// What `export` was asked for.
pub struct Options {
    /// One example by name, or `None` for `--all`.
    pub name: Option<String>,
    pub dir: PathBuf,
}

const USAGE: &str = "\
usage: cargo xtask export NAME DIR, or cargo xtask export --all DIR

Writes example NAME (--all: every example, one folder each) into the new or empty folder
DIR as a Cargo project of its own, with the shared modules it needs beside it; then
`cd DIR && cargo run`.";

impl Options {
    pub fn parse(args: &[String]) -> anyhow::Result<Options> {
        use lexopt::Arg::{Long, Value};
        let usage = USAGE.lines().next().unwrap_or_default();
        let mut all = false;
        let mut words = Vec::new();
        let mut parser = xtask::args::parser(args);
        while let Some(arg) = parser.next()? {
            match arg {
                Long("all") => all = true,
                Value(word) => words.push(xtask::args::word(word)?),
                other => bail!("{} ({usage})", other.unexpected()),
            }
        }
        match (all, words.as_slice()) {
            (false, [name, dir]) => Ok(Options {
                name: Some(name.clone()),
                dir: PathBuf::from(dir),
            }),
            (true, [dir]) => Ok(Options {
                name: None,
                dir: PathBuf::from(dir),
            }),
            _ => bail!("{usage}"),
        }
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if xtask::args::asks_for_help(&args) {
        println!("{USAGE}");
        return std::process::ExitCode::SUCCESS;
    }
    xtask::exit_code(Options::parse(&args).and_then(|o| run(&o)))
}

/// Exports what `options` asks for; prints what it wrote and how to run it.
pub fn run(options: &Options) -> anyhow::Result<bool> {
    let ws = Workspace::read()?;
    let problems = ws.header_problems();
    if !problems.is_empty() {
        // The export closes over what each listed module lists in turn, so it can still
        // build; a copy made by hand from these headers may not.
        eprintln!(
            "warning: some \"Copying it\" headers in shared/src do not match the code or the \
             workspace (`cargo test -p xtask-export` checks them):\n  {}",
            problems.join("\n  ")
        );
    }
    let plans = match &options.name {
        Some(name) => vec![ws.plan(name)?],
        None => ws.plan_all()?,
    };
    refuse_dir(&options.dir, &ws.root)?;
    let dir = &options.dir;
    match &options.name {
        Some(_) => {
            let files = ws.write(&plans[0], dir)?;
            println!("wrote {}: {}", dir.display(), files.join(", "));
            println!("next: cd {} && cargo run", dir.display());
        }
        None => {
            for plan in &plans {
                ws.write(plan, &dir.join(&plan.name))?;
            }
            println!(
                "wrote {} projects in {}, one folder per example",
                plans.len(),
                dir.display()
            );
            println!(
                "next: cd {} && cargo run",
                dir.join(&plans[0].name).display()
            );
        }
    }
    Ok(true)
}

/// Refuses a `dir` that holds anything, or that lies inside this workspace (cargo would
/// then take the copy for a member of the workspace and refuse to build it).
fn refuse_dir(dir: &Path, workspace_root: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            bail!(
                "`{}` exists and is not a folder; give a new or empty folder",
                dir.display()
            );
        }
        let mut entries =
            fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "`{}` exists and is not empty; export writes only into a new or empty folder, \
                 so that nothing is overwritten: give another DIR",
                dir.display()
            );
        }
    }
    let absolute =
        std::path::absolute(dir).with_context(|| format!("resolving {}", dir.display()))?;
    // The deepest folder that exists, resolved through symlinks, is what cargo would see.
    let existing = absolute
        .ancestors()
        .find(|p| p.exists())
        .context("no part of the path exists")?;
    let existing = existing
        .canonicalize()
        .unwrap_or_else(|_| existing.to_path_buf());
    let root = workspace_root
        .canonicalize()
        .unwrap_or_else(|_| workspace_root.to_path_buf());
    if existing.starts_with(&root) {
        bail!(
            "`{}` is inside this workspace ({}); cargo would take the copy for a member of it. \
             Give a folder outside, such as ../{}",
            dir.display(),
            root.display(),
            dir.file_name().and_then(|n| n.to_str()).unwrap_or("copy")
        );
    }
    Ok(())
}

/// Why the copied modules form a library named `shared`: the top of the generated
/// `src/lib.rs`, for the learner who opens it.
pub const LIB_DOC: &str = "\
//! The `shared` modules this example uses, copied unchanged from the workspace's `shared`
//! crate by `cargo xtask export`.
//!
//! They form a library named `shared` (see `[lib]` in Cargo.toml) so that nothing in them
//! or in `main.rs` changes: `main.rs` says `use shared::...` as in the workspace, the
//! modules' doc examples say `use shared::<module>::...` and run as doc tests under
//! `cargo test`, and a library's `pub` items that `main.rs` does not use are not dead code,
//! so there are no warnings. The modules reach each other through `super::` paths.
//!
//! To copy modules into a crate of your own by hand, follow the \"Copying it\" section of
//! each module's header: it names the files that travel together and the `Cargo.toml`
//! lines they need. Put the files side by side in any folder of your crate. In a library
//! not named `shared`, change `shared::` in their doc examples to the modules' path there,
//! or the doc tests fail. A binary crate runs no doc tests, but warns about the items and
//! `pub use`s it does not use: put `#[allow(unused)]` on the `mod` that holds the modules.
";

/// An example binary: its name, source, and the crates its package offers it.
pub struct Example {
    pub name: String,
    pub src: PathBuf,
    pub version: String,
    pub crates: BTreeMap<String, Dep>,
}

/// What one export writes.
pub struct Plan {
    pub name: String,
    pub src: PathBuf,
    pub version: String,
    /// The modules to copy, in shared/src/lib.rs's order.
    pub modules: Vec<String>,
    /// The crates main.rs names, and those the modules' headers list.
    pub own_crates: Vec<String>,
    pub module_crates: Vec<String>,
    pub deps: BTreeMap<String, Dep>,
}

/// What export reads from the workspace.
pub struct Workspace {
    pub root: PathBuf,
    pub edition: String,
    pub rust_version: Option<String>,
    /// shared/src, and what its lib.rs declares.
    pub shared_src: PathBuf,
    pub modules: Vec<Module>,
    /// shared/src/lib.rs's `mod`s and `pub use`s, with their `#[cfg]`s.
    pub lib_items: Vec<LibItem>,
    /// The crates the `shared` package depends on, as the workspace sets them.
    pub shared_deps: BTreeMap<String, Dep>,
    pub examples: Vec<Example>,
    /// The root Cargo.toml's `[workspace.lints.*]` tables, renamed `[lints.*]`.
    pub lints: String,
}

impl Workspace {
    pub fn read() -> anyhow::Result<Workspace> {
        let meta = workspace::metadata()?;
        let root = PathBuf::from(
            meta["workspace_root"]
                .as_str()
                .context("metadata has no workspace_root")?,
        );
        let packages = meta["packages"]
            .as_array()
            .context("metadata has no packages")?;
        let shared = packages
            .iter()
            .find(|p| p["name"] == "shared")
            .context("the workspace has no `shared` package")?;
        let shared_manifest = Path::new(shared["manifest_path"].as_str().unwrap_or_default());
        let shared_src = shared_manifest
            .parent()
            .context("shared's manifest has no folder")?
            .join("src");
        let lib_path = shared_src.join("lib.rs");
        let lib = fs::read_to_string(&lib_path)
            .with_context(|| format!("reading {}", lib_path.display()))?;
        let lib_items =
            lib_items(&lib).with_context(|| format!("reading {}", lib_path.display()))?;
        let mut modules: Vec<Module> = Vec::new();
        for item in &lib_items {
            // A module may be declared twice, under different `#[cfg]`s.
            let ItemKind::Mod { name, .. } = &item.kind else {
                continue;
            };
            if modules.iter().any(|m| &m.name == name) {
                continue;
            }
            let path = shared_src.join(format!("{name}.rs"));
            let source =
                fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            modules.push(
                parse_module(name, &source)
                    .with_context(|| format!("reading the header of {}", path.display()))?,
            );
        }
        let shared_deps = package_deps(shared)?;

        let mut examples = Vec::new();
        for bin in verify::example_bins()? {
            let package = packages
                .iter()
                .find(|p| p["name"] == bin.package.as_str())
                .with_context(|| format!("no package `{}` in the metadata", bin.package))?;
            examples.push(Example {
                name: bin.name,
                src: bin.src,
                version: package["version"].as_str().unwrap_or("0.1.0").to_string(),
                crates: package_deps(package)?,
            });
        }
        let manifest = root.join("Cargo.toml");
        let root_toml = fs::read_to_string(&manifest)
            .with_context(|| format!("reading {}", manifest.display()))?;
        Ok(Workspace {
            edition: shared["edition"].as_str().unwrap_or("2024").to_string(),
            rust_version: shared["rust_version"].as_str().map(String::from),
            root,
            shared_src,
            modules,
            lib_items,
            shared_deps,
            examples,
            lints: lint_tables(&root_toml)
                .with_context(|| format!("reading {}", manifest.display()))?,
        })
    }

    /// Everything that makes a module's "Copying it" section false, without building: a
    /// listed file that is not a module, a set that leaves out what its members need, and
    /// crates at other versions or features than the workspace's.
    pub fn header_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut used: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for module in &self.modules {
            let at = format!("shared/src/{}.rs, \"Copying it\"", module.name);
            for sibling in &module.reaches {
                if self.module(sibling).is_some() && !module.travels.contains(sibling) {
                    problems.push(format!(
                        "{at}: the code uses `super::{sibling}`, but `{sibling}.rs` is not listed"
                    ));
                }
            }
            for other in &module.travels {
                let Some(other) = self.module(other) else {
                    problems.push(format!("{at}: `{other}.rs` is not a module of shared"));
                    continue;
                };
                for needed in &other.travels {
                    if !module.travels.contains(needed) {
                        problems.push(format!(
                            "{at}: lists `{}.rs`, which needs `{needed}.rs`, not listed",
                            other.name
                        ));
                    }
                }
                for (krate, dep) in &other.deps {
                    let covered = module.deps.get(krate).is_some_and(|have| {
                        dep.features.iter().all(|f| have.features.contains(f))
                            && (have.default_features || !dep.default_features)
                            && have.target == dep.target
                    });
                    if !covered {
                        problems.push(format!(
                            "{at}: `{}.rs` needs `{}`, which its ```toml block does not cover",
                            other.name,
                            dep.line(krate)
                        ));
                    }
                }
            }
            for (krate, dep) in &module.deps {
                let Some(workspace) = self.shared_deps.get(krate) else {
                    problems.push(format!("{at}: `{krate}` is not a dependency of shared"));
                    continue;
                };
                if dep.version != workspace.version
                    || dep.default_features != workspace.default_features
                    || dep.target != workspace.target
                {
                    problems.push(format!(
                        "{at}: `{}`, where the workspace has `{}`",
                        dep.line(krate),
                        workspace.line(krate)
                    ));
                }
                for feature in &dep.features {
                    if !workspace.features.contains(feature) {
                        problems.push(format!(
                            "{at}: `{krate}` feature `{feature}`, which shared does not enable"
                        ));
                    }
                    used.entry(krate.clone()).or_default().push(feature.clone());
                }
                used.entry(krate.clone()).or_default();
            }
        }
        for (krate, dep) in &self.shared_deps {
            match used.get(krate) {
                None => problems.push(format!(
                    "shared depends on `{krate}`, which no module's \"Copying it\" lists"
                )),
                Some(features) => {
                    for feature in dep.features.iter().filter(|f| !features.contains(f)) {
                        problems.push(format!(
                            "shared enables `{krate}` feature `{feature}`, which no module's \
                             \"Copying it\" lists"
                        ));
                    }
                }
            }
        }
        problems
    }

    fn module(&self, name: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.name == name)
    }

    pub fn plan_all(&self) -> anyhow::Result<Vec<Plan>> {
        self.examples.iter().map(|e| self.plan(&e.name)).collect()
    }

    /// What exporting example `name` takes: its modules, closed over what travels with
    /// each, and its crates.
    pub fn plan(&self, name: &str) -> anyhow::Result<Plan> {
        let Some(example) = self.examples.iter().find(|e| e.name == name) else {
            let known: Vec<&str> = self.examples.iter().map(|e| e.name.as_str()).collect();
            bail!(
                "no example named `{name}`; the examples are: {}",
                known.join(", ")
            );
        };
        let source = fs::read_to_string(&example.src)
            .with_context(|| format!("reading {}", example.src.display()))?;
        let code = lex(&source).with_context(|| format!("reading {}", example.src.display()))?;
        let mut wanted = Vec::new();
        for first in shared_paths(&code) {
            // Every module that provides the name, under any `#[cfg]`: a name re-exported
            // from one module on Unix and another elsewhere brings both, and the copy keeps
            // both.
            let mut modules: Vec<String> = Vec::new();
            for item in &self.lib_items {
                match &item.kind {
                    ItemKind::Mod { name, .. } if first == "*" || *name == first => {
                        modules.push(name.clone());
                    }
                    ItemKind::Use { leaves, .. } => modules.extend(
                        leaves
                            .iter()
                            .filter(|l| l.name == first)
                            .map(|l| l.module.clone()),
                    ),
                    _ => {}
                }
            }
            if modules.is_empty() {
                bail!(
                    "{} names `shared::{first}`, which shared/src/lib.rs neither declares \
                     as a module nor re-exports",
                    example.src.display()
                );
            }
            wanted.extend(modules);
        }
        // Close over "Copying it": each module brings the ones its header lists.
        let mut i = 0;
        while i < wanted.len() {
            let module = self
                .module(&wanted[i])
                .with_context(|| format!("`{}.rs` is not a module of shared", wanted[i]))?;
            for other in &module.travels {
                if !wanted.contains(other) {
                    wanted.push(other.clone());
                }
            }
            i += 1;
        }
        let modules: Vec<String> = self
            .modules
            .iter()
            .filter(|m| wanted.contains(&m.name))
            .map(|m| m.name.clone())
            .collect();

        let mut deps: BTreeMap<String, Dep> = BTreeMap::new();
        let mut own_crates = Vec::new();
        for (krate, dep) in &example.crates {
            if names_crate(&code, krate) {
                own_crates.push(krate.clone());
                deps.insert(krate.clone(), dep.clone());
            }
        }
        let mut module_crates = Vec::new();
        for module in self.modules.iter().filter(|m| modules.contains(&m.name)) {
            for (krate, dep) in &module.deps {
                if !module_crates.contains(krate) {
                    module_crates.push(krate.clone());
                }
                match deps.get_mut(krate) {
                    Some(have) => have.merge(krate, dep).with_context(|| {
                        format!("{}.rs's header and the workspace disagree", module.name)
                    })?,
                    None => {
                        deps.insert(krate.clone(), dep.clone());
                    }
                }
            }
        }
        module_crates.sort();
        Ok(Plan {
            name: example.name.clone(),
            src: example.src.clone(),
            version: example.version.clone(),
            modules,
            own_crates,
            module_crates,
            deps,
        })
    }

    /// Writes `plan`'s project into `dir` (new or empty), creating files that must not
    /// exist yet; returns the files written.
    pub fn write(&self, plan: &Plan, dir: &Path) -> anyhow::Result<Vec<String>> {
        let mut files: Vec<(String, Vec<u8>)> = vec![
            ("Cargo.toml".into(), self.manifest(plan).into_bytes()),
            ("Cargo.lock".into(), read(&self.root.join("Cargo.lock"))?),
            (
                ".cargo/config.toml".into(),
                self.cargo_config()?.into_bytes(),
            ),
            ("src/main.rs".into(), read(&plan.src)?),
        ];
        if !plan.modules.is_empty() {
            files.push(("src/lib.rs".into(), self.lib_rs(plan).into_bytes()));
            for module in &plan.modules {
                let path = self.shared_src.join(format!("{module}.rs"));
                files.push((format!("src/{module}.rs"), read(&path)?));
            }
        }
        for sub in ["src", ".cargo"] {
            fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("creating {}", dir.join(sub).display()))?;
        }
        for (name, bytes) in &files {
            let path = dir.join(name);
            let mut file = fs::File::create_new(&path)
                .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
            file.write_all(bytes)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(files.into_iter().map(|(name, _)| name).collect())
    }

    /// The workspace's `.cargo/config.toml` from its `[env]` table on (the `xtask` alias
    /// before it means nothing in a copy): errors print their message, not a backtrace.
    fn cargo_config(&self) -> anyhow::Result<String> {
        let path = self.root.join(".cargo/config.toml");
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        match text.find("[env]") {
            Some(at) => Ok(text[at..].to_string()),
            None => bail!("{} has no [env] table to copy", path.display()),
        }
    }

    fn manifest(&self, plan: &Plan) -> String {
        let relative = plan.src.strip_prefix(&self.root).unwrap_or(&plan.src);
        let mut intro = format!(
            "`cargo xtask export {}`: {} as a project of its own. `cargo run` runs it.",
            plan.name,
            relative.display()
        );
        if !plan.modules.is_empty() {
            intro.push_str(
                " src/lib.rs says why the shared modules beside it form a library named `shared`.",
            );
        }
        let mut out = String::new();
        for line in wrap(&intro, 88 - 2) {
            let _ = writeln!(out, "# {line}");
        }
        let _ = write!(
            out,
            "\n[package]\nname = \"{}\"\nversion = \"{}\"\nedition = \"{}\"\n",
            plan.name, plan.version, self.edition
        );
        if let Some(rust_version) = &self.rust_version {
            let _ = writeln!(out, "rust-version = \"{rust_version}\"");
        }
        if !plan.modules.is_empty() {
            out.push_str("\n[lib]\nname = \"shared\"\npath = \"src/lib.rs\"\n");
        }
        let _ = write!(
            out,
            "\n[[bin]]\nname = \"{}\"\npath = \"src/main.rs\"\n",
            plan.name
        );
        out.push_str("\n[dependencies]\n");
        let mut why = Vec::new();
        if !plan.own_crates.is_empty() {
            why.push(format!(
                "{}: named by src/main.rs",
                plan.own_crates.join(", ")
            ));
        }
        if !plan.module_crates.is_empty() {
            let files: Vec<String> = plan.modules.iter().map(|m| format!("src/{m}.rs")).collect();
            why.push(format!(
                "{}: what the \"Copying it\" headers of {} list",
                plan.module_crates.join(", "),
                files.join(", ")
            ));
        }
        for line in wrap(&format!("{}.", why.join("; ")), 88 - 2) {
            let _ = writeln!(out, "# {line}");
        }
        for (name, dep) in plan.deps.iter().filter(|(_, d)| d.target.is_none()) {
            let _ = writeln!(out, "{}", dep.line(name));
        }
        let mut targets: Vec<&String> = plan
            .deps
            .values()
            .filter_map(|d| d.target.as_ref())
            .collect();
        targets.sort();
        targets.dedup();
        for target in targets {
            let _ = writeln!(out, "\n[target.'{target}'.dependencies]");
            for (name, dep) in plan
                .deps
                .iter()
                .filter(|(_, d)| d.target.as_ref() == Some(target))
            {
                let _ = writeln!(out, "{}", dep.line(name));
            }
        }
        if !self.lints.is_empty() {
            out.push_str(
                "\n# The lints this code was checked under in the workspace, so your changes get\n\
                 # the same checks (an ignored `Result` of `join()` is an error, not a warning).\n",
            );
            out.push_str(&self.lints);
        }
        out
    }

    fn lib_rs(&self, plan: &Plan) -> String {
        // shared/src/lib.rs's own lines, less what concerns modules not copied.
        let mut out = LIB_DOC.to_string();
        // A blank line before a dropped item stays, before the next one kept.
        let mut blank = false;
        for item in &self.lib_items {
            blank |= item.blank_before;
            if let Some(text) = item.keep(&plan.modules) {
                if blank && !out.ends_with("\n\n") {
                    out.push('\n');
                }
                blank = false;
                out.push_str(&text);
            }
        }
        out
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// Words of `text` in lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("never empty");
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// A package's normal dependencies from `cargo metadata`, as the workspace sets them
/// (`^1.40` is written `1.40`); path dependencies (`shared`) are left out.
fn package_deps(package: &serde_json::Value) -> anyhow::Result<BTreeMap<String, Dep>> {
    let mut deps = BTreeMap::new();
    for dep in package["dependencies"].as_array().into_iter().flatten() {
        if !dep["kind"].is_null() || dep["path"].is_string() {
            continue;
        }
        let name = dep["name"].as_str().context("a dependency has no name")?;
        let req = dep["req"].as_str().unwrap_or("*");
        let version = match req.strip_prefix('^') {
            Some(plain) if !plain.contains(',') => plain,
            _ => req,
        };
        let features = dep["features"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str().map(String::from))
            .collect();
        deps.insert(
            name.to_string(),
            Dep {
                version: version.to_string(),
                default_features: dep["uses_default_features"].as_bool().unwrap_or(true),
                features,
                target: dep["target"].as_str().map(String::from),
            },
        );
    }
    Ok(deps)
}

#[cfg(test)]
mod tests;
