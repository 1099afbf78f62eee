#!/bin/sh
# shellcheck disable=SC2015,SC2016 # "A && B || fail" is meant; sh -c scripts are quoted
# The installed package, used the way its users use it. tests/CMakeLists.txt
# runs one step per test:
#
#   install       cmake --install the build into a scratch prefix, check its
#                 layout and that no file names an absolute path, then move it
#                 (the other steps use the moved prefix)
#   cmake         find_package consumer (tests/consumer/CMakeLists.txt), on
#                 the install and on a copy of it elsewhere; version and
#                 component requests that must fail
#   fetchcontent  the same consumer through FetchContent on the source tree
#   pkgconfig     tests/consumer/Makefile through pkg-config, on the install
#                 and on a copy of it elsewhere
#   wee-run       bin/wee-run: help, --stats, errors, found through symlinks
#                 and from a copied prefix
#   wasm32        a wasm32 build, installed, and both consumers against it
#                 under node
#   static-glibc  a fully static glibc program with libwee_malloc.a
#   musl          libwee_malloc.a built with musl-gcc, linked into a static
#                 musl program
#
# Exits 0 on success, 77 when a tool the step needs is missing (skipped),
# 1 on failure. Settings come from the environment (tests/CMakeLists.txt):
# WEE_CMAKE, WEE_CTEST, WEE_SOURCE_DIR, WEE_BUILD_DIR, WEE_WORK, WEE_CONFIG,
# WEE_VERSION, WEE_CC, WEE_GENERATOR, WEE_OPTIONS (-D options the wasm32 and
# musl builds repeat), WEE_BACKEND_OPTIONS (more for the musl build) and
# optionally WEE_WASM_BUILD_DIR (an existing wasm32 build to install).
set -eu

step=${1:?usage: run.sh STEP}
here=$(cd -P -- "$(dirname -- "$0")" && pwd)
major=${WEE_VERSION%%.*}
installed=$WEE_WORK/installed
scratch=$WEE_WORK/$step
log=$WEE_WORK/$step.log

fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}
skip() {
    printf 'SKIP: %s\n' "$*"
    exit 77
}
note() { printf '%s\n' "$*"; }

# Runs a command with its output in $log; shows the log when it fails.
quiet() {
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        fail "$*"
    fi
}

# Runs a command that must fail, with the given text in its output.
must_fail() {
    want=$1
    shift
    if "$@" >"$log" 2>&1; then
        cat "$log" >&2
        fail "succeeded, but should not have: $*"
    fi
    grep -qF -- "$want" "$log" || {
        cat "$log" >&2
        fail "no \"$want\" in the output of: $*"
    }
}

real() { (cd -P -- "$1" && pwd); }

# cp -R that keeps symbolic links (libwee_malloc.so -> .so.0 -> .so.0.1.0).
copy_tree() {
    rm -rf "$2"
    mkdir -p "$(dirname -- "$2")"
    cp -RP "$1" "$2"
}

install_into() { # BUILD_DIR PREFIX
    rm -rf "$2"
    if [ -n "${WEE_CONFIG:-}" ]; then
        quiet "$WEE_CMAKE" --install "$1" --prefix "$2" --config "$WEE_CONFIG"
    else
        quiet "$WEE_CMAKE" --install "$1" --prefix "$2"
    fi
}

