//! README.md and README.zh-CN.md must say the same things. Their words differ, so what is
//! compared is what does not depend on the language:
//!
//! - the headings: as many, at the same levels, in the same order;
//! - the tables: as many, in the same order, each with as many columns and rows, and
//!   row by row the same key: the `code` of the first cell that has any (a binary, a
//!   module), or else the row's numbers (a benchmark row), plus every `cargo` command
//!   and link target in the row;
//! - the commands: every line of every fenced block (less its `# comment`), in order, and
//!   every inline `cargo …` command of the text;
//! - the images, by target.

use std::collections::BTreeMap;

/// What of a README can be compared across languages.
#[derive(Debug, Default, PartialEq)]
struct Outline {
    /// `(line, level)` of each heading.
    headings: Vec<(usize, usize)>,
    tables: Vec<Table>,
    /// `(line, command)` of each line in a fenced block.
    fenced: Vec<(usize, String)>,
    /// Inline `cargo …` commands outside tables, with how often each appears.
    commands: BTreeMap<String, usize>,
    images: Vec<String>,
}

#[derive(Debug, Default, PartialEq)]
struct Table {
    line: usize,
    columns: usize,
    /// `(line, key)` of each body row.
    rows: Vec<(usize, Vec<String>)>,
}

fn outline(text: &str) -> Outline {
    let mut outline = Outline::default();
    let mut in_fence = false;
    let mut table: Option<Table> = None;
    // The prose since the last blank line: a `code span` may run over a line break.
    let mut paragraph = String::new();
    for (i, line) in text.lines().chain([""]).enumerate() {
        let number = i + 1;
        let trimmed = line.trim();
        let prose = !in_fence
            && !trimmed.is_empty()
            && !trimmed.starts_with("```")
            && !trimmed.starts_with('|')
            && !trimmed.starts_with('#');
        if prose {
            paragraph.push_str(trimmed);
            paragraph.push(' ');
        } else {
            outline.read_prose(&paragraph);
            paragraph.clear();
        }
        if !trimmed.starts_with('|') {
            outline.tables.extend(table.take());
        }
        if trimmed.starts_with("```") {
            in_fence = !in_fence;
        } else if in_fence {
            let command = trimmed.split(" #").next().unwrap_or_default().trim_end();
            outline.fenced.push((number, command.to_string()));
        } else if trimmed.starts_with('|') {
            let cells = cells(trimmed);
            match &mut table {
                None => {
                    table = Some(Table {
                        line: number,
                        columns: cells.len(),
                        rows: Vec::new(),
                    });
                }
                Some(_) if cells.iter().all(|c| c.chars().all(|ch| "-: ".contains(ch))) => {}
                Some(table) => table.rows.push((number, row_key(&cells))),
            }
        } else {
            let level = trimmed.chars().take_while(|&c| c == '#').count();
            if level > 0 && trimmed[level..].starts_with(' ') {
                outline.headings.push((number, level));
            }
        }
    }
    outline
}

impl Outline {
    /// Notes the commands and images of a paragraph of prose.
    fn read_prose(&mut self, paragraph: &str) {
        for span in code_spans(paragraph) {
            if span.starts_with("cargo ") {
                *self.commands.entry(span).or_default() += 1;
            }
        }
        for (image, target) in link_targets(paragraph) {
            if image {
                self.images.push(target);
            }
        }
    }
}

/// A table row's cells, without the outer pipes.
fn cells(row: &str) -> Vec<&str> {
    let inner = row.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(str::trim).collect()
}

/// What identifies a row in either language; see the module docs.
fn row_key(cells: &[&str]) -> Vec<String> {
    let mut key: Vec<String> = match cells.iter().find(|c| !code_spans(c).is_empty()) {
        Some(cell) => code_spans(cell),
        None => {
            let mut numbers = numbers(&cells.join(" "));
            numbers.sort();
            numbers
        }
    };
    let row = cells.join(" | ");
    key.extend(
        code_spans(&row)
            .into_iter()
            .filter(|s| s.starts_with("cargo ")),
    );
    let mut targets: Vec<String> = link_targets(&row).into_iter().map(|(_, t)| t).collect();
    targets.sort();
    key.extend(targets);
    key
}

/// The text of each `code span`.
fn code_spans(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// Each number, such as `25.7` in `25.7 ms`.
fn numbers(text: &str) -> Vec<String> {
    let mut numbers = Vec::new();
    let mut current = String::new();
    for c in text.chars().chain([' ']) {
        if c.is_ascii_digit() || (c == '.' && !current.is_empty()) {
            current.push(c);
        } else if !current.is_empty() {
            numbers.push(current.trim_end_matches('.').to_string());
            current.clear();
        }
    }
    numbers
}

/// `(is an image, target)` of each `[text](target)` and `![alt](target)`.
fn link_targets(text: &str) -> Vec<(bool, String)> {
    let mut targets = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        let image = rest[..at]
            .rfind('[')
            .is_some_and(|open| rest[..open].ends_with('!'));
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else { break };
        targets.push((image, after[..end].to_string()));
        rest = &after[end..];
    }
    targets
}

