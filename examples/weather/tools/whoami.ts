import { defineTool } from "paved-mcp";
import { z } from "zod";

/** Who the server thinks the caller is: the validated principal, never anything the client claims. */
export const whoami = defineTool({
  name: "whoami",
  description: "Returns the identity of the signed-in caller as this server sees it",
  output: {
    id: z.string(),
    tenantId: z.string().optional(),
    objectId: z.string().optional(),
    name: z.string().optional(),
    scopes: z.array(z.string()),
    roles: z.array(z.string()),
    isAppOnly: z.boolean(),
  },
  annotations: { readOnlyHint: true },
  handler: (_args, { user }) => ({
    id: user.id,
    ...(user.tenantId !== undefined && { tenantId: user.tenantId }),
    ...(user.objectId !== undefined && { objectId: user.objectId }),
    ...(user.name !== undefined && { name: user.name }),
    scopes: [...user.scopes],
    roles: [...user.roles],
    isAppOnly: user.isAppOnly,
  }),
});
