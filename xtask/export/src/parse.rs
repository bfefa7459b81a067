//! What export reads from source text: a module header's "Copying it" section, the
//! `[dependencies]` table in it, a lib.rs's modules and re-exports, the paths Rust code
//! names, and the root manifest's lint tables. TOML is read with `toml`, Rust with
//! `proc-macro2`'s lexer (paths, wherever they are: code, attributes, macro calls; never
//! comments or strings) and `syn` (lib.rs's items and `use` trees); each reader refuses
//! with a clear error what it does not know.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::str::FromStr;

use anyhow::{Context, bail};
use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// One crate dependency: `name = { version, default-features, features }`, for every
/// system or (`target`) only where a `cfg(..)` holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Dep {
    pub version: String,
    pub default_features: bool,
    pub features: Vec<String>,
    /// `cfg(windows)` for a `[target.'cfg(windows)'.dependencies]` line; `None` for
    /// `[dependencies]`.
    pub target: Option<String>,
}

impl Dep {
    /// Adds `other`'s features (and its need for default features) to this one.
    pub fn merge(&mut self, name: &str, other: &Dep) -> anyhow::Result<()> {
        if self.version != other.version {
            bail!(
                "`{name}` is wanted at version {} and at version {}",
                self.version,
                other.version
            );
        }
        if self.target != other.target {
            bail!(
                "`{name}` is wanted on different systems: {:?} and {:?}",
                self.target,
                other.target
            );
        }
        self.default_features |= other.default_features;
        for feature in &other.features {
            if !self.features.contains(feature) {
                self.features.push(feature.clone());
            }
        }
        Ok(())
    }

    /// The dependency line, as a reader would write it.
    pub fn line(&self, name: &str) -> String {
        if self.default_features && self.features.is_empty() {
            return format!("{name} = \"{}\"", self.version);
        }
        let mut line = format!("{name} = {{ version = \"{}\"", self.version);
        if !self.default_features {
            line.push_str(", default-features = false");
        }
        if !self.features.is_empty() {
            let mut quoted: Vec<String> =
                self.features.iter().map(|f| format!("\"{f}\"")).collect();
            quoted.sort();
            let _ = write!(line, ", features = [{}]", quoted.join(", "));
        }
        line.push_str(" }");
        line
    }
}

/// A `shared` module, as its header describes it.
#[derive(Debug)]
pub struct Module {
    pub name: String,
    /// The modules its "Copying it" section says travel with it, itself included.
    pub travels: Vec<String>,
    /// The crates that section's ```toml block lists.
    pub deps: BTreeMap<String, Dep>,
    /// That block, as written.
    pub toml: String,
    /// The first segment of each `super::` path in its code: the sibling modules it uses.
    pub reaches: Vec<String>,
}

/// The root manifest's `[workspace.lints.*]` tables as a package's `[lints.*]` tables, in
/// the order written; empty if it has none.
pub fn lint_tables(root_toml: &str) -> anyhow::Result<String> {
    let root = toml::Table::from_str(root_toml).context("reading the root Cargo.toml")?;
    let Some(lints) = root.get("workspace").and_then(|w| w.get("lints")) else {
        return Ok(String::new());
    };
    let lints = lints
        .as_table()
        .context("`workspace.lints` is not a table")?;
    let mut out = String::new();
    for (tool, table) in lints {
        let table = table
            .as_table()
            .with_context(|| format!("`workspace.lints.{tool}` is not a table"))?;
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "[lints.{tool}]");
        for (lint, level) in table {
            // A value prints as written: `"warn"`, `{ level = "warn", priority = -1 }`.
            let _ = writeln!(out, "{lint} = {level}");
        }
    }
    Ok(out)
}

/// The `//!` header of a source file, without the `//!` and the one space after it.
pub fn header(source: &str) -> Vec<&str> {
    source
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| {
            let text = &l[3..];
            text.strip_prefix(' ').unwrap_or(text)
        })
        .collect()
}

