export { serve, type ServeOptions, type RunningServer } from "./serve.js";
export { createNodeHandler } from "./handler.js";
