// Plain-JavaScript (float64) forward and backward passes of tiny dense softmax models, the
// independent reference the recorder's figures are checked against.

export type Matrix = number[][];

export function matmul(a: Matrix, b: Matrix): Matrix {
  return a.map((row) => (b[0] as number[]).map((_, j) => row.reduce((s, v, k) => s + v * (b[k] as number[])[j]!, 0)));
}

export function addBias(a: Matrix, b: number[]): Matrix {
  return a.map((row) => row.map((v, j) => v + b[j]!));
}

export function softmax(z: Matrix): Matrix {
  return z.map((row) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

export function argmax(row: number[]): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/** Mean cross-entropy and accuracy of class probabilities `p` against labels `y`. */
export function lossAcc(p: Matrix, y: number[]): { loss: number; acc: number } {
  let loss = 0;
  let acc = 0;
  p.forEach((row, i) => {
    loss += -Math.log(row[y[i]!]!);
    if (argmax(row) === y[i]) acc++;
  });
  return { loss: loss / p.length, acc: acc / p.length };
}

/** A one-layer softmax classifier: forward, and one SGD step on a batch. */
export class HandSoftmax {
  constructor(
    public W: Matrix,
    public b: number[],
  ) {}

  probs(x: Matrix): Matrix {
    return softmax(addBias(matmul(x, this.W), this.b));
  }

  evaluate(x: Matrix, y: number[]): { loss: number; acc: number } {
    return lossAcc(this.probs(x), y);
  }

  /** Gradients of the mean cross-entropy on (x, y). */
  grads(x: Matrix, y: number[]): { dW: Matrix; db: number[] } {
    const p = this.probs(x);
    const n = x.length;
    const dz = p.map((row, i) => row.map((v, j) => (v - (j === y[i] ? 1 : 0)) / n));
    const dW = this.W.map((row, k) => row.map((_, j) => x.reduce((s, xi, i) => s + xi[k]! * dz[i]![j]!, 0)));
    const db = this.b.map((_, j) => dz.reduce((s, r) => s + r[j]!, 0));
    return { dW, db };
  }

  /** One SGD step; returns the batch's loss and accuracy before the step. */
  sgdStep(x: Matrix, y: number[], lr: number): { loss: number; acc: number } {
    const before = this.evaluate(x, y);
    const { dW, db } = this.grads(x, y);
    this.W = this.W.map((row, k) => row.map((v, j) => v - lr * dW[k]![j]!));
    this.b = this.b.map((v, j) => v - lr * db[j]!);
    return before;
  }
}
