//! README.md and README.zh-CN.md must say the same things. Their words differ, so what is
//! compared is what does not depend on the language:
//!
//! - the headings: as many, at the same levels, in the same order;
//! - the tables: as many, in the same order, each with as many columns and rows, and
//!   row by row the same key: the `code` of the first cell that has any (a binary, a
//!   module), or else the row's numbers (a benchmark row), plus every `cargo` command
//!   and link target in the row (a link to the Chinese book or README counts as the same
//!   link to the English one);
//! - the commands: every line of every fenced block (less its `# comment`), in order, and
//!   every inline `cargo …` command of the text;
//! - the images, by target.

use std::collections::BTreeMap;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// What of a README can be compared across languages.
#[derive(Debug, Default, PartialEq)]
struct Outline {
    /// `(line, level)` of each heading.
    headings: Vec<(usize, usize)>,
    tables: Vec<Table>,
    /// `(line, command)` of each line in a fenced block.
    fenced: Vec<(usize, String)>,
    /// Inline `cargo …` commands outside tables and headings, with how often each appears.
    commands: BTreeMap<String, usize>,
    /// Images outside tables, by target.
    images: Vec<String>,
}

#[derive(Debug, Default, PartialEq)]
struct Table {
    line: usize,
    columns: usize,
    /// `(line, key)` of each body row.
    rows: Vec<(usize, Vec<String>)>,
}

/// What a table cell holds that [`row_key`] reads.
#[derive(Debug, Default)]
struct Cell {
    /// Its `code spans`.
    code: Vec<String>,
    /// The targets of its links and images.
    targets: Vec<String>,
    /// Its plain text, for the numbers in it.
    text: String,
}

/// Reads `text` as CommonMark (with tables) and notes what [`differences`] compares.
fn outline(text: &str) -> Outline {
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut outline = Outline::default();
    let mut table: Option<Table> = None;
    let mut in_head = false;
    let mut row: Option<(usize, Vec<Cell>)> = None;
    let mut in_heading = false;
    let mut in_fence = false;
    for (event, range) in Parser::new_ext(text, Options::ENABLE_TABLES).into_offset_iter() {
        let cell = row.as_mut().and_then(|(_, cells)| cells.last_mut());
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                in_heading = true;
                outline
                    .headings
                    .push((line_of(range.start), level as usize));
            }
            Event::End(TagEnd::Heading(_)) => in_heading = false,
            Event::Start(Tag::Table(alignments)) => {
                table = Some(Table {
                    line: line_of(range.start),
                    columns: alignments.len(),
                    rows: Vec::new(),
                });
            }
            Event::End(TagEnd::Table) => outline.tables.extend(table.take()),
            Event::Start(Tag::TableHead) => in_head = true,
            Event::End(TagEnd::TableHead) => in_head = false,
            Event::Start(Tag::TableRow) => row = Some((line_of(range.start), Vec::new())),
            Event::End(TagEnd::TableRow) => {
                if let (Some(table), Some((line, cells))) = (&mut table, row.take()) {
                    table.rows.push((line, row_key(&cells)));
                }
            }
            Event::Start(Tag::TableCell) => {
                if let Some((_, cells)) = &mut row {
                    cells.push(Cell::default());
                }
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_))) => in_fence = true,
            Event::End(TagEnd::CodeBlock) => in_fence = false,
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. })
                if cell.is_some() =>
            {
                cell.expect("checked").targets.push(in_english(&dest_url));
            }
            Event::Start(Tag::Image { dest_url, .. }) if table.is_none() => {
                outline.images.push(dest_url.to_string());
            }
            Event::Code(code) => match cell {
                Some(cell) => cell.code.push(code.to_string()),
                None if !in_heading && table.is_none() && code.starts_with("cargo ") => {
                    *outline.commands.entry(code.to_string()).or_default() += 1;
                }
                None => {}
            },
            Event::Text(body) if in_fence => {
                let first = line_of(range.start);
                for (i, line) in body.lines().enumerate() {
                    let command = line.trim().split(" #").next().unwrap_or_default();
                    outline
                        .fenced
                        .push((first + i, command.trim_end().to_string()));
                }
            }
            Event::Text(words) => {
                if let Some(cell) = cell {
                    cell.text.push_str(&words);
                    cell.text.push(' ');
                }
            }
            _ => {}
        }
        // A header row is no body row.
        if in_head {
            row = None;
        }
    }
    outline
}

/// A link's target, with a Chinese book page or README named by its English twin.
fn in_english(target: &str) -> String {
    target
        .replacen("book/zh/", "book/en/", 1)
        .replace(".zh-CN.md", ".md")
}

