//! The book's sources, checked without building it: both languages list the same pages,
//! every `{{#include}}` and every relative link or picture resolves, and each book includes
//! every example and every refused program. (`.ci/run` also builds both books
//! with mdbook, and fails on any error or warning it prints.)

use std::fs;
use std::path::{Component, Path, PathBuf};

/// The two books, each a translation of the other.
const BOOKS: [&str; 2] = ["book/en", "book/zh"];

/// Where a page's pictures are: `../timeline/NAME.svg` is docs/timeline/NAME.svg, which
/// .ci/book copies into each built book's `timeline/` (a copy, not a symbolic link, which
/// a Windows checkout would not have).
const PICTURES: (&str, &str) = ("timeline", "docs/timeline");

/// The folders whose every file a book must include: the chapters written so far.
const INCLUDED: [(&str, &str); 7] = [
    ("multiprocess/src/bin", "rs"),
    ("multiprocess/refused", ""),
    ("multithread/src/bin", "rs"),
    ("multithread/refused", ""),
    ("multithread/loom/tests", "rs"),
    ("async/src/bin", "rs"),
    ("async/refused", ""),
];

/// The pages `SUMMARY.md` lists, in order.
fn summary_pages(summary: &str) -> Vec<String> {
    links(summary)
        .into_iter()
        .filter(|target| target.ends_with(".md"))
        .collect()
}

/// Every `](target)` in `text`: markdown links and pictures.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            found.push(rest[..end].to_string());
        }
    }
    found
}

/// Every `{{#include PATH}}` in `text`.
pub(crate) fn includes(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("{{#include ") {
        rest = &rest[at + "{{#include ".len()..];
        if let Some(end) = rest.find("}}") {
            found.push(rest[..end].trim().to_string());
        }
    }
    found
}

/// `path` with its `..` and `.` taken out, as a built site resolves it.
fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// What is wrong with the book at `book` (a folder holding `src/`), its pages read from
/// `root` (the workspace) so that includes and links outside the book resolve.
fn problems(root: &Path, book: &str) -> Vec<String> {
    let src = root.join(book).join("src");
    let mut problems = Vec::new();
    let Ok(summary) = fs::read_to_string(src.join("SUMMARY.md")) else {
        return vec![format!("{book}: no src/SUMMARY.md")];
    };
    for page in summary_pages(&summary) {
        let path = src.join(&page);
        let Ok(text) = fs::read_to_string(&path) else {
            problems.push(format!(
                "{book}: SUMMARY.md lists {page}, which does not exist"
            ));
            continue;
        };
        let dir = path.parent().expect("a page is in a folder");
        for include in includes(&text) {
            if !dir.join(&include).is_file() {
                problems.push(format!("{book}/src/{page}: includes {include}, not a file"));
            }
        }
        for link in links(&text) {
            if link.contains("://") || link.starts_with('#') {
                continue;
            }
            let link = link.split('#').next().unwrap_or_default();
            // A built page links to the other language's built page: book/build/en/x.html is
            // book/en/src/x.md, and ../zh/ is the other book.
            let target = if let Some(html) = link.strip_suffix(".html") {
                let built = normal(&Path::new(book).join(&page).join("..").join(html));
                let other = built.strip_prefix("book").ok().and_then(|rel| {
                    let mut parts = rel.components();
                    let language = parts.next()?;
                    Some(
                        root.join("book")
                            .join(language)
                            .join("src")
                            .join(parts.as_path()),
                    )
                });
                other.map(|p| p.with_extension("md"))
            } else {
                let target = normal(&dir.join(link));
                let pictures = normal(&src.join(PICTURES.0));
                match target.strip_prefix(&pictures) {
                    Ok(picture) => Some(root.join(PICTURES.1).join(picture)),
                    Err(_) => Some(target),
                }
            };
            if !target.is_some_and(|t| t.exists()) {
                problems.push(format!(
                    "{book}/src/{page}: links to {link}, which is not there"
                ));
            }
        }
    }
    problems
}

