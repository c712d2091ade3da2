#!/usr/bin/env bash
# Static analysis of mmiod's own C sources: clang-tidy (checks in .clang-tidy), cppcheck
# (suppressions in tools/cppcheck-suppressions.txt), and the daemon's loop rules (the last
# section; docs/ARCHITECTURE.md). Prints every finding, then a count per check, and exits
# non-zero if there is any.
#
# usage: tools/lint.sh [build-dir]    (default: build; configured here if it is missing)
#
# Linted: every .c file in the build's compile_commands.json except generated code (the build
# tree), third-party code (any third_party/ directory), and tests/ and bench/, which are not
# clean yet. Headers are checked through the files that include them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$root" && mkdir -p "${1:-build}" && cd "${1:-build}" && pwd)
jobs=$(nproc)
clang_tidy=${CLANG_TIDY:-$(command -v clang-tidy || command -v clang-tidy-14 || true)}
cppcheck=${CPPCHECK:-$(command -v cppcheck || true)}
if [ -z "$clang_tidy" ] || [ -z "$cppcheck" ] || ! command -v python3 >/dev/null; then
	echo "lint: needs clang-tidy, cppcheck and python3 (tools/install-deps.sh installs them)" >&2
	exit 2
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ ! -f "$build/compile_commands.json" ]; then
	cmake -S "$root" -B "$build" >/dev/null
fi
# The translation units include the generated mmio.pb-c.h: build the target that makes it.
cmake --build "$build" --target mmio-proto -j "$jobs" >/dev/null

# A compile database of just the files to lint, one command each. The client sources are
# compiled twice (shared and static library), and clang-tidy 14 analysing a file twice in one
# process reports analyzer findings that neither run has on its own.
lintdb="$build/lint"
mkdir -p "$lintdb"
cat >"$out/select.py" <<'EOF'
import json, os, sys
root, build, out = sys.argv[1:]
skip = ("tests", "bench")  # not clean yet
seen, keep = set(), []
for e in json.load(open(os.path.join(build, "compile_commands.json"))):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    parts = os.path.relpath(f, root).split(os.sep)
    if (parts[0] == ".." or f.startswith(build + os.sep) or parts[0] in skip
            or "third_party" in parts or f in seen):
        continue
    seen.add(f)
    keep.append(e)
with open(out, "w") as db:
    json.dump(keep, db, indent=1)
print("\n".join(sorted(seen)))
EOF
python3 "$out/select.py" "$root" "$build" "$lintdb/compile_commands.json" >"$out/files"
if [ ! -s "$out/files" ]; then
	echo "lint: no files to check in $build/compile_commands.json" >&2
	exit 2
fi
echo "== lint: $(wc -l <"$out/files") files"

echo "== clang-tidy"
tidy_rc=0
run_clang_tidy=$(command -v run-clang-tidy || command -v run-clang-tidy-14 || true)
if [ -n "$run_clang_tidy" ]; then
	"$run_clang_tidy" -quiet -p "$lintdb" -j "$jobs" -clang-tidy-binary "$clang_tidy" \
		>"$out/tidy" 2>"$out/tidy.err" || tidy_rc=$?
else
	xargs -a "$out/files" -d '\n' -n 1 -P "$jobs" "$clang_tidy" --quiet -p "$lintdb" \
		>"$out/tidy" 2>"$out/tidy.err" || tidy_rc=$?
fi
# run-clang-tidy 14 always asks for colour; it also echoes each command line.
sed -i 's/\x1b\[[0-9;]*m//g' "$out/tidy"
grep -v "^$clang_tidy " "$out/tidy" | sed "s|^$root/||" || true
# Anything unexpected on stderr (a bad config, a compile error) is shown as is.
grep -Ev '^[0-9]+ (warnings?|errors?)( and [0-9]+ (warnings?|errors?))? generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^[0-9]+ warnings? treated as errors?$|^$' \
	"$out/tidy.err" >&2 || true
# A finding in a header is reported once per file that includes it.
grep -E "^$root/.*:[0-9]+:[0-9]+: (warning|error): " "$out/tidy" | sed "s|^$root/||" |
	sort -u >"$out/tidy.findings" || true
