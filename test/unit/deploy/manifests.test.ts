/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument -- parsed YAML is untyped: the assertions are the checks */
import { readFile, readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { describeConfig } from "../../../src/config/describe.js";

/**
 * deploy/kubernetes/*.yaml and deploy/Dockerfile cannot run here; these tests lint what they can:
 * valid YAML, the probes on Paved's health routes, ports that agree, workload identity, and
 * environment variables that name real configuration keys.
 */

const DEPLOY = fileURLToPath(new URL("../../../deploy/", import.meta.url));

type Doc = Record<string, any>;

async function manifests(): Promise<Doc[]> {
  const files = (await readdir(`${DEPLOY}kubernetes`)).filter((name) => name.endsWith(".yaml"));
  const docs: Doc[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(`${DEPLOY}kubernetes/${file}`, "utf8"))) {
      expect(doc.errors, file).toEqual([]);
      docs.push(doc.toJS() as Doc);
    }
  }
  return docs;
}

const byKind = (docs: Doc[], kind: string): Doc => {
  const found = docs.filter((doc) => doc["kind"] === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};

describe("deploy/kubernetes", () => {
  it("is valid YAML: a Deployment, a Service and a ServiceAccount in one namespace", async () => {
    const docs = await manifests();
    expect(docs.map((doc) => doc["kind"]).sort()).toEqual(["Deployment", "Service", "ServiceAccount"]);
    expect(new Set(docs.map((doc) => doc["metadata"]["namespace"])).size).toBe(1);
  });

  it("probes /readyz for readiness and /healthz for liveness, on the container's port", async () => {
    const deployment = byKind(await manifests(), "Deployment");
    const [container] = deployment["spec"]["template"]["spec"]["containers"] as Doc[];
    const [port] = container!["ports"] as Doc[];
    expect(port).toEqual({ name: "http", containerPort: 8080 });
    expect(container!["readinessProbe"]["httpGet"]).toEqual({ path: "/readyz", port: "http" });
    expect(container!["livenessProbe"]["httpGet"]).toEqual({ path: "/healthz", port: "http" });
    // Draining: the pod leaves the load balancer before SIGTERM, and has time to finish requests.
    expect(container!["lifecycle"]["preStop"]["exec"]["command"]).toEqual(["sleep", "5"]);
    expect(deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]).toBeGreaterThan(5 + 10);
    expect(deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"]).toBe(0);
  });

  it("runs as the workload-identity service account, not as root", async () => {
    const docs = await manifests();
    const account = byKind(docs, "ServiceAccount");
    expect(account["metadata"]["annotations"]["azure.workload.identity/client-id"]).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    const pod = byKind(docs, "Deployment")["spec"]["template"];
    expect(pod["metadata"]["labels"]["azure.workload.identity/use"]).toBe("true");
    expect(pod["spec"]["serviceAccountName"]).toBe(account["metadata"]["name"]);
    expect(pod["spec"]["securityContext"]["runAsNonRoot"]).toBe(true);
    const [container] = pod["spec"]["containers"] as Doc[];
    expect(container!["securityContext"]).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
  });

  it("the Service selects the pods and targets the named port", async () => {
    const docs = await manifests();
    const service = byKind(docs, "Service");
    const deployment = byKind(docs, "Deployment");
    expect(service["spec"]["selector"]).toEqual(deployment["spec"]["selector"]["matchLabels"]);
    expect(deployment["spec"]["template"]["metadata"]["labels"]).toMatchObject(service["spec"]["selector"]);
    expect(service["spec"]["ports"]).toEqual([{ name: "http", port: 80, targetPort: "http" }]);
  });

  it("sets only real configuration keys, secrets from a Secret, and the replica URL from the pod IP", async () => {
    const [container] = byKind(await manifests(), "Deployment")["spec"]["template"]["spec"][
      "containers"
    ] as Doc[];
    const env = container!["env"] as Doc[];
    const known = new Set(describeConfig().map((row) => row.env));
    for (const variable of env) {
      if (String(variable["name"]).startsWith("PAVED_"))
        expect(known, variable["name"]).toContain(variable["name"]);
    }
    const named = Object.fromEntries(env.map((variable) => [variable["name"], variable]));
    expect(named["PAVED_SERVER__REPLICAURL"]["value"]).toBe("http://$(POD_IP):8080");
    expect(named["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"]).toBe("status.podIP");
    for (const secret of ["PAVED_STORE__REDIS", "PAVED_SERVER__STATEKEYS"])
      expect(named[secret]["valueFrom"]["secretKeyRef"], secret).toBeDefined();
  });
});

describe("deploy/Dockerfile", () => {
  it("runs paved start as a non-root user on the port the manifests use", async () => {
    const text = await readFile(`${DEPLOY}Dockerfile`, "utf8");
    const instructions = text
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"))
      .join("\n")
      .replace(/\\\n\s*/g, " ")
      .split("\n");
    const from = instructions.filter((line) => line.startsWith("FROM "));
    expect(from.length).toBeGreaterThanOrEqual(2);
    for (const line of from) expect(line).toMatch(/^FROM node:20[\w.-]*/);
    const final = instructions.slice(instructions.lastIndexOf(from.at(-1)!));
    expect(final).toContain("USER node");
    expect(final).toContain("EXPOSE 8080");
    expect(final.find((line) => line.startsWith("ENV "))).toContain("PORT=8080");
    const cmd = final.find((line) => line.startsWith("CMD "));
    expect(JSON.parse(cmd!.slice(4))).toEqual([
      "node",
      "node_modules/paved-mcp/dist/cli/main.js",
      "start",
      "dist/server.js",
    ]);
  });
});
