const NODE_W = 240;
const NODE_H = 130;

/** The first place near `start` where a new node covers no other: across, then down. */
export function freeSpot(start: { x: number; y: number }, nodes: ReadonlyArray<{ position: { x: number; y: number }; measured?: { width?: number; height?: number } }>) {
  const overlaps = (x: number, y: number) =>
    nodes.some((n) => {
      const w = n.measured?.width ?? NODE_W;
      const h = n.measured?.height ?? NODE_H;
      return x < n.position.x + w + 20 && n.position.x < x + NODE_W + 20 && y < n.position.y + h + 20 && n.position.y < y + NODE_H + 20;
    });
  for (let i = 0; i < 40; i++) {
    const x = start.x + (i % 4) * (NODE_W + 40);
    const y = start.y + Math.floor(i / 4) * (NODE_H + 40);
    if (!overlaps(x, y)) return { x, y };
  }
  return start;
}
