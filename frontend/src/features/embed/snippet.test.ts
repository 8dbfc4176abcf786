// @vitest-environment node
import { describe, expect, it } from "vitest";
import { embedSnippet, originsFrom } from "./snippet";

describe("the embed snippet", () => {
  it("reads sites one per line, or separated by commas, once each", () => {
    expect(originsFrom("https://shop.example.com\n https://blog.example.org, https://shop.example.com  \n\n")).toEqual([
      "https://shop.example.com",
      "https://blog.example.org",
    ]);
    expect(originsFrom("  ")).toEqual([]);
  });

  it("loads embed.js from this server with the stack and its publishable token", () => {
    expect(embedSnippet("https://stack.example.com/", "s-1", "gsp_abc")).toBe(
      '<script src="https://stack.example.com/embed.js" data-stack="s-1" data-token="gsp_abc" async></script>',
    );
  });
});
