// A small, valid PDF written by hand: one page per paragraph, Helvetica text, correct xref.
// It lets the tests make their own document without any PDF library.

function escapePdf(text) {
  return text.replace(/\\/g, "\\\\").replace(/\(/g, "\\(").replace(/\)/g, "\\)");
}

function wrap(text, width = 80) {
  const lines = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if ((line + " " + word).trim().length > width) {
      lines.push(line.trim());
      line = word;
    } else {
      line += " " + word;
    }
  }
  if (line.trim()) lines.push(line.trim());
  return lines;
}

/** @param {string[]} pages one string of text per page */
export function makePdf(pages) {
  const objects = [];
  const add = (body) => {
    objects.push(body);
    return objects.length;
  };
  const catalog = add(null);
  const pagesObj = add(null);
  const font = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  const kids = [];
  for (const text of pages) {
    const lines = wrap(text);
    const stream = ["BT", "/F1 12 Tf", "16 TL", "60 780 Td", ...lines.map((l) => `(${escapePdf(l)}) Tj T*`), "ET"].join("\n");
    const content = add(`<< /Length ${Buffer.byteLength(stream, "latin1")} >>\nstream\n${stream}\nendstream`);
    kids.push(
      add(
        `<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${content} 0 R >>`,
      ),
    );
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObj} 0 R >>`;
  objects[pagesObj - 1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(" ")}] /Count ${kids.length} >>`;

  let out = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, "latin1"));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, "latin1");
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  out += offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("");
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

export const ROVER_FACT = "The Zephyr X200 rover's battery lasts 42 hours on a single charge.";

// Chapters that fill the manual out to a length whose indexing can be watched page by page;
// none of them mentions the battery, so the question's answer stays on page 1.
const CHAPTERS = [
  ["Unpacking", "Lift the rover out of its case by the two grab handles. Keep the foam inserts for shipping."],
  ["Wheels", "Each of the six wheels has its own motor. Check the tyre treads for stones after every outing."],
  ["Camera mast", "The mast carries a stereo pair and a thermal camera. Tighten the hinge screw by a quarter turn each season."],
  ["Radio", "The handset pairs with the rover on channel 7 by default. Change the channel in the settings menu."],
  ["Navigation", "Waypoints are set on the handset map. The rover avoids obstacles taller than twelve centimetres."],
  ["Sample arm", "The arm lifts up to two kilograms. Fold it before driving through dense undergrowth."],
  ["Weather", "The rover is sealed against rain and dust. Do not submerge it deeper than twenty centimetres."],
  ["Software updates", "Updates arrive over the dock's network cable. The status light blinks blue while one installs."],
  ["Troubleshooting", "If the rover stops responding, hold the red button for ten seconds to restart it."],
  ["Warranty", "The warranty covers parts and labour for two years from the date of purchase."],
];

/** The field manual: the battery fact on page 1, then `pages - 1` pages of other chapters. */
export function roverManual(pages = 2) {
  const rest = Array.from({ length: pages - 2 }, (_, i) => {
    const [title, body] = CHAPTERS[i % CHAPTERS.length];
    return `Chapter ${i + 3}: ${title}. ${body} ${body} Note ${i + 1} of the field guide for the Zephyr X200 rover.`;
  });
  return makePdf([
    `Zephyr X200 field manual. ${ROVER_FACT} Charging takes three hours with the supplied dock. ` +
      "The rover weighs 18 kilograms and climbs slopes of up to 30 degrees.",
    "Maintenance. Clean the wheel bearings every 200 kilometres. The camera mast folds flat for transport. " +
      "The rover's radio reaches 5 kilometres in open terrain and 800 metres in forests.",
    ...rest,
  ]);
}
