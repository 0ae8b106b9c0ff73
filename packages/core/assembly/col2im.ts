// ---------------------------------------------------------------------------------------
// col2im (NHWC, any stride, padding and dilation)
// ---------------------------------------------------------------------------------------

/**
 * The adjoint of the patch matrix (`cols[(b, oh, ow), (kh, kw, c)] = x[b, oh·sh + kh·dh − top,
 * ow·sw + kw·dw − left, c]`, zero outside the image): dx[b, h, w, c] += cols[...].
 * dx must be zero-filled.
 */
export function col2im(
  cols: usize, batch: i32, inH: i32, inW: i32, ch: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  dh: i32, dw: i32, top: i32, left: i32, outH: i32, outW: i32, dx: usize,
): void {
  const rowBytes = <usize>ch << 2;
  let o = cols;
  for (let b: i32 = 0; b < batch; b++) {
    for (let oh: i32 = 0; oh < outH; oh++) {
      for (let ow: i32 = 0; ow < outW; ow++) {
        for (let i: i32 = 0; i < kh; i++) {
          const h = oh * sh + i * dh - top;
          const rowOk = h >= 0 && h < inH;
          for (let j: i32 = 0; j < kw; j++) {
            const w = ow * sw + j * dw - left;
            if (rowOk && w >= 0 && w < inW) {
              const d = dx + (<usize>((b * inH + h) * inW + w)) * rowBytes;
              let c: i32 = 0;
              for (; c + 4 <= ch; c += 4) {
                const off = <usize>c << 2;
                v128.store(d + off, f32x4.add(v128.load(d + off), v128.load(o + off)));
              }
              for (; c < ch; c++) {
                const off = <usize>c << 2;
                store<f32>(d + off, load<f32>(d + off) + load<f32>(o + off));
              }
            }
            o += rowBytes;
          }
        }
      }
    }
  }
}