# The installed files, and no absolute path in any text file: not the
# prefix it was installed to, not the one it was configured for, not the
# source or build tree.
check_layout() { # PREFIX native|wasm32
    root=$1
    cmakedir=$WEE_LIBDIR/cmake/wee_alloc
    for f in "$WEE_INCLUDEDIR/wee_alloc.h" "$WEE_INCLUDEDIR/wee_alloc_version.h" \
        "$WEE_LIBDIR/libwee_alloc.a" "$WEE_LIBDIR/libwee_malloc.a" \
        "$cmakedir/wee_allocConfig.cmake" "$cmakedir/wee_allocConfigVersion.cmake" \
        "$cmakedir/wee_allocTargets.cmake" \
        "$WEE_LIBDIR/pkgconfig/wee_alloc.pc" "$WEE_LIBDIR/pkgconfig/wee_alloc-malloc.pc"; do
        [ -f "$root/$f" ] || fail "not installed: $f"
    done
    grep -qF "#define WEE_ALLOC_VERSION_STRING \"$WEE_VERSION\"" \
        "$root/$WEE_INCLUDEDIR/wee_alloc_version.h" ||
        fail "wee_alloc_version.h does not say $WEE_VERSION"
    so=$root/$WEE_LIBDIR/libwee_malloc.so
    if [ "$2" = native ]; then
        [ -f "$so.$WEE_VERSION" ] || fail "not installed: libwee_malloc.so.$WEE_VERSION"
        [ -L "$so.$major" ] && [ "$(readlink "$so.$major")" = "libwee_malloc.so.$WEE_VERSION" ] ||
            fail "libwee_malloc.so.$major is not a link to libwee_malloc.so.$WEE_VERSION"
        [ -L "$so" ] || fail "libwee_malloc.so is not a link"
        [ -x "$root/$WEE_BINDIR/wee-run" ] || fail "not installed: $WEE_BINDIR/wee-run"
        if command -v readelf >/dev/null 2>&1; then
            readelf -d "$so.$WEE_VERSION" | grep -qF "[libwee_malloc.so.$major]" ||
                fail "the SONAME of libwee_malloc.so.$WEE_VERSION is not libwee_malloc.so.$major"
        fi
    else
        [ ! -e "$so" ] || fail "a shared library in a wasm32 install"
        [ ! -e "$root/$WEE_BINDIR/wee-run" ] || fail "wee-run in a wasm32 install"
        if grep -rlF malloc_shared "$root/$cmakedir"; then
            fail "the wasm32 package mentions malloc_shared"
        fi
    fi
    if grep -rIlF -e "$root" -e "$WEE_SOURCE_DIR" -e "$WEE_BUILD_DIR" "$root" >"$log"; then
        cat "$log" >&2
        fail "installed files name absolute paths"
    fi
    # For the prefix /usr only, CMake's own files keep it for the case of a
    # /lib -> /usr/lib link; everything else must never name it.
    exclude=
    [ "$WEE_INSTALL_PREFIX" != /usr ] || exclude=$root/$cmakedir
    if grep -rIlF -e "$WEE_INSTALL_PREFIX/$WEE_LIBDIR" -e "$WEE_INSTALL_PREFIX/$WEE_INCLUDEDIR" \
        "$root" | grep -vF "${exclude:-//}" >"$log"; then
        cat "$log" >&2
        fail "installed files name the configured prefix $WEE_INSTALL_PREFIX"
    fi
    note "layout of $root: ok"
}

# Configures, builds and runs tests/consumer against PREFIX (or as told).
cmake_consumer() { # BUILD_DIR PREFIX [CMAKE ARGS...]
    cc_dir=$1 cc_prefix=$2
    shift 2
    rm -rf "$cc_dir"
    quiet "$WEE_CMAKE" -S "$here" -B "$cc_dir" -G "$WEE_GENERATOR" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_PREFIX_PATH="$cc_prefix" -DWEE_EXPECT_PREFIX="$cc_prefix" "$@"
    quiet "$WEE_CMAKE" --build "$cc_dir"
    quiet "$WEE_CTEST" --test-dir "$cc_dir" --output-on-failure --no-tests=error
    note "$(grep -E 'tests passed' "$log") ($cc_dir)"
}

# The Makefile consumer through pkg-config, and its programs run.
make_consumer() { # BUILD_DIR PREFIX [MAKE ARGS...]; runs with $runner
    mc_dir=$1 mc_prefix=$2
    shift 2
    rm -rf "$mc_dir"
    mkdir -p "$mc_dir"
    PKG_CONFIG_PATH=$mc_prefix/$WEE_LIBDIR/pkgconfig
    export PKG_CONFIG_PATH
    unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
    pc_prefix=$(pkg-config --variable=prefix wee_alloc-malloc)
    [ "$(real "$pc_prefix")" = "$(real "$mc_prefix")" ] ||
        fail "pkg-config's prefix $pc_prefix is not $mc_prefix"
    [ "$(pkg-config --modversion wee_alloc)" = "$WEE_VERSION" ] ||
        fail "pkg-config --modversion wee_alloc is not $WEE_VERSION"
    note "pkg-config --cflags --libs wee_alloc-malloc: $(pkg-config --cflags --libs wee_alloc-malloc)"
    (cd "$mc_dir" && quiet make -f "$here/Makefile" SRCDIR="$here" "$@")
    for program in consumer_core consumer_malloc; do
        (cd "$mc_dir" && $runner "./$program$exe") >"$log" 2>&1 || {
            cat "$log" >&2
            fail "$mc_dir/$program$exe"
        }
        grep -q '^consumer: ok' "$log" || fail "$program$exe did not say ok"
        note "$(cat "$log")"
    done
}