if [ "$tidy_rc" -ne 0 ] && [ ! -s "$out/tidy.findings" ]; then
	echo "clang-tidy failed (exit $tidy_rc) without a finding; see above" >&2
fi

echo "== cppcheck"
# --library=python: the Python module's Py_BEGIN_ALLOW_THREADS and the like (python/src/).
# cppcheck skips system headers, but two define the vocabulary the code is written in: without
# sys/queue.h every TAILQ_FOREACH body reads as uninitialised use, and without protobuf-c.h the
# generated header's version check hits #error. Include exactly the files the compiler would.
system_header() {
	printf '#include <%s>\n' "$1" | cc -E -M -x c - 2>/dev/null | tr ' \\' '\n\n' |
		grep -m1 "/$1\$"
}
queue_h=$(system_header sys/queue.h)
protobuf_c_h=$(system_header protobuf-c/protobuf-c.h)
# With a relative --project, cppcheck names files relative to the current directory, which the
# suppressions list relies on.
build_rel=$(realpath --relative-to="$root" "$build")
cpp_rc=0
(cd "$root" && "$cppcheck" -q --project="$build_rel/lint/compile_commands.json" --std=c11 \
	--library=posix --library=gnu --library=python --include="$queue_h" --include="$protobuf_c_h" \
	--enable=warning,style,performance,portability --inline-suppr --error-exitcode=1 \
	--suppress=missingIncludeSystem --suppress="*:$build_rel/*" \
	--suppressions-list=tools/cppcheck-suppressions.txt -j "$jobs" \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]') \
	>"$out/cppcheck.out" 2>&1 || cpp_rc=$?
cat "$out/cppcheck.out"
grep -E '^[^ ]+:[0-9]+:[0-9]+: [a-z]+: .*\[[A-Za-z0-9_]+\]$' "$out/cppcheck.out" |
	sort -u >"$out/cppcheck.findings" || true

echo "== daemon loop rules"
# docs/ARCHITECTURE.md: the loop thread makes no call that can block on an object a client can
# influence. The checkable part of that rule, on daemon/**/*.[ch] without comments and strings.
cat >"$out/loop_rules.py" <<'EOF'
# The loop thread makes no call that can block on an object a client can influence
# (docs/ARCHITECTURE.md). This checks the parts of that rule a pattern can see, in daemon/**/*.[ch]
# with comments and string literals blanked out. Prints one line per finding; exit 1 if any.
import glob, os, re, sys

daemon = sys.argv[1]

# Calls that make an fd without NONBLOCK: (file, the call as written) -> why that is fine.
CREATE_OK = {
    ("net/server.c", "socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)"):
        "the stale-socket probe: a blocking connect() to mmiod's own socket path at startup,"
        " before the loop runs; closed right after",
    ("request/irq.c", "pipe2(p, O_CLOEXEC)"):
        "the interrupt pipe: its read end goes to the client; mmiod sets O_NONBLOCK on its"
        " write end (another open file description) before using it",
    ("request/trace.c", "pipe2(p, O_CLOEXEC)"):
        "a trace pipe: its read end goes to the tracer; mmiod sets O_NONBLOCK on its"
        " write end (another open file description) before using it",
}

