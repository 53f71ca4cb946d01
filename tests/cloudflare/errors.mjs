// Cloudflare API errors: every refusal the stand-in makes, in one table, with
// the code and wording Cloudflare uses (see README.md, "Rules", for where each
// comes from; `assumed: true` marks those the docs and wrangler's source do
// not pin down, whose wording is ours).

/** A refusal: an HTTP status and one or more `{ code, message }` entries, as the v4 API sends them. */
export class CloudflareError extends Error {
  constructor(status, code, message, more = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.errors = [{ code, message }, ...more];
  }
}

const error = (status, code, message, more) => new CloudflareError(status, code, message, more);

export const refuse = {
  // ── authentication ──
  authentication: () => error(401, 10000, "Authentication error"),
  // ── Workers: scripts and versions ──
  // Cloudflare's words in workers-sdk#3367.
  workerNotFound: () => error(404, 10007, "workers.api.error.script_not_found"),
  serviceNotFound: () => error(404, 10090, "workers.api.error.service_not_found"),
  versionNotFound: (id) => error(404, 10225, `The requested version ${id} does not exist. (assumed wording)`),
  noVersions: () => error(400, 10222, "There are currently no uploaded versions of this Worker."),
  // wrangler maps 10215 to "the latest version of your Worker isn't currently deployed".
  latestNotDeployed: () =>
    error(400, 10215, "Secret edit failed: the latest version of this Worker is not the one deployed at 100%. Use the versions API instead."),
  // wrangler reads the names after "The following secrets have changed:".
  secretsChanged: (names) => error(409, 10220, `Rolling back would change secrets. The following secrets have changed: ${names.join(", ")}`),
  // Each unresolvable inherit binding is its own error entry: wrangler reads them as "inherit binding '<name>' is invalid".
  invalidInherit: (names) =>
    error(400, 10057, `inherit binding '${names[0]}' is invalid: the previous version has no binding of that name`,
      names.slice(1).map((n) => ({ code: 10057, message: `inherit binding '${n}' is invalid: the previous version has no binding of that name` }))),
  invalidUpload: (message) => error(400, 10021, message),
  kvNamespaceInvalid: (id) => error(400, 10042, `KV namespace '${id}' is not valid. Please verify the namespace_id in your configuration.`),
  // wrangler matches this exact text for a binding named DB; the API names the binding.
  d1BindingInvalid: (name) => error(400, 10021, `binding ${name} of type d1 must have a valid \`id\` specified`),
  unsupportedBinding: (type, name) => error(400, 10021, `binding ${name} of type ${type} is not modelled by the Cloudflare API stand-in`),
  tailConsumerMissing: (service) => error(400, 10203, `Tail Worker does not exist on this account. Check the Worker name and try again. (${service})`),
  tailConsumersNeedPaid: () =>
    error(400, 10204, "Tail Workers are available on the Workers Paid and Enterprise plans only. (assumed code and wording)"),
  // ── deployments ──
  deploymentVersions: (count) =>
    error(400, 10226, `A deployment names one version, or two versions splitting traffic; this one names ${count}. (assumed code and wording)`),
  deploymentPercentages: (total) =>
    error(400, 10227, `The versions' percentages add up to ${total}, not 100. (assumed code and wording)`),
  deploymentPercentage: (value) => error(400, 10227, `A version's percentage must be a number from 0 to 100, got ${JSON.stringify(value)}. (assumed code and wording)`),
  deploymentDuplicate: (id) => error(400, 10226, `Version ${id} is named twice in one deployment. (assumed code and wording)`),
  deploymentStrategy: (strategy) => error(400, 10226, `Unknown deployment strategy ${JSON.stringify(strategy)}; only "percentage" exists. (assumed code and wording)`),
  versionTooOld: (id) => error(400, 10228, `Version ${id} is not one of this Worker's 100 most recent versions and cannot be deployed. (assumed code and wording)`),
  // ── triggers ──
  zoneNotFound: (patterns) => error(400, 10083, `workers.api.error.zone_not_found for "${patterns[0]}"`,
    patterns.slice(1).map((p) => ({ code: 10083, message: `workers.api.error.zone_not_found for "${p}"` }))),
  routeTaken: (pattern, script) => error(409, 10020, `The route ${pattern} is already assigned to the Worker ${script}. (assumed code and wording)`),
  domainTaken: (hostname, script) =>
    error(409, 100117, `Hostname ${hostname} is already the Custom Domain of the Worker ${script}. (assumed code and wording)`),
  subdomainNotFound: () => error(404, 10007, "workers.api.error.no_subdomain_registered: this account has no workers.dev subdomain"),
  subdomainAvailable: () => error(404, 10032, "workers.api.error.subdomain_available"),
  subdomainTaken: () => error(409, 10031, "workers.api.error.subdomain_unavailable"),
  invalidCron: (cron) => error(400, 10100, `Invalid cron expression ${JSON.stringify(cron)}. (assumed code and wording)`),
  // ── storage ──
  kvTitleTaken: () => error(400, 10014, "a namespace with this account ID and title already exists"),
  kvNotFound: () => error(404, 10013, "namespace not found"),
  d1NameTaken: () => error(400, 7502, "A database with that name already exists"),
  d1NotFound: () => error(404, 7404, "The database could not be found"),
  d1Query: (message) => error(400, 7500, message),
  // ── anything else ──
  noRoute: (method, path) => error(400, 7003, `Could not route to ${path}, perhaps your object identifier is invalid? (${method}: not modelled by the stand-in)`),
  badRequest: (message) => error(400, 10026, message),
};