/// Reads a module's "Copying it" section: the `*.rs` files of its first paragraph, and
/// the dependencies of its ```toml block.
pub fn parse_module(name: &str, source: &str) -> anyhow::Result<Module> {
    let header = header(source);
    let start = header
        .iter()
        .position(|l| *l == "# Copying it")
        .context("its //! header has no `# Copying it` section")?
        + 1;
    let len = header[start..]
        .iter()
        .position(|l| l.starts_with("# "))
        .unwrap_or(header.len() - start);
    let section = &header[start..start + len];
    let paragraph: Vec<&str> = section
        .iter()
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .copied()
        .collect();
    let mut travels = Vec::new();
    for (i, piece) in paragraph.join(" ").split('`').enumerate() {
        if i % 2 == 1
            && let Some(module) = piece.strip_suffix(".rs")
            && !module.is_empty()
            && module
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !travels.iter().any(|t| t == module)
        {
            travels.push(module.to_string());
        }
    }
    if !travels.iter().any(|m| m == name) {
        bail!(
            "the first paragraph of `# Copying it` must name the files that travel together \
             as `*.rs`, `{name}.rs` included; it names {travels:?}"
        );
    }
    let open = section
        .iter()
        .position(|l| *l == "```toml")
        .context("`# Copying it` has no ```toml block")?
        + 1;
    let close = section[open..]
        .iter()
        .position(|l| *l == "```")
        .context("the ```toml block is not closed")?;
    let toml: Vec<&str> = section[open..open + close].to_vec();
    let deps = parse_dependencies(&toml).context("in the ```toml block of `# Copying it`")?;
    let mut reaches: Vec<String> = Vec::new();
    for next in after_path_start(&lex(source)?, "super") {
        if let TokenTree::Ident(word) = next {
            let word = word.to_string();
            if !reaches.contains(&word) {
                reaches.push(word);
            }
        }
    }
    Ok(Module {
        name: name.to_string(),
        travels,
        deps,
        toml: toml.iter().map(|l| format!("{l}\n")).collect(),
        reaches,
    })
}

/// A `[dependencies]` table, and `[target.'cfg(..)'.dependencies]` tables, in the forms a
/// header uses: `name = "1"` and
/// `name = { version = "1", default-features = false, features = ["a", "b"] }`.
pub fn parse_dependencies(lines: &[&str]) -> anyhow::Result<BTreeMap<String, Dep>> {
    let table = toml::Table::from_str(&lines.join("\n"))?;
    if let Some(other) = table
        .keys()
        .find(|k| *k != "dependencies" && *k != "target")
    {
        bail!(
            "`{other}`: only [dependencies] and [target.'cfg(..)'.dependencies] tables can be read here"
        );
    }
    let mut tables = Vec::new();
    if let Some(table) = table.get("dependencies") {
        tables.push((None, table));
    }
    if let Some(targets) = table.get("target") {
        let targets = targets.as_table().context("`target` is not a table")?;
        for (cfg, table) in targets {
            let table = table
                .as_table()
                .context("a `target` entry is not a table")?;
            if let Some(other) = table.keys().find(|k| *k != "dependencies") {
                bail!("`target.'{cfg}'.{other}`: only a dependencies table can be read here");
            }
            if let Some(table) = table.get("dependencies") {
                tables.push((Some(cfg.clone()), table));
            }
        }
    }
    let mut deps = BTreeMap::new();
    for (target, table) in tables {
        let table = table.as_table().context("`dependencies` is not a table")?;
        for (name, value) in table {
            let dep = parse_dep(value, target.clone())
                .with_context(|| format!("reading `{name} = {value}`"))?;
            if deps.insert(name.clone(), dep).is_some() {
                bail!("`{name}` is listed twice");
            }
        }
    }
    Ok(deps)
}

fn parse_dep(value: &toml::Value, target: Option<String>) -> anyhow::Result<Dep> {
    let mut dep = Dep {
        version: String::new(),
        default_features: true,
        features: Vec::new(),
        target,
    };
    let table = match value {
        toml::Value::String(version) => {
            dep.version = version.clone();
            return Ok(dep);
        }
        toml::Value::Table(table) => table,
        _ => bail!("a version string or an inline table `{{ ... }}` was expected"),
    };
    for (key, value) in table {
        match key.as_str() {
            "version" => {
                dep.version = value
                    .as_str()
                    .context("version must be a quoted string")?
                    .to_string();
            }
            "default-features" => {
                dep.default_features = value.as_bool().with_context(|| {
                    format!("default-features must be true or false, got `{value}`")
                })?;
            }
            "features" => {
                let list = value.as_array().context("features must be a list")?;
                for feature in list {
                    dep.features.push(
                        feature
                            .as_str()
                            .context("a feature must be a quoted string")?
                            .to_string(),
                    );
                }
            }
            other => bail!(
                "`{other}`: a header's dependency takes only version, default-features and \
                 features (a copy has no path or git dependencies)"
            ),
        }
    }
    if dep.version.is_empty() {
        bail!("no version given");
    }
    Ok(dep)
}