# What close() and wire_close_fd() may close inline, per file: descriptors no client can have
# queued anything on, so closing them cannot sleep. Sockets a client can write to (connections,
# mmiod's end of a doorbell) and descriptors clients send go through fd_closer_close().
_CONF_FILE = "a device or file named by the configuration, opened by mmiod to map it"
CLOSE_OK = {
    "device/mapping.c": {
        "&b->memory_fd": "a mem region's memfd, mmiod's own",
        "fd": _CONF_FILE,
        "&b->irq_fd": "the UIO device's interrupt fd, opened by mmiod",
        "&b->intx_fd": "a uio_pci_generic device's PCI config space in sysfs, opened by mmiod",
    },
    "device/sysfs.c": {"fd": "a sysfs attribute, read at startup"},
    "device/backend_sim.c": {
        "s->b.irq_fd": "a sim's interrupt pair, both ends mmiod's own (no client writes to it)",
        "s->device_fd": "a sim's interrupt pair, both ends mmiod's own (no client writes to it)",
    },
    "request/handle_lease.c": {"fd": "/proc/PID/comm, read to name a lease's holder"},
    "base/fd_closer.c": {
        "fd": "the closer thread's close, off the loop",
        "*fd": "fd_closer_close() inline: only where the kernel refuses passed descriptors",
    },
    "request/irq.c": {
        "&sub->pipe_fd": "a pipe's write end: a pipe carries no descriptors",
        "&pipe_fd": "a pipe's write end: a pipe carries no descriptors",
        "&p[0]": "a new pipe, on an error path before the client has it",
    },
    "request/trace.c": {
        "&t->tracers[i].pipe_fd": "a pipe's write end: a pipe carries no descriptors",
        "&p[0]": "a new pipe, on an error path before the tracer has it",
        "&p[1]": "a new pipe, on an error path before the tracer has it",
        "&pipe_fd": "a pipe's write end, handed over by a restart: a pipe carries no descriptors",
    },
    "request/ring.c": {
        "fd": "the ring's memfd, on an error path before the client has it",
        "&bell[0]": "a new doorbell pair, on an error path before the client has it",
        "&bell[1]": "a new doorbell pair, on an error path before the client has it",
        "&r->memfd": "mmiod's own open of the ring's memfd: a memfd carries no descriptors",
    },
    "device/backend_mem.c": {"fd": "a mem region's memfd, mmiod's own"},
    "restart.c": {
        "pidfd": "the pidfd of mmiod's own check child",
        "state_fd": "the restart state's sealed memfd, mmiod's own",
        "fd": "every inherited descriptor, at a start that refused the state: before the loop",
        "live_fd": "the memfd of the state kept for a crash, mmiod's own (from the store)",
    },
    "live_state.c": {"ls->fd": "the memfd of the state kept for a crash, mmiod's own"},
    "restart_state.c": {"fd": "the restart state's memfd, on an error path"},
    "main.c": {"&fd": "--ready-fd, given by whoever started mmiod"},
    "net/server.c": {
        "&probe": "the stale-socket probe (see above)",
        "&srv->listen_fd": "the listener, at a startup failure before it listened",
    },
    "net/conn.c": {
        "&fds[i]": "mmiod's own descriptors for a reply (a memfd, a pipe's read end, the"
                   " client's end of a doorbell, which only mmiod's end writes to)",
    },
}

# Known violations, waiting for a fix in daemon/: printed as warnings, not failures. Remove an
# entry once its fix lands (a stale entry fails lint). None at present.
CLOSE_PENDING = {}

NAMES_CREATE = ("socket", "socketpair", "pipe2", "accept4")
NAMES_NOFLAGS = ("pipe", "accept")
NAMES_RECV = ("recv", "recvfrom", "recvmsg", "recvmmsg", "wire_recv", "wire_recv_fds")
NAMES_CLOSE = ("close", "wire_close_fd")