/// Every way `zh` does not say what `en` says, as messages naming lines in both.
fn differences(en: &Outline, zh: &Outline) -> Vec<String> {
    const EN: &str = "README.md";
    const ZH: &str = "README.zh-CN.md";
    let mut found = Vec::new();
    let levels = |o: &Outline| o.headings.iter().map(|h| h.1).collect::<Vec<_>>();
    if levels(en) != levels(zh) {
        let at = en
            .headings
            .iter()
            .zip(&zh.headings)
            .position(|(a, b)| a.1 != b.1)
            .unwrap_or(en.headings.len().min(zh.headings.len()));
        let line = |o: &Outline| {
            o.headings.get(at).map_or("none".to_string(), |h| {
                format!("line {} (level {})", h.0, h.1)
            })
        };
        found.push(format!(
            "headings differ: {EN} has {}, {ZH} has {}; heading {} is {EN} {} but {ZH} {}",
            en.headings.len(),
            zh.headings.len(),
            at + 1,
            line(en),
            line(zh)
        ));
    }
    if en.tables.len() != zh.tables.len() {
        found.push(format!(
            "{EN} has {} tables, {ZH} has {}",
            en.tables.len(),
            zh.tables.len()
        ));
    }
    for (a, b) in en.tables.iter().zip(&zh.tables) {
        let tables = format!("the tables at {EN}:{} and {ZH}:{}", a.line, b.line);
        if a.columns != b.columns {
            found.push(format!(
                "{tables} have {} and {} columns",
                a.columns, b.columns
            ));
        }
        if a.rows.len() != b.rows.len() {
            found.push(format!(
                "{tables} have {} and {} rows",
                a.rows.len(),
                b.rows.len()
            ));
        }
        for ((la, ka), (lb, kb)) in a.rows.iter().zip(&b.rows) {
            if ka != kb {
                found.push(format!(
                    "{tables}: row {EN}:{la} is {ka:?} but row {ZH}:{lb} is {kb:?}"
                ));
                break; // the rows after a missing one all differ: name the first
            }
        }
    }
    let commands = |o: &Outline| o.fenced.iter().map(|f| f.1.clone()).collect::<Vec<_>>();
    if commands(en) != commands(zh) {
        found.push(format!(
            "fenced commands differ:\n  {EN}: {:?}\n  {ZH}: {:?}",
            commands(en),
            commands(zh)
        ));
    }
    if en.commands != zh.commands {
        found.push(format!(
            "inline cargo commands differ:\n  {EN}: {:?}\n  {ZH}: {:?}",
            en.commands, zh.commands
        ));
    }
    if en.images != zh.images {
        found.push(format!(
            "images differ: {EN} {:?}, {ZH} {:?}",
            en.images, zh.images
        ));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::Path;

    fn read(name: &str) -> String {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        fs::read_to_string(root.join(name)).unwrap()
    }

    fn readmes() -> (String, String) {
        (read("README.md"), read("README.zh-CN.md"))
    }

    /// `text` without its lines for which `drop` is true (only the first such line).
    fn without_first(text: &str, drop: impl Fn(&str) -> bool) -> String {
        let mut dropped = false;
        text.lines()
            .filter(|line| {
                if !dropped && drop(line) {
                    dropped = true;
                    return false;
                }
                true
            })
            .map(|line| format!("{line}\n"))
            .collect()
    }

    fn problems(en: &str, zh: &str) -> String {
        differences(&outline(en), &outline(zh)).join("\n")
    }

    #[test]
    fn the_two_readmes_say_the_same_things() {
        let (en, zh) = readmes();
        let found = differences(&outline(&en), &outline(&zh));
        assert!(found.is_empty(), "{}", found.join("\n\n"));
    }

    #[test]
    fn the_outline_sees_what_it_compares() {
        let (en, _) = readmes();
        let o = outline(&en);
        assert!(o.headings.len() >= 8, "{:?}", o.headings);
        assert!(o.tables.len() >= 3, "{:?}", o.tables.len());
        let examples = o
            .tables
            .iter()
            .find(|t| t.rows.first().is_some_and(|r| r.1.len() >= 2))
            .expect("a table whose rows carry code: the examples");
        assert!(examples.rows.len() >= 14);
        assert_eq!(
            examples.rows[0].1[..2],
            [
                "process_basic".to_string(),
                "cargo run -p multiprocess --bin process_basic".to_string()
            ]
        );
        assert!(o.fenced.iter().any(|f| f.1 == "cargo xtask verify"));
        assert!(o.commands.contains_key("cargo xtask bench --quick"));
        assert_eq!(o.images, ["docs/bench/speedup.svg"]);
    }

    #[test]
    fn a_missing_heading_is_caught() {
        let (en, zh) = readmes();
        let zh = without_first(&zh, |l| l.starts_with("## "));
        let found = problems(&en, &zh);
        assert!(found.contains("headings differ"), "{found}");
        let en = without_first(&en, |l| l.starts_with("## Errors"));
        let found = problems(&en, &read("README.zh-CN.md"));
        assert!(found.contains("headings differ"), "{found}");
    }

    /// The row count of the one table that lost a row between `before` and `after`.
    fn shrunk_table(before: &str, after: &str) -> usize {
        let rows = |text: &str| -> Vec<usize> {
            outline(text).tables.iter().map(|t| t.rows.len()).collect()
        };
        let (before, after) = (rows(before), rows(after));
        let shrunk: Vec<usize> = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| *a + 1 == **b)
            .map(|(b, _)| *b)
            .collect();
        assert_eq!(shrunk.len(), 1, "{before:?} -> {after:?}");
        shrunk[0]
    }

    #[test]
    fn a_missing_row_is_caught() {
        let (en, zh) = readmes();
        let cut = without_first(&zh, |l| l.contains("| `thread_queue` |"));
        let n = shrunk_table(&zh, &cut);
        let found = problems(&en, &cut);
        assert!(
            found.contains(&format!("have {n} and {} rows", n - 1)),
            "{found}"
        );
        assert!(found.contains("\"thread_queue\""), "{found}");
        // A benchmark row, which has no binary to name it: its numbers do, such as its
        // bold speedup over Python (read here, so that a new bench run keeps the test).
        let value_row = |l: &str| l.starts_with("| shared Value |");
        let row = en.lines().find(|l| value_row(l)).unwrap();
        let speedup = row.split("**").nth(1).unwrap().trim_end_matches('×');
        let cut = without_first(&en, value_row);
        let n = shrunk_table(&en, &cut);
        let found = problems(&cut, &zh);
        assert!(
            found.contains(&format!("have {} and {n} rows", n - 1)),
            "{found}"
        );
        assert!(found.contains(&format!("\"{speedup}\"")), "{found}");
    }

    #[test]
    fn a_row_with_other_numbers_or_command_is_caught() {
        let (en, zh) = readmes();
        // One benchmark number changed: the bold speedup of the shared Value row.
        let row = zh
            .lines()
            .find(|l| l.starts_with("| 共享 Value |"))
            .unwrap();
        let speedup = row.split("**").nth(1).unwrap().trim_end_matches('×');
        let changed_row = row.replacen(speedup, &format!("{speedup}9"), 1);
        let zh_changed = zh.replacen(row, &changed_row, 1);
        assert_ne!(zh, zh_changed);
        let found = problems(&en, &zh_changed);
        assert!(found.contains(&format!("{speedup}9")), "{found}");
        let zh_changed = zh.replacen(
            "cargo run -p multithread --bin thread_pool",
            "cargo run --bin thread_pool",
            1,
        );
        let found = problems(&en, &zh_changed);
        assert!(found.contains("cargo run --bin thread_pool"), "{found}");
    }

    #[test]
    fn a_changed_or_missing_command_is_caught() {
        let (en, zh) = readmes();
        let zh_changed = zh.replacen("cargo test --workspace", "cargo test", 1);
        let found = problems(&en, &zh_changed);
        assert!(found.contains("fenced commands differ"), "{found}");
        let zh_changed = zh.replacen("`cargo xtask bench --quick`", "快速模式", 1);
        let found = problems(&en, &zh_changed);
        assert!(found.contains("inline cargo commands differ"), "{found}");
    }

    #[test]
    fn the_parts_read_as_meant() {
        assert_eq!(cells("| `a` | b c | 1.5 ms |"), ["`a`", "b c", "1.5 ms"]);
        assert_eq!(code_spans("x `a` y `b c` z"), ["a", "b c"]);
        assert_eq!(
            numbers("25.7 ms · 2.1 MiB, 11.1×. 3."),
            ["25.7", "2.1", "11.1", "3"]
        );
        assert_eq!(
            link_targets("[a](x.md) and ![b](y.svg)"),
            [(false, "x.md".to_string()), (true, "y.svg".to_string())]
        );
        let key = row_key(&[
            "多进程",
            "`process_basic`",
            "`cargo run -p m`",
            "[图](t/p.svg)",
        ]);
        assert_eq!(key, ["process_basic", "cargo run -p m", "t/p.svg"]);
        let key = row_key(&["进程", "200 个", "2.5 ms"]);
        assert_eq!(key, ["2.5", "200"]);
    }
}
