// Runs a wasm32-wasi command module under Node's WASI and exits with its
// exit code (a trap exits 134, as an abort would):
//
//   node --no-warnings tools/wasi-run.mjs MODULE.wasm [ARGS...]
//
// The program sees the current directory as "." and "/", standard streams,
// and the environment.
import { readFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { WASI } from 'node:wasi';

// Node 20 (V8 11.3) crashes now and then (SIGSEGV or SIGTRAP, the WASI
// object found freed) in modules that call memory.grow many times, as a
// heap growing 64 KiB at a time does; never with marking done in one pause.
setFlagsFromString('--no-incremental-marking');

// The global `process`, not `import ... from 'node:process'`: the module
// namespace reads every property of process, process.stdin included, and
// creating process.stdin switches a pipe on fd 0 to non-blocking mode, so the
// program's reads from a pipe would fail with EAGAIN.
const [modulePath, ...args] = process.argv.slice(2);
if (!modulePath) {
    console.error('usage: wasi-run.mjs MODULE.wasm [ARGS...]');
    process.exit(2);
}
const wasi = new WASI({
    version: 'preview1',
    args: [modulePath, ...args],
    env: process.env,
    preopens: { '.': process.cwd(), '/': process.cwd() },
    returnOnExit: true,
});
let code;
try {
    const module = await WebAssembly.compile(await readFile(modulePath));
    const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
    code = wasi.start(instance);
} catch (err) {
    console.error(`wasi-run: ${modulePath}: ${err instanceof WebAssembly.RuntimeError ? 'trap: ' : ''}${err.message}`);
    code = 134;
}
process.exit(code);