/// Rust source as tokens: comments are gone and each string or character literal is one
/// token, so only code is searched for paths.
pub fn lex(source: &str) -> anyhow::Result<TokenStream> {
    TokenStream::from_str(source).map_err(|e| anyhow::anyhow!("not Rust that lexes: {e}"))
}

/// The token after each `name::` that starts a path (no `::` before `name`), in the whole
/// stream and every group in it: `shared::Pool` gives `Pool`.
pub fn after_path_start(tokens: &TokenStream, name: &str) -> Vec<TokenTree> {
    let mut found = Vec::new();
    let tokens: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let colon = |t: Option<&TokenTree>, spacing: Option<Spacing>| {
        matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == ':'
            && spacing.is_none_or(|s| p.spacing() == s))
    };
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Group(group) => found.extend(after_path_start(&group.stream(), name)),
            TokenTree::Ident(ident) if *ident == name => {
                let after_colons = i >= 2
                    && colon(tokens.get(i - 2), Some(Spacing::Joint))
                    && colon(tokens.get(i - 1), None);
                if !after_colons
                    && colon(tokens.get(i + 1), Some(Spacing::Joint))
                    && colon(tokens.get(i + 2), None)
                    && let Some(next) = tokens.get(i + 3)
                {
                    found.push(next.clone());
                }
            }
            _ => {}
        }
    }
    found
}

/// Whether `code` names crate `krate` (`crossbeam-channel` is `crossbeam_channel::`).
pub fn names_crate(code: &TokenStream, krate: &str) -> bool {
    !after_path_start(code, &krate.replace('-', "_")).is_empty()
}

/// The first segment of every path `code` reaches through `shared::`: `shared::Pool` and
/// `shared::pool::Pool` give `Pool` and `pool`, `shared::{Array, queue::Queue}` gives
/// `Array` and `queue`, and a glob gives `*`.
pub fn shared_paths(code: &TokenStream) -> Vec<String> {
    let first = |token: &TokenTree| match token {
        TokenTree::Ident(ident) if *ident != "self" => Some(ident.to_string()),
        TokenTree::Punct(p) if p.as_char() == '*' => Some("*".to_string()),
        _ => None,
    };
    let mut found = Vec::new();
    for next in after_path_start(code, "shared") {
        match &next {
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                let mut item_start = true;
                for token in group.stream() {
                    if item_start {
                        found.extend(first(&token));
                    }
                    item_start = matches!(&token, TokenTree::Punct(p) if p.as_char() == ',');
                }
            }
            other => found.extend(first(other)),
        }
    }
    found
}

/// One item of a lib.rs: a module declaration or a `use`, with the attribute and comment
/// lines right above it (`#[cfg(unix)]`).
#[derive(Debug, PartialEq)]
pub struct LibItem {
    /// The attribute and comment lines above it, each ending in a newline.
    pub above: String,
    /// A blank line comes before it.
    pub blank_before: bool,
    pub kind: ItemKind,
}

#[derive(Debug, PartialEq)]
pub enum ItemKind {
    /// `mod NAME;` or `pub mod NAME;`, as written.
    Mod { name: String, text: String },
    /// `pub use TREE;`, as written, and its leaves.
    Use { text: String, leaves: Vec<Leaf> },
}

/// One path a `pub use` makes public: `shared_memory::Value` (as `Value`).
#[derive(Debug, PartialEq)]
pub struct Leaf {
    /// The module it comes from: the path's first segment.
    pub module: String,
    /// The name it has at the crate root.
    pub name: String,
    /// How it is written inside a `use` tree: `pool::Pool`, `a::B as C`.
    pub text: String,
}

