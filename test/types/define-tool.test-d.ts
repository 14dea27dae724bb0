import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { defineTool, type ToolContext } from "../../src/index.js";

describe("defineTool types", () => {
  it("infers handler arguments from the input shape, defaults applied", () => {
    defineTool({
      name: "t",
      description: "d",
      input: { city: z.string(), country: z.string().default("US"), days: z.number().optional() },
      handler: (args, ctx) => {
        expectTypeOf(args).toEqualTypeOf<{ city: string; country: string; days?: number | undefined }>();
        expectTypeOf(ctx).toEqualTypeOf<ToolContext>();
        return "ok";
      },
    });
  });

  it("infers from a z.object too", () => {
    defineTool({
      name: "t",
      description: "d",
      input: z.object({ n: z.number().int() }),
      handler: ({ n }) => {
        expectTypeOf(n).toEqualTypeOf<number>();
        return String(n);
      },
    });
  });

  it("requires the output schema's type as the result", () => {
    defineTool({
      name: "t",
      description: "d",
      output: { sum: z.number() },
      handler: () => ({ sum: 1 }),
    });
    defineTool({
      name: "t",
      description: "d",
      output: { sum: z.number() },
      // @ts-expect-error the output schema wants a number
      handler: () => ({ sum: "one" }),
    });
  });

  it("does not compile a handler that misuses its arguments", () => {
    defineTool({
      name: "t",
      description: "d",
      input: { city: z.string() },
      // @ts-expect-error city is a string, not a number
      handler: ({ city }: { city: number }) => String(city),
    });
    defineTool({
      name: "t",
      description: "d",
      input: { city: z.string() },
      handler: (args) => {
        // @ts-expect-error no such argument
        // eslint-disable-next-line @typescript-eslint/no-unsafe-return
        return args.country;
      },
    });
  });
});
