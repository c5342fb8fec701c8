#!/usr/bin/env bash
# The long fuzz run (docs/fuzzing.md): SharpFuzz-instrumented assemblies under AFL++.
#   tests/fuzz.sh TARGET [SECONDS]      TARGET: protocol, host, project or zones; SECONDS default 600
# Installs afl++ (Debian) and the SharpFuzz instrumentation tool (dotnet-tools.json) when missing, publishes
# tests/Umem.Fuzz to a work directory, instruments the assemblies the target exercises, seeds AFL with the
# target's valid inputs and fuzzes for SECONDS. Crashes and hangs are copied to tests/Umem.Fuzz/findings/ (ignored
# by git); replay one with `dotnet <work>/bin/Umem.Fuzz.dll replay TARGET FILE`, and add it to
# tests/Umem.Fuzz/regressions/TARGET/ so the test suite keeps it fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: tests/fuzz.sh protocol|host|project|zones [SECONDS]}
seconds=${2:-600}
case "$target" in
  protocol) instrument=(Umem.Protocol) ;;
  host) instrument=(Umem.Protocol Umem.Host Umem.Kernel) ;;
  project|zones) instrument=(Umem.Kernel) ;;
  *) echo "fuzz: no target '$target'" >&2; exit 2 ;;
esac

if ! command -v afl-fuzz >/dev/null; then
  echo "fuzz: installing afl++"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q afl++ >/dev/null
fi
dotnet tool restore >/dev/null

work=$(mktemp -d /tmp/umem-fuzz-XXXXXX)
dotnet publish tests/Umem.Fuzz -c Release -o "$work/bin" -nologo -clp:NoSummary >/dev/null
# Seeds first: instrumented code runs only under afl-fuzz (it writes AFL's shared coverage map).
dotnet "$work/bin/Umem.Fuzz.dll" seeds "$target" "$work/in"
for a in "${instrument[@]}"; do dotnet sharpfuzz "$work/bin/$a.dll"; done

# -t: the first input of a run starts the runtime (and for host, a host); -m none: the CLR reserves a lot of address space.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_SKIP_BIN_CHECK=1
set +e
afl-fuzz -V "$seconds" -i "$work/in" -o "$work/out" -t 10000 -m none -- dotnet "$work/bin/Umem.Fuzz.dll" afl "$target"
set -e

if [ ! -e "$work/out/default/fuzzer_stats" ]; then
  echo "fuzz $target: afl-fuzz did not start (work directory $work)" >&2
  exit 1
fi
found=0
for kind in crashes hangs; do
  for f in "$work/out/default/$kind"/id:*; do
    [ -e "$f" ] || continue
    mkdir -p tests/Umem.Fuzz/findings
    cp "$f" "tests/Umem.Fuzz/findings/$target-$kind-$(basename "$f" | tr ':,' '__')"
    found=$((found + 1))
  done
done
grep -E '^(execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs)' "$work/out/default/fuzzer_stats"
echo "fuzz $target: $found findings (work directory $work)"
[ "$found" -eq 0 ]
