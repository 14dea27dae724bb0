import { completable, definePrompt } from "paved-mcp";
import { z } from "zod";
import { PNG_BASE64 } from "./data.js";

/** The prompts of the `prompts-*` scenarios; `arg1` also serves `completion-complete`. */

export const simplePrompt = definePrompt({
  name: "test_simple_prompt",
  description: "A simple prompt without arguments",
  get: () => "This is a simple prompt for testing.",
});

const ARG1_SUGGESTIONS = ["test", "testValue1", "testing", "paris", "park"];

export const promptWithArguments = definePrompt({
  name: "test_prompt_with_arguments",
  description: "A prompt with two required arguments",
  args: {
    arg1: completable(z.string().describe("First test argument"), (value) =>
      ARG1_SUGGESTIONS.filter((suggestion) => suggestion.startsWith(value)),
    ),
    arg2: z.string().describe("Second test argument"),
  },
  get: ({ arg1, arg2 }) => `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'`,
});

export const promptWithEmbeddedResource = definePrompt({
  name: "test_prompt_with_embedded_resource",
  description: "A prompt that embeds a resource",
  args: { resourceUri: z.string().describe("URI of the resource to embed") },
  get: ({ resourceUri }) => ({
    messages: [
      {
        role: "user",
        content: {
          type: "resource",
          resource: {
            uri: resourceUri,
            mimeType: "text/plain",
            text: "Embedded resource content for testing.",
          },
        },
      },
      { role: "user", content: { type: "text", text: "Please process the embedded resource above." } },
    ],
  }),
});

export const promptWithImage = definePrompt({
  name: "test_prompt_with_image",
  description: "A prompt with image content",
  get: () => ({
    messages: [
      { role: "user", content: { type: "image", data: PNG_BASE64, mimeType: "image/png" } },
      { role: "user", content: { type: "text", text: "Please analyze the image above." } },
    ],
  }),
});

export const prompts = [simplePrompt, promptWithArguments, promptWithEmbeddedResource, promptWithImage];
