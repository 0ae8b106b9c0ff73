// Writes IDX files by the format's definition (big-endian header), independently of the reader.
export function idxBytes(typeCode: number, shape: number[], body: Uint8Array | number[]): Uint8Array {
  const header = new Uint8Array(4 + 4 * shape.length);
  const view = new DataView(header.buffer);
  header[2] = typeCode;
  header[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

export function idxImages(count: number, rows: number, cols: number, pixel: (i: number, r: number, c: number) => number): Uint8Array {
  const body = new Uint8Array(count * rows * cols);
  for (let i = 0; i < count; i++)
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) body[(i * rows + r) * cols + c] = pixel(i, r, c);
  return idxBytes(0x08, [count, rows, cols], body);
}

export function idxLabels(labels: number[]): Uint8Array {
  return idxBytes(0x08, [labels.length], labels);
}
