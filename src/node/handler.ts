import type { IncomingMessage, ServerResponse } from "node:http";
import { internalsOf } from "../host-internals.js";
import type { McpHost } from "../host-options.js";
import { rejection } from "../http/responses.js";
import { NodeInboundRequest } from "./node-request.js";
import { writeReply } from "./write-reply.js";

/**
 * A `node:http` request listener for the host, for mounting under an existing server or framework
 * (`http.createServer(createNodeHandler(host))`). `serve()` uses it.
 */
export function createNodeHandler(host: McpHost): (req: IncomingMessage, res: ServerResponse) => void {
  const internals = internalsOf(host);
  const fail = (error: unknown, res: ServerResponse): void => {
    internals.logger.error({ err: error }, "unhandled error while serving a request");
    if (!res.headersSent) void writeReply(rejection(500, "internal_error", "Internal Server Error"), res);
    else res.destroy();
  };
  return function pavedNodeHandler(req, res) {
    void internals.handle(new NodeInboundRequest(req, res)).then(
      (reply) => {
        const writing = writeReply(reply, res);
        if (writing !== undefined) writing.catch((error: unknown) => fail(error, res));
      },
      (error: unknown) => fail(error, res),
    );
  };
}
