import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkNginxConfig, nginxAvailability } from "../fixtures/nginx.js";

/** `nginx -t` on deploy/nginx/paved.conf exactly as shipped (the system tests run it for real). */

const availability = nginxAvailability();
if (!availability.run) console.warn(availability.reason);

const PAVED_CONF = fileURLToPath(new URL("../../deploy/nginx/paved.conf", import.meta.url));

describe.runIf(availability.run)("deploy/nginx/paved.conf", () => {
  it("passes nginx -t in the http context", async () => {
    const result = await checkNginxConfig(await readFile(PAVED_CONF, "utf8"));
    expect(result.output).toContain("test is successful");
    expect(result.ok).toBe(true);
  });

  it("hashes session traffic on Mcp-Session-Id and balances the rest freely", async () => {
    const text = await readFile(PAVED_CONF, "utf8");
    const upstream = (name: string) => new RegExp(`upstream ${name} \\{([^}]*)\\}`).exec(text)?.[1] ?? "";
    expect(upstream("paved_sessions")).toContain("hash $http_mcp_session_id consistent;");
    expect(upstream("paved_stateless")).not.toContain("hash");
    expect(text).toMatch(
      /map \$http_mcp_session_id \$paved_upstream \{\s*""\s+paved_stateless;\s*default\s+paved_sessions;/,
    );
    expect(text).toContain("proxy_pass http://$paved_upstream;");
    // SSE streams pass unbuffered; clients cannot mark requests as forwarded between replicas.
    expect(text).toContain("proxy_buffering off;");
    expect(text).toContain('proxy_set_header X-Paved-Forwarded "";');
  });

  it("and nginx -t does reject a broken file (the check is not vacuous)", async () => {
    const broken = (await readFile(PAVED_CONF, "utf8")).replace(
      "hash $http_mcp_session_id consistent;",
      "hash;",
    );
    const result = await checkNginxConfig(broken);
    expect(result.ok).toBe(false);
    expect(result.output).toContain("invalid number of arguments");
  });
});
