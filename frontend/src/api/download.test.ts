import { afterEach, describe, expect, it, vi } from "vitest";
import { attachmentName, DownloadError, downloadFile } from "./download";

describe("downloadFile", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("names the file as the server does", () => {
    expect(attachmentName('attachment; filename="Lighthouses.genai-stack.zip"', "x.zip")).toBe("Lighthouses.genai-stack.zip");
    expect(attachmentName(null, "stack-export.json")).toBe("stack-export.json");
  });

  it("reports the server's refusal with its code", async () => {
    const body = { errors: [{ message: "there is no workflow w", extensions: { code: "NOT_FOUND" } }] };
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(body), { status: 404 })));
    const refused = await downloadFile("/stacks/w/export.json", "x.json").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DownloadError);
    expect((refused as DownloadError).code).toBe("NOT_FOUND");
    expect((refused as DownloadError).message).toBe("there is no workflow w");
  });

  it("hands the bytes to the browser under the server's name", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response("{}", { headers: { "content-disposition": 'attachment; filename="S.genai-stack.json"' } })));
    const clicked: string[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.download);
    });
    URL.createObjectURL = vi.fn(() => "blob:x");
    URL.revokeObjectURL = vi.fn();
    expect(await downloadFile("/stacks/w/export.json", "x.json")).toBe("S.genai-stack.json");
    expect(clicked).toEqual(["S.genai-stack.json"]);
    click.mockRestore();
  });
});
