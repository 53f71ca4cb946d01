// Questions on the terminal, for `make init` and `make secret`: a line with
// a default, and a secret typed without echo. Only when stdin is a terminal;
// the scripts take variables instead otherwise (CI).
import readline from "node:readline";

export const interactive = () => Boolean(process.stdin.isTTY && process.stdout.isTTY);

/** Asks `question`; an empty answer is `fallback`. */
export async function ask(question, fallback = "") {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  try {
    const shown = fallback ? ` [${fallback}]` : "";
    const answer = await new Promise((resolve) => rl.question(`${question}${shown}: `, resolve));
    return answer.trim() || fallback;
  } finally {
    rl.close();
  }
}

/** Asks for a secret; what is typed is not echoed (nor is its length). */
export async function askSecret(question) {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  // Everything readline would echo while the answer is typed is dropped.
  let muted = false;
  const write = rl._writeToOutput?.bind(rl);
  rl._writeToOutput = (text) => {
    if (!muted) write?.(text);
  };
  try {
    const answer = new Promise((resolve) => rl.question(`${question} (not shown): `, resolve));
    muted = true;
    const value = await answer;
    muted = false;
    process.stdout.write("\n");
    return value.trim();
  } finally {
    rl.close();
  }
}

/** A yes/no question; `fallback` is the answer to an empty line. */
export async function askYesNo(question, fallback = false) {
  for (let tries = 0; tries < 5; tries++) {
    const answer = (await ask(`${question} (yes/no)`, fallback ? "yes" : "no")).toLowerCase();
    if (["y", "yes"].includes(answer)) return true;
    if (["n", "no"].includes(answer)) return false;
  }
  throw new Error(`no yes/no answer to: ${question}`);
}
