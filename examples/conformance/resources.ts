import { ResourceTemplate, defineResource } from "paved-mcp";
import { PNG_BASE64 } from "./data.js";

/** The resources of the `resources-*` scenarios. Subscriptions are wired in ./extras.ts. */

export const staticText = defineResource({
  name: "static-text",
  description: "A static text resource",
  mimeType: "text/plain",
  uri: "test://static-text",
  read: () => "This is the content of the static text resource.",
});

export const staticBinary = defineResource({
  name: "static-binary",
  description: "A static binary resource (a 1x1 red PNG)",
  mimeType: "image/png",
  uri: "test://static-binary",
  read: (uri) => ({ contents: [{ uri: uri.href, mimeType: "image/png", blob: PNG_BASE64 }] }),
});

export const templated = defineResource({
  name: "template",
  description: "A resource template: test://template/{id}/data",
  mimeType: "application/json",
  uri: new ResourceTemplate("test://template/{id}/data", { list: undefined }),
  read: (_uri, _ctx, { id }) => {
    const value = Array.isArray(id) ? id.join("/") : (id ?? "");
    return JSON.stringify({ id: value, templateTest: true, data: `Data for ID: ${value}` });
  },
});

/** The resource the subscribe and unsubscribe scenarios name. */
export const WATCHED_URI = "test://watched-resource";

export const watched = defineResource({
  name: "watched-resource",
  description: "A resource clients may subscribe to",
  mimeType: "text/plain",
  uri: WATCHED_URI,
  read: () => "Watched resource content",
});

export const resources = [staticText, staticBinary, templated, watched];
