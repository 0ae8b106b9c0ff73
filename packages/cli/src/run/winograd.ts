/**
 * Whether bnlab may compute 3×3 convolutions as Winograd F(4×4, 3×3) (faster; rounding a
 * little larger than a direct sum's). `BNLAB_WINOGRAD=0` keeps the direct convolution.
 */
export function winogradAllowed(): boolean {
  return process.env.BNLAB_WINOGRAD !== '0';
}