need_fixture() {
    [ -d "$installed" ] || fail "no $installed: run the package_install test first"
}

have() { command -v "$1" >/dev/null 2>&1; }

# The install directories a build was configured with, from its cache.
dirs_of() { # BUILD_DIR
    cache=$1/CMakeCache.txt
    WEE_INSTALL_PREFIX=$(sed -n 's/^CMAKE_INSTALL_PREFIX:[A-Z]*=//p' "$cache")
    WEE_LIBDIR=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$cache")
    WEE_INCLUDEDIR=$(sed -n 's/^CMAKE_INSTALL_INCLUDEDIR:[A-Z]*=//p' "$cache")
    WEE_BINDIR=$(sed -n 's/^CMAKE_INSTALL_BINDIR:[A-Z]*=//p' "$cache")
    for dir in "$WEE_LIBDIR" "$WEE_INCLUDEDIR" "$WEE_BINDIR"; do
        case $dir in
        '' | /*) fail "$1 installs to '$dir': need relative CMAKE_INSTALL_*DIR" ;;
        esac
    done
}

mkdir -p "$WEE_WORK"
dirs_of "$WEE_BUILD_DIR"
case $step in
install)
    staging=$WEE_WORK/staging
    install_into "$WEE_BUILD_DIR" "$staging"
    check_layout "$staging" native
    rm -rf "$installed"
    mv "$staging" "$installed"
    note "installed, then moved to $installed"
    ;;

cmake)
    need_fixture
    cc=-DCMAKE_C_COMPILER=$WEE_CC
    cmake_consumer "$scratch/build" "$installed" "$cc"
    copy=$scratch/elsewhere/one/more/level/prefix
    copy_tree "$installed" "$copy"
    cmake_consumer "$scratch/build-copy" "$copy" "$cc"
    cmake_consumer "$scratch/build-components" "$installed" "$cc" \
        -DWEE_REQUEST_COMPONENTS="wee_alloc;malloc;malloc_shared"
    for version in 0.2 1.0 0.0.1; do
        must_fail "version: $WEE_VERSION" "$WEE_CMAKE" -S "$here" -B "$scratch/build-$version" \
            -DCMAKE_PREFIX_PATH="$installed" -DWEE_REQUEST_VERSION="$version"
    done
    must_fail "wee_alloc_FOUND to FALSE" "$WEE_CMAKE" -S "$here" -B "$scratch/build-bogus" \
        -DCMAKE_PREFIX_PATH="$installed" -DWEE_REQUEST_COMPONENTS=bogus
    note "find_package refuses versions 0.2, 1.0 and 0.0.1 and the component bogus"
    ;;

fetchcontent)
    dir=$scratch/build
    rm -rf "$dir"
    quiet "$WEE_CMAKE" -S "$here" -B "$dir" -G "$WEE_GENERATOR" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_C_COMPILER="$WEE_CC" -DWEE_CONSUMER_MODE=fetchcontent \
        -DWEE_SOURCE_DIR="$WEE_SOURCE_DIR"
    quiet "$WEE_CMAKE" --build "$dir"
    quiet "$WEE_CTEST" --test-dir "$dir" --output-on-failure --no-tests=error
    note "$(grep -E 'tests passed' "$log")"
    ;;

pkgconfig)
    need_fixture
    have pkg-config || skip "no pkg-config"
    have make || skip "no make"
    runner="" exe=""
    make_consumer "$scratch/build" "$installed" CC="$WEE_CC"
    copy=$scratch/elsewhere/prefix
    copy_tree "$installed" "$copy"
    make_consumer "$scratch/build-copy" "$copy" CC="$WEE_CC"
    ;;

wee-run)
    need_fixture
    copy=$scratch/elsewhere/prefix
    copy_tree "$installed" "$copy"
    unset WEE_ALLOC_STATS LD_PRELOAD || true
    for prefix in "$installed" "$copy"; do
        run=$prefix/$WEE_BINDIR/wee-run
        lib=$(real "$prefix/$WEE_LIBDIR")/libwee_malloc.so.$major

        "$run" --help >"$log" 2>&1 || fail "wee-run --help exits $?"
        grep -q '^Usage: wee-run \[--stats\] \[--\] COMMAND' "$log" || fail "wee-run --help: no usage"
        [ "$("$run" --version)" = "wee-run $WEE_VERSION" ] || fail "wee-run --version"

        # The library is preloaded, found from the script's own place.
        [ "$("$run" sh -c 'printf %s "$LD_PRELOAD"')" = "$lib" ] ||
            fail "wee-run does not preload $lib"

        # --stats: sort's allocations went through wee_alloc.
        out=$(printf 'pear\napple\nfig\n' | "$run" --stats sort 2>"$log") ||
            fail "wee-run --stats sort exits $?"
        [ "$out" = "$(printf 'apple\nfig\npear')" ] || fail "wee-run --stats sort printed: $out"
        grep -q '^wee_alloc: heap summary of process [0-9]*$' "$log" &&
            grep -Eq '^wee_alloc:   allocations +[1-9][0-9]*$' "$log" &&
            grep -Eq '^wee_alloc:   memory from the system +[0-9.]+ (B|KiB|MiB)$' "$log" &&
            grep -Eq '^wee_alloc:   failures +0$' "$log" ||
            fail "wee-run --stats sort: no summary in: $(cat "$log")"
        printf 'b\na\n' | "$run" --stats=json sort >/dev/null 2>"$log" ||
            fail "wee-run --stats=json sort exits $?"
        grep -Eq '^\{"wee_alloc":"[0-9.]+","pid":[0-9]+,.*"allocs":[1-9]' "$log" ||
            fail "wee-run --stats=json sort: no JSON summary in: $(cat "$log")"
        out=$(printf 'b\na\n' | "$run" sort 2>"$log") || fail "wee-run sort exits $?"
        [ "$out" = "$(printf 'a\nb')" ] && [ ! -s "$log" ] ||
            fail "wee-run sort without --stats: $out / $(cat "$log")"

        # python3 (a wrapper may run several processes: one line each).
        python=/usr/bin/python3
        [ -x "$python" ] || python=$(command -v python3 || true)
        if [ -n "$python" ]; then
            code='import json; print(len(json.dumps({str(i): list(range(i % 40)) for i in range(5000)})))'
            want=$("$python" -c "$code")
            out=$("$run" --stats "$python" -c "$code" 2>"$log") || fail "wee-run python3 exits $?"
            [ "$out" = "$want" ] || fail "wee-run python3 printed $out, not $want"
            allocs=$(sed -n 's/^wee_alloc:   allocations  *\([0-9]*\)$/\1/p' "$log" | sort -n | tail -n 1)
            [ "${allocs:-0}" -gt 1000 ] || fail "python3 under wee-run: allocations ${allocs:-none}"
            note "wee-run --stats $python: $allocs allocations"
        fi

        # The command's status comes back; errors like a shell's.
        set +e
        "$run" sh -c 'exit 7'
        [ $? -eq 7 ] || fail "wee-run does not return the command's status"
        "$run" no-such-command-for-wee-run 2>"$log"
        [ $? -eq 127 ] || fail "a missing command does not exit 127"
        grep -qx 'wee-run: no-such-command-for-wee-run: command not found' "$log" ||
            fail "missing command: $(cat "$log")"
        "$run" ./no/such/program 2>"$log"
        [ $? -eq 127 ] || fail "a missing ./no/such/program does not exit 127"
        "$run" "$prefix/$WEE_INCLUDEDIR/wee_alloc.h" 2>"$log"
        [ $? -eq 126 ] || fail "a file that is not executable does not exit 126"
        "$run" 2>"$log"
        [ $? -eq 125 ] && grep -q '^Usage: wee-run' "$log" || fail "no command: no usage, exit 125"
        "$run" --bogus true 2>"$log"
        [ $? -eq 125 ] && grep -q 'unknown option: --bogus' "$log" || fail "--bogus accepted"
        set -e
    done

    # Through a symbolic link elsewhere, it still finds its library.
    mkdir -p "$scratch/links"
    ln -sf "$copy/$WEE_BINDIR/wee-run" "$scratch/links/wee-run"
    [ "$("$scratch/links/wee-run" sh -c 'printf %s "$LD_PRELOAD"')" = "$lib" ] ||
        fail "wee-run through a symbolic link does not preload $lib"
    # Without its library, it says so.
    mkdir -p "$scratch/lonely/bin"
    cp "$copy/$WEE_BINDIR/wee-run" "$scratch/lonely/bin/"
    set +e
    "$scratch/lonely/bin/wee-run" true 2>"$log"
    [ $? -eq 125 ] && grep -q "cannot find libwee_malloc.so.$major" "$log" ||
        fail "wee-run without its library: $(cat "$log")"
    set -e
    note "wee-run: help, version, preload, --stats, exit statuses, symlink, missing library: ok"
    ;;

wasm32)
    have clang || skip "no clang"
    have wasm-ld || skip "no wasm-ld"
    have node || skip "no node"
    libc=$(clang --target=wasm32-wasi -print-file-name=libc.a)
    [ -f "$libc" ] || skip "no wasi-libc (clang --target=wasm32-wasi finds no libc.a)"
    toolchain=$WEE_SOURCE_DIR/cmake/wasm32-wasi.cmake
    build=${WEE_WASM_BUILD_DIR:-$scratch/build-wasm32}
    if [ ! -f "$build/CMakeCache.txt" ]; then
        # shellcheck disable=SC2086 # WEE_OPTIONS holds separate -D options
        quiet "$WEE_CMAKE" -S "$WEE_SOURCE_DIR" -B "$build" -G "$WEE_GENERATOR" \
            -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DWEE_BUILD_TESTS=OFF $WEE_OPTIONS
    fi
    quiet "$WEE_CMAKE" --build "$build"
    dirs_of "$build"
    staging=$scratch/staging
    prefix=$scratch/installed
    WEE_CONFIG="" install_into "$build" "$staging"
    check_layout "$staging" wasm32
    rm -rf "$prefix"
    mv "$staging" "$prefix"

    cmake_consumer "$scratch/build" "$prefix" -DCMAKE_TOOLCHAIN_FILE="$toolchain"
    copy=$scratch/elsewhere/prefix
    copy_tree "$prefix" "$copy"
    cmake_consumer "$scratch/build-copy" "$copy" -DCMAKE_TOOLCHAIN_FILE="$toolchain"
    must_fail "wee_alloc_FOUND to FALSE" "$WEE_CMAKE" -S "$here" -B "$scratch/build-shared" \
        -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_PREFIX_PATH="$prefix" \
        -DWEE_REQUEST_COMPONENTS=malloc_shared
    note "find_package refuses the component malloc_shared on wasm32"

    if have pkg-config && have make; then
        runner="node --no-warnings $WEE_SOURCE_DIR/tools/wasi-run.mjs" exe=.wasm
        make_consumer "$scratch/make" "$copy" CC="clang --target=wasm32-wasi" EXE=.wasm
    fi
    ;;

static-glibc)
    have nm || skip "no nm"
    mkdir -p "$scratch"
    printf 'int main(void) { return 0; }\n' >"$scratch/empty.c"
    "$WEE_CC" -static "$scratch/empty.c" -o "$scratch/empty" >/dev/null 2>&1 ||
        skip "$WEE_CC cannot link static programs (no libc.a)"
    need_fixture
    program=$scratch/consumer
    quiet "$WEE_CC" -static -std=c11 -O2 -Wall -Wextra -Werror -DWEE_EXPECT_MALLOC=1 \
        -DWEE_EXPECT_VERSION="\"$WEE_VERSION\"" -I"$installed/$WEE_INCLUDEDIR" \
        "$here/consumer.c" "$installed/$WEE_LIBDIR/libwee_malloc.a" -pthread -o "$program"
    "$program" >"$log" 2>&1 || {
        cat "$log" >&2
        fail "$program"
    }
    note "$(cat "$log")"
    # The exit summary comes from the static program too, and only when asked.
    WEE_ALLOC_STATS=1 "$program" >/dev/null 2>"$log" || fail "$program with WEE_ALLOC_STATS=1"
    grep -q '^wee_alloc: heap summary of process [0-9]*$' "$log" &&
        grep -Eq '^wee_alloc:   allocations +[1-9][0-9]*$' "$log" ||
        fail "static $program: no summary with WEE_ALLOC_STATS=1: $(cat "$log")"
    WEE_ALLOC_STATS=json "$program" >/dev/null 2>"$log" || fail "$program with WEE_ALLOC_STATS=json"
    if have python3; then
        python3 -m json.tool "$log" >/dev/null || fail "static $program: JSON: $(cat "$log")"
    fi
    env -u WEE_ALLOC_STATS "$program" >/dev/null 2>"$log" || fail "$program"
    [ ! -s "$log" ] || fail "static $program printed without WEE_ALLOC_STATS: $(cat "$log")"
    nm "$program" >"$log"
    if grep -E ' [Tt] (_int_malloc|__libc_malloc|__libc_free)$' "$log"; then
        fail "glibc's malloc is linked into $program"
    fi
    ;;

musl)
    have musl-gcc || skip "no musl-gcc (Debian: musl-tools)"
    mkdir -p "$scratch"
    printf 'int main(void) { return 0; }\n' >"$scratch/empty.c"
    musl-gcc -static "$scratch/empty.c" -o "$scratch/empty" >/dev/null 2>&1 ||
        skip "musl-gcc cannot link a static program"
    build=$scratch/build-musl
    prefix=$scratch/installed
    rm -rf "$build"
    # shellcheck disable=SC2086 # WEE_OPTIONS holds separate -D options
    quiet "$WEE_CMAKE" -S "$WEE_SOURCE_DIR" -B "$build" -G "$WEE_GENERATOR" \
        -DCMAKE_C_COMPILER=musl-gcc -DCMAKE_BUILD_TYPE=Release -DWEE_BUILD_TESTS=OFF \
        $WEE_OPTIONS $WEE_BACKEND_OPTIONS
    quiet "$WEE_CMAKE" --build "$build"
    dirs_of "$build"
    WEE_CONFIG="" install_into "$build" "$prefix"

    program=$scratch/consumer
    quiet musl-gcc -static -std=c11 -O2 -Wall -Wextra -Werror -DWEE_EXPECT_MALLOC=1 \
        -DWEE_EXPECT_VERSION="\"$WEE_VERSION\"" -I"$prefix/$WEE_INCLUDEDIR" \
        "$here/consumer.c" "$prefix/$WEE_LIBDIR/libwee_malloc.a" -o "$program"
    if have readelf && readelf -l "$program" | grep -q INTERP; then
        fail "$program is not static"
    fi
    "$program" >"$log" 2>&1 || {
        cat "$log" >&2
        fail "$program"
    }
    note "$(cat "$log")"
    if have nm; then
        # musl's own allocator (mallocng: __libc_malloc_impl, __libc_free,
        # __malloc_donate; lite_malloc: __libc_malloc) must stay out.
        nm "$program" >"$log"
        if grep -E ' [Tt] (__libc_malloc_impl|__libc_free|__malloc_donate|__libc_malloc)$' "$log"; then
            fail "musl's malloc is linked into $program"
        fi
    fi
    if have pkg-config; then
        PKG_CONFIG_PATH=$prefix/$WEE_LIBDIR/pkgconfig
        export PKG_CONFIG_PATH
        # shellcheck disable=SC2046 # pkg-config prints separate flags
        quiet musl-gcc -static -std=c11 -O2 -DWEE_EXPECT_MALLOC=1 "$here/consumer.c" \
            $(pkg-config --cflags --libs wee_alloc-malloc) -o "$program-pc"
        "$program-pc" >"$log" 2>&1 || {
            cat "$log" >&2
            fail "$program-pc"
        }
        note "through pkg-config: $(cat "$log")"
    fi
    ;;

*)
    fail "unknown step: $step"
    ;;
esac
note "$step: ok"