/// What identifies a row in either language; see the module docs.
fn row_key(cells: &[Cell]) -> Vec<String> {
    let mut key: Vec<String> = match cells.iter().find(|c| !c.code.is_empty()) {
        Some(cell) => cell.code.clone(),
        None => {
            let text: Vec<&str> = cells.iter().map(|c| c.text.as_str()).collect();
            let mut numbers = numbers(&text.join(" "));
            numbers.sort();
            numbers
        }
    };
    key.extend(
        cells
            .iter()
            .flat_map(|c| &c.code)
            .filter(|s| s.starts_with("cargo "))
            .cloned(),
    );
    let mut targets: Vec<String> = cells.iter().flat_map(|c| c.targets.clone()).collect();
    targets.sort();
    key.extend(targets);
    key
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

    /// `(example, page)` for each `src/bin/EXAMPLE.rs` a page of `book/LANG/src` includes,
    /// the page relative to that folder.
    fn included_examples(lang: &str) -> Vec<(String, String)> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../book/{lang}/src"));
        let mut found = Vec::new();
        for chapter in fs::read_dir(&src).unwrap().flatten() {
            let Ok(pages) = fs::read_dir(chapter.path()) else {
                continue; // a page at the top, such as the introduction
            };
            for page in pages.flatten() {
                let text = fs::read_to_string(page.path()).unwrap();
                // As a link names it, with `/` on every system.
                let name = format!(
                    "{}/{}",
                    chapter.file_name().to_string_lossy(),
                    page.file_name().to_string_lossy()
                );
                for path in crate::book::includes(&text) {
                    if let Some((_, file)) = path.split_once("/src/bin/") {
                        let example = file.strip_suffix(".rs").unwrap_or(file);
                        found.push((example.to_string(), name.clone()));
                    }
                }
            }
        }
        found
    }

    /// What the examples table of `readme` lacks: a row for each example in `included`,
    /// linking the page of `book/LANG/src` that includes it.
    fn unlinked(readme: &str, lang: &str, included: &[(String, String)]) -> Vec<String> {
        let mut missing = Vec::new();
        for (example, page) in included {
            let link = format!("](book/{lang}/src/{page})");
            let cell = format!("| `{example}` |");
            match readme
                .lines()
                .find(|l| l.starts_with('|') && l.contains(&cell))
            {
                None => missing.push(format!("no row for `{example}`")),
                Some(row) if !row.contains(&link) => {
                    missing.push(format!("the row of `{example}` does not link {link}"));
                }
                Some(_) => {}
            }
        }
        missing
    }

    #[test]
    fn every_example_links_the_book_page_that_includes_it() {
        for (readme, lang) in [("README.md", "en"), ("README.zh-CN.md", "zh")] {
            let included = included_examples(lang);
            assert!(included.len() >= 26, "{lang}: {included:?}");
            let missing = unlinked(&read(readme), lang, &included);
            assert!(missing.is_empty(), "{readme}: {}", missing.join("\n"));
        }
        // A link to another page, and no row at all, are caught.
        let (en, _) = readmes();
        let included = included_examples("en");
        let moved = en.replacen(
            "[page](book/en/src/multiprocessing/shared-memory.md)",
            "[page](book/en/src/multiprocessing/pool.md)",
            1,
        );
        let found = unlinked(&moved, "en", &included);
        assert_eq!(
            found,
            ["the row of `shared_memory` does not link \
              ](book/en/src/multiprocessing/shared-memory.md)"]
        );
        let cut = without_first(&en, |l| l.contains("| `pool_rayon` |"));
        assert_eq!(unlinked(&cut, "en", &included), ["no row for `pool_rayon`"]);
    }

    #[test]
    fn the_outline_sees_what_it_compares() {
        let (en, _) = readmes();
        let o = outline(&en);
        assert!(o.headings.len() >= 8, "{:?}", o.headings);
        assert!(o.tables.len() >= 2, "{:?}", o.tables.len());
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
        assert!(o.commands.contains_key("cargo xtask bench"));
        assert_eq!(o.images, ["docs/bench/speedup.svg"]);
    }

    #[test]
    fn a_missing_heading_is_caught() {
        let (en, zh) = readmes();
        let zh = without_first(&zh, |l| l.starts_with("## "));
        let found = problems(&en, &zh);
        assert!(found.contains("headings differ"), "{found}");
        let en = without_first(&en, |l| l.starts_with("## Benchmarks"));
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
    }

    #[test]
    fn a_row_with_another_link_or_command_is_caught() {
        let (en, zh) = readmes();
        // The Chinese page is the English one's twin; another page is not.
        assert!(problems(&en, &zh).is_empty());
        let zh_changed = zh.replacen(
            "[本页](book/zh/src/threading/thread-pool.md)",
            "[本页](book/zh/src/threading/basics.md)",
            1,
        );
        assert_ne!(zh, zh_changed);
        let found = problems(&en, &zh_changed);
        assert!(found.contains("book/en/src/threading/basics.md"), "{found}");
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
        let zh_changed = zh.replacen("`cargo xtask bench`", "基准测试命令", 1);
        let found = problems(&en, &zh_changed);
        assert!(found.contains("inline cargo commands differ"), "{found}");
    }

    #[test]
    fn the_parts_read_as_meant() {
        assert_eq!(
            numbers("25.7 ms · 2.1 MiB, 11.1×. 3."),
            ["25.7", "2.1", "11.1", "3"]
        );
        let text = "\
# Title `cargo no`

Run `cargo a` and `cargo
b`, not `cargo a` in a fence:

```sh
cargo a     # a comment
```

| what | name | how |
|---|---|---|
| 多进程 | `process_basic` | `cargo run -p m` · [图](t/p.svg) |
| 进程 | 200 个 | **2.5** ms |

![chart](c.svg)
";
        let o = outline(text);
        assert_eq!(o.headings, [(1, 1)]);
        assert_eq!(o.fenced, [(7, "cargo a".to_string())]);
        let commands: Vec<(&str, usize)> =
            o.commands.iter().map(|(c, n)| (c.as_str(), *n)).collect();
        assert_eq!(commands, [("cargo a", 2), ("cargo b", 1)]);
        assert_eq!(o.images, ["c.svg"]);
        assert_eq!(o.tables.len(), 1);
        let table = &o.tables[0];
        assert_eq!((table.line, table.columns), (10, 3));
        assert_eq!(
            table.rows,
            [
                (
                    12,
                    vec![
                        "process_basic".into(),
                        "cargo run -p m".into(),
                        "t/p.svg".into()
                    ]
                ),
                (13, vec!["2.5".into(), "200".into()]),
            ]
        );
    }
}
