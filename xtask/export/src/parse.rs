//! What export reads from source text: a module header's "Copying it" section, the
//! `[dependencies]` lines in it, a lib.rs's modules and re-exports, the paths Rust code
//! names, and the root manifest's lint tables. Small readers for the forms this workspace
//! writes, each refusing with a clear error what it does not know.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Context, bail};

/// One crate dependency: `name = { version, default-features, features }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dep {
    pub version: String,
    pub default_features: bool,
    pub features: Vec<String>,
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

/// The root manifest's `[workspace.lints.*]` tables as a package's `[lints.*]` tables.
pub fn lint_tables(root_toml: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in root_toml.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            inside = trimmed.starts_with("[workspace.lints.");
            if inside {
                if !out.is_empty() {
                    out.push('\n');
                }
                let _ = writeln!(out, "[{}", &trimmed["[workspace.".len()..]);
                continue;
            }
        }
        if inside && !trimmed.is_empty() {
            let _ = writeln!(out, "{line}");
        }
    }
    out
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
    for rest in path_starts(&code_only(source), "super") {
        let word: String = rest.chars().take_while(|&c| is_ident(c)).collect();
        if !word.is_empty() && !reaches.contains(&word) {
            reaches.push(word);
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

/// The lines of a `[dependencies]` table in the forms a header uses: `name = "1"` and
/// `name = { version = "1", default-features = false, features = ["a", "b"] }`.
pub fn parse_dependencies(lines: &[&str]) -> anyhow::Result<BTreeMap<String, Dep>> {
    let mut deps = BTreeMap::new();
    let mut in_table = false;
    for line in lines {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            if line != "[dependencies]" {
                bail!("`{line}`: only a [dependencies] table can be read here");
            }
            in_table = true;
            continue;
        }
        if !in_table {
            bail!("`{line}` comes before the [dependencies] line");
        }
        let (name, value) = line
            .split_once('=')
            .with_context(|| format!("`{line}` is not `name = ...`"))?;
        let name = name.trim().to_string();
        let dep = parse_dep(value.trim()).with_context(|| format!("reading `{line}`"))?;
        if deps.insert(name.clone(), dep).is_some() {
            bail!("`{name}` is listed twice");
        }
    }
    Ok(deps)
}

fn parse_dep(value: &str) -> anyhow::Result<Dep> {
    if let Some(version) = quoted(value) {
        return Ok(Dep {
            version: version.to_string(),
            default_features: true,
            features: Vec::new(),
        });
    }
    let inner = value
        .strip_prefix('{')
        .and_then(|v| v.strip_suffix('}'))
        .context("a version string or an inline table `{ ... }` was expected")?;
    let mut dep = Dep {
        version: String::new(),
        default_features: true,
        features: Vec::new(),
    };
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once('=')
            .with_context(|| format!("`{rest}` is not `key = value`"))?;
        let after = after.trim_start();
        let (value, next) = if after.starts_with('[') {
            let end = after.find(']').context("a `[` is not closed")?;
            after.split_at(end + 1)
        } else {
            after.split_at(after.find(',').unwrap_or(after.len()))
        };
        let value = value.trim();
        match key.trim() {
            "version" => {
                dep.version = quoted(value)
                    .context("version must be a quoted string")?
                    .to_string();
            }
            "default-features" => {
                dep.default_features = match value {
                    "true" => true,
                    "false" => false,
                    _ => bail!("default-features must be true or false, got `{value}`"),
                };
            }
            "features" => {
                let list = value
                    .strip_prefix('[')
                    .and_then(|v| v.strip_suffix(']'))
                    .context("features must be a list")?;
                for feature in list.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                    dep.features.push(
                        quoted(feature)
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
        rest = next.trim_start().strip_prefix(',').unwrap_or(next).trim();
    }
    if dep.version.is_empty() {
        bail!("no version given");
    }
    Ok(dep)
}

fn quoted(value: &str) -> Option<&str> {
    value
        .strip_prefix('"')?
        .strip_suffix('"')
        .filter(|v| !v.contains('"'))
}

/// Rust source with its comments and the contents of string and character literals
/// blanked out, so that only code is searched for paths.
pub fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&chars, i) {
            // A raw string: r"..." or r#"..."#.
            let hashes = chars[i + 1..].iter().take_while(|&&c| c == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let close: String = std::iter::once('"')
                .chain("#".repeat(hashes).chars())
                .collect();
            let body: String = chars[i + 2 + hashes..].iter().collect();
            let len = body.find(&close).map_or(body.len(), |at| at + close.len());
            i += 2 + hashes + body[..len].chars().count();
            out.push_str("\"\"");
        } else if c == '\'' {
            // A character literal ('x', '\n'), or else a lifetime, which stays.
            let end = if next == Some('\\') {
                chars
                    .get(i + 3..)
                    .and_then(|rest| rest.iter().position(|&c| c == '\''))
                    .map(|p| i + 3 + p)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    out.push_str("' '");
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

pub fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Where `code` names `name::` as a path's first segment.
pub fn path_starts<'a>(code: &'a str, name: &str) -> Vec<&'a str> {
    let pattern = format!("{name}::");
    code.match_indices(&pattern)
        .filter_map(|(at, _)| {
            let before = code[..at].chars().next_back();
            let starts_path = before.is_none_or(|c| !is_ident(c) && c != ':');
            starts_path.then(|| &code[at + pattern.len()..])
        })
        .collect()
}

/// Whether `code` names crate `krate` (`crossbeam-channel` is `crossbeam_channel::`).
pub fn names_crate(code: &str, krate: &str) -> bool {
    !path_starts(code, &krate.replace('-', "_")).is_empty()
}

/// The first segment of every path `code` reaches through `shared::`: `shared::Pool` and
/// `shared::pool::Pool` give `Pool` and `pool`, `shared::{Array, queue::Queue}` gives
/// `Array` and `queue`, and a glob gives `*`.
pub fn shared_paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for rest in path_starts(code, "shared") {
        let rest = rest.trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && depth == 0 && (is_ident(c) || c == '*') => {
                        item_start = false;
                        let word: String = if c == '*' {
                            "*".into()
                        } else {
                            group[i..].chars().take_while(|&c| is_ident(c)).collect()
                        };
                        if word != "self" {
                            found.push(word);
                        }
                    }
                    _ => {}
                }
            }
        } else if rest.starts_with('*') {
            found.push("*".to_string());
        } else {
            let word: String = rest.chars().take_while(|&c| is_ident(c)).collect();
            if !word.is_empty() {
                found.push(word);
            }
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
        if !code_only(trimmed).trim_end().ends_with(';') {
            continue;
        }
        let text = std::mem::take(&mut statement);
        let words: String = code_only(&text)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let kind = if let Some(name) = words
            .strip_prefix("pub mod ")
            .or_else(|| words.strip_prefix("mod "))
            .and_then(|rest| rest.strip_suffix(';'))
            .filter(|name| name.chars().all(is_ident))
        {
            ItemKind::Mod {
                name: name.to_string(),
                text,
            }
        } else if let Some(tree) = words
            .strip_prefix("pub use ")
            .and_then(|rest| rest.strip_suffix(';'))
        {
            let mut leaves = Vec::new();
            use_leaves("", tree, &mut leaves);
            ItemKind::Use { text, leaves }
        } else {
            bail!("`{}`: export carries only `mod` and `pub use` items", words);
        };
        items.push(LibItem {
            above: std::mem::take(&mut above),
            blank_before: std::mem::take(&mut blank_before),
            kind,
        });
    }
    if !statement.trim().is_empty() {
        bail!("`{}` does not end with `;`", statement.trim());
    }
    Ok(items)
}

