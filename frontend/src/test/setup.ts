import { afterEach } from "vitest";

// Pure-logic test files run in Node (`// @vitest-environment node`): no DOM to clean, and no
// need to load Testing Library for them.
if (typeof document !== "undefined") {
  const { cleanup } = await import("@testing-library/react");
  afterEach(() => cleanup());
}
