#!/usr/bin/env bash
# Packs every Umem package into a local folder feed and uses them as a new user would, on a clean path: a
# temporary HOME and NuGet package folder, and a nuget.config with only that feed and the registries this
# machine's own NuGet configuration names. Checks:
#   the tool installs; `umem demo` passes from another directory; the template installs and instantiates; the
#   driver builds without Umem.Kernel.dll / Umem.Platform.dll beside it; the template's tests pass; `umem host -d`
#   serves the new driver's node.
# Prints "ok"/"FAIL" per check and ends with "packages: N passed, N failed" (.ci/run adds them to its count).
#   usage: packaging/test-packages.sh [CONFIGURATION]   (default Release)
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
config=${1:-Release}
real_home=$HOME
work=$(mktemp -d "${TMPDIR:-/tmp}/umem-packages-XXXXXX")
host_pid=
cleanup() {
    [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null && wait "$host_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { # fail NAME LOGFILE: the check failed; show the end of what it printed
    echo "FAIL - $1"
    [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 40 "$2" | sed 's/^/    | /'
    failed=$((failed + 1))
}
finish() {
    echo "packages: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
version=$(sed -n 's:.*<VersionPrefix>\(.*\)</VersionPrefix>.*:\1:p' "$repo/Directory.Build.props")
feed=$work/feed

# 1. Pack, with the developer's own NuGet setup (this is the build, not the user's side).
if dotnet pack "$repo/packaging/Umem.Packages.slnx" -c "$config" -o "$feed" -nologo -clp:NoSummary >"$work/pack.log" 2>&1 \
    && [ "$(ls "$feed"/*.nupkg 2>/dev/null | wc -l)" -eq 6 ]; then
    ok "dotnet pack: $(cd "$feed" && ls *.nupkg | tr '\n' ' ')"
else
    fail "dotnet pack (expected 6 packages of version $version in $feed)" "$work/pack.log"
    finish
fi

# The clean path: nothing of the developer's HOME, NuGet cache or tools.
sources=$(HOME=$real_home dotnet nuget list source --format short 2>/dev/null | awk '$1 == "E" { print $2 }')
export HOME=$work/home NUGET_PACKAGES=$work/nuget-packages DOTNET_CLI_HOME=$work/home XDG_CACHE_HOME=
unset XDG_CACHE_HOME
mkdir -p "$HOME"
config_file=$work/nuget.config
{
    echo '<?xml version="1.0" encoding="utf-8"?>'
    echo '<configuration><packageSources><clear />'
    echo "  <add key=\"umem-local\" value=\"$feed\" />"
    n=0; for s in $sources; do n=$((n + 1)); echo "  <add key=\"source$n\" value=\"$s\" />"; done
    echo '</packageSources></configuration>'
} >"$config_file"

# 2. The tool.
tools=$work/tools
if dotnet tool install --tool-path "$tools" --configfile "$config_file" --add-source "$feed" umem --version "$version" >"$work/tool.log" 2>&1 \
    && [ -x "$tools/umem" ]; then
    ok "dotnet tool install umem $version"
else
    fail "dotnet tool install umem $version" "$work/tool.log"
    finish
fi

# 3. `umem demo` from a directory that is not a checkout.
mkdir -p "$work/elsewhere"
if (cd "$work/elsewhere" && "$tools/umem" demo) >"$work/demo.log" 2>&1 && grep -q "checks held" "$work/demo.log"; then
    ok "umem demo from $work/elsewhere ($(grep -o 'all [0-9]* checks held' "$work/demo.log"))"
    grep -i "skipped" "$work/demo.log" | sed 's/^/    demo: /' # the C part, when this machine cannot build or run it
    # Where gcc and make are, the installed demo must build its C application from the sources it ships.
    if command -v gcc >/dev/null && command -v make >/dev/null; then
        if grep -q "64-bit C application skipped" "$work/demo.log"; then
            fail "the installed umem demo built and ran its 64-bit C application (gcc and make are here)" "$work/demo.log"
        else
            ok "the installed umem demo built and ran its 64-bit C application"
        fi
    fi
else
    fail "umem demo from a directory outside the checkout" "$work/demo.log"
fi

# 4. The template.
src=$work/src
mkdir -p "$src"
if dotnet new install "$feed/Umem.Templates.$version.nupkg" >"$work/new.log" 2>&1 \
    && (cd "$src" && dotnet new umem-driver -n MyDriver) >>"$work/new.log" 2>&1 \
    && [ -f "$src/MyDriver/MyDriver/MyDriver.csproj" ]; then
    ok "dotnet new install Umem.Templates; dotnet new umem-driver -n MyDriver"
else
    fail "dotnet new umem-driver" "$work/new.log"
    finish
fi

# 5. Build it against the packages; the driver's output must not carry the host's assemblies.
out=$src/MyDriver/MyDriver/bin/Debug/net10.0
if (cd "$src/MyDriver" && dotnet restore --configfile "$config_file" && dotnet build --no-restore) >"$work/build.log" 2>&1; then
    ok "dotnet build of the new driver and its tests"
else
    fail "dotnet build of the new driver and its tests" "$work/build.log"
    finish
fi
if [ -f "$out/MyDriver.dll" ] && [ ! -e "$out/Umem.Kernel.dll" ] && [ ! -e "$out/Umem.Platform.dll" ]; then
    ok "the driver's output has MyDriver.dll and no Umem.Kernel.dll or Umem.Platform.dll"
else
    ls -la "$out" >"$work/out.log" 2>&1
    fail "the driver's output ($out) must have MyDriver.dll and neither Umem.Kernel.dll nor Umem.Platform.dll" "$work/out.log"
fi

# 6. Its tests load it in-process through the real kernel.
if (cd "$src/MyDriver" && dotnet test --no-build) >"$work/test.log" 2>&1; then
    ok "the template's tests ($(grep -E '^[[:space:]]*succeeded:' "$work/test.log" | grep -oE '[0-9]+' | tail -1) passed)"
else
    fail "the template's tests" "$work/test.log"
fi

# 7. The installed host serves it.
dev=$work/dev
"$tools/umem" host -d "$out/MyDriver.dll" --dev-dir "$dev" >"$work/host.log" 2>&1 &
host_pid=$!
for _ in $(seq 1 300); do
    [ -S "$dev/mydriver0" ] && break
    kill -0 "$host_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -S "$dev/mydriver0" ]; then
    ok "umem host -d MyDriver.dll serves $dev/mydriver0"
else
    fail "umem host -d MyDriver.dll did not publish $dev/mydriver0 within 30 s" "$work/host.log"
fi
kill -TERM "$host_pid" 2>/dev/null
wait "$host_pid" 2>/dev/null
host_rc=$?
host_pid=
if [ "$host_rc" -eq 0 ] && [ ! -e "$dev/mydriver0" ]; then
    ok "umem host stopped on SIGTERM (exit 0) and removed its node"
else
    fail "umem host on SIGTERM: exit $host_rc, node $( [ -e "$dev/mydriver0" ] && echo left || echo removed)" "$work/host.log"
fi

finish