def blank(text):
    """text with comments and string and character literals turned into spaces (lines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
        else:
            out.append(c)
            i += 1
            continue
        out.append(re.sub(r"[^\n]", " ", text[i:j]))
        i = j
    return "".join(out)


def calls(code, names):
    """(line, name, argument text, the call with whitespace collapsed) of each call to names."""
    pat = re.compile(r"(?<![\w.>])(%s)\s*\(" % "|".join(names))
    for m in pat.finditer(code):
        depth, j = 0, m.end() - 1
        while j < len(code):
            depth += {"(": 1, ")": -1}.get(code[j], 0)
            if depth == 0:
                break
            j += 1
        args = " ".join(code[m.end():j].split())
        yield (code.count("\n", 0, m.start()) + 1, m.group(1), args,
               "%s(%s)" % (m.group(1), args))


findings, warnings, used = [], [], set()
files = sorted(glob.glob(os.path.join(daemon, "**", "*.[ch]"), recursive=True))
for path in files:
    name = os.path.relpath(path, daemon)
    where = "daemon/" + name
    code = blank(open(path, encoding="utf-8").read())

    def find(line, rule, what):
        findings.append("%s:%d: [%s] %s" % (where, line, rule, what))

    for m in re.finditer(r"(?<![\w.>])dup[23]?\s*\(|\bF_DUPFD\w*", code):
        find(code.count("\n", 0, m.start()) + 1, "dup",
             "%s: a copy shares its open file description (O_NONBLOCK included) with every"
             " other holder" % m.group(0).rstrip("( "))
    for m in re.finditer(r"(?<![\w.>])eventfd\s*\(|sys/eventfd\.h", code):
        find(code.count("\n", 0, m.start()) + 1, "eventfd",
             "an eventfd doorbell is shared with the client: use a socket pair (ring.c)")
    for line, fn, args, call in calls(code, NAMES_CREATE):
        if (name, call) in CREATE_OK:
            used.add(("create", name, call))
        elif "NONBLOCK" not in args:
            find(line, "nonblock", "%s without SOCK_NONBLOCK/O_NONBLOCK" % call)
    for line, fn, args, call in calls(code, NAMES_NOFLAGS):
        instead = "accept4 with SOCK_NONBLOCK" if fn == "accept" else "pipe2 with O_NONBLOCK"
        find(line, "nonblock", "%s takes no flags: use %s" % (call, instead))
    for line, fn, args, call in calls(code, NAMES_RECV):
        find(line, "recv", "%s: receive with wire_recv_keep_fds() and close each passed fd"
             " with fd_closer_close()" % call)
    for line, fn, args, call in calls(code, NAMES_CLOSE):
        if args in CLOSE_OK.get(name, {}):
            used.add(("close", name, args))
        elif args in CLOSE_PENDING.get(name, {}):
            used.add(("pending", name, args))
            warnings.append("%s:%d: warning: [close] %s: known violation, fix pending: %s"
                            % (where, line, call, CLOSE_PENDING[name][args]))
        else:
            find(line, "close", "%s: not on the allowlist in tools/lint.sh; a socket a client"
                 " can write to, or a descriptor it sent, is closed with fd_closer_close()"
                 % call)

for (name, call) in CREATE_OK:
    if ("create", name, call) not in used:
        findings.append("tools/lint.sh: [allowlist] daemon/%s: %s no longer occurs: remove it"
                        % (name, call))
for kind, table in (("close", CLOSE_OK), ("pending", CLOSE_PENDING)):
    for name, entries in table.items():
        for args in entries:
            if (kind, name, args) not in used:
                findings.append("tools/lint.sh: [allowlist] daemon/%s: close of %s no longer"
                                " occurs: remove it" % (name, args))

print("\n".join(warnings + findings))
print("%d files, %d findings, %d known violations" % (len(files), len(findings), len(warnings)))
sys.exit(1 if findings else 0)
EOF
rules_rc=0
python3 "$out/loop_rules.py" "$root/daemon" >"$out/rules" || rules_rc=$?
cat "$out/rules"
n_rules=$(sed -n 's/^[0-9]* files, \([0-9]*\) findings.*$/\1/p' "$out/rules")

echo "== daemon layers"
# docs/ARCHITECTURE.md: includes only point down the layers, and no two daemon files (nor two
# client files) call each other. Prints one line per finding; exit 1 if any.
cat >"$out/layers.py" <<'EOF'
import glob, os, re, sys

root = sys.argv[1]
# Higher rank: lower layer. base/ serves every layer above core/.
RANK = {"": 0, "net": 1, "request": 2, "device": 3, "config": 4, "base": 5, "core": 6}
# What core/ may include besides core/: the C library (<...>), none of these.
NOT_LIBC = ("event2/", "protobuf-c/", "libconfig", "systemd/", "cmocka")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
ORDER = " -> ".join(k + "/" if k else "daemon/" for k in RANK)

findings = []
daemon = os.path.join(root, "daemon")
files = sorted(glob.glob(os.path.join(daemon, "**", "*.[ch]"), recursive=True))
top_headers = {os.path.basename(p) for p in glob.glob(os.path.join(daemon, "*.h"))}
for path in files:
    rel = os.path.relpath(path, daemon)
    layer = rel.split("/", 1)[0] if "/" in rel else ""
    text = open(path, encoding="utf-8").read()
    for m in INCLUDE.finditer(text):
        where = "daemon/%s:%d" % (rel, text.count("\n", 0, m.start()) + 1)
        kind, name = m.group(1), m.group(2)
        if layer == "core":
            if kind == '"' and not name.startswith("core/"):
                findings.append("%s: [layers] core/ includes only core/ and the C library, not %s"
                                % (where, name))
            elif kind == "<" and name.startswith(NOT_LIBC):
                findings.append("%s: [layers] core/ is pure C: not <%s>" % (where, name))
            continue
        if kind != '"':
            continue
        target = name.split("/", 1)[0] if "/" in name else None
        if target in RANK:
            if target != layer and RANK[target] < RANK[layer]:
                findings.append("%s: [layers] %s may not include %s: arrows point down (%s)"
                                % (where, (layer or "daemon") + "/", name, ORDER))
        elif name in top_headers and layer:
            findings.append("%s: [layers] %s is the process's own (daemon/): not for %s/"
                            % (where, name, layer))


def loops(folder):
    """Two .c files of folder each calling a function the other defines."""
    base = os.path.join(root, folder)
    code = {}
    for path in glob.glob(os.path.join(base, "**", "*.c"), recursive=True):
        text = open(path, encoding="utf-8").read()
        code[os.path.relpath(path, base)] = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    # Our style starts a definition's name at column 0: "type\nname(" (file-scope, not static).
    defined = {f: set(re.findall(r"^([a-z_]\w*)\(", text, re.M)) -
              set(re.findall(r"^static[^;{]*\n([a-z_]\w*)\(", text, re.M))
              for f, text in code.items()}
    calls = {f: set(re.findall(r"\b([a-z_]\w*)\s*\(", text)) for f, text in code.items()}
    for a in sorted(code):
        for b in sorted(code):
            if a < b and calls[a] & defined[b] and calls[b] & defined[a]:
                findings.append("%s/%s <-> %s/%s: [layers] each calls the other (%s; %s)"
                                % (folder, a, folder, b, ", ".join(sorted(calls[a] & defined[b])),
                                   ", ".join(sorted(calls[b] & defined[a]))))


loops("daemon")
loops("client")
print("\n".join(findings))
print("%d files, %d findings" % (len(files), len(findings)))
sys.exit(1 if findings else 0)
EOF
layers_rc=0
python3 "$out/layers.py" "$root" >"$out/layers" || layers_rc=$?
cat "$out/layers"
n_layers=$(sed -n 's/^[0-9]* files, \([0-9]*\) findings$/\1/p' "$out/layers")

echo "== summary"
n_tidy=$(wc -l <"$out/tidy.findings")
n_cpp=$(wc -l <"$out/cppcheck.findings")
echo "clang-tidy: $n_tidy findings"
sed -n 's/.*\[\([^],]*\)[],].*$/\1/p' "$out/tidy.findings" | sort | uniq -c | sort -rn
echo "cppcheck: $n_cpp findings"
sed -n 's/.*\[\([A-Za-z0-9_]*\)\]$/\1/p' "$out/cppcheck.findings" | sort | uniq -c | sort -rn
echo "daemon loop rules: ${n_rules:-?} findings"
echo "daemon layers: ${n_layers:-?} findings"
if [ "$n_tidy" -ne 0 ] || [ "$n_cpp" -ne 0 ] || [ "$tidy_rc" -ne 0 ] || [ "$cpp_rc" -ne 0 ] ||
	[ "${n_rules:-?}" != 0 ] || [ "$rules_rc" -ne 0 ] || [ "${n_layers:-?}" != 0 ] ||
	[ "$layers_rc" -ne 0 ]; then
	echo "lint: FAILED"
	exit 1
fi
echo "lint: clean"
