// Certificates for the edge, made at start with the `openssl` command (on
// Linux and macOS alike; LibreSSL's too: only `req`, `x509` and `ecparam`
// with config files): a throwaway CA, valid for a week, and one leaf
// certificate per host name the edge is asked for (SNI), all sharing one key
// so that a browser can trust them all by that key's SPKI hash.
import { execFile } from "node:child_process";
import { createHash, createPublicKey, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const openssl = (args, cwd) => run("openssl", args, { cwd, timeout: 30_000 });

/** Host names as certificates and SNI carry them: letters, digits, dots, hyphens. */
const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/**
 * Makes the CA and the shared leaf key in `dir`. Returns `{ caFile, caPem,
 * keyPem, spkiHash, certFor(host) }`: `certFor` resolves to the PEM of a
 * certificate for `host`, signed by the CA (made once per host).
 */
export async function makeCertificates(dir) {
  writeFileSync(
    path.join(dir, "ca.cnf"),
    [
      "[req]",
      "distinguished_name = dn",
      "[dn]",
      "[v3_ca]",
      "basicConstraints = critical, CA:TRUE",
      "keyUsage = critical, keyCertSign, cRLSign",
      "subjectKeyIdentifier = hash",
      "",
    ].join("\n"),
  );
  await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"], dir);
  await openssl(
    ["req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=Cloudflare API stand-in test CA", "-days", "7", "-config", "ca.cnf", "-extensions", "v3_ca", "-out", "ca.pem"],
    dir,
  );
  await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "leaf.key"], dir);
  const keyPem = readFileSync(path.join(dir, "leaf.key"), "utf8");
  const spki = createPublicKey(keyPem).export({ type: "spki", format: "der" });
  const made = new Map();

  async function makeLeaf(host) {
    const base = `leaf-${host}`;
    writeFileSync(
      path.join(dir, `${base}.cnf`),
      [
        "[req]",
        "distinguished_name = dn",
        "[dn]",
        "[leaf]",
        `subjectAltName = DNS:${host}`,
        "basicConstraints = critical, CA:FALSE",
        "keyUsage = critical, digitalSignature",
        "extendedKeyUsage = serverAuth",
        "",
      ].join("\n"),
    );
    await openssl(["req", "-new", "-key", "leaf.key", "-subj", `/CN=${host}`, "-config", `${base}.cnf`, "-out", `${base}.csr`], dir);
    await openssl(
      ["x509", "-req", "-in", `${base}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", `0x${randomBytes(8).toString("hex")}`,
        "-days", "7", "-extfile", `${base}.cnf`, "-extensions", "leaf", "-out", `${base}.pem`],
      dir,
    );
    return readFileSync(path.join(dir, `${base}.pem`), "utf8");
  }

  return {
    caFile: path.join(dir, "ca.pem"),
    caPem: readFileSync(path.join(dir, "ca.pem"), "utf8"),
    keyPem,
    /** base64 SHA-256 of the leaf key's SubjectPublicKeyInfo, as Chromium's --ignore-certificate-errors-spki-list takes it. */
    spkiHash: createHash("sha256").update(spki).digest("base64"),
    certFor(host) {
      const name = String(host).toLowerCase();
      if (!HOST.test(name)) return Promise.reject(new Error(`not a host name: ${JSON.stringify(host)}`));
      if (!made.has(name)) made.set(name, makeLeaf(name));
      return made.get(name);
    },
  };
}
