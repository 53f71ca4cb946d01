// Startup CPU of one Worker script, measured in a fresh Node (V8) process:
// compiling and evaluating the module as workerd would at isolate start
// (for the gateway: compiling index_bg.wasm, evaluating index.js, which
// instantiates the wasm and runs its start function). Prints the process
// CPU time it took, in microseconds (all threads: V8 compiles wasm on
// background threads too). bench.mjs runs it many times, alternating sides.
// A fresh process each time, so no compiled code is reused from a previous run.
//
//   node --experimental-vm-modules bench/startup.mjs gateway build/
//   node --experimental-vm-modules bench/startup.mjs reference bench/reference.mjs
import vm from "node:vm";
import { readFile } from "node:fs/promises";
import path from "node:path";

const [side, where] = process.argv.slice(2);
// What the gateway's glue touches at start beyond the language itself.
globalThis.addEventListener ??= () => {};

const cpu = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

async function measure() {
  if (side === "reference") {
    const source = await readFile(where, "utf8");
    const start = cpu();
    const mod = new vm.SourceTextModule(source, { identifier: "reference.mjs" });
    await mod.link(() => {
      throw new Error("the reference imports nothing");
    });
    await mod.evaluate();
    return cpu() - start;
  }
  const wasm = await readFile(path.join(where, "index_bg.wasm"));
  const glue = await readFile(path.join(where, "index.js"), "utf8");
  const start = cpu();
  const compiled = new WebAssembly.Module(wasm);
  const mod = new vm.SourceTextModule(glue, { identifier: "index.js" });
  await mod.link((specifier) => {
    if (specifier === "cloudflare:workers") {
      return new vm.SyntheticModule(["WorkerEntrypoint"], function () {
        this.setExport("WorkerEntrypoint", class WorkerEntrypoint {});
      });
    }
    if (specifier.endsWith(".wasm")) {
      return new vm.SyntheticModule(["default"], function () {
        this.setExport("default", compiled);
      });
    }
    throw new Error(`unexpected import ${specifier}`);
  });
  await mod.evaluate();
  return cpu() - start;
}

console.log(String(await measure()));
