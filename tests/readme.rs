//! README.md cannot rot: every `zhijian …` and `cargo run -- …` command in its shell blocks runs
//! here with the test build of the binary (in the lean build, `zhijian query` must say which
//! build it needs), and its rules table equals the one generated from
//! the code. `ZHIJIAN_BLESS=1` rewrites the table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Sandbox, repo, stderr, stdout};

/// The commands of ```sh blocks: lines starting with `zhijian ` or `cargo run -- `, as argument
/// lists for the binary (comments after `#` dropped).
fn readme_commands(readme: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut in_shell = false;
    for line in readme.lines() {
        let trimmed = line.trim();
        if let Some(lang) = trimmed.strip_prefix("```") {
            in_shell = !in_shell && matches!(lang, "sh" | "bash" | "console" | "shell");
            continue;
        }
        if !in_shell {
            continue;
        }
        let command = trimmed.trim_start_matches("$ ").split(" #").next().unwrap_or("").trim();
        let args = if let Some(rest) = command.strip_prefix("zhijian ") {
            rest
        } else if let Some(rest) = command.strip_prefix("cargo run -- ") {
            rest
        } else if let Some(rest) = command.strip_prefix("cargo run --release -- ") {
            rest
        } else {
            continue;
        };
        commands.push(shell_words(args));
    }
    commands
}

/// Splits a command line as a POSIX shell would for the simple cases the README uses: words
/// separated by spaces, `"…"` and `'…'` quoting.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[test]
fn shell_words_split_like_a_shell() {
    assert_eq!(
        shell_words(r#"query --dir out "select 'a b' from x"  -q"#),
        ["query", "--dir", "out", "select 'a b' from x", "-q"]
    );
}

#[test]
fn every_command_in_the_readme_runs() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let commands = readme_commands(&readme);
    assert!(commands.len() >= 3, "{commands:?}");
    assert!(commands.contains(&vec!["run".to_string(), "pipelines/henan-2013.toml".to_string()]));
    let sandbox = Sandbox::new();
    for args in &commands {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = sandbox.zhijian(&args);
        let shown = format!("zhijian {}\nstdout:\n{}\nstderr:\n{}", args.join(" "), stdout(&output), stderr(&output));
        // The lean build (the default) has every command but `query`, which says how to get it.
        if !cfg!(feature = "sql") && args[0] == "query" {
            assert_eq!(output.status.code(), Some(2), "{shown}");
            assert!(stderr(&output).contains("`cargo build --features sql`"), "{shown}");
        } else {
            assert_eq!(output.status.code(), Some(0), "{shown}");
        }
    }
}

#[test]
fn the_readme_shows_the_output_the_run_prints() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let sandbox = Sandbox::new();
    let printed = stdout(&sandbox.zhijian(&["run", "pipelines/henan-2013.toml"]));
    // Every line of the README's sample output (except the elision) is printed as shown.
    let start = readme.find("```text\nhenan-2013:").unwrap() + "```text\n".len();
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    for line in block.lines().filter(|l| *l != "…") {
        assert!(printed.lines().any(|p| p == line), "README line not printed: {line:?}\nprinted:\n{printed}");
    }
}

fn rules_table() -> String {
    let mut table = String::from("| rule | severity | what it checks | what to do |\n|---|---|---|---|\n");
    for rule in zhijian_model::Rule::ALL {
        table.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            rule.code(),
            rule.severity(),
            rule.checks().replace('|', "\\|"),
            rule.action().replace('|', "\\|")
        ));
    }
    table
}

#[test]
fn the_rules_table_is_generated_from_the_code() {
    let path = repo().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let begin = readme.find("<!-- rules:begin -->\n").unwrap() + "<!-- rules:begin -->\n".len();
    let end = readme.find("<!-- rules:end -->").unwrap();
    let expected = rules_table();
    if std::env::var_os("ZHIJIAN_BLESS").is_some() {
        std::fs::write(&path, format!("{}{}{}", &readme[..begin], expected, &readme[end..])).unwrap();
        return;
    }
    assert_eq!(
        &readme[begin..end],
        expected,
        "README's rules table is stale: run `ZHIJIAN_BLESS=1 cargo test --test readme`"
    );
}
