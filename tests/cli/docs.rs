//! `dora completions` and `dora man`: scripts that load in their shell and complete dora's own
//! commands and values, and man pages for every command.

use std::process::Command;

use crate::Sandbox;

/// Whether `shell` runs here; if not, says which test is skipped.
fn installed(shell: &str, test: &str) -> bool {
    let found = Command::new(shell)
        .arg("-c")
        .arg("exit 0")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        #[expect(clippy::print_stderr, reason = "a skipped check says why")]
        {
            eprintln!("skipped in {test}: `{shell}` is not installed here, so its script is only checked for content");
        }
    }
    found
}

/// What bash's completion of `dora WORDS...` offers for the last word.
fn bash_completes(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let array = words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" ");
    let current = words.len() - 1;
    let previous = words.get(current.wrapping_sub(1)).copied().unwrap_or("");
    let program = format!(
        "source '{}' && COMP_WORDS=({array}) && COMP_CWORD={current} && _dora dora '{}' '{previous}' && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        words[current],
    );
    let output = Command::new("bash").arg("-c").arg(program).output().expect("bash runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_commands_flags_and_values() {
    let sandbox = Sandbox::new();
    let script = sandbox.run(&["completions", "bash"]).success().stdout();
    let path = sandbox.path().join("dora.bash");
    std::fs::write(&path, script).expect("write");
    if !installed("bash", "bash_completes_commands_flags_and_values") {
        return;
    }
    assert_eq!(bash_completes(&path, &["dora", "met"]), ["metrics"]);
    assert_eq!(bash_completes(&path, &["dora", "metrics", "--per"]), ["--period"]);
    assert_eq!(
        bash_completes(&path, &["dora", "metrics", "--period", ""]),
        ["day", "week", "month"]
    );
    let collect = bash_completes(&path, &["dora", "collect", ""]);
    assert!(
        collect.contains(&"git".to_string()) && collect.contains(&"github".to_string()),
        "{collect:?}"
    );
}

#[test]
fn every_shell_gets_a_script_naming_the_commands() {
    let sandbox = Sandbox::new();
    for (shell, program) in [
        ("zsh", "zsh"),
        ("fish", "fish"),
        ("powershell", "pwsh"),
        ("elvish", "elvish"),
    ] {
        let script = sandbox.run(&["completions", shell]).success().stdout();
        for command in ["metrics", "report", "collect", "explain"] {
            assert!(script.contains(command), "{shell}: no `{command}`");
        }
        // Where the shell is installed, the script at least parses.
        let check = match program {
            "zsh" => Some(vec!["-n"]),
            "fish" => Some(vec!["--no-execute"]),
            _ => None,
        };
        if let Some(args) = check
            && installed(program, "every_shell_gets_a_script_naming_the_commands")
        {
            let path = sandbox.path().join(format!("dora.{shell}"));
            std::fs::write(&path, &script).expect("write");
            let output = Command::new(program)
                .args(args)
                .arg(&path)
                .output()
                .expect("shell runs");
            assert!(
                output.status.success(),
                "{shell}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    let bad = sandbox.run(&["completions", "tcsh"]);
    assert_eq!(bad.code(), 2);
    assert!(
        bad.stderr()
            .contains("possible values: bash, elvish, fish, powershell, zsh"),
        "{}",
        bad.stderr()
    );
}

#[test]
fn man_pages_for_dora_and_each_command() {
    let sandbox = Sandbox::new();
    let page = sandbox.run(&["man"]).success().stdout();
    assert!(page.contains(".TH dora 1"), "{page}");
    assert!(page.contains("dora\\-metrics(1)"), "the subcommands are listed: {page}");

    let dir = sandbox.path().join("man1");
    sandbox.run(&["man", "--out", dir.to_str().expect("utf-8")]).success();
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    for expected in [
        "dora.1",
        "dora-metrics.1",
        "dora-collect.1",
        "dora-collect-git.1",
        "dora-collect-github.1",
    ] {
        assert!(pages.contains(&expected.to_string()), "{expected} in {pages:?}");
    }
    let metrics = std::fs::read_to_string(dir.join("dora-metrics.1")).expect("page");
    let title = format!(".TH dora-metrics 1  \"dora {}\"", env!("CARGO_PKG_VERSION"));
    assert!(metrics.contains(&title), "{metrics}");
    assert!(metrics.contains("\\-\\-since"), "the options are documented");
    // Written again: the same pages.
    sandbox.run(&["man", "--out", dir.to_str().expect("utf-8")]).success();
    let again = std::fs::read_to_string(dir.join("dora-metrics.1")).expect("page");
    assert_eq!(again, metrics);
}