/// Every file in the [`INCLUDED`] folders that no page of `book` includes.
fn not_included(root: &Path, book: &str) -> Vec<String> {
    let src = root.join(book).join("src");
    let summary = fs::read_to_string(src.join("SUMMARY.md")).unwrap_or_default();
    let mut included = Vec::new();
    for page in summary_pages(&summary) {
        let path = src.join(&page);
        let text = fs::read_to_string(&path).unwrap_or_default();
        let dir = path.parent().expect("a page is in a folder");
        included.extend(includes(&text).iter().map(|i| normal(&dir.join(i))));
    }
    let mut missing = Vec::new();
    for (folder, extension) in INCLUDED {
        let Ok(entries) = fs::read_dir(root.join(folder)) else {
            missing.push(format!("{folder}: not a folder"));
            continue;
        };
        for entry in entries.flatten() {
            let path = normal(&entry.path());
            let wanted = extension.is_empty() || path.extension().is_some_and(|e| e == extension);
            if wanted && !included.contains(&path) {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                missing.push(format!("{book}: no page includes {folder}/{name}"));
            }
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        normal(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
    }

    #[test]
    fn both_books_have_the_same_pages_and_everything_resolves() {
        let root = root();
        let pages: Vec<Vec<String>> = BOOKS
            .iter()
            .map(|book| {
                let summary = fs::read_to_string(root.join(book).join("src/SUMMARY.md"));
                summary_pages(&summary.unwrap())
            })
            .collect();
        assert!(pages[0].len() >= 6, "{:?}", pages[0]);
        assert_eq!(
            pages[0], pages[1],
            "both books list the same pages, in order"
        );
        let mut all = Vec::new();
        for book in BOOKS {
            all.extend(problems(&root, book));
            all.extend(not_included(&root, book));
        }
        assert!(all.is_empty(), "{}", all.join("\n"));
    }

    #[test]
    fn a_broken_include_link_or_picture_and_a_missing_example_are_caught() {
        let root = std::env::temp_dir().join(format!("xtask-book-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for book in BOOKS {
            fs::create_dir_all(root.join(book).join("src/threading")).unwrap();
            fs::write(
                root.join(book).join("src/SUMMARY.md"),
                "# Summary\n\n- [One](threading/one.md)\n- [Gone](threading/gone.md)\n",
            )
            .unwrap();
        }
        fs::create_dir_all(root.join("multithread/src/bin")).unwrap();
        fs::create_dir_all(root.join("multithread/refused")).unwrap();
        fs::write(root.join("multithread/src/bin/shown.rs"), "").unwrap();
        fs::create_dir_all(root.join("docs/timeline")).unwrap();
        fs::write(root.join("docs/timeline/there.svg"), "").unwrap();
        fs::write(root.join("multithread/src/bin/unshown.rs"), "").unwrap();
        fs::write(
            root.join("book/en/src/threading/one.md"),
            "```rust\n{{#include ../../../../multithread/src/bin/shown.rs}}\n```\n\
             ```rust\n{{#include ../../../../multithread/src/bin/moved.rs}}\n```\n\
             [other](../../zh/threading/one.html) [lost](../../zh/threading/lost.html)\n\
             ![pic](../timeline/none.svg) ![pic](../timeline/there.svg) [web](https://x.org)\n",
        )
        .unwrap();
        fs::write(root.join("book/zh/src/threading/one.md"), "").unwrap();
        let found = problems(&root, "book/en").join("\n");
        let missing = not_included(&root, "book/en").join("\n");
        let _ = fs::remove_dir_all(&root);
        assert!(
            found.contains("lists threading/gone.md, which does not exist"),
            "{found}"
        );
        assert!(
            found.contains("includes ../../../../multithread/src/bin/moved.rs"),
            "{found}"
        );
        assert!(
            found.contains("links to ../../zh/threading/lost.html"),
            "{found}"
        );
        assert!(found.contains("links to ../timeline/none.svg"), "{found}");
        assert!(!found.contains("zh/threading/one.html"), "{found}");
        assert!(
            !found.contains("there.svg") && !found.contains("x.org"),
            "{found}"
        );
        assert!(
            missing.contains("includes multithread/src/bin/unshown.rs"),
            "{missing}"
        );
        assert!(
            !missing.contains("includes multithread/src/bin/shown.rs"),
            "{missing}"
        );
    }
}