impl LibItem {
    /// This item with only the leaves of its `use` from `modules`, as Rust text; `None` if
    /// nothing of it is left.
    pub fn keep(&self, modules: &[String]) -> Option<String> {
        let text = match &self.kind {
            ItemKind::Mod { name, text } => modules.contains(name).then(|| text.clone())?,
            ItemKind::Use { text, leaves } => {
                let kept: Vec<&Leaf> = leaves
                    .iter()
                    .filter(|l| modules.contains(&l.module))
                    .collect();
                match kept.as_slice() {
                    [] => return None,
                    _ if kept.len() == leaves.len() => text.clone(),
                    [one] => format!("pub use {};", one.text),
                    _ => {
                        let all: Vec<&str> = kept.iter().map(|l| l.text.as_str()).collect();
                        let line = format!("pub use {{{}}};", all.join(", "));
                        if line.len() <= 100 {
                            line
                        } else {
                            // As rustfmt lays out a long list: filled lines in a block.
                            let mut block = "pub use {\n".to_string();
                            let items: Vec<String> = all.iter().map(|t| format!("{t},")).collect();
                            for row in super::wrap(&items.join(" "), 96) {
                                let _ = writeln!(block, "    {row}");
                            }
                            block.push_str("};");
                            block
                        }
                    }
                }
            }
        };
        Some(format!("{}{text}\n", self.above))
    }
}

/// The items of a lib.rs after its `//!` header: `mod` declarations and `pub use`s, each
/// with the `#[...]` and `//` lines above it. Anything else is refused: export could not
/// carry it.
pub fn lib_items(source: &str) -> anyhow::Result<Vec<LibItem>> {
    let mut items = Vec::new();
    let mut above = String::new();
    let mut blank_before = false;
    let mut statement = String::new();
    for line in source.lines().skip_while(|l| l.starts_with("//!")) {
        let trimmed = line.trim();
        if statement.is_empty() {
            if trimmed.is_empty() {
                blank_before = true;
                above.clear();
                continue;
            }
            if trimmed.starts_with("#[") || trimmed.starts_with("//") {
                above.push_str(line);
                above.push('\n');
                continue;
            }
        }
        if !statement.is_empty() {
            statement.push('\n');
        }
        statement.push_str(line);
        // A statement may run over several lines: read it once it is whole.
        let Ok(item) = syn::parse_str::<syn::Item>(&statement) else {
            continue;
        };
        let text = std::mem::take(&mut statement);
        let kind = match item {
            syn::Item::Mod(module) if module.content.is_none() => ItemKind::Mod {
                name: module.ident.to_string(),
                text,
            },
            syn::Item::Use(use_item) if matches!(use_item.vis, syn::Visibility::Public(_)) => {
                let mut leaves = Vec::new();
                use_leaves(&[], &use_item.tree, &mut leaves);
                ItemKind::Use { text, leaves }
            }
            _ => bail!(
                "`{}`: export carries only `mod` and `pub use` items",
                text.trim()
            ),
        };
        items.push(LibItem {
            above: std::mem::take(&mut above),
            blank_before: std::mem::take(&mut blank_before),
            kind,
        });
    }
    if !statement.trim().is_empty() {
        bail!(
            "`{}` is not a whole item (does it end with `;`?)",
            statement.trim()
        );
    }
    Ok(items)
}

/// The leaves of `use` tree `tree` under path `prefix`: `{a::B, c::{D, E as F}}` gives
/// `a::B`, `c::D` and `c::E as F`.
fn use_leaves(prefix: &[String], tree: &syn::UseTree, out: &mut Vec<Leaf>) {
    let (segment, alias) = match tree {
        syn::UseTree::Path(path) => {
            let prefix = [prefix, &[path.ident.to_string()]].concat();
            return use_leaves(&prefix, &path.tree, out);
        }
        syn::UseTree::Group(group) => {
            for tree in &group.items {
                use_leaves(prefix, tree, out);
            }
            return;
        }
        syn::UseTree::Name(name) => (name.ident.to_string(), None),
        syn::UseTree::Rename(rename) => (rename.ident.to_string(), Some(rename.rename.to_string())),
        syn::UseTree::Glob(_) => ("*".to_string(), None),
    };
    let path = if segment == "self" {
        prefix.join("::")
    } else {
        [prefix, &[segment]].concat().join("::")
    };
    let name = alias
        .clone()
        .unwrap_or_else(|| path.rsplit("::").next().unwrap_or(&path).to_string());
    out.push(Leaf {
        module: path.split("::").next().unwrap_or_default().to_string(),
        name,
        text: match alias {
            Some(alias) => format!("{path} as {alias}"),
            None => path.clone(),
        },
    });
}
