// @vitest-environment node
import { describe, expect, it } from "vitest";
import { freeSpot } from "./layout";

describe("freeSpot", () => {
  it("keeps the spot when it is free and moves across past nodes in the way", () => {
    expect(freeSpot({ x: 0, y: 0 }, [])).toEqual({ x: 0, y: 0 });
    const taken = [{ position: { x: 0, y: 0 }, measured: { width: 240, height: 120 } }];
    expect(freeSpot({ x: 10, y: 10 }, taken)).toEqual({ x: 290, y: 10 });
  });
});
