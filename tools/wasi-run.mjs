// Runs a wasm32-wasi command module under Node's WASI and exits with its
// exit code (a trap exits 134, as an abort would):
//
//   node --no-warnings tools/wasi-run.mjs MODULE.wasm [ARGS...]
//
// The program sees the current directory as "." and "/", standard streams,
// and the environment.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import { argv, env, exit, cwd } from 'node:process';

const [modulePath, ...args] = argv.slice(2);
if (!modulePath) {
    console.error('usage: wasi-run.mjs MODULE.wasm [ARGS...]');
    exit(2);
}
const wasi = new WASI({
    version: 'preview1',
    args: [modulePath, ...args],
    env,
    preopens: { '.': cwd(), '/': cwd() },
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
exit(code);
