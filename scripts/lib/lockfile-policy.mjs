/**
 * The offline half of `npm run audit`: checks on package-lock.json that need no registry, so the
 * supply chain is still checked where the registry has no audit endpoint.
 *
 * - the lockfile agrees with package.json (the same test `npm ci` applies before installing);
 * - every production package comes from the registry and carries a sha512 `integrity` hash
 *   (no git, file, link or plain-URL tarball dependencies, which npm installs unverified);
 * - no production package runs an install script unless audit-exceptions.json explains why.
 */

const DEPENDENCY_FIELDS = Object.freeze([
  "dependencies",
  "devDependencies",
  "optionalDependencies",
  "peerDependencies",
]);

/**
 * @param {Record<string, unknown>} manifest package.json
 * @param {Record<string, any>} lock package-lock.json
 * @param {{ registry: string, installScripts: { package: string, reason: string }[] }} options
 * @returns {{ problems: string[], production: string[], installScriptsExplained: string[] }}
 */
export function checkLockfile(manifest, lock, options) {
  const problems = [];
  const production = [];
  const installScriptsExplained = [];
  if (!lock || typeof lock !== "object" || !lock.packages || typeof lock.packages !== "object") {
    return {
      problems: ["package-lock.json has no `packages` map (lockfileVersion 2 or 3 is required)"],
      production,
      installScriptsExplained,
    };
  }
  const root = lock.packages[""] ?? {};
  for (const field of ["name", "version"]) {
    if (root[field] !== manifest[field]) {
      problems.push(
        `package-lock.json says ${field} ${String(root[field])}, package.json says ${String(manifest[field])}`,
      );
    }
  }
  for (const field of DEPENDENCY_FIELDS) {
    const wanted = manifest[field] ?? {};
    const locked = root[field] ?? {};
    for (const name of new Set([...Object.keys(wanted), ...Object.keys(locked)])) {
      if (wanted[name] !== locked[name]) {
        problems.push(
          `${field}.${name}: package.json wants ${wanted[name] ?? "nothing"}, package-lock.json has ${locked[name] ?? "nothing"} (run npm install and commit package-lock.json)`,
        );
      }
    }
  }
  const registry = options.registry.endsWith("/") ? options.registry : `${options.registry}/`;
  const explained = new Map(options.installScripts.map((entry) => [entry.package, entry.reason]));
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === "" || entry.dev === true) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
    production.push(`${name}@${entry.version ?? "?"}`);
    if (entry.link === true) {
      problems.push(`${path}: a link to ${String(entry.resolved)}, not a registry package`);
      continue;
    }
    // npm leaves out `resolved` for registry packages when omit-lockfile-registry-resolved is set.
    if (entry.resolved !== undefined && !String(entry.resolved).startsWith(registry)) {
      problems.push(`${path}: resolved from ${String(entry.resolved)}, not from ${registry}`);
    }
    if (typeof entry.integrity !== "string" || !/^sha512-[A-Za-z0-9+/=]+$/.test(entry.integrity)) {
      problems.push(`${path}: no sha512 integrity hash in package-lock.json`);
    }
    if (entry.hasInstallScript === true) {
      if (explained.has(name)) installScriptsExplained.push(`${name}: ${explained.get(name)}`);
      else problems.push(`${path}: runs an install script and audit-exceptions.json does not explain it`);
    }
  }
  return { problems, production: production.sort(), installScriptsExplained };
}
