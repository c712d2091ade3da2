#!/usr/bin/env python3
"""Shell completion knows every command and option of mmioctl.

usage: check_completion.py MMIOCTL BASH_COMPLETION ZSH_COMPLETION

The truth is `mmioctl --list-commands`, printed from the tables mmioctl parses its command
line by: a first line "mmioctl OPTIONS..." (its own options), then "COMMAND OPTIONS..." per
command (checked first: each command parses exactly the options listed for it). The bash
completion is run (in bash, with bash-completion's two helpers stubbed) for
"mmioctl <TAB>", "mmioctl -<TAB>" and "mmioctl COMMAND -<TAB>"; the zsh completion is read (its
command list, the specs of its top-level _arguments and of each command's branch, with the
arrays they name expanded) and, if zsh is installed, syntax-checked. Any command or option one
of them lacks, or has that mmioctl does not, fails the test.
"""
import re
import shutil
import subprocess
import sys

OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def table(mmioctl):
    out = subprocess.run([mmioctl, "--list-commands"], check=True, capture_output=True,
                         text=True).stdout
    lines = [line.split() for line in out.splitlines() if line.strip()]
    assert lines and lines[0][0] == "mmioctl", out
    return set(lines[0][1:]), {line[0]: set(line[1:]) for line in lines[1:]}


BASH_DRIVER = r"""
_init_completion() {
	words=("${COMP_WORDS[@]}")
	cword=$COMP_CWORD
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
}
_filedir() { :; }
source "$1"
shift
# Each argument is one command line, words separated by '|', the last one being completed.
for line in "$@"; do
	IFS='|' read -r -a COMP_WORDS <<<"$line|"
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_WORDS[COMP_CWORD]=${line##*|}
	COMPREPLY=()
	_mmioctl
	echo "${COMPREPLY[*]}"
done
"""


# A value for each option that takes one, good for every command that takes the option.
VALUES = {"-s": "/x", "--socket": "/x", "-o": "text", "--output": "text", "-w": "8",
          "--width": "8", "-a": "0x0", "--address": "0x0", "-t": "5", "--timeout": "5",
          "-n": "1", "--count": "1", "-i": "5", "--interval": "5", "-p": "P",
          "--peripheral": "P", "--mask": "1",
          "--grace": "500", "--region": "sim0"}


def accepted(mmioctl, command, option):
    """Whether mmioctl COMMAND takes option: with it, COMMAND --help succeeds (no daemon)."""
    args = [mmioctl, command, option] + ([VALUES[option]] if option in VALUES else []) + ["-h"]
    rc = subprocess.run(args, capture_output=True).returncode
    assert rc in (0, 2), f"{args}: exit {rc}"
    return rc == 0


def bash_completions(script, lines):
    """What the bash completion offers for each command line (words joined by '|')."""
    out = subprocess.run(["bash", "-c", BASH_DRIVER, "bash", script] + lines, check=True,
                         capture_output=True, text=True).stdout.split("\n")
    return {line: set(out[i].split()) for i, line in enumerate(lines)}


def zsh_specs(path):
    """(commands, top-level options, {command: options}) read from the zsh completion."""
    text = open(path).read()
    arrays = {}
    for name, body in re.findall(r"^\s*(\w+)=\((.*)\)\s*$", text, re.M):
        arrays[name] = body

    def options(spec, seen=()):
        found = set(OPTION.findall(re.sub(r"\$\w+", " ", spec)))
        for name in re.findall(r"\$(\w+)", spec):
            if name in arrays and name not in seen:
                found |= options(arrays[name], seen + (name,))
        return found

    block = re.search(r"commands=\((.*?)\n\s*\)", text, re.S).group(1)
    commands = set(re.findall(r"""['"]([\w-]+):""", block))
    top = re.search(r"_arguments -C(.*?)'1:command:->command'", text, re.S).group(1)
    cases = re.search(r"case \$words\[1\] in(.*?)\n\t\tesac", text, re.S).group(1)
    per_command = {}
    for names, body in re.findall(r"^\t\t([\w| -]+)\)\n(.*?);;", cases, re.S | re.M):
        for name in names.split("|"):
            per_command[name.strip()] = options(body)
    return commands, options(top), per_command


def compare(what, got, want, problems):
    if got != want:
        said = []
        if want - got:
            said.append("lacks " + " ".join(sorted(want - got)))
        if got - want:
            said.append("has " + " ".join(sorted(got - want)) + ", which mmioctl has not")
        problems.append(f"{what}: {'; '.join(said)}")


def main():
    mmioctl, bash_script, zsh_script = sys.argv[1:4]
    global_options, commands = table(mmioctl)
    problems = []

    # The listing is what mmioctl parses by: each command takes exactly the options listed.
    every = set().union(*commands.values())
    for name, listed in commands.items():
        took = {o for o in every if accepted(mmioctl, name, o)}
        compare(f"mmioctl {name} parses", took, listed, problems)

    lines = ["mmioctl|", "mmioctl|-", "mmioctl|-s|/tmp/x|-q|-", "mmioctl|-o|"]
    for name in commands:
        lines += [f"mmioctl|{name}|-", f"mmioctl|-s|/tmp/x|-o|json|{name}|-"]
        lines += [f"mmioctl|{name}|-o|", f"mmioctl|{name}|-w|"]
    got = bash_completions(bash_script, lines)
    # Values: every format before the command; after it, prometheus for stats only.
    compare("bash: mmioctl -o", got["mmioctl|-o|"], {"text", "json", "prometheus"}, problems)
    for name, options in commands.items():
        if "-o" in options:
            formats = {"text", "json"} | ({"prometheus"} if name == "stats" else set())
            compare(f"bash: {name} -o", got[f"mmioctl|{name}|-o|"], formats, problems)
        if "-w" in options:
            compare(f"bash: {name} -w", got[f"mmioctl|{name}|-w|"], {"8", "16", "32", "64"},
                    problems)
    compare("bash: commands", got["mmioctl|"], set(commands), problems)
    compare("bash: mmioctl's options", got["mmioctl|-"], global_options, problems)
    compare("bash: mmioctl's options after -s and -q", got["mmioctl|-s|/tmp/x|-q|-"],
            global_options, problems)
    for name, want in commands.items():
        compare(f"bash: {name}", got[f"mmioctl|{name}|-"], want, problems)
        compare(f"bash: {name} after -s SOCKET -o json", got[f"mmioctl|-s|/tmp/x|-o|json|{name}|-"],
                want, problems)

    zsh_commands, zsh_top, zsh_per_command = zsh_specs(zsh_script)
    compare("zsh: commands", zsh_commands, set(commands), problems)
    compare("zsh: mmioctl's options", zsh_top, global_options, problems)
    compare("zsh: commands with a branch", set(zsh_per_command), set(commands), problems)
    for name, want in commands.items():
        compare(f"zsh: {name}", zsh_per_command.get(name, set()), want, problems)
    zsh = shutil.which("zsh")
    if zsh:
        check = subprocess.run([zsh, "-n", zsh_script], capture_output=True, text=True)
        if check.returncode != 0:
            problems.append(f"zsh -n {zsh_script}: {check.stderr.strip()}")

    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"completion: bash and zsh know mmioctl's {len(commands)} commands and their options"
          + ("" if zsh else " (zsh itself not installed: its file was read, not run)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