/// The leaves of `use` tree `tree` under path `prefix`: `{a::B, c::{D, E as F}}` gives
/// `a::B`, `c::D` and `c::E as F`.
fn use_leaves(prefix: &str, tree: &str, out: &mut Vec<Leaf>) {
    let tree = tree.trim();
    if let Some(group) = tree.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in group.char_indices().chain([(group.len(), ',')]) {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    if !group[start..i].trim().is_empty() {
                        use_leaves(prefix, &group[start..i], out);
                    }
                    start = i + 1;
                }
                _ => {}
            }
        }
        return;
    }
    if let Some((head, rest)) = tree.split_once("::")
        && !head.contains('{')
    {
        return use_leaves(&format!("{prefix}{}::", head.trim()), rest, out);
    }
    let (segment, alias) = match tree.split_once(" as ") {
        Some((segment, alias)) => (segment.trim(), Some(alias.trim())),
        None => (tree, None),
    };
    let path = if segment == "self" {
        prefix.trim_end_matches("::").to_string()
    } else {
        format!("{prefix}{segment}")
    };
    let name = alias.unwrap_or_else(|| path.rsplit("::").next().unwrap_or(&path));
    out.push(Leaf {
        module: path.split("::").next().unwrap_or_default().to_string(),
        name: name.to_string(),
        text: match alias {
            Some(alias) => format!("{path} as {alias}"),
            None => path.clone(),
        },
    });
}
