// Writes CIFAR-10 binary records by the format's definition: label byte, then R, G, B planes.
export function cifarRecord(label: number, pixel: (x: number, y: number, c: number) => number): Uint8Array {
  const out = new Uint8Array(3073);
  out[0] = label;
  for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) out[1 + c * 1024 + y * 32 + x] = pixel(x, y, c);
  return out;
}

export function cifarBatch(records: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(records.length * 3073);
  records.forEach((r, i) => out.set(r, i * 3073));
  return out;
}

/** A distinct, recognisable pixel for record `id`: depends on the record, position and channel. */
export function recordPixel(id: number): (x: number, y: number, c: number) => number {
  return (x, y, c) => (id * 31 + x * 7 + y * 3 + c * 101) % 256;
}
