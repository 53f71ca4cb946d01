// The Worker's entry: each request goes straight into the wasm gateway
// (`fetch` in src/lib.rs), and a panic costs only the requests it was
// serving. scripts/build.sh bundles this file with wasm-bindgen's module
// ("gateway") and glue.js ("glue") into build/index.js.
//
// With panic = "abort", a panic (or any trap: out of memory, stack overflow)
// kills the wasm instance, and with it every request it was still serving,
// whose promises would otherwise never settle. So the entry keeps the
// requests the instance still owes an answer; when the instance dies
// (glue.js hears it from src/edge/panic.rs), it starts a fresh instance from
// the same compiled module and has it answer each of them with the
// gateway's own 500 page (JSON when asked) and a log line naming where the
// panic happened. The next request finds the fresh instance.
import { fetch as serve, answerAfterPanic, __wbg_reset_state as startFreshInstance } from "gateway";
import { instance } from "glue";

/** The requests the current instance still owes an answer. */
const owed = new Set();
let dying = false;

instance.died = () => {
  if (dying) return;
  dying = true;
  // Called from inside the trapped instance's last call: act once it has unwound.
  queueMicrotask(() => dying && recover());
};

/** Starts a fresh instance, has it answer what the dead one owed, and says where the panic was. */
function recover() {
  dying = false;
  const site = instance.panicSite ?? "unknown";
  instance.panicSite = null;
  startFreshInstance();
  const lost = [...owed];
  owed.clear();
  // Each lost request builds its own answer: workerd ties a Response to the
  // request whose code created it, so one request cannot answer another.
  for (const waiting of lost) waiting.lose(site);
  return site;
}

/** The gateway's own 500 for a lost request; a bare one if even the fresh instance fails. */
function answerLost(request, env, site) {
  try {
    return answerAfterPanic(request, env, site);
  } catch {
    return new Response("Internal Server Error", { status: 500 });
  }
}

export default {
  fetch(request, env) {
    let answer;
    try {
      answer = serve(request, env);
    } catch (error) {
      // A trap in this request's first poll: answer it on the fresh instance.
      if (!dying) throw error;
      return answerLost(request, env, recover());
    }
    // Answered at once, with no upstream call: nothing to keep.
    if (!(answer instanceof Promise)) return answer;
    let waiting;
    const lost = new Promise((lose) => {
      waiting = { lose };
    });
    owed.add(waiting);
    return Promise.race([answer, lost]).then(
      (response) => {
        owed.delete(waiting);
        return typeof response === "string" ? answerLost(request, env, response) : response;
      },
      (error) => {
        owed.delete(waiting);
        throw error;
      },
    );
  },
};
