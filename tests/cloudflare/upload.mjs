// A Worker upload (`PUT /workers/scripts/:name`, `POST …/versions`) as
// wrangler sends it: multipart/form-data with a `metadata` part (JSON, as
// documented in "Multipart upload metadata") and one part per module, whose
// content type says the module's kind (wrangler's createWorkerUploadForm).
import { refuse } from "./errors.mjs";

/** Content type of a module part → the module type Miniflare (workerd) loads it as. */
const MODULE_TYPES = {
  "application/javascript+module": "ESModule",
  "application/javascript": "CommonJS",
  "application/wasm": "CompiledWasm",
  "text/plain": "Text",
  "application/octet-stream": "Data",
};

/**
 * The upload in `formData`: `{ main_module, modules: [{ name, type, content }],
 * bindings, compatibility_date, compatibility_flags, keep_bindings,
 * annotations, tail_consumers, logpush, observability, tags }`.
 */
export async function parseUpload(formData) {
  const raw = formData.get("metadata");
  if (raw === null) throw refuse.invalidUpload("the upload has no metadata part");
  let metadata;
  try {
    metadata = JSON.parse(typeof raw === "string" ? raw : await raw.text());
  } catch {
    throw refuse.invalidUpload("the metadata part is not JSON");
  }
  if (metadata.body_part) throw refuse.invalidUpload("service-worker syntax Workers are not modelled by the stand-in: upload ES modules");
  if (typeof metadata.main_module !== "string") throw refuse.invalidUpload("metadata.main_module is required");
  const modules = [];
  for (const [name, part] of formData.entries()) {
    if (name === "metadata" || typeof part === "string") continue;
    const contentType = (part.type || "").split(";")[0].trim();
    if (contentType === "application/source-map") continue;
    const type = MODULE_TYPES[contentType];
    if (!type) throw refuse.invalidUpload(`module ${name} has a content type the stand-in does not model: ${contentType || "(none)"}`);
    modules.push({ name, type, content: Buffer.from(await part.arrayBuffer()) });
  }
  const main = modules.find((m) => m.name === metadata.main_module);
  if (!main) throw refuse.invalidUpload(`main_module ${metadata.main_module} is not one of the uploaded parts`);
  if (main.type !== "ESModule") throw refuse.invalidUpload(`main_module ${metadata.main_module} must be an ES module`);
  if (metadata.compatibility_date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(metadata.compatibility_date)) {
    throw refuse.invalidUpload(`compatibility_date ${JSON.stringify(metadata.compatibility_date)} is not a date`);
  }
  const bindings = metadata.bindings ?? [];
  if (!Array.isArray(bindings) || bindings.some((b) => typeof b?.name !== "string" || typeof b?.type !== "string")) {
    throw refuse.invalidUpload("metadata.bindings must be a list of { name, type, … }");
  }
  return {
    main_module: metadata.main_module,
    // The main module first: workerd takes the first module as the entry point.
    modules: [main, ...modules.filter((m) => m !== main)],
    bindings,
    compatibility_date: metadata.compatibility_date,
    compatibility_flags: metadata.compatibility_flags ?? [],
    keep_bindings: metadata.keep_bindings ?? [],
    annotations: metadata.annotations ?? {},
    tail_consumers: metadata.tail_consumers,
    logpush: metadata.logpush,
    observability: metadata.observability,
    tags: metadata.tags,
  };
}
